/**
 * A preallocated key/value cache: per layer, keys and values [B, Hkv, maxLength, D], f32 or f16
 * (half the memory: the new positions are rounded as they are written, and attention reads the
 * halves directly). Each forward writes its new positions in place (no re-concatenation per
 * token) and attends over the views [0, length + T).
 */

import { keep, ops, type Tensor, zeros } from "@athanor/tensor";
import type { KVCache } from "./causal-lm.js";

export class StaticKVCache implements KVCache {
  private readonly keys: Tensor[] = [];
  private readonly values: Tensor[] = [];
  private _length = 0;
  private disposed = false;

  constructor(
    readonly batchSize: number,
    readonly numLayers: number,
    readonly numKvHeads: number,
    readonly headDim: number,
    readonly maxLength: number,
    readonly dtype: "f32" | "f16" = "f32",
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new Error(`createCache: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(maxLength) || maxLength < 1)
      throw new Error(`createCache: maxLength must be a positive integer, got ${maxLength}`);
    for (let l = 0; l < numLayers; l++) {
      const shape = [batchSize, numKvHeads, maxLength, headDim];
      this.keys.push(keep(zeros(shape, { dtype })));
      this.values.push(keep(zeros(shape, { dtype })));
    }
  }

  get length(): number {
    return this._length;
  }

  /** Checks that `T` more positions fit (before a forward writes anything). */
  checkRoom(batch: number, T: number): void {
    if (this.disposed) throw new Error("KV cache: used after dispose()");
    if (batch !== this.batchSize)
      throw new Error(`KV cache: batch ${batch} does not match the cache's ${this.batchSize}`);
    if (this._length + T > this.maxLength)
      throw new Error(
        `KV cache: ${this._length} cached + ${T} new positions exceed its maxLength ${this.maxLength}`,
      );
  }

  /**
   * Writes this step's keys/values k, v [B, Hkv, T, D] for `layer` at the current length and
   * returns the views over every position so far, [B, Hkv, length + T, D].
   */
  update(layer: number, k: Tensor, v: Tensor): [Tensor, Tensor] {
    const T = k.shape[2];
    const end = this._length + T;
    const out: Tensor[] = [];
    for (const [src, buf] of [
      [k, this.keys[layer]],
      [v, this.values[layer]],
    ] as const) {
      const dst = ops.slice(buf, 2, this._length, end);
      buf.backend.copy(src._view("KV cache"), dst._view("KV cache"));
      dst.dispose();
      out.push(ops.slice(buf, 2, 0, end));
    }
    return [out[0], out[1]];
  }

  /**
   * Writes one step's keys / values k, v [B, Hkv, 1, D] for `layer` at the position held by the
   * device tensor `slot` (i32 [1]) and returns views of the cache's first `span` positions
   * [B, Hkv, span, D]: shapes that do not depend on the position, so a recorded decode step can
   * be replayed at the next one (./step-decoder.ts; a mask hides the positions past the
   * step's). The write adds into the slot, which is zero: never written, or cleared by
   * `truncate`; an f16 cache gets the values rounded as `update` rounds them.
   */
  writeAt(layer: number, k: Tensor, v: Tensor, slot: Tensor, span: number): [Tensor, Tensor] {
    const out: Tensor[] = [];
    for (const [src, buf] of [
      [k, this.keys[layer]],
      [v, this.values[layer]],
    ] as const) {
      buf.backend.indexAdd(src._view("KV cache"), 2, slot._view("KV cache"), buf._view("KV cache"));
      out.push(ops.slice(buf, 2, 0, span));
    }
    return [out[0], out[1]];
  }

  /** Marks `T` more positions as cached (after every layer was updated). */
  advance(T: number): void {
    this._length += T;
  }

  /** Forgets positions from `length` on (e.g. to reuse a shared prompt prefix). */
  truncate(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this._length)
      throw new Error(`KV cache: cannot truncate to ${length} (length ${this._length})`);
    // forgotten positions go back to zero: `writeAt` adds into its slot
    if (length < this._length) {
      for (const buf of [...this.keys, ...this.values]) {
        const tail = ops.slice(buf, 2, length, this._length);
        const zero = zeros(tail.shape, { dtype: buf.dtype, backend: buf.backend });
        buf.backend.copy(zero._view("KV cache"), tail._view("KV cache"));
        zero.dispose();
        tail.dispose();
      }
    }
    this._length = length;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [...this.keys, ...this.values]) t.dispose();
  }
}
