/**
 * The memory interface: facts an agent consults before answering. A memory adds what is
 * relevant to the model context of each turn (`updateContext`); stores decide relevance.
 */
import type { JsonValue } from "../agent.js";
import type { LLMMessage } from "../messages.js";

export interface MemoryItem {
  content: string;
  mimeType?: "text/plain" | "application/json" | "text/markdown";
  metadata?: Record<string, string>;
}

export interface MemoryQueryResult {
  item: MemoryItem;
  /** Higher is more relevant; stores define their own scale. */
  score: number;
}

export interface Memory {
  readonly name: string;
  add(item: MemoryItem): Promise<void>;
  /** Items relevant to `query`, most relevant first. */
  query(query: string, options?: { limit?: number }): Promise<MemoryQueryResult[]>;
  /**
   * Adds relevant memories to the context the agent is about to send to its model, and
   * returns what it added (for events and tracing).
   */
  updateContext(context: LLMMessage[]): Promise<MemoryItem[]>;
  clear(): Promise<void>;
  saveState(): Promise<JsonValue>;
  loadState(state: JsonValue): Promise<void>;
}
