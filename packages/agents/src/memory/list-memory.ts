import type { JsonValue } from "../agent.js";
import type { LLMMessage } from "../messages.js";
import type { Memory, MemoryItem, MemoryQueryResult } from "./memory.js";

/** How a list of memories is shown to the model: one system message, numbered. */
export function memoryContextMessage(
  items: readonly MemoryItem[],
  title = "Relevant memory content",
): LLMMessage {
  const lines = items.map((item, i) => `${i + 1}. ${item.content}`);
  return { role: "system", content: `${title} (in chronological order):\n${lines.join("\n")}\n` };
}

export interface ListMemoryOptions {
  name?: string;
  /** Only the most recent N items go into the model context (default: all). */
  maxItems?: number;
  items?: MemoryItem[];
}

/**
 * The simplest memory (AutoGen's ListMemory): a chronological list, all of it relevant. Every
 * item (or the most recent `maxItems`) goes into the context of every turn.
 */
export class ListMemory implements Memory {
  readonly name: string;
  private items: MemoryItem[];
  private readonly maxItems?: number;

  constructor(options: ListMemoryOptions = {}) {
    this.name = options.name ?? "list_memory";
    this.items = [...(options.items ?? [])].map(validateItem);
    this.maxItems = options.maxItems;
  }

  get contents(): readonly MemoryItem[] {
    return this.items;
  }

  async add(item: MemoryItem): Promise<void> {
    this.items.push(validateItem(structuredClone(item)));
  }

  /** Every item, most recent first (ListMemory does not rank). */
  async query(_query: string, options: { limit?: number } = {}): Promise<MemoryQueryResult[]> {
    const recent = [...this.items].reverse().slice(0, options.limit ?? this.items.length);
    return recent.map((item) => ({ item: structuredClone(item), score: 1 }));
  }

  async updateContext(context: LLMMessage[]): Promise<MemoryItem[]> {
    const items = this.maxItems !== undefined ? this.items.slice(-this.maxItems) : this.items;
    if (items.length === 0) return [];
    context.push(memoryContextMessage(items));
    return items.map((i) => structuredClone(i));
  }

  async clear(): Promise<void> {
    this.items = [];
  }

  async saveState(): Promise<JsonValue> {
    return { items: structuredClone(this.items) as unknown as JsonValue };
  }

  async loadState(state: JsonValue): Promise<void> {
    const items = (state as { items?: unknown } | null)?.items;
    if (!Array.isArray(items))
      throw new Error(`${this.name}.loadState: state.items must be an array`);
    this.items = items.map((i) => validateItem(structuredClone(i) as unknown as MemoryItem));
  }
}

export function validateItem(item: MemoryItem): MemoryItem {
  if (!item || typeof item.content !== "string") {
    throw new Error(`memory item must have a string content, got ${JSON.stringify(item)}`);
  }
  return item;
}
