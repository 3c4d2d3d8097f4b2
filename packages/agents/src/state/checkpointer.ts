/**
 * Checkpointers: durable storage for a team's state, written after every completed turn so a
 * run killed at any point resumes from its last completed turn. One small interface; the
 * conformance cases in `conformance.ts` define what every implementation must do.
 */
import type { JsonValue } from "../agent.js";

export interface Checkpoint {
  /** The conversation (run) this checkpoint belongs to. */
  threadId: string;
  /** Turn number: strictly increasing within a thread. */
  step: number;
  /** The team's `saveState()`: plain JSON. */
  state: JsonValue;
  createdAt: string;
  metadata: Record<string, string>;
}

export interface Checkpointer {
  /**
   * Stores a checkpoint durably before resolving. Writing a step that already exists
   * replaces it (a resumed run may redo the turn that was in progress when it died).
   */
  put(
    threadId: string,
    step: number,
    state: JsonValue,
    metadata?: Record<string, string>,
  ): Promise<void>;
  /** The checkpoint with the highest step, or undefined for an unknown thread. */
  getLatest(threadId: string): Promise<Checkpoint | undefined>;
  get(threadId: string, step: number): Promise<Checkpoint | undefined>;
  /** Checkpoints of a thread, newest first. */
  list(threadId: string, options?: { limit?: number }): Promise<Checkpoint[]>;
  /** Thread ids that have at least one checkpoint, sorted. */
  threads(): Promise<string[]>;
  deleteThread(threadId: string): Promise<void>;
  close?(): Promise<void>;
}

export function validateKey(threadId: string, step?: number): void {
  if (typeof threadId !== "string" || threadId.length === 0) {
    throw new Error(
      `checkpointer: threadId must be a non-empty string, got ${JSON.stringify(threadId)}`,
    );
  }
  if (step !== undefined && (!Number.isInteger(step) || step < 0)) {
    throw new Error(`checkpointer: step must be a non-negative integer, got ${step}`);
  }
}
