/**
 * The Backend interface: everything device-specific in the engine sits behind it.
 *
 * Change log (keep changes small; newest first):
 * - 2026-11-26 12:30 UTC: f16 keys / values in `attention`.
 * - 2026-11-26 12:00 UTC: dtype `f16` (storage; see "f16" below), optional `bytesPerElement`.
 * - 2026-11-26 10:05 UTC: optional `checkIndices` (device-side index range checks).
 * - 2026-11-26 07:35 UTC: first version.
 *
 * ## Model
 * - A backend owns {@link Storage}: a flat, typed, device-side buffer of `size` elements
 *   (`Float32Array` over a `SharedArrayBuffer` on cpu, a `GPUBuffer` on WebGPU). The frontend
 *   (`Tensor`) never touches storage contents except through `write` / `read` / `readSync`.
 * - Compute dtypes are `f32` and `i32`. bf16 is a *storage format* only, converted by the
 *   frontend on load and store (safetensors, host tier); kernels never see it.
 * - `f16` is a *storage* dtype: a tensor can live on the device as f16 (half the bytes on
 *   WebGPU, which packs two per 32-bit word), but arithmetic is f32. Kernels see f16 only in
 *   `alloc`, `write` (f32 host values, rounded to nearest even), `read` / `readSync` (f32 host
 *   values), `fill`, `copy` (any pair of dtypes; into f16 rounds to nearest even, overflowing to
 *   ±inf), `matmul` (either operand; the output is f32), `indexSelect` (`x` f16, `out` f32)
 *   and `attention` (`k` and / or `v` f16; never in `attentionBackward`).
 *   A backend may keep f16 in f32 slots holding the rounded values (cpu, reference).
 * - Every kernel reads its inputs through a {@link View} (storage + shape + strides + element
 *   offset), so reshape / transpose / permute / slice / expand / broadcast are free: a
 *   broadcast operand simply has stride 0 on the broadcast axes. The frontend always hands a
 *   binary kernel operands that already have the *output* shape (broadcast done via strides).
 * - Outputs are {@link View}s too, but the frontend guarantees that every output view is
 *   freshly allocated and row-major contiguous (offset 0, strides = contiguous(shape)), except
 *   for `copy`, whose destination may be any strided view (used for concat, slice assignment).
 *   Kernels must fully overwrite contiguous outputs (the frontend does not zero them), except
 *   where a kernel is documented as accumulating (`indexAdd`).
 * - Kernels are synchronous calls from the frontend's point of view. A GPU backend may just
 *   record them into a command encoder and submit lazily (`flush`); ordering between kernels,
 *   `write`, `free` and reads must be preserved as if they ran immediately.
 * - Reads: `read` (async) is mandatory; `readSync` exists on CPU backends only. The frontend's
 *   `Tensor.data()` uses `readSync` and throws a clear error if the backend has none. Backends
 *   without `readSync` validate indices on the device (`checkIndices`) and report a bad index
 *   at the next read, like CUDA's device-side asserts.
 * - All integer sizes (shapes, strides, offsets, lengths) are element counts, never bytes.
 * - Shapes are small arrays (rank ≤ 8 in practice). A rank-0 view has shape [] and strides [].
 */

/**
 * Element type of a tensor. Booleans (masks, comparisons) are f32 0/1. `f16` is storage only:
 * ops that compute read it as f32 and return f32 (see the model notes above).
 */
export type DType = "f32" | "i32" | "f16";

/** Element formats a tensor can be stored in outside the kernels (host tier, files). */
export type StorageFormat = "f32" | "i32" | "f16" | "bf16";

/** A device-side flat buffer owned by a backend. Opaque to the frontend. */
export interface Storage {
  /** The backend that allocated it (`Backend.name`). */
  readonly backend: string;
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
}

/** A strided window into a storage. `index(i0..ik) = offset + Σ i_j * strides[j]`. */
export interface View {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** Host-side typed array for a dtype. */
export type HostArray = Float32Array | Int32Array;

export type UnaryOp =
  | "neg"
  | "abs"
  | "sign"
  | "exp"
  | "log"
  | "sqrt"
  | "rsqrt"
  | "square"
  | "reciprocal"
  | "sin"
  | "cos"
  | "tanh"
  | "sigmoid"
  | "relu"
  /** GELU, tanh approximation (HF `gelu_new`, GPT-2). */
  | "gelu_tanh"
  /** GELU, exact erf form (HF `gelu`). */
  | "gelu_erf"
  | "silu";

/**
 * Binary elementwise ops; comparison ops (`eq`..`ge`) produce f32 0/1. `max` / `min` are
 * elementwise. `pow` is `a ** b`.
 */
export type BinaryOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "pow"
  | "max"
  | "min"
  | "eq"
  | "ne"
  | "lt"
  | "le"
  | "gt"
  | "ge";

export type ReduceOp = "sum" | "max" | "min" | "prod";

/** Hyper-parameters of one fused AdamW update (PyTorch `torch.optim.AdamW` semantics). */
export interface AdamWParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count after this update (for bias correction). */
  step: number;
}

/** Hyper-parameters of one fused SGD update (PyTorch `torch.optim.SGD` semantics). */
export interface SgdParams {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  /** True on the first step: the momentum buffer is initialised to the gradient. */
  firstStep: boolean;
}

/** Geometry of a 2-D convolution or pooling window (NCHW). */
export interface Conv2dGeometry {
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
}

/** Arguments of fused attention; see {@link Backend.attention}. */
export interface AttentionArgs {
  /** [B, Hq, Tq, D] */
  q: View;
  /** [B, Hkv, Tk, D]; Hq must be a multiple of Hkv (GQA: query head h uses kv head h / (Hq/Hkv)). */
  k: View;
  /** [B, Hkv, Tk, Dv] */
  v: View;
  /** Optional additive mask (f32), already broadcast (via strides) to [B, Hq, Tq, Tk]. */
  mask: View | null;
  /**
   * Causal masking aligned to the end: query i (0-based within Tq) sees key j iff
   * j <= i + (Tk - Tq). With a KV cache, Tk > Tq and the new queries see the whole prefix.
   */
  causal: boolean;
  /** Multiplies q·k before masking (usually 1/sqrt(D)). */
  scale: number;
}

/** Recorded work of a backend (`Backend.endCapture`). */
export interface CapturedWork {
  /** Kernels one replay issues. */
  readonly kernels: number;
  /**
   * Issues the recorded work again, after everything issued so far. `prepare` runs once the
   * replay is known to go ahead, before the work is issued (the frontend's replay hooks).
   */
  replay(prepare?: () => void): void;
  /** Frees the recording and what it keeps. */
  dispose(): void;
}

/**
 * A compute backend. Implementations: `reference` (plain TypeScript, the test oracle), `cpu`
 * (WebAssembly SIMD + threads + BLAS), `webgpu`. Every method documents its shapes; a backend
 * may assume the frontend has validated shapes and dtypes (the frontend reports errors with the
 * op name and shapes).
 */
export interface Backend {
  /** Unique name used by `registerBackend` / `setBackend` ("reference", "cpu", "webgpu"). */
  readonly name: string;
  /** True if `readSync` is available (CPU backends). */
  readonly syncRead: boolean;

  // ---- storage -------------------------------------------------------------------------

  /** Allocates `size` elements of `dtype`. Contents are unspecified (not necessarily zero). */
  alloc(dtype: DType, size: number): Storage;
  /** Device bytes per element of `dtype` (for the memory budget); 4 when absent. */
  bytesPerElement?(dtype: DType): number;
  /** Releases a storage. Using it afterwards is undefined; the frontend guarantees it won't. */
  free(storage: Storage): void;
  /** Copies `data` into `storage` starting at element `offset` (default 0). */
  write(storage: Storage, data: HostArray, offset?: number): void;
  /** Reads a view into a fresh, contiguous host array (row-major over `view.shape`). */
  read(view: View): Promise<HostArray>;
  /** Synchronous `read`; only when `syncRead` is true. */
  readSync?(view: View): HostArray;
  /** Submits any batched work (GPU command buffers). No-op on CPU backends. */
  flush?(): void;
  /** Releases everything the backend holds (worker threads, device). */
  dispose?(): void;

  // ---- capture and replay (optional; see capture.ts) -----------------------------------

  /**
   * Starts recording the work issued from now on, which still runs as usual, so that
   * `endCapture`'s result can issue it again without the host code that produced it.
   */
  beginCapture?(): void;
  /** Ends the capture begun by `beginCapture`. */
  endCapture?(): CapturedWork;
  /**
   * True when a freed `storage` must go straight back to the backend instead of the engine's
   * storage pool: a capture is open, or a recording uses the storage and keeps it.
   */
  retains?(storage: Storage): boolean;
  /**
   * Bytes of freed storages the backend keeps for its recordings (see `retains`); they count
   * against the engine's memory budget until the recordings are disposed.
   */
  retainedBytes?(): number;

  // ---- data movement -------------------------------------------------------------------

  /** Fills a contiguous `out` with `value` (converted to `out`'s dtype). */
  fill(out: View, value: number): void;
  /**
   * Strided copy `src` → `dst` (same shape; `dst` may be strided). Converts dtype if they
   * differ (f32 → i32 truncates toward zero, like `Math.trunc`).
   */
  copy(src: View, dst: View): void;
  /**
   * Optional: `out` (contiguous, fresh) = the `srcs` concatenated along `axis` (same dtype,
   * shapes equal but along `axis`), in as few kernels as the backend can. Without it the
   * frontend copies each source into its slice.
   */
  concat?(srcs: readonly View[], axis: number, out: View): void;

  // ---- elementwise ---------------------------------------------------------------------

  /** out = op(x). x and out are f32 of the same shape. */
  unary(op: UnaryOp, x: View, out: View): void;
  /** dx = dy · op'(x), the gradient of `unary(op)`. `y` is the forward output (same shape). */
  unaryBackward(op: UnaryOp, x: View, y: View, dy: View, dx: View): void;
  /**
   * out = a op b. a, b already broadcast to out's shape (stride-0 axes). For i32 inputs
   * add/sub/mul/max/min produce i32 (div: f32 division then truncation), comparisons f32.
   */
  binary(op: BinaryOp, a: View, b: View, out: View): void;
  /** out = cond != 0 ? a : b; all already broadcast to out's shape. */
  where(cond: View, a: View, b: View, out: View): void;

  // ---- reductions ----------------------------------------------------------------------

  /**
   * Reduces `x` over `axes` (sorted, unique). `out` is contiguous with x's shape where the
   * reduced axes have size 1 (keepdim layout; the frontend reshapes).
   */
  reduce(op: ReduceOp, x: View, axes: readonly number[], out: View): void;
  /** Index (i32) of the max along `axis`; out has x's shape with `axis` of size 1. */
  argmax(x: View, axis: number, out: View): void;

  // ---- linear algebra ------------------------------------------------------------------

  /**
   * Batched matmul. a: [...batch, M, K], b: [...batch, K, N], out: [...batch, M, N], all of
   * the same rank ≥ 2; batch axes already broadcast (stride 0 where broadcast). Transposed
   * operands arrive as views (e.g. a's last two strides [1, M]); BLAS-style backends should
   * detect a unit stride in either of the last two axes and pass the transpose flag.
   */
  matmul(a: View, b: View, out: View): void;

  // ---- normalisation / softmax (all over the LAST axis; rows = product of the rest) -----

  /** out = softmax(x) over the last axis. */
  softmax(x: View, out: View): void;
  /** out = log_softmax(x) over the last axis. */
  logSoftmax(x: View, out: View): void;
  /** dx = y ⊙ (dy − Σ dy⊙y) for y = softmax(x). */
  softmaxBackward(y: View, dy: View, dx: View): void;
  /** dx = dy − exp(y) Σ dy for y = log_softmax(x). */
  logSoftmaxBackward(y: View, dy: View, dx: View): void;

  /**
   * Cross-entropy per row. logits [N, C] f32, targets [N] i32. losses [N]: −log_softmax[t];
   * rows whose target equals `ignoreIndex` get loss 0. lse [N] receives logsumexp per row
   * (saved for backward).
   */
  crossEntropy(logits: View, targets: View, ignoreIndex: number, losses: View, lse: View): void;
  /** dlogits[n, c] = dloss[n] · (softmax[n, c] − [c = t_n]); 0 for ignored rows. */
  crossEntropyBackward(
    logits: View,
    targets: View,
    lse: View,
    dloss: View,
    ignoreIndex: number,
    dlogits: View,
  ): void;

  /**
   * LayerNorm over the last axis D. x [..., D]; weight, bias [D] or null; out like x;
   * mean, rstd [rows] (saved for backward).
   */
  layerNorm(
    x: View,
    weight: View | null,
    bias: View | null,
    eps: number,
    out: View,
    mean: View,
    rstd: View,
  ): void;
  /** Gradients of layerNorm. dweight / dbias are [D] (null when weight / bias are null). */
  layerNormBackward(
    x: View,
    weight: View | null,
    mean: View,
    rstd: View,
    dy: View,
    dx: View,
    dweight: View | null,
    dbias: View | null,
  ): void;
  /** RMSNorm over the last axis: out = x · rstd · weight, rstd = 1/sqrt(mean(x²) + eps). */
  rmsNorm(x: View, weight: View | null, eps: number, out: View, rstd: View): void;
  rmsNormBackward(
    x: View,
    weight: View | null,
    rstd: View,
    dy: View,
    dx: View,
    dweight: View | null,
  ): void;

  /**
   * Rotary position embedding (see `ops.rope`): out[..., i] = x[..., i]·cos − x[..., i + h]·sin
   * and out[..., i + h] = x[..., i + h]·cos + x[..., i]·sin for i < h = D/2, with `cos` / `sin`
   * views already broadcast to x's shape with the last axis halved; `inverse` rotates the other
   * way (sin negated: the backward). x may be strided; out is contiguous. Optional: without it
   * the frontend composes the op from slices, products and a concat.
   */
  rope?(x: View, cos: View, sin: View, out: View, inverse: boolean): void;

  // ---- indexing ------------------------------------------------------------------------

  /**
   * Gather along `axis`: out = x.index_select(axis, index). index: 1-D i32 of length L (the
   * frontend checks bounds); out: x's shape with `axis` of size L. Embedding lookup is
   * `indexSelect(table [V, D], 0, ids)`.
   */
  indexSelect(x: View, axis: number, index: View, out: View): void;
  /**
   * Scatter-add, ACCUMULATING into `out`: out.index_select(axis, index) += src. src has out's
   * shape with `axis` of size L; duplicate indices add up. (Embedding backward; a KV-cache
   * write at a position held on the device.) An f16 `out` gets each element's sum taken in
   * f32 and rounded once.
   */
  indexAdd(src: View, axis: number, index: View, out: View): void;
  /**
   * Range check of an i32 index tensor for backends without synchronous reads (the frontend
   * checks on the host where it can read synchronously). Every value must lie in [0, bound)
   * or equal `ignore` (when not null). A violation is reported by the backend's next read
   * (`read`, or `sync` on GPU backends) as an Error with the same text the host check gives:
   * "`op`: index 9 at position 3 is out of range [0, 8)". `what` names the values ("index",
   * "target").
   */
  checkIndices?(op: string, what: string, index: View, bound: number, ignore: number | null): void;

  // ---- convolution / pooling (NCHW) ----------------------------------------------------

  /**
   * im2col: x [N, C, H, W] → cols [N, C·kH·kW, OH·OW] (zero padding). Conv2d is
   * `matmul(weight [O, C·kH·kW], cols)` in the frontend, so matmul's speed carries over.
   */
  im2col(x: View, g: Conv2dGeometry, cols: View): void;
  /** col2im: the adjoint of im2col, overwriting dx [N, C, H, W] (sums overlapping patches). */
  col2im(cols: View, g: Conv2dGeometry, dx: View): void;
  /**
   * Pooling. out [N, C, OH, OW]. For "max", argmax (i32, flat index h·W + w into the input
   * plane, −1 if the window is all padding) is written; padding never wins. For "avg",
   * padding counts as zeros and the divisor is kH·kW (PyTorch count_include_pad=True);
   * argmax is null.
   */
  pool2d(kind: "max" | "avg", x: View, g: Conv2dGeometry, out: View, argmax: View | null): void;
  /** Pooling backward, overwriting dx [N, C, H, W]. */
  pool2dBackward(
    kind: "max" | "avg",
    dy: View,
    g: Conv2dGeometry,
    argmax: View | null,
    dx: View,
  ): void;

  // ---- attention -----------------------------------------------------------------------

  /**
   * Fused scaled-dot-product attention: out [B, Hq, Tq, Dv] = softmax(scale·q·kᵀ + mask,
   * causal) · v. lse [B, Hq, Tq] receives the row logsumexp of the masked, scaled scores
   * (saved for backward). A fully masked row yields zeros (and lse = −Infinity).
   */
  attention(args: AttentionArgs, out: View, lse: View): void;
  /**
   * Gradients of `attention`, overwriting dq [B,Hq,Tq,D], dk [B,Hkv,Tk,D], dv [B,Hkv,Tk,Dv]
   * (kv grads summed over the query heads of each group). `out`, `lse` are the forward results.
   */
  attentionBackward(
    args: AttentionArgs,
    out: View,
    lse: View,
    dout: View,
    dq: View,
    dk: View,
    dv: View,
  ): void;

  // ---- optimizers (in place, all f32 contiguous of the same size) ----------------------

  /**
   * One AdamW step, in place: p ← p − lr·wd·p; m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²;
   * p ← p − lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + eps). Matches torch.optim.AdamW.
   */
  adamw(param: View, grad: View, m: View, v: View, h: AdamWParams): void;
  /**
   * The `adamw` update of several parameters at once (GPU backends record fewer kernels).
   * Optional: without it the optimizer calls `adamw` per parameter.
   */
  adamwMany?(
    updates: readonly { param: View; grad: View; m: View; v: View }[],
    h: AdamWParams,
  ): void;
  /** One SGD step in place (torch.optim.SGD): see {@link SgdParams}. `buf` is the momentum. */
  sgd(param: View, grad: View, buf: View | null, h: SgdParams): void;
}

/** Row-major contiguous strides for a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Number of elements of a shape (1 for rank 0). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * The part of `view` that starts at `start` along `axis` and has `shape` (a view of the same
 * storage: where a concatenation writes one of its sources).
 */
export function sliceAlong(
  view: View,
  axis: number,
  start: number,
  shape: readonly number[],
): View {
  return {
    storage: view.storage,
    shape,
    strides: view.strides,
    offset: view.offset + start * view.strides[axis],
  };
}

/** True if a view is row-major contiguous (size-1 axes may have any stride). */
export function isContiguous(view: Pick<View, "shape" | "strides">): boolean {
  let s = 1;
  for (let i = view.shape.length - 1; i >= 0; i--) {
    if (view.shape[i] !== 1 && view.strides[i] !== s) return false;
    s *= view.shape[i];
  }
  return true;
}

/** The error text of an index outside [0, bound) (host and device checks say the same). */
export function outOfRangeMessage(
  op: string,
  what: string,
  value: number,
  position: number,
  bound: number,
  ignore: number | null,
): string {
  const tail = ignore === null ? "" : ` (ignoreIndex ${ignore})`;
  return `${op}: ${what} ${value} at position ${position} is out of range [0, ${bound})${tail}`;
}

/** Output height and width of a convolution or pooling window over an H×W input. */
export function outSize(H: number, W: number, g: Conv2dGeometry): { OH: number; OW: number } {
  return {
    OH: Math.floor((H + 2 * g.padH - g.dilationH * (g.kernelH - 1) - 1) / g.strideH) + 1,
    OW: Math.floor((W + 2 * g.padW - g.dilationW * (g.kernelW - 1) - 1) / g.strideW) + 1,
  };
}

/**
 * The 14 integers convolution / pooling kernels take for an NCHW input of shape `x4`:
 * N C H W OH OW kH kW sH sW pH pW dH dW.
 */
export function convGeometryWords(x4: readonly number[], g: Conv2dGeometry): number[] {
  const [N, C, H, W] = x4;
  const { OH, OW } = outSize(H, W, g);
  return [
    N,
    C,
    H,
    W,
    OH,
    OW,
    g.kernelH,
    g.kernelW,
    g.strideH,
    g.strideW,
    g.padH,
    g.padW,
    g.dilationH,
    g.dilationW,
  ];
}
