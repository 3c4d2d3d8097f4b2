import type { JsonValue } from "../agent.js";
import { type Checkpoint, type Checkpointer, validateKey } from "./checkpointer.js";

/** Keeps checkpoints in process memory (tests, short-lived runs). States are deep-copied. */
export class InMemoryCheckpointer implements Checkpointer {
  private readonly store = new Map<string, Map<number, string>>();

  async put(
    threadId: string,
    step: number,
    state: JsonValue,
    metadata: Record<string, string> = {},
  ) {
    validateKey(threadId, step);
    const row = JSON.stringify({ state, createdAt: new Date().toISOString(), metadata });
    let thread = this.store.get(threadId);
    if (!thread) {
      thread = new Map();
      this.store.set(threadId, thread);
    }
    thread.set(step, row);
  }

  async getLatest(threadId: string): Promise<Checkpoint | undefined> {
    validateKey(threadId);
    const thread = this.store.get(threadId);
    if (!thread || thread.size === 0) return undefined;
    return this.read(threadId, Math.max(...thread.keys()));
  }

  async get(threadId: string, step: number): Promise<Checkpoint | undefined> {
    validateKey(threadId, step);
    return this.read(threadId, step);
  }

  async list(threadId: string, options: { limit?: number } = {}): Promise<Checkpoint[]> {
    validateKey(threadId);
    const steps = [...(this.store.get(threadId)?.keys() ?? [])].sort((a, b) => b - a);
    return steps
      .slice(0, options.limit ?? steps.length)
      .map((s) => this.read(threadId, s) as Checkpoint);
  }

  async threads(): Promise<string[]> {
    return [...this.store.entries()]
      .filter(([, t]) => t.size > 0)
      .map(([id]) => id)
      .sort();
  }

  async deleteThread(threadId: string): Promise<void> {
    validateKey(threadId);
    this.store.delete(threadId);
  }

  private read(threadId: string, step: number): Checkpoint | undefined {
    const row = this.store.get(threadId)?.get(step);
    if (row === undefined) return undefined;
    const { state, createdAt, metadata } = JSON.parse(row);
    return { threadId, step, state, createdAt, metadata };
  }
}
