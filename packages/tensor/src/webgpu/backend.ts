/// <reference types="@webgpu/types" />
/**
 * The `webgpu` backend: every Backend op as WGSL compute kernels, recorded into one command
 * encoder and submitted in batches (reads flush). Storage is a pooled GPU buffer; strided
 * views are read in place by the elementwise, reduction, matmul and attention kernels, and
 * copied to a contiguous scratch buffer first by the row / gather kernels.
 */

import {
  type AdamWParams,
  type AttentionArgs,
  type Backend,
  type BinaryOp,
  type CapturedWork,
  type Conv2dGeometry,
  contiguousStrides,
  type DType,
  type HostArray,
  isContiguous,
  type ReduceOp,
  type SgdParams,
  type Storage,
  shapeSize,
  sliceAlong,
  type UnaryOp,
  type View,
} from "../backend.js";
import { f32ToF16, hostArray } from "../dtype.js";
import { deviceOf } from "../memory.js";
import { Fuser } from "./fusion.js";
import { type AdamWUpdate, adamwMany, adamwWords, maxParams } from "./kernels/adamw-many.js";
import * as attn from "./kernels/attention.js";
import { FAULT_WORDS, IndexChecks } from "./kernels/checks.js";
import { type ConcatSource, concatKernel, maxConcatSources } from "./kernels/concat.js";
import {
  binaryBody,
  convert,
  elementwise,
  unaryExpr,
  unaryGradBody,
} from "./kernels/elementwise.js";
import {
  FLASH_MAX_HEAD,
  type FlashVariantName,
  flashAttention,
  flashAttentionBackward,
  resolveFlashVariant,
} from "./kernels/flash.js";
import * as gather from "./kernels/gather.js";
import {
  checkMatmulPrecision,
  checkSplitK,
  type MatmulPrecision,
  type MatmulVariantName,
  matmul,
  matmulTiles,
  resolveMatmulTile,
  type SplitKRule,
  type Tile,
  type TileClass,
} from "./kernels/matmul.js";
import { matvec, matvecApplies } from "./kernels/matvec.js";
import { argmax, reduce } from "./kernels/reduce.js";
import { rope } from "./kernels/rope.js";
import {
  COLUMN_CHUNK,
  columnKernel,
  columnTotals,
  ROW_LSE,
  type RowOperand,
  rowKernel,
  W,
} from "./kernels/rows.js";
import { type GpuStorage, type KernelProfile, Runtime } from "./runtime.js";
import { f32Bits, resolveSubgroups } from "./wgsl.js";

/** What the backend runs on. */
export interface WebGpuInfo {
  /** Adapter description, e.g. "llvmpipe (…)" or the GPU's name. */
  adapter: string;
  /** Where WebGPU came from: "navigator.gpu" or "webgpu (Dawn for Node)". */
  source: string;
  /** True for a software rasterizer (lavapipe, SwiftShader). */
  software: boolean;
  /** Adapter features the kernels can use (subgroups, shader-f16, …) that were enabled. */
  features: string[];
  maxBufferBytes: number;
}

export interface WebGpuBackendOptions {
  /** Backend name (default "webgpu"). */
  name?: string;
  /**
   * Bytes of freed GPU buffers kept for reuse. Default: at least 256 MiB, and more while live +
   * pooled bytes stay within the peak of live bytes (as PyTorch's caching allocator keeps what a
   * program has needed), so a training loop creates no buffers after its first step. A number
   * caps the pool at that many bytes. Under an engine budget (`setMemoryBudget`) the pool keeps
   * at most what the budget leaves over. `trimPool()` frees the pool.
   */
  poolBytes?: number;
  /**
   * Kernels recorded per command-buffer submit (default {@link SUBMIT_BATCH}, 32). Smaller
   * batches start the GPU sooner while the host records the rest of a step; each submit costs
   * host time.
   */
  batch?: number;
  /**
   * Time every kernel on the GPU with timestamp queries (default: env ATHANOR_WEBGPU_PROFILE=1);
   * read with `profile()`. Needs the adapter's "timestamp-query" feature.
   */
  profile?: boolean;
  /**
   * Attention kernels: "tiled" (32-row blocks, the other side streamed through workgroup
   * memory, head sizes compiled in; heads up to 128) or "rows" (one workgroup per query / key
   * row). Default: "rows" for one query per sequence (a decode step: a tiled block would keep
   * 4 of its invocations busy, a row workgroup all 64), "tiled" otherwise. Heads wider than
   * 128 always use "rows". Measured on an H200 at [8, 6, 256, 64], causal forward + backward
   * (2026-11-26 sweep): tiled 3.6 ms, rows 6.1 ms.
   */
  attentionKernel?: "rows" | "tiled";
  /**
   * Shape of the tiled attention kernels (tuning aid): a variant of `FLASH_VARIANTS`
   * (kernels/flash.ts; default "r32-l4-vec4"). A named variant that exceeds the device's workgroup
   * limits throws when it is first used instead of falling back to "rows".
   */
  attentionVariant?: FlashVariantName;
  /**
   * Row kernels (softmax, cross-entropy, norms), reductions and argmax reduce within each
   * subgroup (subgroupAdd / subgroupMax / subgroupMin) instead of shared-memory trees. Default:
   * on when the device has the "subgroups" feature and WGSL's `subgroup_id` extension; false
   * forces the shared-memory path; true throws at construction if either is missing.
   */
  subgroups?: boolean;
  /**
   * Compute precision of matmul (default "f32"). "f16" rounds the inputs to f16 as the kernels
   * load their tiles and accumulates in f32 (cuBLAS's fp16-input, fp32-accumulate numerics; like
   * PyTorch's `set_float32_matmul_precision`); storage stays f32, attention stays f32. Needs the
   * adapter's "shader-f16" feature: without it construction throws. See `setMatmulPrecision`.
   */
  matmulPrecision?: "f32" | "f16";
  /**
   * Fuse chains of elementwise ops that share a shape into one kernel (default true; the
   * environment variable ATHANOR_WEBGPU_FUSE=0 turns it off). See webgpu/fusion.ts.
   */
  fuseElementwise?: boolean;
  /**
   * Force one matmul tile for every size (tuning aid); default: chosen per size class. A size
   * class ("large", "medium", "small") or, for f32, a kernel variant of `MATMUL_VARIANTS`
   * (kernels/matmul.ts). See `setMatmulTile`.
   */
  matmulTile?: TileClass | MatmulVariantName;
  /**
   * The kernel each size class runs (tuning aid; default: the size classes' own tiles), e.g.
   * `{ large: "t128-8x8-bk16-vec4-strided-pad" }`: a size class or, for f32, a kernel variant
   * of `MATMUL_VARIANTS` per class. The class is still chosen per product shape (see
   * `pickTile` in kernels/matmul.ts), from the replacement tiles' sizes. `matmulTile` overrides
   * this. See `setMatmulTiles`.
   */
  matmulTiles?: MatmulTileChoice;
  /**
   * When a matmul is split along K into partial products run side by side, then summed
   * (tuning aid): when its output has fewer than `maxTiles` workgroup tiles and K is at least
   * `minK`. Default `{ maxTiles: 512, minK: 1024 }` (`SPLIT_K` in kernels/matmul.ts); a larger
   * `maxTiles` splits more products.
   */
  matmulSplitK?: Partial<SplitKRule>;
}

/** Which kernel each matmul size class runs (the `matmulTiles` option). */
export type MatmulTileChoice = Partial<Record<TileClass, TileClass | MatmulVariantName>>;

/**
 * A `matmulTiles` choice checked for a precision: a copy of it, and the size classes' tiles
 * with the choices in (undefined when there are none: the precision's own tiles). Throws
 * naming the bad entry.
 */
function resolveTileChoice(
  choice: MatmulTileChoice,
  precision: MatmulPrecision,
): { choice: MatmulTileChoice; tiles: Record<TileClass, Tile> | undefined } {
  const own = matmulTiles(precision);
  const tiles = { ...own };
  const kept: MatmulTileChoice = {};
  for (const [cls, name] of Object.entries(choice)) {
    if (!Object.hasOwn(own, cls)) {
      throw new Error(
        `webgpu backend: matmulTiles has an unknown size class ${JSON.stringify(cls)}; expected ${Object.keys(own).join(", ")}`,
      );
    }
    if (name === undefined) continue;
    tiles[cls as TileClass] = resolveMatmulTile(name, precision);
    kept[cls as TileClass] = name;
  }
  return { choice: kept, tiles: Object.keys(kept).length ? tiles : undefined };
}

/** The default of `poolBytes`. */
const POOL_BYTES = 256 * 1024 * 1024;

/**
 * The default of `batch`: kernels per submit. On an H200 (2026-11-26, docs/BENCHMARKS.md
 * "webgpu-train-step") the GPT-2 step recorded eagerly took 19.9 ms at 32 against 27.0 ms at
 * 128, whose first submit left the GPU idle until a third of the step was recorded; 16 and 64
 * were slower than 32.
 */
export const SUBMIT_BATCH = 32;

export class WebGpuBackend implements Backend {
  readonly name: string;
  readonly syncRead = false;
  readonly rt: Runtime;
  /** Whether reductions use subgroup operations (the `subgroups` option, resolved). */
  readonly subgroups: boolean;
  /** Device-side index checks; their failures surface at the next read (kernels/checks.ts). */
  private readonly checks: IndexChecks;
  /** Pending elementwise chains (null when fusion is off). */
  private readonly fuser: Fuser | null;

  /**
   * @param keepAlive objects that must outlive the device (the GPU instance and adapter it
   *   came from; Dawn crashes if they are garbage collected first).
   */
  constructor(
    device: GPUDevice,
    readonly info: WebGpuInfo,
    private readonly options: WebGpuBackendOptions = {},
    readonly keepAlive: readonly unknown[] = [],
  ) {
    this.name = options.name ?? "webgpu";
    this.precision = checkMatmulPrecision(options.matmulPrecision ?? "f32", device, info.adapter);
    if (options.matmulTile !== undefined) resolveMatmulTile(options.matmulTile, this.precision);
    this.forcedTile = options.matmulTile;
    this.tileChoice = resolveTileChoice(options.matmulTiles ?? {}, this.precision);
    this.splitRule = checkSplitK(options.matmulSplitK ?? {});
    if (options.attentionVariant !== undefined) {
      resolveFlashVariant(options.attentionVariant);
      if (options.attentionKernel === "rows")
        throw new Error('webgpu backend: attentionVariant applies to attentionKernel "tiled"');
    }
    this.subgroups = resolveSubgroups(options.subgroups, info.adapter, info.features, keepAlive);
    this.rt = new Runtime(device, {
      poolBytes: options.poolBytes ?? POOL_BYTES,
      batch: options.batch ?? SUBMIT_BATCH,
      profile:
        options.profile ??
        (typeof process !== "undefined" && process.env?.ATHANOR_WEBGPU_PROFILE === "1"),
    });
    // The engine's byte budget (setMemoryBudget) covers live and pooled tensor storage in the
    // frontend; buffers pooled here may only use what that budget leaves over. Without a
    // budget or a poolBytes cap, the pool also keeps whatever fits under the peak of live
    // bytes, so a loop that frees and reallocates the same working set every step (a training
    // step's activations) creates no buffers after its first step, and live + pooled stays
    // within that peak.
    this.rt.poolCap = () => {
      const dev = deviceOf(this);
      const cap = options.poolBytes ?? POOL_BYTES;
      if (dev.budget !== null)
        return Math.max(
          0,
          Math.min(cap, dev.budget - dev.liveBytes - dev.pooledBytes - this.rt.heldBytes),
        );
      if (options.poolBytes !== undefined) return cap;
      return Math.max(cap, this.rt.peakLiveBytes - this.rt.liveBytes);
    };
    // Same storages for the same allocation sequence every step: bind-group cache hits.
    deviceOf(this).poolOrder = "oldest";
    // The engine's storage pool in front of this one keeps as much (see `poolBytes`).
    deviceOf(this).poolLimit = options.poolBytes ?? POOL_BYTES;
    const fault = this.rt.newStorage(this.name, "i32", FAULT_WORDS);
    this.rt.write(fault.buffer, 0, new Uint32Array(FAULT_WORDS));
    this.checks = new IndexChecks(this.rt, fault);
    const fuse =
      options.fuseElementwise ??
      !(typeof process !== "undefined" && process.env?.ATHANOR_WEBGPU_FUSE === "0");
    this.fuser = fuse
      ? new Fuser(this.rt, device.limits.maxStorageBuffersPerShaderStage - 1)
      : null;
    if (this.fuser) {
      const fuser = this.fuser;
      this.rt.beforeRecord = () => fuser.drain();
    }
  }

  // ---- storage -------------------------------------------------------------------------

  alloc(dtype: DType, size: number): Storage {
    return this.rt.newStorage(this.name, dtype, size);
  }

  bytesPerElement(dtype: DType): number {
    return dtype === "f16" ? 2 : 4;
  }

  free(storage: Storage): void {
    const s = storage as GpuStorage;
    if (s.freed) return;
    s.freed = true;
    if (this.fuser?.deferRelease(s, () => this.rt.release(s.buffer))) return;
    this.rt.release(s.buffer);
  }

  write(storage: Storage, data: HostArray, offset = 0): void {
    const s = storage as GpuStorage;
    if (offset + data.length > s.size) {
      throw new Error(
        `webgpu write: ${data.length} elements at offset ${offset} overflow a storage of ${s.size}`,
      );
    }
    if (s.dtype === "f16") {
      this.writeHalf(s, data, offset);
      return;
    }
    this.rt.write(s.buffer, offset * 4, hostArray(s.dtype, data));
  }

  /**
   * Writes host values into f16 storage, rounded on the host. Whole words go up as they are;
   * a range that starts or ends inside a word (odd offset or end) goes through an f32 scratch
   * and the copy kernel, which leaves the neighbouring half alone.
   */
  private writeHalf(s: GpuStorage, data: HostArray, offset: number): void {
    const n = data.length;
    if (n === 0) return;
    if (offset % 2 === 0 && ((offset + n) % 2 === 0 || offset + n === s.size)) {
      const words = new Uint16Array(n + (n % 2));
      words.set(f32ToF16(data));
      this.rt.write(s.buffer, offset * 2, new Uint32Array(words.buffer));
      return;
    }
    const tmp = this.scratch("f32", [n]);
    this.write(tmp.view.storage, data);
    this.copy(tmp.view, { storage: s, shape: [n], strides: [1], offset });
    tmp.release();
  }

  async read(view: View): Promise<HostArray> {
    const n = shapeSize(view.shape);
    const dtype = view.storage.dtype;
    if (n === 0) return dtype === "i32" ? new Int32Array(0) : new Float32Array(0);
    if (dtype === "f16") {
      // Widened on the GPU (exact), then read as f32.
      const wide = this.scratch("f32", view.shape);
      try {
        this.copy(view, wide.view);
        return await this.read(wide.view);
      } finally {
        wide.release();
      }
    }
    const c = this.contiguous(view);
    const check = this.checks.begin(); // read with the data: one submit, one map
    let parts: ArrayBuffer[];
    try {
      const s = c.view.storage as GpuStorage;
      const data = { buffer: s.buffer, offset: c.view.offset * 4, bytes: n * 4 };
      const read = this.rt.readRanges(check ? [data, check.range] : [data]);
      check?.clear();
      parts = await read;
    } finally {
      c.release();
    }
    const error = check?.finish(parts[1]);
    if (error) throw error;
    return dtype === "i32" ? new Int32Array(parts[0]) : new Float32Array(parts[0]);
  }

  flush(): void {
    this.rt.flush();
  }

  // ---- capture and replay (webgpu/recording.ts) ----------------------------------------

  beginCapture(): void {
    this.rt.beginCapture();
  }

  endCapture(): CapturedWork {
    const rec = this.rt.endCapture();
    return {
      kernels: rec.kernels,
      replay: (prepare) => this.rt.replay(rec, prepare),
      dispose: () => this.rt.disposeRecording(rec),
    };
  }

  retains(storage: Storage): boolean {
    return this.rt.keeps((storage as GpuStorage).buffer);
  }

  retainedBytes(): number {
    return this.rt.heldBytes;
  }

  /**
   * Resolves when every kernel recorded so far has finished on the GPU; rejects with the error
   * of a failed device-side index check recorded before it.
   */
  async sync(): Promise<void> {
    const fault = this.checks.collect();
    fault.catch(() => {});
    await this.rt.sync();
    const error = await fault;
    if (error) throw error;
  }

  /**
   * Kernel and memory counters: dispatches, submits, live / pooled bytes, the fused
   * elementwise kernels with the ops they replaced, the GPU buffers created (allocations the
   * pool could not serve), and the bytes of released buffers that captures keep (`heldBytes`).
   */
  stats(): {
    dispatches: number;
    submits: number;
    liveBytes: number;
    pooledBytes: number;
    heldBytes: number;
    fusedKernels: number;
    fusedOps: number;
    buffersCreated: number;
  } {
    this.fuser?.drain();
    const { dispatches, submits, liveBytes, pooledBytes, heldBytes, buffersCreated } = this.rt;
    const fusedKernels = this.fuser?.fusedKernels ?? 0;
    const fusedOps = this.fuser?.fusedOps ?? 0;
    return {
      dispatches,
      submits,
      liveBytes,
      pooledBytes,
      heldBytes,
      fusedKernels,
      fusedOps,
      buffersCreated,
    };
  }

  /** Turns per-kernel GPU timing on or off (see the `profile` option). */
  setProfile(on: boolean): void {
    this.rt.flush();
    this.rt.options.profile = on;
  }

  private precision: MatmulPrecision;
  /** The matmul tile forced for every size (the `matmulTile` option, or `setMatmulTile`). */
  private forcedTile: TileClass | MatmulVariantName | undefined;
  /** The `matmulTiles` choice, and the class tiles it makes (resolved when set). */
  private tileChoice: ReturnType<typeof resolveTileChoice>;
  /** When matmuls split K (the `matmulSplitK` option). */
  private readonly splitRule: SplitKRule;

  /** The compute precision of matmul kernels recorded from now on (the `matmulPrecision` option). */
  get matmulPrecision(): MatmulPrecision {
    return this.precision;
  }

  /**
   * Sets the compute precision of matmul kernels recorded from now on (see the `matmulPrecision`
   * option); "f16" throws on a device without "shader-f16".
   */
  setMatmulPrecision(precision: "f32" | "f16"): void {
    const checked = checkMatmulPrecision(precision, this.rt.device, this.info.adapter);
    if (this.forcedTile) resolveMatmulTile(this.forcedTile, checked);
    this.tileChoice = resolveTileChoice(this.tileChoice.choice, checked);
    this.precision = checked;
  }

  /** The matmul tile forced for every size (the `matmulTile` option), or undefined. */
  get matmulTile(): TileClass | MatmulVariantName | undefined {
    return this.forcedTile;
  }

  /**
   * Forces one matmul tile for matmuls recorded from now on (see the `matmulTile` option);
   * undefined goes back to choosing per size class. Throws on an unknown name, or on an f32
   * variant under matmulPrecision "f16".
   */
  setMatmulTile(tile: TileClass | MatmulVariantName | undefined): void {
    if (tile !== undefined) resolveMatmulTile(tile, this.precision);
    this.forcedTile = tile;
  }

  /** The kernel each size class runs where it is not the class's own (the `matmulTiles` option). */
  get matmulTiles(): MatmulTileChoice {
    return { ...this.tileChoice.choice };
  }

  /**
   * Sets the kernel each size class runs for matmuls recorded from now on (see the
   * `matmulTiles` option); `{}` goes back to the classes' own tiles. Throws on an unknown class
   * or kernel name, or on an f32 variant under matmulPrecision "f16".
   */
  setMatmulTiles(choice: MatmulTileChoice): void {
    this.tileChoice = resolveTileChoice(choice, this.precision);
  }

  /** GPU milliseconds per kernel (with the `profile` option), slowest first. */
  profile(reset = false): Promise<KernelProfile[]> {
    return this.rt.profile(reset);
  }

  /** Frees the buffers kept for reuse. */
  trimPool(): void {
    this.rt.trim(0);
  }

  dispose(): void {
    this.rt.destroy();
  }

  // ---- helpers -------------------------------------------------------------------------

  /** A scratch contiguous view of `shape` (pair with its `release`). */
  private scratch(dtype: DType, shape: readonly number[]): { view: View; release: () => void } {
    const storage = this.rt.newStorage(this.name, dtype, Math.max(1, shapeSize(shape)));
    return {
      view: { storage, shape, strides: contiguousStrides(shape), offset: 0 },
      release: () => this.free(storage),
    };
  }

  /** `view` itself when contiguous, else a contiguous scratch copy. */
  private contiguous(view: View): { view: View; release: () => void } {
    if (isContiguous(view)) {
      return {
        view: { ...view, strides: contiguousStrides(view.shape) },
        release: () => {},
      };
    }
    const s = this.scratch(view.storage.dtype, view.shape);
    this.copy(view, s.view);
    return s;
  }

  /** Runs `fn` on contiguous versions of `views` (nulls pass through), then frees scratches. */
  private withContiguous<T extends (View | null)[]>(views: T, fn: (...vs: T) => void): void {
    const held = views.map((v) => (v ? this.contiguous(v) : null));
    try {
      fn(...(held.map((h) => h?.view ?? null) as T));
    } finally {
      for (const h of held) h?.release();
    }
  }

  /** Runs a kernel writing `out`; if `out` is strided, through a contiguous scratch. */
  private intoContiguous(out: View, fn: (o: View) => void): void {
    if (isContiguous(out)) {
      fn({ ...out, strides: contiguousStrides(out.shape) });
      return;
    }
    const s = this.scratch(out.storage.dtype, out.shape);
    fn(s.view);
    this.copy(s.view, out);
    s.release();
  }

  // ---- data movement -------------------------------------------------------------------

  fill(out: View, value: number): void {
    const i32 = out.storage.dtype === "i32";
    elementwise(
      this.rt,
      i32 ? "fill-i" : "fill-f",
      i32 ? "let r0 = pi(E);" : "let r0 = pf(E);",
      [{ view: out, mode: "w" }],
      [i32 ? Math.trunc(value) | 0 : f32Bits(value)],
    );
  }

  copy(src: View, dst: View): void {
    if (src.storage === dst.storage) {
      const s = this.scratch(src.storage.dtype, src.shape);
      this.copy(src, s.view);
      this.copy(s.view, dst);
      s.release();
      return;
    }
    elementwise(
      this.rt,
      "copy",
      `let r0 = ${convert("a1", src.storage.dtype, dst.storage.dtype)};`,
      [
        { view: dst, mode: "w" },
        { view: src, mode: "r" },
      ],
    );
  }

  concat(srcs: readonly View[], axis: number, out: View): void {
    // contiguous f32 / i32 sources of other storages go k at a time through one kernel; the
    // rest (strided, f16's packed halves, the output's own storage) are copied into place
    const direct = out.storage.dtype !== "f16" && isContiguous(out);
    const batch: ConcatSource[] = [];
    const k = maxConcatSources(this.rt);
    let start = 0;
    for (const src of srcs) {
      if (direct && isContiguous(src) && src.storage !== out.storage) {
        batch.push({ view: src, start });
        if (batch.length === k) concatKernel(this.rt, batch.splice(0), axis, out);
      } else this.copy(src, sliceAlong(out, axis, start, src.shape));
      start += src.shape[axis];
    }
    if (batch.length) concatKernel(this.rt, batch, axis, out);
  }

  // ---- elementwise ---------------------------------------------------------------------

  /**
   * An elementwise op writing `out` from `inputs` (`body` defines r0 from a1, a2, …): joins
   * the pending fused chain when it can, else runs as its own kernel.
   */
  private pointwise(key: string, body: string, inputs: View[], out: View): void {
    if (this.fuser?.add(key, body, inputs, out)) return;
    elementwise(this.rt, key, body, [
      { view: out, mode: "w" },
      ...inputs.map((view) => ({ view, mode: "r" as const })),
    ]);
  }

  unary(op: UnaryOp, x: View, out: View): void {
    this.pointwise(`unary:${op}`, `let r0 = ${unaryExpr(op, "a1")};`, [x], out);
  }

  unaryBackward(op: UnaryOp, x: View, y: View, dy: View, dx: View): void {
    this.pointwise(
      `unaryBackward:${op}`,
      `  let x = a1;\n  let y = a2;\n  ${unaryGradBody(op)}\n  let r0 = a3 * g;`,
      [x, y, dy],
      dx,
    );
  }

  binary(op: BinaryOp, a: View, b: View, out: View): void {
    this.pointwise(
      `binary:${op}`,
      binaryBody(op, a.storage.dtype, b.storage.dtype, out.storage.dtype),
      [a, b],
      out,
    );
  }

  where(cond: View, a: View, b: View, out: View): void {
    const t = out.storage.dtype;
    const zero = cond.storage.dtype === "i32" ? "0" : "0.0";
    this.pointwise(
      "where",
      `let r0 = select(${convert("a3", b.storage.dtype, t)}, ${convert("a2", a.storage.dtype, t)}, a1 != ${zero});`,
      [cond, a, b],
      out,
    );
  }

  // ---- reductions ----------------------------------------------------------------------

  reduce(op: ReduceOp, x: View, axes: readonly number[], out: View): void {
    reduce(this.rt, op, x, axes, out, this.subgroups);
  }

  argmax(x: View, axis: number, out: View): void {
    argmax(this.rt, x, axis, out, this.subgroups);
  }

  // ---- linear algebra ------------------------------------------------------------------

  matmul(a: View, b: View, out: View): void {
    const forced = this.forcedTile;
    // Products with a few rows (decoding) take the matvec kernels, unless a tile is forced
    // (tuning) or f16 precision is on (the matvec kernels are f32).
    if (!forced && this.precision === "f32" && matvecApplies(a, out)) {
      this.intoContiguous(out, (o) => matvec(this.rt, a, b, o));
      return;
    }
    const tile = forced ? resolveMatmulTile(forced, this.precision) : this.tileChoice.tiles;
    this.intoContiguous(out, (o) => matmul(this.rt, a, b, o, tile, this.precision, this.splitRule));
  }

  // ---- rows ----------------------------------------------------------------------------

  private rows(x: View): { rows: number; cols: number } {
    const cols = x.shape.length === 0 ? 1 : x.shape[x.shape.length - 1];
    return { rows: cols === 0 ? 0 : shapeSize(x.shape) / cols, cols };
  }

  private row(
    key: string,
    inputs: { name: string; view: View | null }[],
    outputs: { name: string; view: View | null }[],
    shapeOf: View,
    body: string,
    options: { perRow?: string[]; fixed?: string[]; extras?: number[] } = {},
  ): void {
    const { rows, cols } = this.rows(shapeOf);
    const ins = inputs.map((i) => i.view);
    this.withContiguous(ins, (...cv) => {
      const ops: RowOperand[] = [];
      inputs.forEach((inp, k) => {
        if (cv[k]) ops.push({ name: inp.name, view: cv[k]!, access: "r" });
      });
      const outs = outputs.filter((o) => o.view);
      const go = (k: number, acc: RowOperand[]): void => {
        if (k === outs.length) {
          rowKernel(this.rt, key, rows, cols, acc, body, { ...options, subgroups: this.subgroups });
          return;
        }
        this.intoContiguous(outs[k].view!, (o) =>
          go(k + 1, [...acc, { name: outs[k].name, view: o, access: "rw" }]),
        );
      };
      go(0, ops);
    });
  }

  softmax(x: View, out: View): void {
    this.row(
      "softmax",
      [{ name: "X", view: x }],
      [{ name: "O", view: out }],
      x,
      `${ROW_LSE}
  for (var j = lid; j < cols; j = j + ${W}u) {
    O[o_O + j] = select(exp(X[o_X + j] - m) / s, 0.0, m == -f_inf());
  }`,
    );
  }

  logSoftmax(x: View, out: View): void {
    this.row(
      "logSoftmax",
      [{ name: "X", view: x }],
      [{ name: "O", view: out }],
      x,
      `${ROW_LSE}
  for (var j = lid; j < cols; j = j + ${W}u) { O[o_O + j] = X[o_X + j] - lse; }`,
    );
  }

  softmaxBackward(y: View, dy: View, dx: View): void {
    this.row(
      "softmaxBackward",
      [
        { name: "Y", view: y },
        { name: "G", view: dy },
      ],
      [{ name: "O", view: dx }],
      y,
      `  var acc = 0.0;
  for (var j = lid; j < cols; j = j + ${W}u) { acc = acc + Y[o_Y + j] * G[o_G + j]; }
  let dot = wg_sum(acc, lid);
  for (var j = lid; j < cols; j = j + ${W}u) { O[o_O + j] = Y[o_Y + j] * (G[o_G + j] - dot); }`,
    );
  }

  logSoftmaxBackward(y: View, dy: View, dx: View): void {
    this.row(
      "logSoftmaxBackward",
      [
        { name: "Y", view: y },
        { name: "G", view: dy },
      ],
      [{ name: "O", view: dx }],
      y,
      `  var acc = 0.0;
  for (var j = lid; j < cols; j = j + ${W}u) { acc = acc + G[o_G + j]; }
  let s = wg_sum(acc, lid);
  for (var j = lid; j < cols; j = j + ${W}u) { O[o_O + j] = G[o_G + j] - exp(Y[o_Y + j]) * s; }`,
    );
  }

  crossEntropy(logits: View, targets: View, ignoreIndex: number, losses: View, lse: View): void {
    this.row(
      "crossEntropy",
      [
        { name: "X", view: logits },
        { name: "T", view: targets },
      ],
      [
        { name: "Lo", view: losses },
        { name: "Z", view: lse },
      ],
      logits,
      `${ROW_LSE}
  if (lid == 0u) {
    let t = T[o_T];
    Z[o_Z] = lse;
    var loss = 0.0;
    if (t != pi(E)) { loss = lse - X[o_X + u32(t)]; }
    Lo[o_Lo] = loss;
  }`,
      { perRow: ["T", "Lo", "Z"], extras: [ignoreIndex | 0] },
    );
  }

  crossEntropyBackward(
    logits: View,
    targets: View,
    lse: View,
    dloss: View,
    ignoreIndex: number,
    dlogits: View,
  ): void {
    this.row(
      "crossEntropyBackward",
      [
        { name: "X", view: logits },
        { name: "T", view: targets },
        { name: "Z", view: lse },
        { name: "DL", view: dloss },
      ],
      [{ name: "O", view: dlogits }],
      logits,
      `  let t = T[o_T];
  let z = Z[o_Z];
  let dl = DL[o_DL];
  let ignored = t == pi(E);
  for (var j = lid; j < cols; j = j + ${W}u) {
    let g = dl * (exp(X[o_X + j] - z) - select(0.0, 1.0, i32(j) == t));
    O[o_O + j] = select(g, 0.0, ignored);
  }`,
      { perRow: ["T", "Z", "DL"], extras: [ignoreIndex | 0] },
    );
  }

  layerNorm(
    x: View,
    weight: View | null,
    bias: View | null,
    eps: number,
    out: View,
    mean: View,
    rstd: View,
  ): void {
    this.row(
      `layerNorm:${weight ? 1 : 0}${bias ? 1 : 0}`,
      [
        { name: "X", view: x },
        { name: "Wt", view: weight },
        { name: "Bs", view: bias },
      ],
      [
        { name: "O", view: out },
        { name: "MU", view: mean },
        { name: "RS", view: rstd },
      ],
      x,
      `  var acc = 0.0;
  for (var j = lid; j < cols; j = j + ${W}u) { acc = acc + X[o_X + j]; }
  let mu = wg_sum(acc, lid) / f32(cols);
  var acc2 = 0.0;
  for (var j = lid; j < cols; j = j + ${W}u) { let d = X[o_X + j] - mu; acc2 = acc2 + d * d; }
  let rs = 1.0 / sqrt(wg_sum(acc2, lid) / f32(cols) + pf(E));
  for (var j = lid; j < cols; j = j + ${W}u) {
    O[o_O + j] = (X[o_X + j] - mu) * rs${weight ? " * Wt[o_Wt + j]" : ""}${bias ? " + Bs[o_Bs + j]" : ""};
  }
  if (lid == 0u) { MU[o_MU] = mu; RS[o_RS] = rs; }`,
      { perRow: ["MU", "RS"], fixed: ["Wt", "Bs"], extras: [f32Bits(eps)] },
    );
  }

  layerNormBackward(
    x: View,
    weight: View | null,
    mean: View,
    rstd: View,
    dy: View,
    dx: View,
    dweight: View | null,
    dbias: View | null,
  ): void {
    const gh = weight ? "G[o_G + j] * Wt[o_Wt + j]" : "G[o_G + j]";
    this.row(
      `layerNormBackward:${weight ? 1 : 0}`,
      [
        { name: "X", view: x },
        { name: "Wt", view: weight },
        { name: "MU", view: mean },
        { name: "RS", view: rstd },
        { name: "G", view: dy },
      ],
      [{ name: "O", view: dx }],
      x,
      `  let mu = MU[o_MU];
  let rs = RS[o_RS];
  var a1 = 0.0;
  var a2 = 0.0;
  for (var j = lid; j < cols; j = j + ${W}u) {
    let g = ${gh};
    a1 = a1 + g;
    a2 = a2 + g * (X[o_X + j] - mu) * rs;
  }
  let s1 = wg_sum(a1, lid) / f32(cols);
  let s2 = wg_sum(a2, lid) / f32(cols);
  for (var j = lid; j < cols; j = j + ${W}u) {
    let xhat = (X[o_X + j] - mu) * rs;
    O[o_O + j] = rs * (${gh} - s1 - xhat * s2);
  }`,
      { perRow: ["MU", "RS"], fixed: ["Wt"] },
    );
    if (!dweight && !dbias) return;
    const outs: { name: string; view: View }[] = [];
    if (dweight) outs.push({ name: "DW", view: dweight });
    if (dbias) outs.push({ name: "DB", view: dbias });
    this.columnSums(
      `layerNormParams:${dweight ? 1 : 0}${dbias ? 1 : 0}`,
      x,
      [
        { name: "X", view: x },
        { name: "MU", view: mean },
        { name: "RS", view: rstd },
        { name: "G", view: dy },
      ],
      outs,
      `  var dw = 0.0;
  var db = 0.0;
  for (var r = rbeg; r < rend; r = r + 1u) {
    let g = G[o_G + r * cols + c];
    dw = dw + g * (X[o_X + r * cols + c] - MU[o_MU + r]) * RS[o_RS + r];
    db = db + g;
  }
  ${dweight ? "DW[o_DW + chunk * cols + c] = dw;" : ""}
  ${dbias ? "DB[o_DB + chunk * cols + c] = db;" : ""}`,
    );
  }

  /**
   * Column sums of a [rows, cols] problem into [cols] outputs: partial sums per chunk of rows
   * (columnKernel), then the chunks added up into every output in one more kernel
   * (columnTotals).
   */
  private columnSums(
    key: string,
    shapeOf: View,
    inputs: { name: string; view: View }[],
    outputs: { name: string; view: View }[],
    body: string,
  ): void {
    const { rows, cols } = this.rows(shapeOf);
    const chunks = Math.max(1, Math.ceil(rows / COLUMN_CHUNK));
    const partial = outputs.map(() => this.scratch("f32", [chunks, cols]));
    this.withContiguous(
      inputs.map((i) => i.view),
      (...cv) => {
        columnKernel(
          this.rt,
          key,
          rows,
          cols,
          [
            ...inputs.map((inp, k) => ({ name: inp.name, view: cv[k]!, access: "r" as const })),
            ...outputs.map((o, k) => ({
              name: o.name,
              view: partial[k].view,
              access: "rw" as const,
            })),
          ],
          body,
        );
      },
    );
    columnTotals(
      this.rt,
      chunks,
      cols,
      outputs.map((o, k) => ({ partial: partial[k].view, out: o.view })),
    );
    for (const p of partial) p.release();
  }

  rope(x: View, cos: View, sin: View, out: View, inverse: boolean): void {
    this.intoContiguous(out, (o) => rope(this.rt, x, cos, sin, o, inverse));
  }

  rmsNorm(x: View, weight: View | null, eps: number, out: View, rstd: View): void {
    this.row(
      `rmsNorm:${weight ? 1 : 0}`,
      [
        { name: "X", view: x },
        { name: "Wt", view: weight },
      ],
      [
        { name: "O", view: out },
        { name: "RS", view: rstd },
      ],
      x,
      `  var acc = 0.0;
  for (var j = lid; j < cols; j = j + ${W}u) { let v = X[o_X + j]; acc = acc + v * v; }
  let rs = 1.0 / sqrt(wg_sum(acc, lid) / f32(cols) + pf(E));
  for (var j = lid; j < cols; j = j + ${W}u) {
    O[o_O + j] = X[o_X + j] * rs${weight ? " * Wt[o_Wt + j]" : ""};
  }
  if (lid == 0u) { RS[o_RS] = rs; }`,
      { perRow: ["RS"], fixed: ["Wt"], extras: [f32Bits(eps)] },
    );
  }

  rmsNormBackward(
    x: View,
    weight: View | null,
    rstd: View,
    dy: View,
    dx: View,
    dweight: View | null,
  ): void {
    const gh = weight ? "G[o_G + j] * Wt[o_Wt + j]" : "G[o_G + j]";
    this.row(
      `rmsNormBackward:${weight ? 1 : 0}`,
      [
        { name: "X", view: x },
        { name: "Wt", view: weight },
        { name: "RS", view: rstd },
        { name: "G", view: dy },
      ],
      [{ name: "O", view: dx }],
      x,
      `  let rs = RS[o_RS];
  var acc = 0.0;
  for (var j = lid; j < cols; j = j + ${W}u) { acc = acc + ${gh} * X[o_X + j]; }
  let s = wg_sum(acc, lid) / f32(cols);
  for (var j = lid; j < cols; j = j + ${W}u) {
    O[o_O + j] = rs * ${gh} - rs * rs * rs * X[o_X + j] * s;
  }`,
      { perRow: ["RS"], fixed: ["Wt"] },
    );
    if (!dweight) return;
    this.columnSums(
      "rmsNormParams",
      x,
      [
        { name: "X", view: x },
        { name: "RS", view: rstd },
        { name: "G", view: dy },
      ],
      [{ name: "DW", view: dweight }],
      `  var dw = 0.0;
  for (var r = rbeg; r < rend; r = r + 1u) {
    dw = dw + G[o_G + r * cols + c] * X[o_X + r * cols + c] * RS[o_RS + r];
  }
  DW[o_DW + chunk * cols + c] = dw;`,
    );
  }

  // ---- indexing ------------------------------------------------------------------------

  indexSelect(x: View, axis: number, index: View, out: View): void {
    this.withContiguous([x, index], (cx, ci) =>
      this.intoContiguous(out, (o) => gather.indexSelect(this.rt, cx!, axis, ci!, o)),
    );
  }

  checkIndices(op: string, what: string, index: View, bound: number, ignore: number | null): void {
    this.withContiguous([index], (ci) => this.checks.record(op, what, ci!, bound, ignore));
  }

  indexAdd(src: View, axis: number, index: View, out: View): void {
    this.withContiguous([src, index], (cs, ci) => {
      if (isContiguous(out)) {
        gather.indexAdd(this.rt, cs!, axis, ci!, out);
        return;
      }
      const acc = this.contiguous(out);
      gather.indexAdd(this.rt, cs!, axis, ci!, acc.view);
      this.copy(acc.view, out);
      acc.release();
    });
  }

  // ---- convolution / pooling -----------------------------------------------------------

  im2col(x: View, g: Conv2dGeometry, cols: View): void {
    this.withContiguous([x], (cx) =>
      this.intoContiguous(cols, (o) => gather.im2col(this.rt, cx!, g, o)),
    );
  }

  col2im(cols: View, g: Conv2dGeometry, dx: View): void {
    this.withContiguous([cols], (cc) =>
      this.intoContiguous(dx, (o) => gather.col2im(this.rt, cc!, g, o)),
    );
  }

  pool2d(kind: "max" | "avg", x: View, g: Conv2dGeometry, out: View, argmaxOut: View | null): void {
    this.withContiguous([x], (cx) =>
      this.intoContiguous(out, (o) => {
        if (!argmaxOut) {
          gather.pool2d(this.rt, kind, cx!, g, o, null);
          return;
        }
        this.intoContiguous(argmaxOut, (a) => gather.pool2d(this.rt, kind, cx!, g, o, a));
      }),
    );
  }

  pool2dBackward(
    kind: "max" | "avg",
    dy: View,
    g: Conv2dGeometry,
    argmaxIn: View | null,
    dx: View,
  ): void {
    this.withContiguous([dy, argmaxIn], (cdy, ca) =>
      this.intoContiguous(dx, (o) => gather.pool2dBackward(this.rt, kind, cdy!, g, ca, o)),
    );
  }

  // ---- attention -----------------------------------------------------------------------

  attention(args: AttentionArgs, out: View, lse: View): void {
    const flash = this.tiledAttention(args);
    this.intoContiguous(out, (o) =>
      this.intoContiguous(lse, (l) =>
        flash
          ? flashAttention(this.rt, args, o, l, this.options.attentionVariant)
          : attn.attention(this.rt, args, o, l),
      ),
    );
  }

  attentionBackward(
    args: AttentionArgs,
    out: View,
    lse: View,
    dout: View,
    dq: View,
    dk: View,
    dv: View,
  ): void {
    const [B, Hq, Tq] = args.q.shape;
    const delta = this.scratch("f32", [B * Hq * Tq]);
    // The kernels read dout through its batch, head and row strides (the gradient of merged
    // heads arrives as a permuted view): only a strided head axis needs a copy.
    const rowsContiguous = dout.strides[3] === 1 || dout.shape[3] === 1;
    this.withContiguous([out, lse, rowsContiguous ? null : dout], (co, cl, cd) =>
      this.intoContiguous(dq, (q) =>
        this.intoContiguous(dk, (k) =>
          this.intoContiguous(dv, (v) =>
            this.attentionGrads(args, {
              out: co!,
              lse: cl!,
              dout: cd ?? dout,
              delta: delta.view,
              dq: q,
              dk: k,
              dv: v,
            }),
          ),
        ),
      ),
    );
    delta.release();
  }

  private tiledAttention(args: AttentionArgs): boolean {
    // The tiled kernels need 16 KiB of workgroup memory plus a little, and 10 storage bindings.
    const limits = this.rt.device.limits;
    const kernel =
      this.options.attentionKernel ??
      (args.q.shape[2] === 1 && this.options.attentionVariant === undefined ? "rows" : "tiled");
    return (
      kernel === "tiled" &&
      Math.max(args.q.shape[3], args.v.shape[3]) <= FLASH_MAX_HEAD &&
      (this.options.attentionVariant !== undefined ||
        limits.maxComputeWorkgroupStorageSize >= 16384 + 1024) &&
      limits.maxStorageBuffersPerShaderStage >= 10
    );
  }

  private attentionGrads(args: AttentionArgs, g: attn.AttentionGrads): void {
    attn.attentionDelta(this.rt, args, g);
    if (this.tiledAttention(args))
      flashAttentionBackward(this.rt, args, g, this.options.attentionVariant);
    else attn.attentionBackward(this.rt, args, g);
  }

  // ---- optimizers ----------------------------------------------------------------------

  adamwMany(updates: readonly AdamWUpdate[], h: AdamWParams): void {
    // `h` changes between replays of a capture (AdamW's replay hook): the words follow it
    const words = adamwWords(h);
    const live = () => adamwWords(h);
    const k = maxParams(this.rt);
    // Contiguous f32 operands on distinct storages go k at a time (a group never binds a
    // storage twice); anything else one by one.
    let group: AdamWUpdate[] = [];
    const storages = new Set<Storage>();
    const emit = () => {
      if (group.length) adamwMany(this.rt, group, words, live);
      group = [];
      storages.clear();
    };
    for (const u of updates) {
      const views = [u.param, u.grad, u.m, u.v];
      const own = new Set(views.map((x) => x.storage));
      if (own.size < 4 || !views.every((x) => x.storage.dtype === "f32" && isContiguous(x))) {
        this.adamw(u.param, u.grad, u.m, u.v, h);
        continue;
      }
      if ([...own].some((st) => storages.has(st))) emit();
      group.push(u);
      for (const st of own) storages.add(st);
      if (group.length === k) emit();
    }
    emit();
  }

  adamw(param: View, grad: View, m: View, v: View, h: AdamWParams): void {
    elementwise(
      this.rt,
      "adamw",
      `  let b1 = pf(E + 1u); let b2 = pf(E + 2u);
  let g = a1;
  let m = b1 * a2 + (1.0 - b1) * g;
  let v = b2 * a3 + (1.0 - b2) * g * g;
  let r0 = a0 * pf(E) - pf(E + 3u) * m / (sqrt(v) / pf(E + 4u) + pf(E + 5u));
  let r2 = m;
  let r3 = v;`,
      [
        { view: param, mode: "rw" },
        { view: grad, mode: "r" },
        { view: m, mode: "rw" },
        { view: v, mode: "rw" },
      ],
      adamwWords(h),
      () => adamwWords(h),
    );
  }

  sgd(param: View, grad: View, buf: View | null, h: SgdParams): void {
    const useBuf = buf !== null && h.momentum !== 0;
    const momentum = useBuf
      ? `  let b = ${h.firstStep ? "g0" : "pf(E + 2u) * a2 + (1.0 - pf(E + 3u)) * g0"};
  let r2 = b;
  let g = ${h.nesterov ? "g0 + pf(E + 2u) * b" : "b"};`
      : "  let g = g0;";
    const ops = [
      { view: param, mode: "rw" as const },
      { view: grad, mode: "r" as const },
    ];
    if (useBuf) ops.push({ view: buf!, mode: "rw" as const });
    // `h` changes between replays of a capture (SGD's replay hook): the words follow it
    const words = () => [
      f32Bits(h.lr),
      f32Bits(h.weightDecay),
      f32Bits(h.momentum),
      f32Bits(h.dampening),
    ];
    elementwise(
      this.rt,
      `sgd:${useBuf ? 1 : 0}${h.firstStep ? 1 : 0}${h.nesterov ? 1 : 0}`,
      `  let g0 = a1 + pf(E + 1u) * a0;
${momentum}
  let r0 = a0 - pf(E) * g;`,
      ops,
      words(),
      words,
    );
  }
}
