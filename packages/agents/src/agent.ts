/**
 * The agent interface: anything that takes part in a conversation. Assistants, user proxies,
 * code executors and whole teams (nested chats) all implement it.
 */
import {
  type AgentEvent,
  type ChatMessage,
  isChatMessage,
  message,
  type TextMessage,
} from "./messages.js";

/** Plain JSON, as stored by `saveState()` and checkpointers. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

export interface TurnContext {
  /** Cancels the turn: model calls, tools and code execution stop, and the promise rejects. */
  signal?: AbortSignal;
}

/** An agent's answer to one turn: its final message and what happened on the way. */
export interface AgentResponse {
  message: ChatMessage;
  /** Tool calls, code execution and other events produced during the turn, in order. */
  inner: AgentEvent[];
}

/** What `onMessagesStream` yields: events and inner messages as they happen, then the response. */
export type AgentStreamItem =
  | AgentEvent
  | ChatMessage
  | { type: "response"; response: AgentResponse };

export interface ChatAgent {
  readonly name: string;
  /** What the agent does; selectors and handoffs show it to the model. */
  readonly description: string;
  /**
   * Handles the messages that arrived since the agent last spoke and returns its reply. The
   * agent keeps its own history: callers pass only what is new.
   */
  onMessages(messages: ChatMessage[], ctx?: TurnContext): Promise<AgentResponse>;
  /** Like `onMessages`, streaming events as they happen; the last item is the response. */
  onMessagesStream(messages: ChatMessage[], ctx?: TurnContext): AsyncIterable<AgentStreamItem>;
  /** Forgets the conversation (not the configuration). */
  reset(): Promise<void>;
  saveState(): Promise<JsonValue>;
  loadState(state: JsonValue): Promise<void>;
}

/** Shared plumbing: a default streaming method and `run()` for one-shot tasks. */
export abstract class BaseChatAgent implements ChatAgent {
  constructor(
    readonly name: string,
    readonly description: string,
  ) {
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
      throw new Error(
        `agent name ${JSON.stringify(name)} is not valid: use letters, digits, '_' and '-', starting with a letter or '_'`,
      );
    }
  }

  abstract onMessages(messages: ChatMessage[], ctx?: TurnContext): Promise<AgentResponse>;

  async *onMessagesStream(
    messages: ChatMessage[],
    ctx?: TurnContext,
  ): AsyncIterable<AgentStreamItem> {
    const response = await this.onMessages(messages, ctx);
    for (const e of response.inner) yield e;
    yield { type: "response", response };
  }

  abstract reset(): Promise<void>;
  abstract saveState(): Promise<JsonValue>;
  abstract loadState(state: JsonValue): Promise<void>;

  /** Sends `task` as a user message and returns the agent's response. */
  async run(task: string | ChatMessage[], ctx?: TurnContext): Promise<AgentResponse> {
    const messages =
      typeof task === "string"
        ? [message("text", { source: "user", content: task }) as TextMessage]
        : task;
    return this.onMessages(messages, ctx);
  }
}

/** Narrows a stream item to the final response. */
export function isResponseItem(
  item: AgentStreamItem,
): item is { type: "response"; response: AgentResponse } {
  return item.type === "response";
}

export { isChatMessage };
