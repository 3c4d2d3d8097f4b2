/// <reference types="@webgpu/types" />
/**
 * A recording of GPU work for replay: the idea of CUDA Graphs for WebGPU. While the runtime
 * records (`Runtime.beginCapture`), every kernel dispatch, buffer copy and host write it
 * encodes is also appended here with what it binds; `Runtime.replay` encodes the same steps
 * again without running any of the host code that produced them (the engine's ops, autograd,
 * the fuser). A training step's forward and backward pass costs the host tens of microseconds
 * per kernel to record; a replay costs what the encoder calls cost.
 *
 * What a replay repeats is frozen at capture: the kernels, their parameters (shapes, offsets,
 * scalars), the buffers they bind and the bytes of every host write. To stay correct the
 * recording keeps every buffer it touches: the runtime does not pool, hand out or destroy a
 * buffer the recording binds until the recording is disposed.
 */

import type { Access, ParamChunk } from "./runtime.js";

/** A recorded kernel dispatch. */
export interface RecordedDispatch {
  kind: "dispatch";
  key: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  buffers: { buffer: GPUBuffer; access: Access }[];
  /** The dispatch's parameter words (copied at record time). */
  words: Uint32Array;
  /** Binding size of the parameters (a multiple of the offset alignment). */
  size: number;
  groups: [number, number, number];
  /** Recomputes the trailing parameter words at each replay (`Dispatch.live`), or null. */
  live: (() => ArrayLike<number>) | null;
  /** Set when the recording ends: the bind group over the recording's own parameter chunk. */
  group: GPUBindGroup | null;
  /** Which of the recording's chunks holds the parameters, and their dynamic offset there. */
  chunk: number;
  offset: number;
}

/** A recorded buffer-to-buffer copy (host writes are recorded as copies from a staged copy). */
export interface RecordedCopy {
  kind: "copy";
  src: GPUBuffer;
  srcOffset: number;
  dst: GPUBuffer;
  dstOffset: number;
  bytes: number;
}

export type RecordedStep = RecordedDispatch | RecordedCopy;

export class Recording {
  readonly steps: RecordedStep[] = [];
  /** Every buffer a step binds, reads or writes (kept while the recording lives). */
  readonly buffers = new Set<GPUBuffer>();
  /** Released buffers the recording keeps (they are pooled again when it is disposed). */
  readonly held: GPUBuffer[] = [];
  /** Buffers it owns outright: its parameter chunks and the staged bytes of host writes. */
  readonly owned: GPUBuffer[] = [];
  /** Its parameter chunks, and its dispatches with live parameters (set when it ends). */
  readonly chunks: ParamChunk[] = [];
  readonly live: RecordedDispatch[] = [];
  /** Run before each replay (the backend re-arms its device-side index checks here). */
  readonly onReplay: (() => void)[] = [];
  /**
   * Buffers released after the recording ended: a tensor the recorded work reads or writes was
   * freed (or moved to the host tier), so a replay would use memory nobody reads.
   */
  lost = 0;
  state: "recording" | "ready" | "disposed" = "recording";

  /** Kernel dispatches recorded. */
  get kernels(): number {
    let n = 0;
    for (const s of this.steps) if (s.kind === "dispatch") n++;
    return n;
  }

  /** True while the recording exists and binds `buffer`. */
  binds(buffer: GPUBuffer): boolean {
    return this.state !== "disposed" && this.buffers.has(buffer);
  }

  dispatch(step: Omit<RecordedDispatch, "kind" | "group" | "chunk" | "offset">): void {
    this.steps.push({ kind: "dispatch", ...step, group: null, chunk: 0, offset: 0 });
    for (const b of step.buffers) this.buffers.add(b.buffer);
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.steps.push({ kind: "copy", src, srcOffset, dst, dstOffset, bytes });
    this.buffers.add(src);
    this.buffers.add(dst);
  }
}
