/**
 * Training data: SFT examples (prompt + response token ids) and plain sequences, turned into
 * right-padded batches whose labels are −100 wherever the loss must not count (prompt,
 * padding), and a seeded, resumable loader over them.
 */

import { type Tensor, tensor } from "@athanor/tensor";
import { countIn, IGNORE_INDEX } from "./loss.js";

/** One supervised example: the loss counts only the response tokens. */
export interface SftExample {
  prompt: number[];
  response: number[];
}

/** A training batch: input ids and labels, i32 [B, T]. */
export interface Batch {
  inputIds: Tensor;
  labels: Tensor;
  /** Real (non-padding) tokens in the batch. */
  tokens: number;
  /**
   * Labels that count toward the loss (labels[:, 1:] ≠ −100). Batches built here carry it;
   * without it the trainer counts on the host, which needs a backend with synchronous reads.
   */
  labelTokens?: number;
}

export interface BatchOptions {
  /** Id written into padding positions (never counted: its labels are −100). */
  padId: number;
  /** Cut sequences longer than this (keeping the start). Default: no limit. */
  maxLength?: number;
  /**
   * Pad each batch's length up to a multiple of this (never past `maxLength`), like
   * `transformers`' `pad_to_multiple_of`: batches then come in few shapes, which recorded
   * training steps (the Trainer's `captureSteps`) need. Padding changes no loss (its labels
   * are −100, and in a causal model no real token attends to a later pad).
   */
  padToMultipleOf?: number;
}

function build(rows: { ids: number[]; labels: number[] }[], o: BatchOptions): Batch {
  if (rows.length === 0) throw new Error("batch: no examples");
  const cut = rows.map((r) => {
    const n = Math.min(r.ids.length, o.maxLength ?? Number.POSITIVE_INFINITY);
    return { ids: r.ids.slice(0, n), labels: r.labels.slice(0, n) };
  });
  let T = Math.max(...cut.map((r) => r.ids.length));
  if (T < 2) throw new Error("batch: every sequence has fewer than 2 tokens");
  const m = o.padToMultipleOf;
  if (m !== undefined) {
    if (!Number.isInteger(m) || m < 1)
      throw new Error(`batch: padToMultipleOf must be a positive integer, got ${m}`);
    T = Math.min(Math.ceil(T / m) * m, o.maxLength ?? Number.POSITIVE_INFINITY);
  }
  const ids = new Int32Array(rows.length * T).fill(o.padId);
  const labels = new Int32Array(rows.length * T).fill(IGNORE_INDEX);
  let tokens = 0;
  cut.forEach((r, b) => {
    ids.set(r.ids, b * T);
    labels.set(r.labels, b * T);
    tokens += r.ids.length;
  });
  return {
    inputIds: tensor(ids, [rows.length, T]),
    labels: tensor(labels, [rows.length, T]),
    tokens,
    labelTokens: countIn(labels, rows.length, T),
  };
}

/** Right-padded SFT batch: labels are the response tokens, −100 on the prompt and padding. */
export function sftBatch(examples: SftExample[], options: BatchOptions): Batch {
  return build(
    examples.map((e) => ({
      ids: [...e.prompt, ...e.response],
      labels: [...e.prompt.map(() => IGNORE_INDEX), ...e.response],
    })),
    options,
  );
}

/** Right-padded language-modelling batch: every real token is a label. */
export function lmBatch(sequences: number[][], options: BatchOptions): Batch {
  return build(
    sequences.map((s) => ({ ids: s, labels: s })),
    options,
  );
}

/** Splits one long token stream into blocks of `blockSize` (the last partial block dropped). */
export function packTokens(tokens: ArrayLike<number>, blockSize: number): number[][] {
  if (!Number.isInteger(blockSize) || blockSize < 2)
    throw new Error(`packTokens: blockSize must be an integer ≥ 2, got ${blockSize}`);
  const out: number[][] = [];
  for (let s = 0; s + blockSize <= tokens.length; s += blockSize)
    out.push(Array.from({ length: blockSize }, (_, i) => tokens[s + i]));
  return out;
}

/** Where a loader is: enough to continue exactly (saved in training checkpoints). */
export interface LoaderState {
  seed: number;
  epoch: number;
  cursor: number;
}

/** mulberry32: a small seeded generator whose whole state is one integer. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Endless batches of `batchSize` items, reshuffled every epoch from the seed (epoch e's order
 * depends only on seed and e, so `state()` / `restore()` continue exactly).
 */
export class DataLoader<T> {
  private epoch = 0;
  private cursor = 0;
  private order: number[] = [];

  constructor(
    readonly items: readonly T[],
    readonly batchSize: number,
    readonly options: { shuffle?: boolean; seed?: number } = {},
  ) {
    if (items.length === 0) throw new Error("DataLoader: no items");
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    this.order = this.orderFor(0);
  }

  private orderFor(epoch: number): number[] {
    const idx = this.items.map((_, i) => i);
    if (this.options.shuffle === false) return idx;
    const rand = seededRandom(((this.options.seed ?? 0) * 1000003 + epoch * 7919) >>> 0);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    return idx;
  }

  /** The next batch (wrapping into a new, reshuffled epoch; a batch never spans two epochs). */
  next(): T[] {
    if (this.cursor >= this.items.length) {
      this.epoch++;
      this.cursor = 0;
      this.order = this.orderFor(this.epoch);
    }
    const ids = this.order.slice(this.cursor, this.cursor + this.batchSize);
    this.cursor += ids.length;
    return ids.map((i) => this.items[i]);
  }

  get epochsDone(): number {
    return this.epoch + this.cursor / this.items.length;
  }

  state(): LoaderState {
    return { seed: this.options.seed ?? 0, epoch: this.epoch, cursor: this.cursor };
  }

  restore(s: LoaderState): void {
    if (s.seed !== (this.options.seed ?? 0))
      throw new Error(
        `DataLoader.restore: state was saved with seed ${s.seed}, this loader has ${this.options.seed ?? 0}`,
      );
    this.epoch = s.epoch;
    this.cursor = s.cursor;
    this.order = this.orderFor(s.epoch);
  }
}
