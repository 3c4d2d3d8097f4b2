/**
 * The model-client interface: one small spec every language-model backend implements
 * (OpenAI-compatible endpoints, replay fixtures, caches, Athanor's own embedded models).
 */
import type { LLMMessage, ToolCall, Usage } from "./messages.js";

/** A JSON Schema object (draft 2020-12 subset understood by OpenAI-compatible endpoints). */
export type JsonSchema = { [key: string]: unknown };

/** What a model can do; agents check these before asking for tools, images or schemas. */
export interface ModelCapabilities {
  tools: boolean;
  vision: boolean;
  structuredOutput: boolean;
  streaming: boolean;
}

/** A tool as the model sees it. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: JsonSchema;
}

export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema: JsonSchema; strict?: boolean };

export interface CreateRequest {
  messages: LLMMessage[];
  tools?: ToolSpec[];
  toolChoice?: "auto" | "none" | "required" | { name: string };
  /** Ask for several tool calls in one response (when the endpoint supports the flag). */
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  stop?: string[];
  seed?: number;
  /** Cancels the call; the promise rejects with an AbortError. */
  signal?: AbortSignal;
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "unknown";

export interface CreateResult {
  /** The text the model produced; null when it only called tools. */
  content: string | null;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: Usage;
  /** The model that answered, as the endpoint names it. */
  model?: string;
  /** True when the result came from a cache rather than a model call. */
  cached?: boolean;
}

export type StreamChunk =
  | { type: "text-delta"; delta: string }
  | { type: "tool-call-delta"; index: number; id?: string; name?: string; argumentsDelta: string }
  /** Always the last chunk: the complete result, as `create` would have returned it. */
  | { type: "finish"; result: CreateResult };

export interface ModelClient {
  /** The model's identifier (e.g. "gpt-4o-mini", "athanor/slm-default"). */
  readonly modelId: string;
  readonly capabilities: ModelCapabilities;
  create(request: CreateRequest): Promise<CreateResult>;
  /** Streams the response; the last chunk is `{ type: "finish" }` with the full result. */
  stream(request: CreateRequest): AsyncIterable<StreamChunk>;
}

/** Drains a stream into its final result (for clients that only implement `stream`). */
export async function collectStream(stream: AsyncIterable<StreamChunk>): Promise<CreateResult> {
  for await (const chunk of stream) {
    if (chunk.type === "finish") return chunk.result;
  }
  throw new Error("model stream ended without a finish chunk");
}

/** Streams a result that is already complete (for clients that only implement `create`). */
export async function* streamFromResult(result: CreateResult): AsyncIterable<StreamChunk> {
  if (result.content) yield { type: "text-delta", delta: result.content };
  for (const [index, call] of result.toolCalls.entries()) {
    yield {
      type: "tool-call-delta",
      index,
      id: call.id,
      name: call.name,
      argumentsDelta: call.arguments,
    };
  }
  yield { type: "finish", result };
}
