/**
 * Messages: what agents say to each other (chat messages and events) and what model
 * clients consume (LLM messages). Everything here is plain JSON, so transcripts, replay
 * fixtures and checkpoints can store it as is.
 */

/** Token usage of one model call, or the sum of several. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export const ZERO_USAGE: Readonly<Usage> = Object.freeze({ promptTokens: 0, completionTokens: 0 });

export function addUsage(a: Usage, b: Usage | undefined): Usage {
  if (!b) return { ...a };
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
  };
}

export interface TextPart {
  type: "text";
  text: string;
}

/** An image, either inline (base64 `data` with its `mimeType`) or by `url`. */
export type ImagePart =
  | { type: "image"; data: string; mimeType: string }
  | { type: "image"; url: string };

export type ContentPart = TextPart | ImagePart;

/** A model's request to call a tool. `arguments` is the raw JSON text the model produced. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** The outcome of one tool call, as it goes back to the model. */
export interface ToolResult {
  callId: string;
  name: string;
  content: string;
  isError: boolean;
}

// ---------------------------------------------------------------------------------------------
// LLM messages: the input of a model client.
// ---------------------------------------------------------------------------------------------

export interface SystemMessage {
  role: "system";
  content: string;
}

export interface UserMessage {
  role: "user";
  content: string | ContentPart[];
  /** The speaker's name, when several agents share the "user" side of a conversation. */
  name?: string;
}

export interface AssistantMessage {
  role: "assistant";
  content: string | null;
  toolCalls?: ToolCall[];
  name?: string;
}

export interface ToolMessage {
  role: "tool";
  results: ToolResult[];
}

export type LLMMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

// ---------------------------------------------------------------------------------------------
// Chat messages and events: what agents and teams exchange (AutoGen's AgentChat messages).
// ---------------------------------------------------------------------------------------------

interface MessageBase {
  /** Unique id; teams use it to detect a repeated turn after a crash-resume. */
  id: string;
  /** Name of the agent (or "user") that produced the message. */
  source: string;
  /** ISO timestamp. */
  createdAt: string;
  /** Tokens the producing model call(s) used, when a model produced the message. */
  usage?: Usage;
  metadata?: Record<string, string>;
}

export interface TextMessage extends MessageBase {
  type: "text";
  content: string;
}

export interface MultiModalMessage extends MessageBase {
  type: "multimodal";
  content: ContentPart[];
}

/** Output that was validated against a JSON schema; `content` is the parsed value. */
export interface StructuredMessage extends MessageBase {
  type: "structured";
  content: unknown;
  /** The raw JSON text the model produced. */
  text: string;
}

/** A summary of tool calls and their results, used as an agent's final message. */
export interface ToolCallSummaryMessage extends MessageBase {
  type: "tool_call_summary";
  content: string;
  calls: ToolCall[];
  results: ToolResult[];
}

/** Hands the conversation to another agent (Swarm). */
export interface HandoffMessage extends MessageBase {
  type: "handoff";
  target: string;
  content: string;
  /** Messages the target should see, e.g. the tool calls that led to the handoff. */
  context?: LLMMessage[];
}

/** Asks the team to stop. */
export interface StopMessage extends MessageBase {
  type: "stop";
  content: string;
}

/** Messages that agents send each other and that teams record in their transcript. */
export type ChatMessage =
  | TextMessage
  | MultiModalMessage
  | StructuredMessage
  | ToolCallSummaryMessage
  | HandoffMessage
  | StopMessage;

export interface ToolCallRequestEvent extends MessageBase {
  type: "tool_call_request";
  calls: ToolCall[];
}

export interface ToolCallExecutionEvent extends MessageBase {
  type: "tool_call_execution";
  results: ToolResult[];
}

/** A piece of streamed text; the complete message follows as a ChatMessage. */
export interface TokenDeltaEvent extends MessageBase {
  type: "token_delta";
  delta: string;
}

export interface CodeGenerationEvent extends MessageBase {
  type: "code_generation";
  blocks: { language: string; code: string }[];
}

export interface CodeExecutionEvent extends MessageBase {
  type: "code_execution";
  exitCode: number;
  output: string;
}

/** A team's choice of the next speaker(s). */
export interface SpeakerChangeEvent extends MessageBase {
  type: "speaker_change";
  speakers: string[];
}

/** A request for approval or input from a human, and its answer. */
export interface UserInputRequestedEvent extends MessageBase {
  type: "user_input_requested";
  prompt: string;
}

/** Things that happen inside a turn; streamed, not fed back to other agents. */
export type AgentEvent =
  | ToolCallRequestEvent
  | ToolCallExecutionEvent
  | TokenDeltaEvent
  | CodeGenerationEvent
  | CodeExecutionEvent
  | SpeakerChangeEvent
  | UserInputRequestedEvent;

export type AnyMessage = ChatMessage | AgentEvent;

const CHAT_TYPES = new Set<string>([
  "text",
  "multimodal",
  "structured",
  "tool_call_summary",
  "handoff",
  "stop",
]);

export function isChatMessage(m: AnyMessage): m is ChatMessage {
  return CHAT_TYPES.has(m.type);
}

let counter = 0;
/** A unique message id: time-ordered, process-unique, no dependency on crypto randomness. */
export function newId(prefix = "msg"): string {
  counter = (counter + 1) % 1_000_000;
  return `${prefix}_${Date.now().toString(36)}_${process.pid.toString(36)}_${counter.toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

type Init<T extends AnyMessage> = Omit<T, "id" | "createdAt" | "type"> &
  Partial<Pick<T, "id" | "createdAt">>;

/** Builds a message, filling in `id` and `createdAt`. */
export function message<K extends AnyMessage["type"]>(
  type: K,
  init: Init<Extract<AnyMessage, { type: K }>>,
): Extract<AnyMessage, { type: K }> {
  return {
    id: init.id ?? newId(),
    createdAt: init.createdAt ?? new Date().toISOString(),
    ...init,
    type,
  } as Extract<AnyMessage, { type: K }>;
}

/** The text of a chat message, for prompts, logs and termination checks. */
export function messageText(m: AnyMessage): string {
  switch (m.type) {
    case "text":
    case "stop":
    case "handoff":
    case "tool_call_summary":
      return m.content;
    case "structured":
      return m.text;
    case "multimodal":
      return m.content.map((p) => (p.type === "text" ? p.text : "<image>")).join("\n");
    case "token_delta":
      return m.delta;
    case "tool_call_request":
      return m.calls.map((c) => `${c.name}(${c.arguments})`).join("\n");
    case "tool_call_execution":
      return m.results.map((r) => r.content).join("\n");
    case "code_generation":
      return m.blocks.map((b) => "```" + b.language + "\n" + b.code + "\n```").join("\n");
    case "code_execution":
      return m.output;
    case "speaker_change":
      return m.speakers.join(", ");
    case "user_input_requested":
      return m.prompt;
  }
}

/** The text of an LLM message (tool results joined by newlines; image parts as `<image>`). */
export function llmMessageText(m: LLMMessage): string {
  if (m.role === "tool") return m.results.map((r) => r.content).join("\n");
  if (m.content === null) return "";
  if (typeof m.content === "string") return m.content;
  return m.content.map((p) => (p.type === "text" ? p.text : "<image>")).join("\n");
}

/** How a chat message from another agent appears in a model's context. */
export function toLLMMessage(m: ChatMessage): UserMessage {
  if (m.type === "multimodal")
    return { role: "user", content: m.content, name: safeName(m.source) };
  return { role: "user", content: messageText(m), name: safeName(m.source) };
}

/** OpenAI restricts `name` to [a-zA-Z0-9_-]{1,64}. */
export function safeName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64);
  return s.length > 0 ? s : "anonymous";
}
