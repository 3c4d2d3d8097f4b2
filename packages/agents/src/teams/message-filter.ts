/**
 * MessageFilterAgent: limits what a participant sees. Teams broadcast every message; an agent
 * wrapped here receives, per source, only the first or last few messages of each delivery
 * (e.g. a code runner that must run only the latest code, never an earlier rejected draft).
 */
import type {
  AgentResponse,
  AgentStreamItem,
  ChatAgent,
  JsonValue,
  TurnContext,
} from "../agent.js";
import type { ChatMessage } from "../messages.js";

export interface PerSourceFilter {
  source: string;
  /** Keep the first or the last `count` messages from this source (default "last"). */
  position?: "first" | "last";
  /** Default 1. */
  count?: number;
}

export class MessageFilterAgent implements ChatAgent {
  constructor(
    readonly inner: ChatAgent,
    readonly filters: readonly PerSourceFilter[],
  ) {
    if (filters.length === 0)
      throw new Error(`MessageFilterAgent(${inner.name}): give at least one filter`);
    for (const f of filters) {
      if (f.count !== undefined && !(Number.isInteger(f.count) && f.count > 0)) {
        throw new Error(
          `MessageFilterAgent(${inner.name}): count for ${f.source} must be a positive integer`,
        );
      }
    }
  }

  get name(): string {
    return this.inner.name;
  }

  get description(): string {
    return this.inner.description;
  }

  /** The messages kept: for each filtered source its first/last `count`, in their original order. */
  filter(messages: readonly ChatMessage[]): ChatMessage[] {
    const keep = new Set<ChatMessage>();
    for (const f of this.filters) {
      const from = messages.filter((m) => m.source === f.source);
      const count = f.count ?? 1;
      const chosen = f.position === "first" ? from.slice(0, count) : from.slice(-count);
      for (const m of chosen) keep.add(m);
    }
    return messages.filter((m) => keep.has(m));
  }

  onMessages(messages: ChatMessage[], ctx?: TurnContext): Promise<AgentResponse> {
    return this.inner.onMessages(this.filter(messages), ctx);
  }

  onMessagesStream(messages: ChatMessage[], ctx?: TurnContext): AsyncIterable<AgentStreamItem> {
    return this.inner.onMessagesStream(this.filter(messages), ctx);
  }

  reset(): Promise<void> {
    return this.inner.reset();
  }

  saveState(): Promise<JsonValue> {
    return this.inner.saveState();
  }

  loadState(state: JsonValue): Promise<void> {
    return this.inner.loadState(state);
  }
}
