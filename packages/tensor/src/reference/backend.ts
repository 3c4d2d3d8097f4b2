/**
 * The reference backend: plain TypeScript, simple and strided, computed in f64 and stored as
 * f32. It is the oracle every other backend is tested against, so clarity beats speed here.
 */

import {
  type AdamWParams,
  type AttentionArgs,
  type Backend,
  type BinaryOp,
  type Conv2dGeometry,
  type DType,
  type HostArray,
  outSize,
  type ReduceOp,
  type SgdParams,
  type Storage,
  shapeSize,
  type UnaryOp,
  type View,
} from "../backend.js";
import { roundToF16 } from "../dtype.js";
import { binaryFn, COMPARISONS, unaryFn, unaryGradFn } from "./math.js";

interface RefStorage extends Storage {
  data: Float32Array | Float64Array | Int32Array;
}

/** Options of the reference backend. */
export interface ReferenceOptions {
  /**
   * Store f32 tensors in f64 (default false). Used by the numerical gradient checks, where f32
   * rounding would drown finite differences; results are still read back as Float32Array.
   */
  f64?: boolean;
  /** Backend name (default "reference", or "reference-f64" with `f64`). */
  name?: string;
}

/** Element offsets of every index of a view, in row-major order. */
export function viewOffsets(v: Pick<View, "shape" | "strides" | "offset">): Int32Array {
  const n = shapeSize(v.shape);
  const out = new Int32Array(n);
  const rank = v.shape.length;
  const idx = new Array<number>(rank).fill(0);
  let off = v.offset;
  for (let i = 0; i < n; i++) {
    out[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      off += v.strides[d];
      if (idx[d] < v.shape[d]) break;
      off -= v.strides[d] * v.shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

function data(v: View): Float32Array | Float64Array | Int32Array {
  return (v.storage as RefStorage).data;
}

/** Dense f64 copy of a view. */
function dense(v: View): Float64Array {
  const d = data(v);
  const offs = viewOffsets(v);
  const out = new Float64Array(offs.length);
  for (let i = 0; i < offs.length; i++) out[i] = d[offs[i]];
  return out;
}

/** Writes dense values into a (possibly strided) view, converting to its dtype. */
function store(v: View, values: ArrayLike<number>): void {
  const d = data(v);
  const offs = viewOffsets(v);
  const dtype = v.storage.dtype;
  if (dtype === "f16") {
    const half = roundToF16(Float64Array.from(values));
    for (let i = 0; i < offs.length; i++) d[offs[i]] = half[i];
    return;
  }
  const isInt = dtype === "i32";
  for (let i = 0; i < offs.length; i++) d[offs[i]] = isInt ? Math.trunc(values[i]) : values[i];
}

function lastDim(v: View): { rows: number; cols: number } {
  const cols = v.shape.length === 0 ? 1 : v.shape[v.shape.length - 1];
  return { rows: cols === 0 ? 0 : shapeSize(v.shape) / cols, cols };
}

export class ReferenceBackend implements Backend {
  readonly name: string;
  readonly syncRead = true;
  private readonly f64: boolean;

  constructor(options: ReferenceOptions = {}) {
    this.f64 = options.f64 ?? false;
    this.name = options.name ?? (this.f64 ? "reference-f64" : "reference");
  }

  alloc(dtype: DType, size: number): Storage {
    const s: RefStorage = {
      backend: this.name,
      dtype,
      size,
      data:
        dtype === "i32"
          ? new Int32Array(size)
          : this.f64
            ? new Float64Array(size)
            : new Float32Array(size),
    };
    return s;
  }
  free(storage: Storage): void {
    (storage as RefStorage).data = new Float32Array(0);
  }
  write(storage: Storage, values: HostArray, offset = 0): void {
    const half = storage.dtype === "f16";
    (storage as RefStorage).data.set(half ? roundToF16(Float32Array.from(values)) : values, offset);
  }
  async read(view: View): Promise<HostArray> {
    return this.readSync(view);
  }
  readSync(view: View): HostArray {
    const d = data(view);
    const offs = viewOffsets(view);
    const out =
      view.storage.dtype === "i32" ? new Int32Array(offs.length) : new Float32Array(offs.length);
    for (let i = 0; i < offs.length; i++) out[i] = d[offs[i]];
    return out;
  }

  /** Reads a view at full storage precision (f64 with the `f64` option). Testing aid. */
  readF64(view: View): Float64Array {
    return dense(view);
  }
  /** Sets one storage element at full precision. Testing aid (numerical gradients). */
  poke(storage: Storage, index: number, value: number): void {
    (storage as RefStorage).data[index] = value;
  }
  /** Gets one storage element at full precision. */
  peek(storage: Storage, index: number): number {
    return (storage as RefStorage).data[index];
  }

  fill(out: View, value: number): void {
    store(out, new Float64Array(shapeSize(out.shape)).fill(value));
  }
  copy(src: View, dst: View): void {
    store(dst, dense(src));
  }

  unary(op: UnaryOp, x: View, out: View): void {
    const f = unaryFn(op);
    store(out, dense(x).map(f));
  }
  unaryBackward(op: UnaryOp, x: View, y: View, dy: View, dx: View): void {
    const g = unaryGradFn(op);
    const xs = dense(x);
    const ys = dense(y);
    const dys = dense(dy);
    store(
      dx,
      xs.map((xv, i) => dys[i] * g(xv, ys[i])),
    );
  }
  binary(op: BinaryOp, a: View, b: View, out: View): void {
    const f = binaryFn(op);
    const as = dense(a);
    const bs = dense(b);
    const intDiv = op === "div" && out.storage.dtype === "i32";
    const r = as.map((av, i) => (intDiv ? Math.trunc(av / bs[i]) : f(av, bs[i])));
    if (out.storage.dtype === "i32" && !COMPARISONS.has(op))
      store(
        out,
        r.map((v) => v | 0),
      );
    else store(out, r);
  }
  where(cond: View, a: View, b: View, out: View): void {
    const c = dense(cond);
    const as = dense(a);
    const bs = dense(b);
    store(
      out,
      c.map((cv, i) => (cv !== 0 ? as[i] : bs[i])),
    );
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[], out: View): void {
    const xs = dense(x);
    const shape = x.shape;
    const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const outSize = shapeSize(outShape);
    const init = op === "sum" ? 0 : op === "prod" ? 1 : op === "max" ? -Infinity : Infinity;
    const acc = new Float64Array(outSize).fill(init);
    const rank = shape.length;
    const idx = new Array<number>(rank).fill(0);
    const outStrides = new Array<number>(rank);
    let s = 1;
    for (let d = rank - 1; d >= 0; d--) {
      outStrides[d] = s;
      s *= outShape[d];
    }
    for (let i = 0; i < xs.length; i++) {
      let o = 0;
      for (let d = 0; d < rank; d++) if (outShape[d] !== 1) o += idx[d] * outStrides[d];
      const v = xs[i];
      if (op === "sum") acc[o] += v;
      else if (op === "prod") acc[o] *= v;
      else if (Number.isNaN(v) || Number.isNaN(acc[o])) acc[o] = Number.NaN;
      else if (op === "max") acc[o] = Math.max(v, acc[o]);
      else acc[o] = Math.min(v, acc[o]);
      for (let d = rank - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    store(out, acc);
  }
  argmax(x: View, axis: number, out: View): void {
    const xs = dense(x);
    const shape = x.shape;
    const n = shape[axis];
    const inner = shapeSize(shape.slice(axis + 1));
    const outer = shapeSize(shape.slice(0, axis));
    const r = new Float64Array(outer * inner);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let best = -Infinity;
        let bi = 0;
        for (let j = 0; j < n; j++) {
          const v = xs[(o * n + j) * inner + i];
          if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
            best = v;
            bi = j;
          }
        }
        r[o * inner + i] = bi;
      }
    store(out, r);
  }

  matmul(a: View, b: View, out: View): void {
    const rank = a.shape.length;
    const M = a.shape[rank - 2];
    const K = a.shape[rank - 1];
    const N = b.shape[rank - 1];
    const as = dense(a);
    const bs = dense(b);
    const batch = shapeSize(a.shape.slice(0, rank - 2));
    const r = new Float64Array(batch * M * N);
    for (let p = 0; p < batch; p++) {
      const ao = p * M * K;
      const bo = p * K * N;
      const ro = p * M * N;
      for (let i = 0; i < M; i++)
        for (let k = 0; k < K; k++) {
          const av = as[ao + i * K + k];
          if (av === 0) continue;
          for (let j = 0; j < N; j++) r[ro + i * N + j] += av * bs[bo + k * N + j];
        }
    }
    store(out, r);
  }

  softmax(x: View, out: View): void {
    const xs = dense(x);
    const { rows, cols } = lastDim(x);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let m = -Infinity;
      for (let c = 0; c < cols; c++) m = Math.max(m, xs[o + c]);
      let s = 0;
      for (let c = 0; c < cols; c++) {
        xs[o + c] = m === -Infinity ? 0 : Math.exp(xs[o + c] - m);
        s += xs[o + c];
      }
      for (let c = 0; c < cols; c++) xs[o + c] = s === 0 ? 0 : xs[o + c] / s;
    }
    store(out, xs);
  }
  logSoftmax(x: View, out: View): void {
    const xs = dense(x);
    const { rows, cols } = lastDim(x);
    for (let r = 0; r < rows; r++) {
      const lse = logSumExp(xs, r * cols, cols);
      for (let c = 0; c < cols; c++) xs[r * cols + c] -= lse;
    }
    store(out, xs);
  }
  softmaxBackward(y: View, dy: View, dx: View): void {
    const ys = dense(y);
    const dys = dense(dy);
    const { rows, cols } = lastDim(y);
    const r = new Float64Array(ys.length);
    for (let i = 0; i < rows; i++) {
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += ys[i * cols + c] * dys[i * cols + c];
      for (let c = 0; c < cols; c++) r[i * cols + c] = ys[i * cols + c] * (dys[i * cols + c] - dot);
    }
    store(dx, r);
  }
  logSoftmaxBackward(y: View, dy: View, dx: View): void {
    const ys = dense(y);
    const dys = dense(dy);
    const { rows, cols } = lastDim(y);
    const r = new Float64Array(ys.length);
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += dys[i * cols + c];
      for (let c = 0; c < cols; c++)
        r[i * cols + c] = dys[i * cols + c] - Math.exp(ys[i * cols + c]) * s;
    }
    store(dx, r);
  }

  crossEntropy(logits: View, targets: View, ignoreIndex: number, losses: View, lse: View): void {
    const xs = dense(logits);
    const ts = dense(targets);
    const { rows, cols } = lastDim(logits);
    const l = new Float64Array(rows);
    const z = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      z[r] = logSumExp(xs, r * cols, cols);
      l[r] = ts[r] === ignoreIndex ? 0 : z[r] - xs[r * cols + ts[r]];
    }
    store(losses, l);
    store(lse, z);
  }
  crossEntropyBackward(
    logits: View,
    targets: View,
    lse: View,
    dloss: View,
    ignoreIndex: number,
    dlogits: View,
  ): void {
    const xs = dense(logits);
    const ts = dense(targets);
    const z = dense(lse);
    const dl = dense(dloss);
    const { rows, cols } = lastDim(logits);
    const r = new Float64Array(xs.length);
    for (let i = 0; i < rows; i++) {
      if (ts[i] === ignoreIndex) continue;
      for (let c = 0; c < cols; c++)
        r[i * cols + c] = dl[i] * (Math.exp(xs[i * cols + c] - z[i]) - (c === ts[i] ? 1 : 0));
    }
    store(dlogits, r);
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
    const xs = dense(x);
    const w = weight ? dense(weight) : null;
    const b = bias ? dense(bias) : null;
    const { rows, cols } = lastDim(x);
    const mu = new Float64Array(rows);
    const rs = new Float64Array(rows);
    const y = new Float64Array(xs.length);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let m = 0;
      for (let c = 0; c < cols; c++) m += xs[o + c];
      m /= cols;
      let v = 0;
      for (let c = 0; c < cols; c++) v += (xs[o + c] - m) ** 2;
      v /= cols;
      const s = 1 / Math.sqrt(v + eps);
      mu[r] = m;
      rs[r] = s;
      for (let c = 0; c < cols; c++)
        y[o + c] = (xs[o + c] - m) * s * (w ? w[c] : 1) + (b ? b[c] : 0);
    }
    store(out, y);
    store(mean, mu);
    store(rstd, rs);
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
    const xs = dense(x);
    const w = weight ? dense(weight) : null;
    const mu = dense(mean);
    const rs = dense(rstd);
    const g = dense(dy);
    const { rows, cols } = lastDim(x);
    const dxs = new Float64Array(xs.length);
    const dw = new Float64Array(cols);
    const db = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s1 = 0;
      let s2 = 0;
      for (let c = 0; c < cols; c++) {
        const xhat = (xs[o + c] - mu[r]) * rs[r];
        const gh = g[o + c] * (w ? w[c] : 1);
        s1 += gh;
        s2 += gh * xhat;
        dw[c] += g[o + c] * xhat;
        db[c] += g[o + c];
      }
      for (let c = 0; c < cols; c++) {
        const xhat = (xs[o + c] - mu[r]) * rs[r];
        const gh = g[o + c] * (w ? w[c] : 1);
        dxs[o + c] = rs[r] * (gh - s1 / cols - (xhat * s2) / cols);
      }
    }
    store(dx, dxs);
    if (dweight) store(dweight, dw);
    if (dbias) store(dbias, db);
  }
  rmsNorm(x: View, weight: View | null, eps: number, out: View, rstd: View): void {
    const xs = dense(x);
    const w = weight ? dense(weight) : null;
    const { rows, cols } = lastDim(x);
    const rs = new Float64Array(rows);
    const y = new Float64Array(xs.length);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let ss = 0;
      for (let c = 0; c < cols; c++) ss += xs[o + c] ** 2;
      const s = 1 / Math.sqrt(ss / cols + eps);
      rs[r] = s;
      for (let c = 0; c < cols; c++) y[o + c] = xs[o + c] * s * (w ? w[c] : 1);
    }
    store(out, y);
    store(rstd, rs);
  }
  rmsNormBackward(
    x: View,
    weight: View | null,
    rstd: View,
    dy: View,
    dx: View,
    dweight: View | null,
  ): void {
    const xs = dense(x);
    const w = weight ? dense(weight) : null;
    const rs = dense(rstd);
    const g = dense(dy);
    const { rows, cols } = lastDim(x);
    const dxs = new Float64Array(xs.length);
    const dw = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let c = 0; c < cols; c++) {
        const gh = g[o + c] * (w ? w[c] : 1);
        s += gh * xs[o + c];
        dw[c] += g[o + c] * xs[o + c] * rs[r];
      }
      for (let c = 0; c < cols; c++) {
        const gh = g[o + c] * (w ? w[c] : 1);
        dxs[o + c] = rs[r] * gh - (rs[r] ** 3 * xs[o + c] * s) / cols;
      }
    }
    store(dx, dxs);
    if (dweight) store(dweight, dw);
  }

  indexSelect(x: View, axis: number, index: View, out: View): void {
    const xs = dense(x);
    const ids = dense(index);
    const n = x.shape[axis];
    const inner = shapeSize(x.shape.slice(axis + 1));
    const outer = shapeSize(x.shape.slice(0, axis));
    const L = ids.length;
    const r = new Float64Array(outer * L * inner);
    for (let o = 0; o < outer; o++)
      for (let l = 0; l < L; l++)
        for (let i = 0; i < inner; i++)
          r[(o * L + l) * inner + i] = xs[(o * n + ids[l]) * inner + i];
    store(out, r);
  }
  indexAdd(src: View, axis: number, index: View, out: View): void {
    const ss = dense(src);
    const ids = dense(index);
    const acc = dense(out);
    const n = out.shape[axis];
    const inner = shapeSize(out.shape.slice(axis + 1));
    const outer = shapeSize(out.shape.slice(0, axis));
    const L = ids.length;
    for (let o = 0; o < outer; o++)
      for (let l = 0; l < L; l++)
        for (let i = 0; i < inner; i++)
          acc[(o * n + ids[l]) * inner + i] += ss[(o * L + l) * inner + i];
    store(out, acc);
  }

  im2col(x: View, g: Conv2dGeometry, cols: View): void {
    const [N, C, H, W] = x.shape;
    const xs = dense(x);
    const { OH, OW } = outSize(H, W, g);
    const K = C * g.kernelH * g.kernelW;
    const r = new Float64Array(N * K * OH * OW);
    forEachTap(N, C, H, W, OH, OW, g, (n, row, p, xi) => {
      if (xi >= 0) r[(n * K + row) * OH * OW + p] = xs[xi];
    });
    store(cols, r);
  }
  col2im(colsV: View, g: Conv2dGeometry, dx: View): void {
    const [N, C, H, W] = dx.shape;
    const cs = dense(colsV);
    const { OH, OW } = outSize(H, W, g);
    const K = C * g.kernelH * g.kernelW;
    const r = new Float64Array(N * C * H * W);
    forEachTap(N, C, H, W, OH, OW, g, (n, row, p, xi) => {
      if (xi >= 0) r[xi] += cs[(n * K + row) * OH * OW + p];
    });
    store(dx, r);
  }
  pool2d(kind: "max" | "avg", x: View, g: Conv2dGeometry, out: View, argmax: View | null): void {
    const [N, C, H, W] = x.shape;
    const xs = dense(x);
    const { OH, OW } = outSize(H, W, g);
    const r = new Float64Array(N * C * OH * OW).fill(kind === "max" ? -Infinity : 0);
    const am = new Float64Array(N * C * OH * OW).fill(-1);
    forEachTap(N, C, H, W, OH, OW, g, (n, row, p, xi) => {
      const c = Math.floor(row / (g.kernelH * g.kernelW));
      const o = (n * C + c) * OH * OW + p;
      if (xi < 0) return;
      if (kind === "avg") r[o] += xs[xi] / (g.kernelH * g.kernelW);
      else if (xs[xi] > r[o] || am[o] < 0) {
        r[o] = xs[xi];
        am[o] = xi - (n * C + c) * H * W;
      }
    });
    store(out, r);
    if (argmax) store(argmax, am);
  }
  pool2dBackward(
    kind: "max" | "avg",
    dy: View,
    g: Conv2dGeometry,
    argmax: View | null,
    dx: View,
  ): void {
    const [N, C, H, W] = dx.shape;
    const dys = dense(dy);
    const { OH, OW } = outSize(H, W, g);
    const r = new Float64Array(N * C * H * W);
    if (kind === "max") {
      const am = dense(argmax!);
      for (let plane = 0; plane < N * C; plane++)
        for (let p = 0; p < OH * OW; p++) {
          const a = am[plane * OH * OW + p];
          if (a >= 0) r[plane * H * W + a] += dys[plane * OH * OW + p];
        }
    } else {
      forEachTap(N, C, H, W, OH, OW, g, (n, row, p, xi) => {
        const c = Math.floor(row / (g.kernelH * g.kernelW));
        if (xi >= 0) r[xi] += dys[(n * C + c) * OH * OW + p] / (g.kernelH * g.kernelW);
      });
    }
    store(dx, r);
  }

  attention(args: AttentionArgs, out: View, lse: View): void {
    const a = attnDense(args);
    const { B, Hq, Tq, Tk, Dv } = a;
    const o = new Float64Array(B * Hq * Tq * Dv);
    const z = new Float64Array(B * Hq * Tq);
    for (let bh = 0; bh < B * Hq; bh++)
      for (let i = 0; i < Tq; i++) {
        const s = a.scores(bh, i);
        const row = bh * Tq + i;
        z[row] = logSumExp(s, 0, Tk);
        if (z[row] === -Infinity) continue;
        const vo = a.kvBase(bh) * Tk * Dv;
        for (let j = 0; j < Tk; j++) {
          const p = Math.exp(s[j] - z[row]);
          if (p === 0) continue;
          for (let d = 0; d < Dv; d++) o[row * Dv + d] += p * a.v[vo + j * Dv + d];
        }
      }
    store(out, o);
    store(lse, z);
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
    const a = attnDense(args);
    const { B, Hq, Hkv, Tq, Tk, D, Dv } = a;
    const o = dense(out);
    const z = dense(lse);
    const dO = dense(dout);
    const dQ = new Float64Array(B * Hq * Tq * D);
    const dK = new Float64Array(B * Hkv * Tk * D);
    const dV = new Float64Array(B * Hkv * Tk * Dv);
    for (let bh = 0; bh < B * Hq; bh++) {
      const kvb = a.kvBase(bh);
      for (let i = 0; i < Tq; i++) {
        const row = bh * Tq + i;
        if (z[row] === -Infinity) continue;
        const s = a.scores(bh, i);
        let delta = 0;
        for (let d = 0; d < Dv; d++) delta += dO[row * Dv + d] * o[row * Dv + d];
        for (let j = 0; j < Tk; j++) {
          const p = Math.exp(s[j] - z[row]);
          if (p === 0) continue;
          let dp = 0;
          for (let d = 0; d < Dv; d++) {
            dp += dO[row * Dv + d] * a.v[(kvb * Tk + j) * Dv + d];
            dV[(kvb * Tk + j) * Dv + d] += p * dO[row * Dv + d];
          }
          const ds = p * (dp - delta) * args.scale;
          for (let d = 0; d < D; d++) {
            dQ[row * D + d] += ds * a.k[(kvb * Tk + j) * D + d];
            dK[(kvb * Tk + j) * D + d] += ds * a.q[row * D + d];
          }
        }
      }
    }
    store(dq, dQ);
    store(dk, dK);
    store(dv, dV);
  }

  adamw(param: View, grad: View, m: View, v: View, h: AdamWParams): void {
    const p = dense(param);
    const g = dense(grad);
    const ms = dense(m);
    const vs = dense(v);
    const bc1 = 1 - h.beta1 ** h.step;
    const bc2 = 1 - h.beta2 ** h.step;
    const stepSize = h.lr / bc1;
    const bc2Sqrt = Math.sqrt(bc2);
    for (let i = 0; i < p.length; i++) {
      p[i] *= 1 - h.lr * h.weightDecay;
      ms[i] = h.beta1 * ms[i] + (1 - h.beta1) * g[i];
      vs[i] = h.beta2 * vs[i] + (1 - h.beta2) * g[i] * g[i];
      p[i] -= (stepSize * ms[i]) / (Math.sqrt(vs[i]) / bc2Sqrt + h.eps);
    }
    store(param, p);
    store(m, ms);
    store(v, vs);
  }
  sgd(param: View, grad: View, buf: View | null, h: SgdParams): void {
    const p = dense(param);
    const g = dense(grad);
    if (h.weightDecay !== 0) for (let i = 0; i < p.length; i++) g[i] += h.weightDecay * p[i];
    if (buf && h.momentum !== 0) {
      const b = dense(buf);
      for (let i = 0; i < p.length; i++) {
        b[i] = h.firstStep ? g[i] : h.momentum * b[i] + (1 - h.dampening) * g[i];
        g[i] = h.nesterov ? g[i] + h.momentum * b[i] : b[i];
      }
      store(buf, b);
    }
    for (let i = 0; i < p.length; i++) p[i] -= h.lr * g[i];
    store(param, p);
  }
}

function logSumExp(xs: ArrayLike<number>, o: number, n: number): number {
  let m = -Infinity;
  for (let c = 0; c < n; c++) m = Math.max(m, xs[o + c]);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let c = 0; c < n; c++) s += Math.exp(xs[o + c] - m);
  return m + Math.log(s);
}

/** Visits every (image, c·kh·kw row, output position, flat input index or −1 for padding). */
function forEachTap(
  N: number,
  C: number,
  H: number,
  W: number,
  OH: number,
  OW: number,
  g: Conv2dGeometry,
  f: (n: number, row: number, p: number, xi: number) => void,
): void {
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let ki = 0; ki < g.kernelH; ki++)
        for (let kj = 0; kj < g.kernelW; kj++) {
          const row = (c * g.kernelH + ki) * g.kernelW + kj;
          for (let oh = 0; oh < OH; oh++) {
            const h = oh * g.strideH - g.padH + ki * g.dilationH;
            for (let ow = 0; ow < OW; ow++) {
              const w = ow * g.strideW - g.padW + kj * g.dilationW;
              const inside = h >= 0 && h < H && w >= 0 && w < W;
              f(n, row, oh * OW + ow, inside ? ((n * C + c) * H + h) * W + w : -1);
            }
          }
        }
}

function attnDense(args: AttentionArgs) {
  const [B, Hq, Tq, D] = args.q.shape;
  const Hkv = args.k.shape[1];
  const Tk = args.k.shape[2];
  const Dv = args.v.shape[3];
  const q = dense(args.q);
  const k = dense(args.k);
  const v = dense(args.v);
  const mask = args.mask ? dense(args.mask) : null;
  const group = Hq / Hkv;
  const kvBase = (bh: number) => Math.floor(bh / Hq) * Hkv + Math.floor((bh % Hq) / group);
  const scores = (bh: number, i: number): Float64Array => {
    const s = new Float64Array(Tk);
    const kb = kvBase(bh);
    for (let j = 0; j < Tk; j++) {
      if (args.causal && j > i + (Tk - Tq)) {
        s[j] = -Infinity;
        continue;
      }
      let dot = 0;
      for (let d = 0; d < D; d++) dot += q[(bh * Tq + i) * D + d] * k[(kb * Tk + j) * D + d];
      s[j] = dot * args.scale + (mask ? mask[(bh * Tq + i) * Tk + j] : 0);
    }
    return s;
  };
  return { B, Hq, Hkv, Tq, Tk, D, Dv, q, k, v, kvBase, scores };
}
