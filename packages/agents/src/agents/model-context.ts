/**
 * Model contexts: the history an agent sends to its model. The unbounded context keeps every
 * message; the buffered one sends only the last N (AutoGen's BufferedChatCompletionContext).
 */
import type { LLMMessage } from "../messages.js";

export interface ModelContext {
  add(message: LLMMessage): void;
  /** What goes to the model (the system message is not part of it). */
  messages(): LLMMessage[];
  clear(): void;
  /** Everything stored, for saveState. */
  all(): LLMMessage[];
  replace(messages: LLMMessage[]): void;
}

/** Keeps and sends the whole history. */
export class UnboundedContext implements ModelContext {
  protected history: LLMMessage[] = [];
  add(message: LLMMessage): void {
    this.history.push(message);
  }
  messages(): LLMMessage[] {
    return [...this.history];
  }
  clear(): void {
    this.history = [];
  }
  all(): LLMMessage[] {
    return [...this.history];
  }
  replace(messages: LLMMessage[]): void {
    this.history = [...messages];
  }
}

/**
 * Sends the last `size` messages. A window never starts with tool results whose calls fell
 * out of it (endpoints reject those), so it may hold a few fewer than `size`.
 */
export class BufferedContext extends UnboundedContext {
  constructor(readonly size: number) {
    super();
    if (!Number.isInteger(size) || size < 1) {
      throw new Error(`buffered context size must be a positive integer, got ${size}`);
    }
  }
  override messages(): LLMMessage[] {
    let start = Math.max(0, this.history.length - this.size);
    while (start < this.history.length && this.history[start].role === "tool") start++;
    return this.history.slice(start);
  }
}
