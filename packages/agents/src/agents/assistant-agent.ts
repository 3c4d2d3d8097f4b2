/**
 * AssistantAgent: a model with a system message, tools, handoffs, memory and optional
 * structured output (AutoGen's AssistantAgent).
 *
 * One turn: the incoming messages join the model context; the model is called; if it calls
 * tools they run (in parallel) and, up to `maxToolIterations` times, the model is called again
 * with their results. The turn ends with the model's text (a TextMessage, or a
 * StructuredMessage under `outputSchema`), a HandoffMessage when it called a handoff tool, or,
 * when the iterations run out while it still calls tools, either a reflection (one more model
 * call without tools, `reflectOnToolUse`) or a ToolCallSummaryMessage of the last results.
 */
import type { z } from "zod";
import {
  type AgentResponse,
  type AgentStreamItem,
  BaseChatAgent,
  type JsonValue,
  type TurnContext,
} from "../agent.js";
import type { Memory } from "../memory/memory.js";
import {
  type AgentEvent,
  type AssistantMessage,
  addUsage,
  type ChatMessage,
  type LLMMessage,
  message,
  newId,
  type ToolCall,
  type ToolMessage,
  type ToolResult,
  toLLMMessage,
  type Usage,
  ZERO_USAGE,
} from "../messages.js";
import type { CreateRequest, CreateResult, ModelClient, ResponseFormat } from "../model-client.js";
import { runToolCalls } from "../tools/run-tools.js";
import { formatZodError, type Tool, toolSpec, zodToJsonSchema } from "../tools/tool.js";
import { ModelOutputError } from "./errors.js";
import { type Handoff, type HandoffTool, handoffTool } from "./handoff.js";
import { BufferedContext, type ModelContext, UnboundedContext } from "./model-context.js";

export const DEFAULT_SYSTEM_MESSAGE =
  "You are a helpful AI assistant. Solve tasks using your tools. Reply with TERMINATE when the task has been completed.";

export const DEFAULT_TOOL_TIMEOUT_MS = 120_000;

export interface AssistantAgentOptions {
  modelClient: ModelClient;
  description?: string;
  /** Default: DEFAULT_SYSTEM_MESSAGE; null sends none. */
  systemMessage?: string | null;
  tools?: Tool[];
  /** Agents this one may hand off to (Swarm); each becomes a `transfer_to_<name>` tool. */
  handoffs?: (string | Handoff)[];
  /** Model calls that may run tools in one turn (default 1). */
  maxToolIterations?: number;
  /**
   * After tools ran, ask the model once more (without tools) to answer from their results,
   * instead of ending with a ToolCallSummaryMessage. Default: false, or true with `outputSchema`.
   */
  reflectOnToolUse?: boolean;
  /** How one tool result reads in a ToolCallSummaryMessage (default: its content). */
  toolCallSummaryFormat?: (call: ToolCall, result: ToolResult) => string;
  /** Structured output: the final answer must be JSON matching this schema. */
  outputSchema?: z.ZodType;
  /** The schema's name in the request (default "output"). */
  outputSchemaName?: string;
  /** Strict schema adherence (OpenAI's `strict`; default true). */
  strictOutput?: boolean;
  /** Stream the model's text as token_delta events (through `modelClient.stream`). */
  streaming?: boolean;
  /** Consulted before every model call (`updateContext`). */
  memory?: Memory[];
  /** The history sent to the model: a ModelContext, or `{ bufferSize: N }` for the last N. */
  modelContext?: ModelContext | { bufferSize: number };
  /** Time limit of tools that set none, ms (default 120 000, so no tool hangs a turn forever). */
  toolTimeoutMs?: number;
  /** Sampling settings passed with every call. */
  request?: Pick<CreateRequest, "temperature" | "topP" | "maxTokens" | "stop" | "seed">;
}

const STATE_TYPE = "AssistantAgentState";

export class AssistantAgent extends BaseChatAgent {
  readonly modelClient: ModelClient;
  readonly systemMessage: string | null;
  readonly tools: readonly Tool[];
  readonly handoffs: readonly HandoffTool[];
  readonly maxToolIterations: number;
  readonly reflectOnToolUse: boolean;
  readonly streaming: boolean;
  readonly memory: readonly Memory[];
  readonly modelContext: ModelContext;
  private readonly options: AssistantAgentOptions;
  private readonly responseFormat: ResponseFormat | undefined;

  constructor(name: string, options: AssistantAgentOptions) {
    super(
      name,
      options.description ?? "An agent that provides assistance with ability to use tools.",
    );
    this.options = options;
    this.modelClient = options.modelClient;
    this.systemMessage =
      options.systemMessage === undefined ? DEFAULT_SYSTEM_MESSAGE : options.systemMessage;
    this.tools = options.tools ?? [];
    this.handoffs = (options.handoffs ?? []).map(handoffTool);
    this.maxToolIterations = options.maxToolIterations ?? 1;
    if (!Number.isInteger(this.maxToolIterations) || this.maxToolIterations < 1) {
      throw new Error(
        `${name}: maxToolIterations must be an integer >= 1, got ${this.maxToolIterations}`,
      );
    }
    this.reflectOnToolUse = options.reflectOnToolUse ?? options.outputSchema !== undefined;
    this.streaming = options.streaming ?? false;
    this.memory = options.memory ?? [];
    const mc = options.modelContext;
    this.modelContext =
      mc === undefined
        ? new UnboundedContext()
        : "bufferSize" in mc
          ? new BufferedContext(mc.bufferSize)
          : mc;

    const names = new Set<string>();
    for (const t of [...this.tools, ...this.handoffs]) {
      if (names.has(t.name)) throw new Error(`${name}: two tools are named ${t.name}`);
      names.add(t.name);
    }
    const caps = this.modelClient.capabilities;
    if (names.size > 0 && !caps.tools) {
      throw new Error(
        `${name}: model ${this.modelClient.modelId} does not support tools (capabilities.tools is false)`,
      );
    }
    if (options.outputSchema) {
      if (!caps.structuredOutput) {
        throw new Error(
          `${name}: model ${this.modelClient.modelId} does not support structured output (capabilities.structuredOutput is false)`,
        );
      }
      this.responseFormat = {
        type: "json_schema",
        name: options.outputSchemaName ?? "output",
        schema: zodToJsonSchema(options.outputSchema),
        strict: options.strictOutput ?? true,
      };
    }
  }

  override async onMessages(messages: ChatMessage[], ctx?: TurnContext): Promise<AgentResponse> {
    for await (const item of this.onMessagesStream(messages, ctx)) {
      if (item.type === "response") return item.response;
    }
    throw new Error(`${this.name}: the turn ended without a response`);
  }

  override async *onMessagesStream(
    messages: ChatMessage[],
    ctx: TurnContext = {},
  ): AsyncIterable<AgentStreamItem> {
    const signal = ctx.signal;
    signal?.throwIfAborted();
    for (const m of messages) this.addIncoming(m);

    const inner: AgentEvent[] = [];
    let usage: Usage = { ...ZERO_USAGE };
    const allTools = [...this.tools, ...this.handoffs];
    let lastCalls: ToolCall[] = [];
    let lastResults: ToolResult[] = [];

    for (let iteration = 0; iteration < this.maxToolIterations; iteration++) {
      const result = yield* this.callModel(allTools.length > 0, signal);
      usage = addUsage(usage, result.usage);
      if (result.toolCalls.length === 0) {
        const final = this.finalMessage(result, usage);
        yield final;
        yield { type: "response", response: { message: final, inner } };
        return;
      }

      const calls = uniqueIds(result.toolCalls);
      const assistant: AssistantMessage = {
        role: "assistant",
        content: result.content,
        toolCalls: calls,
      };
      this.modelContext.add(assistant);
      const request = message("tool_call_request", {
        source: this.name,
        calls,
        usage: result.usage,
      });
      inner.push(request);
      yield request;

      const results = await runToolCalls(calls, allTools, {
        signal,
        defaultTimeoutMs: this.options.toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS,
      });
      const toolMessage: ToolMessage = { role: "tool", results };
      this.modelContext.add(toolMessage);
      const execution = message("tool_call_execution", { source: this.name, results });
      inner.push(execution);
      yield execution;

      const handoff = this.firstHandoff(calls, results);
      if (handoff) {
        const final = message("handoff", {
          source: this.name,
          target: handoff.target,
          content: handoff.message,
          context: [assistant, toolMessage],
          usage,
        });
        yield final;
        yield { type: "response", response: { message: final, inner } };
        return;
      }
      lastCalls = calls;
      lastResults = results;
    }

    let final: ChatMessage;
    if (this.reflectOnToolUse) {
      const result = yield* this.callModel(false, signal);
      usage = addUsage(usage, result.usage);
      final = this.finalMessage({ ...result, toolCalls: [] }, usage);
    } else {
      const format =
        this.options.toolCallSummaryFormat ?? ((_c: ToolCall, r: ToolResult) => r.content);
      const content = lastCalls.map((c, i) => format(c, lastResults[i])).join("\n");
      final = message("tool_call_summary", {
        source: this.name,
        content,
        calls: lastCalls,
        results: lastResults,
        usage,
      });
    }
    yield final;
    yield { type: "response", response: { message: final, inner } };
  }

  override async reset(): Promise<void> {
    this.modelContext.clear();
  }

  override async saveState(): Promise<JsonValue> {
    return {
      type: STATE_TYPE,
      version: 1,
      llmContext: this.modelContext.all() as unknown as JsonValue,
      // Memories are saved with the agent, by their name, so a restored agent knows what it knew.
      memory: Object.fromEntries(
        await Promise.all(this.memory.map(async (m) => [m.name, await m.saveState()] as const)),
      ),
    };
  }

  override async loadState(state: JsonValue): Promise<void> {
    const s = state as { type?: unknown; llmContext?: unknown } | null;
    if (!s || typeof s !== "object" || s.type !== STATE_TYPE || !Array.isArray(s.llmContext)) {
      throw new Error(
        `${this.name}: not an AssistantAgent state (expected { type: "${STATE_TYPE}", llmContext: [...] })`,
      );
    }
    for (const [i, m] of s.llmContext.entries()) {
      const role = (m as { role?: unknown } | null)?.role;
      if (role !== "system" && role !== "user" && role !== "assistant" && role !== "tool") {
        throw new Error(
          `${this.name}: llmContext[${i}] is not an LLM message (role ${JSON.stringify(role)})`,
        );
      }
    }
    this.modelContext.replace(s.llmContext as LLMMessage[]);
    const saved = (state as { memory?: Record<string, JsonValue> }).memory ?? {};
    for (const m of this.memory) if (m.name in saved) await m.loadState(saved[m.name]!);
  }

  private addIncoming(m: ChatMessage): void {
    if (m.type === "handoff" && m.context) for (const c of m.context) this.modelContext.add(c);
    if (m.type === "multimodal" && !this.modelClient.capabilities.vision) {
      throw new Error(
        `${this.name}: model ${this.modelClient.modelId} does not accept images (capabilities.vision is false); message ${m.id} from ${m.source} has some`,
      );
    }
    this.modelContext.add(toLLMMessage(m));
  }

  /** One model call over the current context, streaming token deltas when configured. */
  private async *callModel(
    withTools: boolean,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<AgentStreamItem, CreateResult> {
    signal?.throwIfAborted();
    const messages: LLMMessage[] = [];
    if (this.systemMessage) messages.push({ role: "system", content: this.systemMessage });
    messages.push(...this.modelContext.messages());
    for (const m of this.memory) await m.updateContext(messages);
    const request: CreateRequest = { ...this.options.request, messages, signal };
    if (withTools) {
      request.tools = [...this.tools, ...this.handoffs].map(toolSpec);
      if (this.handoffs.length > 0) request.parallelToolCalls = false;
    }
    if (this.responseFormat) request.responseFormat = this.responseFormat;
    if (!this.streaming) return await this.modelClient.create(request);
    for await (const chunk of this.modelClient.stream(request)) {
      if (chunk.type === "text-delta" && chunk.delta) {
        yield message("token_delta", { source: this.name, delta: chunk.delta });
      } else if (chunk.type === "finish") {
        return chunk.result;
      }
    }
    throw new ModelOutputError(
      `${this.name}: the stream of model ${this.modelClient.modelId} ended without a finish chunk`,
      null,
    );
  }

  /** The model's final text as a chat message (added to the context); throws on garbage. */
  private finalMessage(result: CreateResult, usage: Usage): ChatMessage {
    const content = result.content ?? "";
    if (content.trim() === "") {
      throw new ModelOutputError(
        `${this.name}: model ${this.modelClient.modelId} returned an empty response (no text and no tool calls; finish reason: ${result.finishReason})`,
        result.content,
      );
    }
    this.modelContext.add({ role: "assistant", content });
    if (!this.options.outputSchema) return message("text", { source: this.name, content, usage });
    const text = stripFence(content);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new ModelOutputError(
        `${this.name}: structured output of model ${this.modelClient.modelId} is not valid JSON (${(e as Error).message}): ${clip(content)}`,
        content,
      );
    }
    const parsed = this.options.outputSchema.safeParse(value);
    if (!parsed.success) {
      throw new ModelOutputError(
        `${this.name}: structured output of model ${this.modelClient.modelId} does not match the schema: ${formatZodError(parsed.error)}`,
        content,
      );
    }
    return message("structured", { source: this.name, content: parsed.data, text, usage });
  }

  private firstHandoff(calls: ToolCall[], results: ToolResult[]): HandoffTool | undefined {
    for (const [i, call] of calls.entries()) {
      const h = this.handoffs.find((x) => x.name === call.name);
      if (h && !results[i].isError) return h;
    }
    return undefined;
  }
}

/** Garbage-proofing: every call needs a distinct id for its result to be matched. */
function uniqueIds(calls: ToolCall[]): ToolCall[] {
  const seen = new Set<string>();
  return calls.map((c) => {
    const id = c.id && !seen.has(c.id) ? c.id : newId("call");
    seen.add(id);
    return id === c.id ? c : { ...c, id };
  });
}

/** Models sometimes wrap JSON in a ```json fence even when asked for a schema. */
function stripFence(s: string): string {
  const m = /^\s*```[a-zA-Z]*\s*\n([\s\S]*?)\n?```\s*$/.exec(s);
  return m ? m[1] : s.trim();
}

function clip(s: string, n = 200): string {
  return s.length <= n ? s : `${s.slice(0, n)}... (${s.length} characters)`;
}
