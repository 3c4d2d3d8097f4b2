/**
 * Neural-network ops with fused kernels: softmax / log-softmax, cross-entropy, layer norm,
 * RMS norm, embedding / index-select / index-add, conv2d, pooling and causal attention.
 */

import { attach, needsGrad, save } from "../autograd.js";
import { type Conv2dGeometry, outOfRangeMessage, outSize } from "../backend.js";
import type { Tensor } from "../tensor.js";
import { add, div, ne } from "./elementwise.js";
import { matmul } from "./linalg.js";
import { sum } from "./reduce.js";
import { contiguous, flatten, reshape, transpose } from "./shape.js";
import {
  broadcastShapes,
  broadcastView,
  empty,
  fmtShape,
  normAxis,
  requireDType,
  requireRank,
  sameBackend,
} from "./util.js";

// ---- softmax ------------------------------------------------------------------------------

function softmaxLast(x: Tensor, log: boolean): Tensor {
  const op = log ? "logSoftmax" : "softmax";
  requireDType(op, x, "f32");
  const out = empty(x.shape, "f32", x.backend, op);
  if (log) x.backend.logSoftmax(x._view(op), out._view(op));
  else x.backend.softmax(x._view(op), out._view(op));
  if (needsGrad(x)) {
    const sy = save(out, op);
    attach(
      op,
      [x],
      [out],
      ([g]) => {
        const dx = empty(g.shape, "f32", g.backend, `${op} backward`);
        if (log) g.backend.logSoftmaxBackward(sy.get()._view(op), g._view(op), dx._view(op));
        else g.backend.softmaxBackward(sy.get()._view(op), g._view(op), dx._view(op));
        return [dx];
      },
      [sy],
    );
  }
  return out;
}

function alongAxis(x: Tensor, axis: number, op: string, f: (t: Tensor) => Tensor): Tensor {
  if (x.rank === 0) throw new Error(`${op}: needs rank ≥ 1, got ${x.describe()}`);
  const a = normAxis(axis, x.rank, op);
  if (a === x.rank - 1) return f(x);
  return transpose(f(transpose(x, a, -1)), a, -1);
}

/** Softmax along `axis` (default last). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return alongAxis(x, axis, "softmax", (t) => softmaxLast(t, false));
}

/** Log-softmax along `axis` (default last). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return alongAxis(x, axis, "logSoftmax", (t) => softmaxLast(t, true));
}

// ---- cross-entropy ------------------------------------------------------------------------

export interface CrossEntropyOptions {
  /** Target value whose rows are ignored (loss 0, not counted in the mean). Default −100. */
  ignoreIndex?: number;
  /** "mean" over non-ignored rows (default), "sum", or "none" (per-row losses). */
  reduction?: "mean" | "sum" | "none";
}

/**
 * Cross-entropy from logits [..., C] and integer targets [...] (i32), PyTorch semantics
 * (`F.cross_entropy`), including `ignoreIndex` for masked (e.g. SFT prompt) positions.
 */
export function crossEntropy(
  logits: Tensor,
  targets: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  const op = "crossEntropy";
  const ignoreIndex = options.ignoreIndex ?? -100;
  const reduction = options.reduction ?? "mean";
  requireDType(op, logits, "f32", "logits");
  requireDType(op, targets, "i32", "targets");
  const C = logits.shape[logits.rank - 1];
  if (logits.rank < 1 || targets.shape.join() !== logits.shape.slice(0, -1).join()) {
    throw new Error(
      `${op}: targets ${targets.describe()} must have the shape of logits ${logits.describe()} without the class axis`,
    );
  }
  const backend = sameBackend(op, logits, targets);
  checkRange(op, "target", targets, C, ignoreIndex);
  const x2 = reshape(logits, [-1, C]);
  const t1 = reshape(targets, [-1]);
  const N = x2.shape[0];
  const losses = empty([N], "f32", backend, op);
  const lse = empty([N], "f32", backend, op);
  backend.crossEntropy(x2._view(op), t1._view(op), ignoreIndex, losses._view(op), lse._view(op));
  if (needsGrad(x2)) {
    const sx = save(x2, op);
    const st = save(t1, op);
    const sl = save(lse, op);
    attach(
      op,
      [x2],
      [losses],
      ([g]) => {
        const dx = empty(x2.shape, "f32", g.backend, `${op} backward`);
        g.backend.crossEntropyBackward(
          sx.get()._view(op),
          st.get()._view(op),
          sl.get()._view(op),
          g._view(op),
          ignoreIndex,
          dx._view(op),
        );
        return [dx];
      },
      [sx, st, sl],
    );
  }
  if (reduction === "none") return reshape(losses, targets.shape);
  const total = sum(losses);
  if (reduction === "sum") return total;
  return div(total, sum(ne(t1, ignoreIndex)));
}

// ---- normalisation ------------------------------------------------------------------------

function checkNormParam(op: string, x: Tensor, p: Tensor | null | undefined, what: string): void {
  if (!p) return;
  const D = x.shape[x.rank - 1];
  if (p.rank !== 1 || p.shape[0] !== D) {
    throw new Error(
      `${op}: ${what} ${p.describe()} must be ${fmtShape([D])} for input ${x.describe()}`,
    );
  }
  requireDType(op, p, "f32", what);
}

/** Layer normalisation over the last axis (PyTorch `F.layer_norm` with normalized_shape [D]). */
export function layerNorm(
  x: Tensor,
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const op = "layerNorm";
  requireDType(op, x, "f32");
  checkNormParam(op, x, weight, "weight");
  checkNormParam(op, x, bias, "bias");
  const backend = sameBackend(op, x, weight, bias);
  const rows = x.size / x.shape[x.rank - 1];
  const out = empty(x.shape, "f32", backend, op);
  const mean = empty([rows], "f32", backend, op);
  const rstd = empty([rows], "f32", backend, op);
  backend.layerNorm(
    x._view(op),
    weight?._view(op) ?? null,
    bias?._view(op) ?? null,
    eps,
    out._view(op),
    mean._view(op),
    rstd._view(op),
  );
  if (needsGrad(x, weight, bias)) {
    const sx = save(x, op);
    const sw = weight ? save(weight, op) : null;
    const sm = save(mean, op);
    const sr = save(rstd, op);
    attach(
      op,
      [x, weight ?? null, bias ?? null],
      [out],
      ([g]) => {
        const dx = empty(x.shape, "f32", g.backend, `${op} backward`);
        const dw = weight ? empty(weight.shape, "f32", g.backend, `${op} backward`) : null;
        const db = bias ? empty(bias.shape, "f32", g.backend, `${op} backward`) : null;
        g.backend.layerNormBackward(
          sx.get()._view(op),
          sw?.get()._view(op) ?? null,
          sm.get()._view(op),
          sr.get()._view(op),
          g._view(op),
          dx._view(op),
          dw?._view(op) ?? null,
          db?._view(op) ?? null,
        );
        return [dx, dw, db];
      },
      sw ? [sx, sw, sm, sr] : [sx, sm, sr],
    );
  }
  mean.dispose();
  rstd.dispose();
  return out;
}

/** RMS normalisation over the last axis (Llama): x / sqrt(mean(x²) + eps) · weight. */
export function rmsNorm(x: Tensor, weight?: Tensor | null, eps = 1e-6): Tensor {
  const op = "rmsNorm";
  requireDType(op, x, "f32");
  checkNormParam(op, x, weight, "weight");
  const backend = sameBackend(op, x, weight);
  const rows = x.size / x.shape[x.rank - 1];
  const out = empty(x.shape, "f32", backend, op);
  const rstd = empty([rows], "f32", backend, op);
  backend.rmsNorm(x._view(op), weight?._view(op) ?? null, eps, out._view(op), rstd._view(op));
  if (needsGrad(x, weight)) {
    const sx = save(x, op);
    const sw = weight ? save(weight, op) : null;
    const sr = save(rstd, op);
    attach(
      op,
      [x, weight ?? null],
      [out],
      ([g]) => {
        const dx = empty(x.shape, "f32", g.backend, `${op} backward`);
        const dw = weight ? empty(weight.shape, "f32", g.backend, `${op} backward`) : null;
        g.backend.rmsNormBackward(
          sx.get()._view(op),
          sw?.get()._view(op) ?? null,
          sr.get()._view(op),
          g._view(op),
          dx._view(op),
          dw?._view(op) ?? null,
        );
        return [dx, dw];
      },
      sw ? [sx, sw, sr] : [sx, sr],
    );
  }
  rstd.dispose();
  return out;
}

// ---- indexing -----------------------------------------------------------------------------

/**
 * Every value of the i32 `index` must lie in [0, n) (or equal `ignore`). Checked on the host
 * where the backend reads synchronously; otherwise on the device, reported at the next read.
 */
function checkRange(
  op: string,
  what: string,
  index: Tensor,
  n: number,
  ignore: number | null,
): void {
  const b = index.backend;
  if (!b.readSync) {
    b.checkIndices?.(op, what, index._view(op), n, ignore);
    return;
  }
  const ids = b.readSync(index._view(op));
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] !== ignore && (ids[i] < 0 || ids[i] >= n))
      throw new Error(outOfRangeMessage(op, what, ids[i], i, n, ignore));
  }
}

function checkIndex(op: string, index: Tensor, n: number): void {
  requireDType(op, index, "i32", "index");
  requireRank(op, index, 1, "index");
  checkRange(op, "index", index, n, null);
}

/**
 * Gathers slices along `axis` at the positions in `index` (1-D i32). An f16 `x` (a half
 * precision embedding table) gives f32 rows.
 */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  const op = "indexSelect";
  const a = normAxis(axis, x.rank, op);
  checkIndex(op, index, x.shape[a]);
  const backend = sameBackend(op, x, index);
  const shape = [...x.shape];
  shape[a] = index.shape[0];
  const out = empty(shape, x.dtype === "f16" ? "f32" : x.dtype, backend, op);
  backend.indexSelect(x._view(op), a, index._view(op), out._view(op));
  if (needsGrad(x)) {
    const si = save(index, op);
    const inShape = x.shape;
    attach(
      op,
      [x],
      [out],
      ([g]) => {
        const dx = empty(inShape, "f32", g.backend, `${op} backward`);
        g.backend.fill(dx._view(op), 0);
        g.backend.indexAdd(g._view(op), a, si.get()._view(op), dx._view(op));
        return [dx];
      },
      [si],
    );
  }
  return out;
}

/** Returns `x` with `src` added at the positions `index` along `axis` (duplicates add up). */
export function indexAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  const op = "indexAdd";
  if (x.dtype === "f16") requireDType(op, x, "f32", "x");
  const a = normAxis(axis, x.rank, op);
  checkIndex(op, index, x.shape[a]);
  const expected = [...x.shape];
  expected[a] = index.shape[0];
  if (src.shape.join() !== expected.join() || src.dtype !== x.dtype) {
    throw new Error(`${op}: src ${src.describe()} must be ${fmtShape(expected)} ${x.dtype}`);
  }
  const backend = sameBackend(op, x, index, src);
  const out = empty(x.shape, x.dtype, backend, op);
  backend.copy(x._view(op), out._view(op));
  backend.indexAdd(src._view(op), a, index._view(op), out._view(op));
  if (needsGrad(x, src)) {
    const si = save(index, op);
    attach(
      op,
      [x, null, src],
      [out],
      ([g]) => [g, null, src.requiresGrad ? indexSelect(g, a, si.get()) : null],
      [si],
    );
  }
  return out;
}

/** Embedding lookup: table [V, D], ids (i32, any shape) → [...ids.shape, D]. */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  requireRank("embedding", table, 2, "table");
  requireDType("embedding", ids, "i32", "ids");
  const flat = indexSelect(table, 0, flatten(ids));
  return reshape(flat, [...ids.shape, table.shape[1]]);
}

// ---- convolution and pooling --------------------------------------------------------------

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

function pair(v: number | [number, number] | undefined, d: number): [number, number] {
  return v === undefined ? [d, d] : typeof v === "number" ? [v, v] : v;
}

function geometry(kh: number, kw: number, o: Conv2dOptions, defStride: number): Conv2dGeometry {
  const [strideH, strideW] = pair(o.stride, defStride);
  const [padH, padW] = pair(o.padding, 0);
  const [dilationH, dilationW] = pair(o.dilation, 1);
  return { kernelH: kh, kernelW: kw, strideH, strideW, padH, padW, dilationH, dilationW };
}

function im2col(x: Tensor, g: Conv2dGeometry): Tensor {
  const op = "conv2d";
  requireDType(op, x, "f32");
  const [N, C, H, W] = x.shape;
  const { OH, OW } = outSize(H, W, g);
  if (OH <= 0 || OW <= 0) throw new Error(`${op}: kernel larger than padded input ${x.describe()}`);
  const cols = empty([N, C * g.kernelH * g.kernelW, OH * OW], "f32", x.backend, op);
  x.backend.im2col(x._view(op), g, cols._view(op));
  if (needsGrad(x)) {
    const inShape = x.shape;
    attach("im2col", [x], [cols], ([gc]) => {
      const dx = empty(inShape, "f32", gc.backend, "conv2d backward");
      gc.backend.col2im(gc._view(op), g, dx._view(op));
      return [dx];
    });
  }
  return cols;
}

/** 2-D convolution, NCHW: x [N, C, H, W], weight [O, C/groups, kH, kW], bias [O]. */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: Conv2dOptions = {},
): Tensor {
  const op = "conv2d";
  requireRank(op, x, 4, "input");
  requireRank(op, weight, 4, "weight");
  const groups = options.groups ?? 1;
  const [N, C, H, W] = x.shape;
  const [O, Cg, kh, kw] = weight.shape;
  if (C % groups !== 0 || O % groups !== 0 || Cg !== C / groups) {
    throw new Error(
      `${op}: weight ${weight.describe()} does not fit input ${x.describe()} with groups=${groups}`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== O))
    throw new Error(`${op}: bias ${bias.describe()} must be [${O}]`);
  const g = geometry(kh, kw, options, 1);
  const { OH, OW } = outSize(H, W, g);
  const cols = im2col(contiguous(x), g); // [N, C·kh·kw, L]
  const K = Cg * kh * kw;
  const w = reshape(weight, [groups, O / groups, K]);
  const y = matmul(w, reshape(cols, [N, groups, K, OH * OW])); // [N, G, O/G, L]
  const out = reshape(y, [N, O, OH, OW]);
  return bias ? add(out, reshape(bias, [1, O, 1, 1])) : out;
}

function pool(
  kind: "max" | "avg",
  x: Tensor,
  kernel: number | [number, number],
  options: Omit<Conv2dOptions, "groups">,
): Tensor {
  const op = kind === "max" ? "maxPool2d" : "avgPool2d";
  requireRank(op, x, 4, "input");
  requireDType(op, x, "f32");
  const [kh, kw] = pair(kernel, 1);
  const g = geometry(kh, kw, { ...options, stride: options.stride ?? [kh, kw] }, 1);
  if (g.padH * 2 > kh || g.padW * 2 > kw)
    throw new Error(`${op}: padding must be at most half the kernel size`);
  const [N, C, H, W] = x.shape;
  const { OH, OW } = outSize(H, W, g);
  if (OH <= 0 || OW <= 0) throw new Error(`${op}: window larger than padded input ${x.describe()}`);
  const out = empty([N, C, OH, OW], "f32", x.backend, op);
  const am = kind === "max" ? empty([N, C, OH, OW], "i32", x.backend, op) : null;
  x.backend.pool2d(kind, x._view(op), g, out._view(op), am?._view(op) ?? null);
  if (needsGrad(x)) {
    const sa = am ? save(am, op) : null;
    const inShape = x.shape;
    attach(
      op,
      [x],
      [out],
      ([gy]) => {
        const dx = empty(inShape, "f32", gy.backend, `${op} backward`);
        gy.backend.pool2dBackward(kind, gy._view(op), g, sa?.get()._view(op) ?? null, dx._view(op));
        return [dx];
      },
      sa ? [sa] : [],
    );
  }
  am?.dispose();
  return out;
}

/** Max pooling (NCHW). Stride defaults to the kernel size. */
export function maxPool2d(
  x: Tensor,
  kernel: number | [number, number],
  options: Omit<Conv2dOptions, "groups"> = {},
): Tensor {
  return pool("max", x, kernel, options);
}

/** Average pooling (NCHW, padding counted as zeros). Stride defaults to the kernel size. */
export function avgPool2d(
  x: Tensor,
  kernel: number | [number, number],
  options: Omit<Conv2dOptions, "groups"> = {},
): Tensor {
  return pool("avg", x, kernel, options);
}

// ---- attention ----------------------------------------------------------------------------

export interface AttentionOptions {
  /** Causal mask aligned to the end (query i sees keys ≤ i + Tk − Tq). Default false. */
  causal?: boolean;
  /** Additive f32 mask broadcastable to [B, Hq, Tq, Tk] (e.g. 0 / −Infinity for padding). */
  mask?: Tensor | null;
  /** Score scale; default 1/sqrt(D). */
  scale?: number;
}

/**
 * Fused scaled-dot-product attention. q [B, Hq, Tq, D], k [B, Hkv, Tk, D], v [B, Hkv, Tk, Dv];
 * Hq a multiple of Hkv (grouped-query attention). Returns [B, Hq, Tq, Dv]. Tq may differ from
 * Tk (KV cache). Gradients flow to q, k and v (not the mask). k and v may be f16 (a half
 * precision KV cache) when no gradient is recorded.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  const op = "attention";
  for (const [t, n] of [
    [q, "q"],
    [k, "k"],
    [v, "v"],
  ] as const) {
    requireRank(op, t, 4, n);
    if (n !== "q" && t.dtype === "f16") continue;
    requireDType(op, t, "f32", n);
  }
  if ((k.dtype === "f16" || v.dtype === "f16") && needsGrad(q, k, v))
    throw new Error(
      `${op}: f16 keys / values (${k.describe()}, ${v.describe()}) are for inference (a KV cache) and take no gradient; run under noGrad() or use f32 to train`,
    );
  const [B, Hq, Tq, D] = q.shape;
  const [Bk, Hkv, Tk, Dk] = k.shape;
  const [Bv, Hv, Tv, Dv] = v.shape;
  if (Bk !== B || Bv !== B || Hv !== Hkv || Tv !== Tk || Dk !== D || Hq % Hkv !== 0 || Hkv === 0) {
    throw new Error(
      `${op}: incompatible q ${q.describe()}, k ${k.describe()}, v ${v.describe()} (need k,v [B, Hkv, Tk, ·] with Hq % Hkv = 0, k's last dim = q's)`,
    );
  }
  const mask = options.mask ?? null;
  const backend = sameBackend(op, q, k, v, mask);
  let maskView = null;
  if (mask) {
    requireDType(op, mask, "f32", "mask");
    const full = [B, Hq, Tq, Tk];
    const b = broadcastShapes(op, mask.shape, full);
    if (b.join() !== full.join())
      throw new Error(`${op}: mask ${mask.describe()} does not broadcast to ${fmtShape(full)}`);
    maskView = broadcastView(mask, full, op);
  }
  const args = {
    q: q._view(op),
    k: k._view(op),
    v: v._view(op),
    mask: maskView,
    causal: options.causal ?? false,
    scale: options.scale ?? 1 / Math.sqrt(D),
  };
  const out = empty([B, Hq, Tq, Dv], "f32", backend, op);
  const lse = empty([B, Hq, Tq], "f32", backend, op);
  backend.attention(args, out._view(op), lse._view(op));
  if (needsGrad(q, k, v)) {
    const sq = save(q, op);
    const sk = save(k, op);
    const sv = save(v, op);
    const sm = mask ? save(mask, op) : null;
    const so = save(out, op);
    const sl = save(lse, op);
    attach(
      op,
      [q, k, v],
      [out],
      ([g]) => {
        const m = sm?.get() ?? null;
        const a = {
          q: sq.get()._view(op),
          k: sk.get()._view(op),
          v: sv.get()._view(op),
          mask: m ? broadcastView(m, [B, Hq, Tq, Tk], op) : null,
          causal: args.causal,
          scale: args.scale,
        };
        const dq = empty(q.shape, "f32", g.backend, `${op} backward`);
        const dk = empty(k.shape, "f32", g.backend, `${op} backward`);
        const dv = empty(v.shape, "f32", g.backend, `${op} backward`);
        g.backend.attentionBackward(
          a,
          so.get()._view(op),
          sl.get()._view(op),
          g._view(op),
          dq._view(op),
          dk._view(op),
          dv._view(op),
        );
        return [dq, dk, dv];
      },
      [sq, sk, sv, so, sl, ...(sm ? [sm] : [])],
    );
  }
  lse.dispose();
  return out;
}
