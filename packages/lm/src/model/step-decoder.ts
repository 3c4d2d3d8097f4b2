/**
 * Decode steps recorded once and replayed (`capture` in @athanor/tensor). A decode step of a
 * small model is a hundred-odd small kernels; on a GPU the host spends several times longer
 * running the model code that records them than the GPU spends running them. A replay only
 * issues the recorded kernels.
 *
 * A recording repeats fixed shapes and kernel arguments, so the step is made position-free:
 * the new keys and values are written at a cache slot held in a device tensor
 * (`StaticKVCache.writeAt`), attention reads a fixed span of cache positions under an additive
 * mask that hides the positions past the step's (and padding), and the position ids or RoPE
 * rows come from tensors written before each step. What changes from step to step (ids, slot,
 * mask, positions) is written into those tensors; then a recording is replayed.
 *
 * The span is the smallest power of two from {@link MIN_DECODE_SPAN} that holds the step's
 * position, capped at the cache's length: one recording per span, made when a step first needs
 * it, so attention reads at most twice the filled positions (or 32) rather than the whole cache.
 */

import { type Capture, capture, keep, noGrad, type Tensor, tensor, zeros } from "@athanor/tensor";
import type { StepDecoder } from "./causal-lm.js";
import { MASKED, type PositionTensors } from "./inputs.js";
import type { StaticKVCache } from "./kv-cache.js";
import type { TransformerLM } from "./transformer.js";

/** The fewest cache positions a recorded decode step attends over (spans double from here). */
export const MIN_DECODE_SPAN = 32;

/** The cache positions [0, span) a recorded step at position `at` attends over. */
export function decodeSpan(at: number, maxLength: number): number {
  let span = MIN_DECODE_SPAN;
  while (span <= at) span *= 2;
  return Math.min(span, maxLength);
}

export class CapturedStepDecoder implements StepDecoder {
  private readonly ids: Tensor;
  private readonly slot: Tensor;
  private readonly positions: PositionTensors;
  /**
   * Per attention span, in the order they were made: its recording and the additive mask
   * [B, 1, 1, span] it reads (written before each step, so a step's host work grows with its
   * span, not with the cache).
   */
  private readonly recordings = new Map<number, { capture: Capture<Tensor>; mask: Tensor }>();
  private last: Capture<Tensor> | null = null;
  private disposed = false;

  constructor(
    private readonly model: TransformerLM,
    private readonly cache: StaticKVCache,
  ) {
    const { backend } = model;
    if (!backend.beginCapture)
      throw new Error(
        `createStepDecoder: recorded decode steps need a backend that can record work for replay (webgpu); the model is on ${backend.name}`,
      );
    const B = cache.batchSize;
    this.ids = keep(zeros([B, 1], { dtype: "i32", backend }));
    this.slot = keep(zeros([1], { dtype: "i32", backend }));
    this.positions = model.positionTensors(new Int32Array(B), B, 1, backend);
    for (const t of Object.values(this.positions)) keep(t);
  }

  get kernels(): number {
    return this.last?.kernels ?? 0;
  }

  get spans(): number[] {
    return [...this.recordings.keys()];
  }

  step(ids: Int32Array, positions: Int32Array, attentionMask: Float32Array | null): Tensor {
    if (this.disposed) throw new Error("step decoder: used after dispose()");
    const { cache } = this;
    const B = cache.batchSize;
    const L = cache.maxLength;
    if (ids.length !== B || positions.length !== B)
      throw new Error(
        `step decoder: ${ids.length} ids and ${positions.length} positions for a batch of ${B}`,
      );
    if (attentionMask && attentionMask.length !== B * L)
      throw new Error(
        `step decoder: attentionMask has ${attentionMask.length} values; expected [${B}, ${L}] (batch, cache positions), row-major`,
      );
    cache.checkRoom(B, 1);
    const at = cache.length;
    const span = decodeSpan(at, L);
    this.ids.write(ids);
    this.slot.write([at]);
    const values = new Float32Array(B * span).fill(MASKED);
    // 0 (attend) on this step's position and the real ones before it; MASKED elsewhere
    for (let b = 0; b < B; b++) {
      for (let j = 0; j <= at; j++) {
        if (attentionMask?.[b * L + j] !== 0) values[b * span + j] = 0;
      }
    }
    for (const [name, p] of Object.entries(this.model.positionValues(positions, B, 1)))
      this.positions[name].write(p.values);
    let entry = this.recordings.get(span);
    if (entry) {
      entry.mask.write(values);
      entry.capture.replay();
    } else {
      const { backend } = this.model;
      const mask = keep(tensor(values, [B, 1, 1, span], { backend }));
      const decode = { slot: this.slot, positions: this.positions, span };
      try {
        const recorded = capture(backend, () =>
          noGrad(() => this.model.forwardStep(this.ids, cache, decode, mask)),
        );
        entry = { capture: recorded, mask };
      } catch (e) {
        mask.dispose();
        throw e;
      }
      this.recordings.set(span, entry);
    }
    this.last = entry.capture;
    cache.advance(1);
    return entry.capture.result;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const { capture, mask } of this.recordings.values()) {
      capture.dispose();
      mask.dispose();
    }
    this.recordings.clear();
    this.last = null;
    for (const t of [this.ids, this.slot, ...Object.values(this.positions)]) t.dispose();
  }
}
