/**
 * The `cpu` backend: every kernel runs in WebAssembly SIMD (assembly/, compiled by the
 * package build) over one shared `WebAssembly.Memory`; large kernels are split across a
 * worker-thread pool that shares that memory; matmul goes to the platform BLAS (OpenBLAS /
 * Accelerate through native/athanor_blas.c) when the addon is built and not disabled.
 */

import { availableParallelism } from "node:os";
import {
  type AdamWParams,
  type AttentionArgs,
  type Backend,
  type BinaryOp,
  type Conv2dGeometry,
  convGeometryWords,
  type DType,
  type HostArray,
  isContiguous,
  type ReduceOp,
  type SgdParams,
  type Storage,
  shapeSize,
  type UnaryOp,
  type View,
} from "../backend.js";
import { roundToF16 } from "../dtype.js";
import { type BlasAddon, blasAllowedByEnv, loadBlas, useBlasThreads } from "./blas.js";
import { Heap } from "./heap.js";
import {
  instantiate,
  type KernelExports,
  kernelsModule,
  type PoolFunction,
  usingRelaxedKernels,
} from "./kernels.js";
import { WorkerPool } from "./pool.js";
import { collapse, prod, splitRange } from "./strided.js";

/** Options of {@link CpuBackend}. */
export interface CpuBackendOptions {
  /** Threads for large kernels, the calling thread included (default: available cores). */
  threads?: number;
  /**
   * Use the BLAS addon for matmul when it is built (default true; the environment variable
   * `ATHANOR_BLAS=0` also turns it off).
   */
  blas?: boolean;
  /** Backend name (default "cpu"). */
  name?: string;
  /**
   * Bytes of attention scores the BLAS attention path holds at once (default 64 MiB); heads
   * are processed in chunks that fit.
   */
  attentionChunkBytes?: number;
  /**
   * Polls a worker makes for the next kernel before it sleeps in `Atomics.wait` (default
   * 20000, tens of microseconds): back-to-back kernels skip the wake-up latency.
   */
  workerSpin?: number;
}

/** Which paths a cpu backend uses. */
export interface CpuBackendInfo {
  /** WebAssembly SIMD kernels loaded. */
  wasmSimd: boolean;
  /** The relaxed SIMD build is in use (fused multiply-add in the WebAssembly matmul). */
  relaxedSimd: boolean;
  /** Threads used for large kernels (the calling thread included). */
  threads: number;
  /** The BLAS library matmul goes to, or null when matmul runs in WebAssembly. */
  blas: string | null;
  /** The BLAS build configuration (OpenBLAS's `openblas_get_config()`), when active. */
  blasConfig: string | null;
  /** Why BLAS is not used, when it is not. */
  blasUnavailable: string | null;
}

interface CpuStorage extends Storage {
  /** The backend instance whose memory holds it (names can repeat; memories never do). */
  readonly owner: CpuBackend;
  readonly ptr: number;
  readonly bytes: number;
  readonly data: Float32Array | Int32Array;
  freed: boolean;
}

const UNARY: readonly UnaryOp[] = [
  "neg",
  "abs",
  "sign",
  "exp",
  "log",
  "sqrt",
  "rsqrt",
  "square",
  "reciprocal",
  "sin",
  "cos",
  "tanh",
  "sigmoid",
  "relu",
  "gelu_tanh",
  "gelu_erf",
  "silu",
];
const BINARY: readonly BinaryOp[] = [
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "max",
  "min",
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
];
const REDUCE: readonly ReduceOp[] = ["sum", "max", "min", "prod"];
const REDUCE_INIT: Record<ReduceOp, number> = { sum: 0, max: -Infinity, min: Infinity, prod: 1 };

// ndRun kinds (assembly/elementwise.ts).
const K_UNARY = 0;
const K_BINARY = 1;
const K_BINARY_I32 = 2;
const K_WHERE = 3;
const K_COPY = 4;
const K_REDUCE = 5;
const K_UNARY_GRAD = 6;

// Work (elements, or flops for matmul) below which a kernel stays on the calling thread.
const PAR_ELEMENTS = 1 << 15;
const PAR_FLOPS = 4e6;
// Per-thread areas in the control block.
const DESC_BYTES = 256;
const TMP_BYTES = 64;
const MAX_THREADS = 64;
const PARAM_BYTES = 256;
const GEMM_RECORD = 13;
// Score blocks of the BLAS attention path are processed in chunks of heads up to this size.
const ATTENTION_CHUNK_BYTES = 64 * 2 ** 20;
const MR = 4;
const NR = 8;

function opIndex<T>(table: readonly T[], op: T, what: string): number {
  const i = table.indexOf(op);
  if (i < 0) throw new Error(`cpu backend: unknown ${what} op "${String(op)}"`);
  return i;
}

export class CpuBackend implements Backend {
  readonly name: string;
  readonly syncRead = true;
  private readonly heap: Heap;
  private readonly k: KernelExports;
  private readonly pool: WorkerPool;
  private readonly control: number;
  private blas: BlasAddon | null;
  private readonly blasReason: string;
  private gemmScratch: number[] = [];
  private jobs = { ptr: 0, bytes: 0 };
  private disposed = false;
  private readonly attentionChunkBytes: number;

  constructor(options: CpuBackendOptions = {}) {
    this.name = options.name ?? "cpu";
    this.attentionChunkBytes = options.attentionChunkBytes ?? ATTENTION_CHUNK_BYTES;
    const module = kernelsModule();
    this.heap = new Heap();
    this.k = instantiate(module, this.heap.memory);
    this.heap.setBase(this.k.heapBase());
    this.control = this.heap.alloc(MAX_THREADS * (DESC_BYTES + TMP_BYTES) + 2 * PARAM_BYTES);
    this.pool = new WorkerPool({
      module,
      memory: this.heap.memory,
      local: this.k,
      spin: options.workerSpin,
    });
    const loaded = loadBlas();
    if (options.blas === false) {
      this.blas = null;
      this.blasReason = "disabled by option (blas: false)";
    } else if (!blasAllowedByEnv()) {
      this.blas = null;
      this.blasReason = "disabled by ATHANOR_BLAS";
    } else {
      this.blas = loaded.addon;
      this.blasReason = loaded.reason;
    }
    this.setThreads(options.threads ?? availableParallelism());
  }

  // ---- configuration ----------------------------------------------------------------------

  /** Sets the threads used for large kernels (the calling thread included) and BLAS's. */
  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
      throw new Error(
        `cpu backend: setThreads expects an integer in [1, ${MAX_THREADS}], got ${n}`,
      );
    }
    this.pool.setThreads(n);
  }

  get threads(): number {
    return this.pool.threads;
  }

  /** Turns the BLAS matmul on or off at run time (tests run both paths). */
  setBlas(on: boolean): void {
    this.blas = on && blasAllowedByEnv() ? loadBlas().addon : null;
  }

  info(): CpuBackendInfo {
    const b = this.blas?.info();
    return {
      wasmSimd: true,
      relaxedSimd: usingRelaxedKernels(),
      threads: this.threads,
      blas: b?.library ?? null,
      blasConfig: b?.config ?? null,
      blasUnavailable: this.blas ? null : this.blasReason || "disabled",
    };
  }

  /** Heap statistics of the shared WebAssembly memory. */
  memoryStats(): { usedBytes: number; peakBytes: number; reservedBytes: number } {
    return this.heap.stats();
  }

  // ---- storage ------------------------------------------------------------------------------

  alloc(dtype: DType, size: number): Storage {
    this.checkAlive();
    const bytes = Math.max(size, 1) * 4;
    const ptr = this.heap.alloc(bytes);
    const data = dtype === "i32" ? this.heap.i32(ptr, size) : this.heap.f32(ptr, size);
    const s: CpuStorage = {
      backend: this.name,
      owner: this,
      dtype,
      size,
      ptr,
      bytes,
      data,
      freed: false,
    };
    return s;
  }

  free(storage: Storage): void {
    const s = storage as CpuStorage;
    if (s.owner !== this)
      throw new Error(`cpu backend "${this.name}": cannot free another backend's storage`);
    if (s.freed || this.disposed) return;
    s.freed = true;
    this.heap.release(s.ptr, s.bytes);
  }

  write(storage: Storage, data: HostArray, offset = 0): void {
    const s = this.st(storage);
    if (offset < 0 || offset + data.length > s.size) {
      throw new RangeError(
        `cpu backend: write of ${data.length} elements at offset ${offset} overflows a storage of ${s.size}`,
      );
    }
    s.data.set(s.dtype === "f16" ? roundToF16(Float32Array.from(data)) : data, offset);
  }

  async read(view: View): Promise<HostArray> {
    return this.readSync(view);
  }

  readSync(view: View): HostArray {
    const s = this.st(view.storage);
    const n = shapeSize(view.shape);
    if (isContiguous(view)) return s.data.slice(view.offset, view.offset + n);
    const tmp = this.alloc(s.dtype, n) as CpuStorage;
    try {
      this.copy(view, this.contiguousView(tmp, view.shape));
      return tmp.data.slice(0, n);
    } finally {
      this.free(tmp);
    }
  }

  dispose(): void {
    this.pool.close();
    this.disposed = true;
  }

  // ---- data movement ------------------------------------------------------------------------

  fill(out: View, value: number): void {
    const s = this.st(out.storage);
    const n = shapeSize(out.shape);
    const v =
      s.dtype === "i32"
        ? Math.trunc(value)
        : s.dtype === "f16"
          ? roundToF16(new Float32Array([value]))[0]
          : value;
    s.data.fill(v, out.offset, out.offset + n);
  }

  copy(src: View, dst: View): void {
    // f16 lives in f32 slots here: a float copy, then rounding when narrowing into f16.
    const from = src.storage.dtype === "i32" ? "i32" : "f32";
    const to = dst.storage.dtype === "i32" ? "i32" : "f32";
    const narrow = dst.storage.dtype === "f16" && src.storage.dtype !== "f16";
    if (narrow && !isContiguous(dst)) {
      const tmp = this.alloc("f16", shapeSize(dst.shape));
      try {
        const c = this.contiguousView(tmp, dst.shape);
        this.copy(src, c);
        this.nd(K_COPY, 0, dst.shape, [c, dst]);
      } finally {
        this.free(tmp);
      }
      return;
    }
    const conv = from === to ? 0 : from === "f32" ? 1 : 2;
    this.nd(K_COPY, conv, dst.shape, [src, dst]);
    if (narrow) {
      const d = this.st(dst.storage).data as Float32Array;
      roundToF16(d.subarray(dst.offset, dst.offset + shapeSize(dst.shape)));
    }
  }

  // ---- elementwise --------------------------------------------------------------------------

  unary(op: UnaryOp, x: View, out: View): void {
    this.nd(K_UNARY, opIndex(UNARY, op, "unary"), out.shape, [x, out]);
  }

  unaryBackward(op: UnaryOp, x: View, y: View, dy: View, dx: View): void {
    this.nd(K_UNARY_GRAD, opIndex(UNARY, op, "unary"), dx.shape, [x, y, dy, dx]);
  }

  binary(op: BinaryOp, a: View, b: View, out: View): void {
    const code = opIndex(BINARY, op, "binary");
    if (a.storage.dtype === "i32" && b.storage.dtype === "i32") {
      this.nd(K_BINARY_I32, code, out.shape, [a, b, out]);
      return;
    }
    // Mixed dtypes compute in f32.
    const fa = this.asF32(a);
    const fb = this.asF32(b);
    try {
      this.nd(K_BINARY, code, out.shape, [fa, fb, out]);
    } finally {
      if (fa !== a) this.free(fa.storage);
      if (fb !== b) this.free(fb.storage);
    }
  }

  where(cond: View, a: View, b: View, out: View): void {
    this.nd(K_WHERE, cond.storage.dtype === "i32" ? 1 : 0, out.shape, [cond, a, b, out]);
  }

  // ---- reductions ---------------------------------------------------------------------------

  reduce(op: ReduceOp, x: View, axes: readonly number[], out: View): void {
    if (out.storage.dtype === "i32") {
      // Integer results: reduce in f32, then convert.
      const tmp = this.alloc("f32", shapeSize(out.shape));
      try {
        const t = this.contiguousView(tmp, out.shape);
        this.reduce(op, x, axes, t);
        this.copy(t, out);
      } finally {
        this.free(tmp);
      }
      return;
    }
    this.fill(out, REDUCE_INIT[op]);
    // The output, seen through x's shape: stride 0 on the reduced axes.
    const outStrides = out.strides.map((s, d) => (axes.includes(d) ? 0 : s));
    const src = this.asF32(x);
    try {
      const ov: View = {
        storage: out.storage,
        shape: x.shape,
        strides: outStrides,
        offset: out.offset,
      };
      this.nd(K_REDUCE, opIndex(REDUCE, op, "reduce"), x.shape, [src, ov], true);
    } finally {
      if (src !== x) this.free(src.storage);
    }
  }

  argmax(x: View, axis: number, out: View): void {
    const xs = this.st(x.storage).data;
    const os = this.st(out.storage).data;
    const n = x.shape[axis];
    const outer = prod(x.shape, 0, axis);
    const inner = prod(x.shape, axis + 1);
    // Strides of x over (outer axes flattened in row-major order), the axis, and inner axes.
    const rank = x.shape.length;
    const idx = new Array<number>(rank).fill(0);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        // Decode (o, i) into a multi-index with idx[axis] = 0.
        let rem = i;
        for (let d = rank - 1; d > axis; d--) {
          idx[d] = rem % x.shape[d];
          rem = Math.floor(rem / x.shape[d]);
        }
        rem = o;
        for (let d = axis - 1; d >= 0; d--) {
          idx[d] = rem % x.shape[d];
          rem = Math.floor(rem / x.shape[d]);
        }
        let base = x.offset;
        for (let d = 0; d < rank; d++) if (d !== axis) base += idx[d] * x.strides[d];
        let best = -Infinity;
        let bi = 0;
        for (let j = 0; j < n; j++) {
          const v = xs[base + j * x.strides[axis]];
          if (v > best || Number.isNaN(v)) {
            best = v;
            bi = j;
            if (Number.isNaN(v)) break;
          }
        }
        os[out.offset + o * inner + i] = bi;
      }
    }
  }

  // ---- linear algebra -----------------------------------------------------------------------

  matmul(a: View, b: View, out: View): void {
    const r = out.shape.length;
    const M = a.shape[r - 2];
    const K = a.shape[r - 1];
    const N = b.shape[r - 1];
    const batch = prod(out.shape, 0, r - 2);
    if (batch === 0 || M === 0 || N === 0) return;
    if (K === 0) {
      this.fill(out, 0);
      return;
    }
    const fa = this.asF32(a);
    const fb = this.asF32(b);
    try {
      const ptrs = this.batchPointers(fa, fb, out, batch);
      if (M === 1 && this.matvec(fa, fb, out, ptrs, N, K)) return;
      if (this.blas) this.matmulBlas(fa, fb, out, ptrs, M, N, K);
      else this.matmulWasm(fa, fb, out, ptrs, M, N, K);
    } finally {
      if (fa !== a) this.free(fa.storage);
      if (fb !== b) this.free(fb.storage);
    }
  }

  // ---- softmax / norms ----------------------------------------------------------------------

  softmax(x: View, out: View): void {
    this.softmaxLike(x, out, false);
  }

  logSoftmax(x: View, out: View): void {
    this.softmaxLike(x, out, true);
  }

  softmaxBackward(y: View, dy: View, dx: View): void {
    this.softmaxBackLike(y, dy, dx, false);
  }

  logSoftmaxBackward(y: View, dy: View, dx: View): void {
    this.softmaxBackLike(y, dy, dx, true);
  }

  crossEntropy(logits: View, targets: View, ignoreIndex: number, losses: View, lse: View): void {
    const [N, C] = logits.shape;
    this.withContiguous([logits, targets], ([l, t]) => {
      this.rows("crossEntropyRows", N, C, (r0, r1) => [
        l,
        t,
        ignoreIndex,
        this.ptr(losses),
        this.ptr(lse),
        C,
        r0,
        r1,
      ]);
    });
  }

  crossEntropyBackward(
    logits: View,
    targets: View,
    lse: View,
    dloss: View,
    ignoreIndex: number,
    dlogits: View,
  ): void {
    const [N, C] = logits.shape;
    this.withContiguous([logits, targets, lse, dloss], ([l, t, z, g]) => {
      this.rows("crossEntropyBackwardRows", N, C, (r0, r1) => [
        l,
        t,
        z,
        g,
        ignoreIndex,
        this.ptr(dlogits),
        C,
        r0,
        r1,
      ]);
    });
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
    this.norm(x, weight, bias, eps, out, mean, rstd, false);
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
    this.normBackward(x, weight, mean, rstd, dy, dx, dweight, dbias, false);
  }

  rmsNorm(x: View, weight: View | null, eps: number, out: View, rstd: View): void {
    this.norm(x, weight, null, eps, out, null, rstd, true);
  }

  rmsNormBackward(
    x: View,
    weight: View | null,
    rstd: View,
    dy: View,
    dx: View,
    dweight: View | null,
  ): void {
    this.normBackward(x, weight, null, rstd, dy, dx, dweight, null, true);
  }

  // ---- indexing -----------------------------------------------------------------------------

  indexSelect(x: View, axis: number, index: View, out: View): void {
    const n = x.shape[axis];
    const inner = prod(x.shape, axis + 1);
    const outer = prod(x.shape, 0, axis);
    const L = shapeSize(index.shape);
    if (outer * L * inner === 0) return;
    this.withContiguous([x, index], ([xp, ip]) => {
      const threads = outer * L * inner >= PAR_ELEMENTS ? Math.min(this.threads, outer) : 1;
      this.pool.run(
        "indexSelectRows",
        splitRange(outer, threads).map(([o0, o1]) => [xp, ip, this.ptr(out), n, L, inner, o0, o1]),
      );
    });
  }

  indexAdd(src: View, axis: number, index: View, out: View): void {
    const n = out.shape[axis];
    const inner = prod(out.shape, axis + 1);
    const outer = prod(out.shape, 0, axis);
    const L = shapeSize(index.shape);
    if (outer * L * inner === 0) return;
    if (!isContiguous(out)) throw new Error("cpu backend: indexAdd needs a contiguous output");
    const isInt = out.storage.dtype === "i32" ? 1 : 0;
    this.withContiguous([src, index], ([sp, ip]) => {
      const threads = outer * L * inner >= PAR_ELEMENTS ? Math.min(this.threads, outer) : 1;
      this.pool.run(
        "indexAddRows",
        splitRange(outer, threads).map(([o0, o1]) => [
          sp,
          ip,
          this.ptr(out),
          n,
          L,
          inner,
          o0,
          o1,
          isInt,
        ]),
      );
    });
    // f16 lives in f32 slots here: the sums are rounded once, as the GPU kernels round them
    if (out.storage.dtype === "f16") {
      const d = this.st(out.storage).data as Float32Array;
      roundToF16(d.subarray(out.offset, out.offset + shapeSize(out.shape)));
    }
  }

  // ---- convolution / pooling ----------------------------------------------------------------

  im2col(x: View, g: Conv2dGeometry, cols: View): void {
    const [N, C] = x.shape;
    const geo = this.geometry(x.shape, g);
    this.withContiguous([x], ([xp]) => {
      this.planes("im2col", N * C, (p0, p1) => [xp, geo, this.ptr(cols), p0, p1]);
    });
  }

  col2im(cols: View, g: Conv2dGeometry, dx: View): void {
    const [N, C] = dx.shape;
    const geo = this.geometry(dx.shape, g);
    this.withContiguous([cols], ([cp]) => {
      this.planes("col2im", N * C, (p0, p1) => [cp, geo, this.ptr(dx), p0, p1]);
    });
  }

  pool2d(kind: "max" | "avg", x: View, g: Conv2dGeometry, out: View, argmax: View | null): void {
    const [N, C] = x.shape;
    const geo = this.geometry(x.shape, g);
    const am = argmax ? this.ptr(argmax) : 0;
    if (kind === "max" && !argmax)
      throw new Error("cpu backend: max pooling needs an argmax output");
    this.withContiguous([x], ([xp]) => {
      this.planes("pool2d", N * C, (p0, p1) => [
        kind === "max" ? 1 : 0,
        xp,
        geo,
        this.ptr(out),
        am,
        p0,
        p1,
      ]);
    });
  }

  pool2dBackward(
    kind: "max" | "avg",
    dy: View,
    g: Conv2dGeometry,
    argmax: View | null,
    dx: View,
  ): void {
    const [N, C] = dx.shape;
    const geo = this.geometry(dx.shape, g);
    if (kind === "max" && !argmax)
      throw new Error("cpu backend: max pooling backward needs argmax");
    const views = argmax ? [dy, argmax] : [dy];
    this.withContiguous(views, ([dyp, amp]) => {
      this.planes("pool2dBackward", N * C, (p0, p1) => [
        kind === "max" ? 1 : 0,
        dyp,
        geo,
        amp ?? 0,
        this.ptr(dx),
        p0,
        p1,
      ]);
    });
  }

  // ---- attention ----------------------------------------------------------------------------

  attention(args: AttentionArgs, out: View, lse: View): void {
    const [B, Hq, Tq, D] = args.q.shape;
    const Tk = args.k.shape[2];
    if (2 * B * Hq * Tq * Tk * (D + args.v.shape[3]) < PAR_FLOPS) {
      // Small (a decoding step): one pass of the fused kernel on this thread beats per-head
      // BLAS calls and a hand-off to the workers.
      const prm = this.attentionParams(args, out, lse, null, null, null, null);
      this.attentionRun("attentionForward", prm, args, 1);
      return;
    }
    if (this.blas && this.blasAttentionOk(args, null)) {
      this.attentionBlas(args, out, this.ptr(out), lse, this.ptr(lse), null);
      return;
    }
    const prm = this.attentionParams(args, out, lse, null, null, null, null);
    this.attentionRun("attentionForward", prm, args);
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
    this.withContiguous([out, lse], ([op, lp]) => {
      if (this.blas && this.blasAttentionOk(args, dout)) {
        this.attentionBlas(args, out, op, lse, lp, { dout, dq, dk, dv });
        return;
      }
      const o: View = { storage: out.storage, shape: out.shape, strides: out.strides, offset: 0 };
      const prm = this.attentionParams(args, o, lse, dout, dq, dk, dv, op, lp);
      this.attentionRun("attentionBackward", prm, args);
    });
  }

  // ---- optimizers ---------------------------------------------------------------------------

  adamw(param: View, grad: View, m: View, v: View, h: AdamWParams): void {
    const n = shapeSize(param.shape);
    const bc1 = 1 - h.beta1 ** h.step;
    const bc2 = 1 - h.beta2 ** h.step;
    const p = [this.ptr(param), this.ptr(grad), this.ptr(m), this.ptr(v)];
    this.ranges("adamw", n, (i0, i1) => [
      ...p,
      i0,
      i1,
      h.lr,
      h.beta1,
      h.beta2,
      h.eps,
      h.weightDecay,
      bc1,
      bc2,
    ]);
  }

  sgd(param: View, grad: View, buf: View | null, h: SgdParams): void {
    const n = shapeSize(param.shape);
    const p = [this.ptr(param), this.ptr(grad), buf ? this.ptr(buf) : 0];
    this.ranges("sgd", n, (i0, i1) => [
      ...p,
      i0,
      i1,
      h.lr,
      h.momentum,
      h.dampening,
      h.weightDecay,
      h.nesterov ? 1 : 0,
      h.firstStep ? 1 : 0,
    ]);
  }

  // ---- internals ----------------------------------------------------------------------------

  private checkAlive(): void {
    if (this.disposed) throw new Error(`cpu backend "${this.name}" was disposed`);
  }

  private st(storage: Storage): CpuStorage {
    const s = storage as CpuStorage;
    if (s.owner !== this) {
      throw new Error(
        `cpu backend "${this.name}": storage belongs to another backend instance ("${storage.backend}")`,
      );
    }
    if (s.freed) throw new Error("cpu backend: use of a freed storage");
    return s;
  }

  /** Byte address of a view's first element. */
  private ptr(v: View): number {
    return this.st(v.storage).ptr + 4 * v.offset;
  }

  private contiguousView(s: Storage, shape: readonly number[]): View {
    const strides = new Array<number>(shape.length);
    let acc = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      strides[i] = acc;
      acc *= shape[i];
    }
    return { storage: s, shape, strides, offset: 0 };
  }

  /**
   * An f32 view of `v` (itself, or a converted copy the caller frees). f16 storage holds f32
   * slots here, so it is read in place.
   */
  private asF32(v: View): View {
    if (v.storage.dtype !== "i32") return v;
    const tmp = this.alloc("f32", shapeSize(v.shape));
    const c = this.contiguousView(tmp, v.shape);
    this.copy(v, c);
    return c;
  }

  /**
   * Runs `body` with the byte addresses of row-major contiguous versions of `views` (the
   * views themselves when already contiguous, else temporary copies freed afterwards).
   */
  private withContiguous(views: readonly View[], body: (ptrs: number[]) => void): void {
    const temps: Storage[] = [];
    try {
      const ptrs = views.map((v) => {
        if (isContiguous(v)) return this.ptr(v);
        const tmp = this.alloc(v.storage.dtype, shapeSize(v.shape));
        temps.push(tmp);
        this.copy(v, this.contiguousView(tmp, v.shape));
        return (tmp as CpuStorage).ptr;
      });
      body(ptrs);
    } finally {
      for (const t of temps) this.free(t);
    }
  }

  private descPtr(t: number): number {
    return this.control + t * DESC_BYTES;
  }

  private tmpPtr(t: number): number {
    return this.control + MAX_THREADS * DESC_BYTES + t * TMP_BYTES;
  }

  private paramPtr(i: number): number {
    return this.control + MAX_THREADS * (DESC_BYTES + TMP_BYTES) + i * PARAM_BYTES;
  }

  private writeDesc(
    at: number,
    shape: readonly number[],
    strides: number[][],
    ptrs: number[],
  ): void {
    const w = this.heap.i32(at, 45);
    const r = shape.length;
    w.fill(0);
    w[0] = r;
    for (let d = 0; d < r; d++) {
      w[1 + d] = shape[d];
      for (let j = 0; j < strides.length; j++) w[9 + 8 * j + d] = strides[j][d];
    }
    for (let j = 0; j < ptrs.length; j++) w[41 + j] = ptrs[j];
  }

  /**
   * Runs an N-d elementwise kernel over `shape` with operands `views` (all viewed through
   * `shape`). Rows are split across threads when large; `reduce` allows a split only when no
   * two rows write the same output element.
   */
  private nd(
    kind: number,
    op: number,
    shape: readonly number[],
    views: View[],
    reduce = false,
  ): void {
    const total = shapeSize(shape);
    if (total === 0) return;
    if (shape.length > 8) throw new Error(`cpu backend: rank ${shape.length} > 8 is not supported`);
    const c = collapse(
      shape,
      views.map((v) => v.strides),
    );
    const ptrs = views.map((v) => this.ptr(v));
    const r = c.shape.length;
    const rows = prod(c.shape, 0, r - 1);
    const inner = c.shape[r - 1];
    let threads = total >= PAR_ELEMENTS ? this.threads : 1;
    if (reduce) {
      const out = c.strides[c.strides.length - 1];
      const safe = out.slice(0, r - 1).every((s) => s !== 0) && (rows > 1 || out[r - 1] !== 0);
      if (!safe) threads = 1;
    }
    if (threads > 1 && rows < threads && r === 1) {
      // One long row: split it into element ranges, each with its own descriptor.
      const parts = splitRange(inner, threads, 16).map(([s, e], t) => {
        const at = this.descPtr(t);
        this.writeDesc(
          at,
          [e - s],
          c.strides,
          ptrs.map((p, j) => p + 4 * s * c.strides[j][0]),
        );
        return [kind, op, at, 0, 1, this.tmpPtr(t)];
      });
      this.pool.run("ndRun", parts);
      return;
    }
    const desc = this.descPtr(0);
    this.writeDesc(desc, c.shape, c.strides, ptrs);
    const parts = splitRange(rows, Math.min(threads, rows)).map(([r0, r1], t) => [
      kind,
      op,
      desc,
      r0,
      r1,
      this.tmpPtr(t),
    ]);
    this.pool.run("ndRun", parts);
  }

  /** Runs a row kernel over `rows` rows of length `d`, split across threads when large. */
  private rows(
    fn: PoolFunction,
    rows: number,
    d: number,
    args: (r0: number, r1: number) => number[],
  ): void {
    if (rows === 0) return;
    const threads = rows * d >= PAR_ELEMENTS ? Math.min(this.threads, rows) : 1;
    this.pool.run(
      fn,
      splitRange(rows, threads).map(([r0, r1]) => args(r0, r1)),
    );
  }

  private ranges(fn: PoolFunction, n: number, args: (i0: number, i1: number) => number[]): void {
    if (n === 0) return;
    const threads = n >= PAR_ELEMENTS ? this.threads : 1;
    this.pool.run(
      fn,
      splitRange(n, threads, 16).map(([i0, i1]) => args(i0, i1)),
    );
  }

  private planes(
    fn: PoolFunction,
    planes: number,
    args: (p0: number, p1: number) => number[],
  ): void {
    if (planes === 0) return;
    this.pool.run(
      fn,
      splitRange(planes, Math.min(this.threads, planes)).map(([p0, p1]) => args(p0, p1)),
    );
  }

  private geometry(shape: readonly number[], g: Conv2dGeometry): number {
    const at = this.paramPtr(0);
    this.heap.i32(at, 14).set(convGeometryWords(shape, g));
    return at;
  }

  private softmaxLike(x: View, out: View, log: boolean): void {
    const d = x.shape.length === 0 ? 1 : x.shape[x.shape.length - 1];
    const rows = d === 0 ? 0 : shapeSize(x.shape) / d;
    this.withContiguous([x], ([xp]) => {
      this.rows("softmaxRows", rows, d, (r0, r1) => [xp, this.ptr(out), d, r0, r1, log ? 1 : 0]);
    });
  }

  private softmaxBackLike(y: View, dy: View, dx: View, log: boolean): void {
    const d = y.shape.length === 0 ? 1 : y.shape[y.shape.length - 1];
    const rows = d === 0 ? 0 : shapeSize(y.shape) / d;
    this.withContiguous([y, dy], ([yp, gp]) => {
      this.rows("softmaxBackwardRows", rows, d, (r0, r1) => [
        yp,
        gp,
        this.ptr(dx),
        d,
        r0,
        r1,
        log ? 1 : 0,
      ]);
    });
  }

  private norm(
    x: View,
    weight: View | null,
    bias: View | null,
    eps: number,
    out: View,
    mean: View | null,
    rstd: View,
    rms: boolean,
  ): void {
    const d = x.shape[x.shape.length - 1];
    const rows = d === 0 ? 0 : shapeSize(x.shape) / d;
    const optional = [weight, bias].filter((v): v is View => v !== null);
    this.withContiguous([x, ...optional], ([xp, ...rest]) => {
      const wp = weight ? rest.shift()! : 0;
      const bp = bias ? rest.shift()! : 0;
      this.rows("normRows", rows, d, (r0, r1) => [
        xp,
        wp,
        bp,
        eps,
        this.ptr(out),
        mean ? this.ptr(mean) : 0,
        this.ptr(rstd),
        d,
        r0,
        r1,
        rms ? 1 : 0,
      ]);
    });
  }

  private normBackward(
    x: View,
    weight: View | null,
    mean: View | null,
    rstd: View,
    dy: View,
    dx: View,
    dweight: View | null,
    dbias: View | null,
    rms: boolean,
  ): void {
    const d = x.shape[x.shape.length - 1];
    const rows = d === 0 ? 0 : shapeSize(x.shape) / d;
    const inputs = [x, dy, rstd, ...(mean ? [mean] : []), ...(weight ? [weight] : [])];
    this.withContiguous(inputs, ([xp, gp, rp, ...rest]) => {
      const mp = mean ? rest.shift()! : 0;
      const wp = weight ? rest.shift()! : 0;
      if (dweight) this.fill(dweight, 0);
      if (dbias) this.fill(dbias, 0);
      const threads = rows * d >= PAR_ELEMENTS ? Math.min(this.threads, rows) : 1;
      const ranges = splitRange(rows, threads);
      // Thread 0 accumulates straight into dweight / dbias; the others into private partials.
      const partials: number[] = [];
      const parts = ranges.map(([r0, r1], t) => {
        let dwp = dweight ? this.ptr(dweight) : 0;
        let dbp = dbias ? this.ptr(dbias) : 0;
        if (t > 0 && (dweight || dbias)) {
          const p = this.heap.alloc(8 * d);
          partials.push(p);
          this.heap.f32(p, 2 * d).fill(0);
          if (dweight) dwp = p;
          if (dbias) dbp = p + 4 * d;
        }
        return [xp, wp, mp, rp, gp, this.ptr(dx), dwp, dbp, d, r0, r1, rms ? 1 : 0];
      });
      try {
        this.pool.run("normBackwardRows", parts);
        const addInto = this.k.addInto as (dst: number, src: number, n: number) => void;
        for (const p of partials) {
          if (dweight) addInto(this.ptr(dweight), p, d);
          if (dbias) addInto(this.ptr(dbias), p + 4 * d, d);
        }
      } finally {
        for (const p of partials) this.heap.release(p, 8 * d);
      }
    });
  }

  /** Element offsets of each batch's A, B and C matrices (batch axes broadcast by strides). */
  private batchPointers(a: View, b: View, out: View, batch: number): Int32Array {
    const r = out.shape.length;
    const ptrs = new Int32Array(batch * 3);
    const idx = new Array<number>(Math.max(r - 2, 0)).fill(0);
    const pa = this.ptr(a);
    const pb = this.ptr(b);
    const pc = this.ptr(out);
    for (let i = 0; i < batch; i++) {
      let oa = 0;
      let ob = 0;
      let oc = 0;
      for (let d = 0; d < r - 2; d++) {
        oa += idx[d] * a.strides[d];
        ob += idx[d] * b.strides[d];
        oc += idx[d] * out.strides[d];
      }
      ptrs[3 * i] = pa + 4 * oa;
      ptrs[3 * i + 1] = pb + 4 * ob;
      ptrs[3 * i + 2] = pc + 4 * oc;
      for (let d = r - 3; d >= 0; d--) {
        if (++idx[d] < out.shape[d]) break;
        idx[d] = 0;
      }
    }
    return ptrs;
  }

  /**
   * One-row products (M = 1: a decoding step's projections) as a direct vector × matrix
   * kernel when x and one axis of B are unit-stride: BLAS and the blocked sgemm pack all of B
   * first, which costs more than the product at these sizes. Returns false to decline.
   */
  private matvec(a: View, b: View, out: View, ptrs: Int32Array, N: number, K: number): boolean {
    const r = out.shape.length;
    if ((K > 1 && a.strides[r - 1] !== 1) || out.strides[r - 1] !== 1) return false;
    const rsb = b.strides[r - 2];
    const csb = b.strides[r - 1];
    let fn: "sgemvRows" | "sgemvCols";
    let ldb: number;
    if (rsb === 1 && (csb >= K || N === 1)) [fn, ldb] = ["sgemvRows", csb];
    else if (csb === 1 && (rsb >= N || K === 1)) [fn, ldb] = ["sgemvCols", rsb];
    else return false;
    // One thread: splitting columns across the workers measured slower on a busy 2-vCPU
    // machine, even for a vocabulary head (the hand-off outweighs the halved memory stream).
    const batch = ptrs.length / 3;
    const kernel = this.k[fn] as (...args: number[]) => void;
    for (let i = 0; i < batch; i++)
      kernel(K, ptrs[3 * i], ptrs[3 * i + 1], ldb, ptrs[3 * i + 2], 0, N);
    return true;
  }

  private matmulBlas(
    a: View,
    b: View,
    out: View,
    ptrs: Int32Array,
    M: number,
    N: number,
    K: number,
  ): void {
    const r = out.shape.length;
    const blas = this.blas!;
    useBlasThreads(blas, this.threads);
    // cblas needs a unit stride in one of the last two axes and a leading dimension ≥ the other.
    const layout = (rs: number, cs: number, rows: number, cols: number) => {
      if (cs === 1 && (rs >= cols || rows === 1)) return { trans: false, ld: Math.max(rs, cols) };
      if (rs === 1 && (cs >= rows || cols === 1)) return { trans: true, ld: Math.max(cs, rows) };
      return null;
    };
    const la = layout(a.strides[r - 2], a.strides[r - 1], M, K);
    const lb = layout(b.strides[r - 2], b.strides[r - 1], K, N);
    if (!la || !lb) {
      // Unusual strides (e.g. stride 0 inside a matrix): copy to contiguous and retry.
      const fixA = !la;
      const fixB = !lb;
      const ca = fixA ? this.contiguousCopy(a) : a;
      const cb = fixB ? this.contiguousCopy(b) : b;
      try {
        this.matmul(ca, cb, out);
      } finally {
        if (fixA) this.free(ca.storage);
        if (fixB) this.free(cb.storage);
      }
      return;
    }
    const all = this.heap.f32(0, this.heap.sab().byteLength / 4);
    const ldc = out.strides[r - 2];
    const batch = ptrs.length / 3;
    for (let i = 0; i < batch; i++) {
      blas.sgemm(
        la.trans,
        lb.trans,
        M,
        N,
        K,
        1,
        all,
        ptrs[3 * i] / 4,
        la.ld,
        all,
        ptrs[3 * i + 1] / 4,
        lb.ld,
        0,
        all,
        ptrs[3 * i + 2] / 4,
        ldc,
      );
    }
  }

  private contiguousCopy(v: View): View {
    const tmp = this.alloc(v.storage.dtype, shapeSize(v.shape));
    const c = this.contiguousView(tmp, v.shape);
    this.copy(v, c);
    return c;
  }

  private gemmScratchFor(t: number): number {
    while (this.gemmScratch.length <= t)
      this.gemmScratch.push(this.heap.alloc(this.k.sgemmScratchBytes()));
    return this.gemmScratch[t];
  }

  private jobArea(bytes: number): number {
    if (this.jobs.bytes < bytes) {
      if (this.jobs.bytes > 0) this.heap.release(this.jobs.ptr, this.jobs.bytes);
      const size = Math.max(bytes, 4096);
      this.jobs = { ptr: this.heap.alloc(size), bytes: size };
    }
    return this.jobs.ptr;
  }

  private matmulWasm(
    a: View,
    b: View,
    out: View,
    ptrs: Int32Array,
    M: number,
    N: number,
    K: number,
  ): void {
    const r = out.shape.length;
    const rsa = a.strides[r - 2];
    const csa = a.strides[r - 1];
    const rsb = b.strides[r - 2];
    const csb = b.strides[r - 1];
    const ldc = out.strides[r - 2];
    const batch = ptrs.length / 3;
    const flops = 2 * M * N * K * batch;
    const T = flops >= PAR_FLOPS ? this.threads : 1;
    // Split: across batches when there are enough, else each matrix by columns or rows.
    let split: "batch" | "cols" | "rows" = "batch";
    if (T > 1 && batch < T) split = N >= NR * T * 4 || N >= M ? "cols" : "rows";
    const per = split === "batch" ? 1 : T;
    const records: number[][] = [];
    for (let t = 0; t < per; t++) {
      for (let i = 0; i < batch; i++) {
        const pa = ptrs[3 * i];
        const pb = ptrs[3 * i + 1];
        const pc = ptrs[3 * i + 2];
        if (split === "batch") {
          records.push([M, N, K, pa, rsa, csa, pb, rsb, csb, pc, ldc, 0, 0]);
          continue;
        }
        const dim = split === "cols" ? N : M;
        const [s, e] = splitRange(dim, T, split === "cols" ? NR : MR)[t] ?? [dim, dim];
        if (split === "cols") {
          records.push([
            M,
            e - s,
            K,
            pa,
            rsa,
            csa,
            pb + 4 * s * csb,
            rsb,
            csb,
            pc + 4 * s,
            ldc,
            0,
            0,
          ]);
        } else {
          records.push([
            e - s,
            N,
            K,
            pa + 4 * s * rsa,
            rsa,
            csa,
            pb,
            rsb,
            csb,
            pc + 4 * s * ldc,
            ldc,
            0,
            0,
          ]);
        }
      }
    }
    const list = this.jobArea(records.length * GEMM_RECORD * 4);
    const words = this.heap.i32(list, records.length * GEMM_RECORD);
    records.forEach((rec, i) => {
      words.set(rec, i * GEMM_RECORD);
    });
    const ranges = split === "batch" ? splitRange(batch, T) : splitRange(records.length, T);
    const parts = ranges.map(([s, e], t) => [list, s, e, this.gemmScratchFor(t)]);
    this.pool.run("sgemmList", parts);
  }

  /** BLAS attention needs unit-stride rows with leading dimensions BLAS accepts. */
  private blasAttentionOk(args: AttentionArgs, dout: View | null): boolean {
    const ok = (v: View) => {
      const [, , rows, cols] = v.shape;
      return v.strides[3] === 1 && (rows === 1 || v.strides[2] >= cols);
    };
    return ok(args.q) && ok(args.k) && ok(args.v) && (dout === null || ok(dout));
  }

  /**
   * Attention with the products on BLAS (per head: q kᵀ and P v forward; q kᵀ, Pᵀ dO, dO vᵀ,
   * dS k and dSᵀ q backward) and the masking / softmax / dS steps in the WebAssembly kernels
   * split across the worker threads. Heads go in chunks whose score blocks fit in
   * ATTENTION_CHUNK_BYTES. `outPtr` / `lsePtr`: the contiguous forward results.
   */
  private attentionBlas(
    args: AttentionArgs,
    out: View,
    outPtr: number,
    lse: View,
    lsePtr: number,
    grads: { dout: View; dq: View; dk: View; dv: View } | null,
  ): void {
    const blas = this.blas!;
    useBlasThreads(blas, this.threads);
    const { q, k, v } = args;
    const [B, Hq, Tq, D] = q.shape;
    const [, Hkv, Tk] = k.shape;
    const Dv = v.shape[3];
    const heads = B * Hq;
    if (heads === 0 || Tq === 0) return;
    const rep = Hq / Hkv;
    const ld = (view: View) => (view.shape[2] === 1 ? view.shape[3] : view.strides[2]);
    const [ldq, ldk, ldv] = [ld(q), ld(k), ld(v)];
    const per = Tq * Tk;
    const blocks = grads ? 2 : 1;
    const chunk = Math.max(
      1,
      Math.min(heads, Math.floor(this.attentionChunkBytes / (4 * per * blocks))),
    );
    const bytes = 4 * per * chunk * blocks;
    const scratch = this.heap.alloc(bytes);
    const prm = grads
      ? this.attentionParams(
          args,
          out,
          lse,
          grads.dout,
          grads.dq,
          grads.dk,
          grads.dv,
          outPtr,
          lsePtr,
        )
      : this.attentionParams(args, out, lse, null, null, null, null, outPtr, lsePtr);
    const all = this.heap.f32(0, this.heap.sab().byteLength / 4);
    const base = (view: View, i0: number, i1: number) =>
      (this.ptr(view) + 4 * (i0 * view.strides[0] + i1 * view.strides[1])) / 4;
    try {
      for (let c0 = 0; c0 < heads; c0 += chunk) {
        const c1 = Math.min(heads, c0 + chunk);
        const sAt = (f: number) => scratch / 4 + (f - c0) * per;
        const dpAt = (f: number) => scratch / 4 + (chunk + f - c0) * per;
        const head = (f: number) => {
          const b = Math.floor(f / Hq);
          const h = f % Hq;
          const kh = Math.floor(h / rep);
          return {
            b,
            h,
            first: h % rep === 0,
            qp: base(q, b, h),
            kp: base(k, b, kh),
            vp: base(v, b, kh),
            kv: b * Hkv + kh,
          };
        };
        for (let f = c0; f < c1; f++) {
          const { qp, kp } = head(f);
          blas.sgemm(false, true, Tq, Tk, D, 1, all, qp, ldq, all, kp, ldk, 0, all, sAt(f), Tk);
        }
        const parts = (fn: (f0: number, f1: number) => number[]) =>
          splitRange(c1 - c0, Math.min(this.threads, c1 - c0)).map(([s0, s1]) =>
            fn(c0 + s0, c0 + s1),
          );
        this.pool.run(
          "attentionProbsRange",
          parts((f0, f1) => [prm, f0, f1, c0, scratch, grads ? 1 : 0]),
        );
        if (!grads) {
          for (let f = c0; f < c1; f++) {
            const { vp } = head(f);
            blas.sgemm(
              false,
              false,
              Tq,
              Dv,
              Tk,
              1,
              all,
              sAt(f),
              Tk,
              all,
              vp,
              ldv,
              0,
              all,
              outPtr / 4 + f * Tq * Dv,
              Dv,
            );
          }
          continue;
        }
        const ldo = ld(grads.dout);
        const dvBase = this.ptr(grads.dv) / 4;
        const dkBase = this.ptr(grads.dk) / 4;
        const dqBase = this.ptr(grads.dq) / 4;
        for (let f = c0; f < c1; f++) {
          const { b, h, first, vp, kv } = head(f);
          const dop = base(grads.dout, b, h);
          // dv (+)= Pᵀ dO; dP = dO vᵀ
          blas.sgemm(
            true,
            false,
            Tk,
            Dv,
            Tq,
            1,
            all,
            sAt(f),
            Tk,
            all,
            dop,
            ldo,
            first ? 0 : 1,
            all,
            dvBase + kv * Tk * Dv,
            Dv,
          );
          blas.sgemm(false, true, Tq, Tk, Dv, 1, all, dop, ldo, all, vp, ldv, 0, all, dpAt(f), Tk);
        }
        // dS = P ⊙ (dP − rowsum(dO ⊙ O)) · scale, over dP.
        this.pool.run(
          "attentionScoresGradRange",
          parts((f0, f1) => [prm, f0, f1, c0, scratch, scratch + 4 * per * chunk]),
        );
        for (let f = c0; f < c1; f++) {
          const { first, qp, kp, kv } = head(f);
          // dq = dS k; dk (+)= dSᵀ q
          blas.sgemm(
            false,
            false,
            Tq,
            D,
            Tk,
            1,
            all,
            dpAt(f),
            Tk,
            all,
            kp,
            ldk,
            0,
            all,
            dqBase + f * Tq * D,
            D,
          );
          blas.sgemm(
            true,
            false,
            Tk,
            D,
            Tq,
            1,
            all,
            dpAt(f),
            Tk,
            all,
            qp,
            ldq,
            first ? 0 : 1,
            all,
            dkBase + kv * Tk * D,
            D,
          );
        }
      }
    } finally {
      this.heap.release(scratch, bytes);
    }
  }

  private attentionParams(
    args: AttentionArgs,
    out: View,
    lse: View,
    dout: View | null,
    dq: View | null,
    dk: View | null,
    dv: View | null,
    outPtr?: number,
    lsePtr?: number,
  ): number {
    const { q, k, v, mask } = args;
    const [B, Hq, Tq, D] = q.shape;
    const [, Hkv, Tk] = k.shape;
    const Dv = v.shape[3];
    const at = this.paramPtr(1);
    const w = this.heap.i32(at, 39);
    const f = this.heap.f32(at, 39);
    w.fill(0);
    w.set([B, Hq, Hkv, Tq, Tk, D, Dv, args.causal ? 1 : 0]);
    f[8] = args.scale;
    const put = (i: number, view: View) => {
      w[i] = this.ptr(view);
      w.set(view.strides, i + 1);
    };
    put(9, q);
    put(14, k);
    put(19, v);
    if (mask) put(24, mask);
    w[29] = outPtr ?? this.ptr(out);
    w[30] = lsePtr ?? this.ptr(lse);
    if (dout) put(31, dout);
    if (dq) w[36] = this.ptr(dq);
    if (dk) w[37] = this.ptr(dk);
    if (dv) w[38] = this.ptr(dv);
    return at;
  }

  private attentionRun(
    fn: "attentionForward" | "attentionBackward",
    prm: number,
    args: AttentionArgs,
    maxThreads = this.threads,
  ): void {
    const [B, , Tq] = args.q.shape;
    const [, Hkv, Tk] = args.k.shape;
    const groups = B * Hkv;
    if (groups === 0 || Tq === 0) return;
    const threads = Math.min(maxThreads, groups);
    const bytes = this.k.attentionScratchBytes(Tq, Tk);
    const scratch: number[] = [];
    try {
      for (let t = 0; t < threads; t++) scratch.push(this.heap.alloc(bytes));
      this.pool.run(
        fn,
        splitRange(groups, threads).map(([g0, g1], t) => [prm, g0, g1, scratch[t]]),
      );
    } finally {
      for (const s of scratch) this.heap.release(s, bytes);
    }
  }
}
