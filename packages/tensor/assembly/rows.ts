// Row-wise kernels over the last axis of contiguous [rows, D] buffers: softmax / log-softmax,
// cross-entropy, layer norm, RMS norm (forward and backward), and the fused optimizer updates.
// Each takes a row range [r0, r1) so threads can split the rows.

import { exp4 } from "./vmath";

function row(p: usize, r: i32, d: i32): usize {
  return p + ((<usize>r * <usize>d) << 2);
}

function rowMax(x: usize, d: i32): f32 {
  let m: f32 = -Infinity;
  let i = 0;
  if (d >= 4) {
    let v = v128.load(x);
    for (i = 4; i + 4 <= d; i += 4) v = f32x4.max(v, v128.load(x + ((<usize>i) << 2)));
    m = max(
      max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)),
      max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)),
    );
  }
  for (; i < d; i++) m = max(m, load<f32>(x + ((<usize>i) << 2)));
  return m;
}

function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

// Σ exp(x − m), and (when out ≠ 0) out = exp(x − m).
function sumExp(x: usize, d: i32, m: f32, out: usize): f32 {
  const mv = f32x4.splat(m);
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= d; i += 4) {
    const e = exp4(f32x4.sub(v128.load(x + ((<usize>i) << 2)), mv));
    if (out) v128.store(out + ((<usize>i) << 2), e);
    acc = f32x4.add(acc, e);
  }
  let s = hsum(acc);
  for (; i < d; i++) {
    const e = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(x + ((<usize>i) << 2)) - m)), 0);
    if (out) store<f32>(out + ((<usize>i) << 2), e);
    s += e;
  }
  return s;
}

function scaleRow(p: usize, d: i32, k: f32): void {
  const kv = f32x4.splat(k);
  let i = 0;
  for (; i + 4 <= d; i += 4)
    v128.store(p + ((<usize>i) << 2), f32x4.mul(v128.load(p + ((<usize>i) << 2)), kv));
  for (; i < d; i++) store<f32>(p + ((<usize>i) << 2), load<f32>(p + ((<usize>i) << 2)) * k);
}

function addRow(src: usize, dst: usize, d: i32, k: f32): void {
  const kv = f32x4.splat(k);
  let i = 0;
  for (; i + 4 <= d; i += 4)
    v128.store(dst + ((<usize>i) << 2), f32x4.add(v128.load(src + ((<usize>i) << 2)), kv));
  for (; i < d; i++) store<f32>(dst + ((<usize>i) << 2), load<f32>(src + ((<usize>i) << 2)) + k);
}

/** Softmax (log = false) or log-softmax (log = true) of each row. */
export function softmaxRows(x: usize, out: usize, d: i32, r0: i32, r1: i32, log: bool): void {
  for (let r = r0; r < r1; r++) {
    const xr = row(x, r, d);
    const or = row(out, r, d);
    const m = rowMax(xr, d);
    if (log) {
      const s = sumExp(xr, d, m, 0);
      addRow(xr, or, d, -(m + Mathf.log(s)));
    } else {
      const s = sumExp(xr, d, m, or);
      scaleRow(or, d, 1 / s);
    }
  }
}

/** softmax: dx = y (dy − Σ dy y); log-softmax: dx = dy − exp(y) Σ dy. */
export function softmaxBackwardRows(
  y: usize,
  dy: usize,
  dx: usize,
  d: i32,
  r0: i32,
  r1: i32,
  log: bool,
): void {
  for (let r = r0; r < r1; r++) {
    const yr = row(y, r, d);
    const gr = row(dy, r, d);
    const xr = row(dx, r, d);
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= d; i += 4) {
      const g = v128.load(gr + ((<usize>i) << 2));
      acc = f32x4.add(acc, log ? g : f32x4.mul(g, v128.load(yr + ((<usize>i) << 2))));
    }
    let s = hsum(acc);
    for (let j = i; j < d; j++) {
      const g = load<f32>(gr + ((<usize>j) << 2));
      s += log ? g : g * load<f32>(yr + ((<usize>j) << 2));
    }
    const sv = f32x4.splat(s);
    for (i = 0; i + 4 <= d; i += 4) {
      const g = v128.load(gr + ((<usize>i) << 2));
      const yv = v128.load(yr + ((<usize>i) << 2));
      const v = log ? f32x4.sub(g, f32x4.mul(exp4(yv), sv)) : f32x4.mul(yv, f32x4.sub(g, sv));
      v128.store(xr + ((<usize>i) << 2), v);
    }
    for (; i < d; i++) {
      const g = load<f32>(gr + ((<usize>i) << 2));
      const yv = load<f32>(yr + ((<usize>i) << 2));
      const e = f32x4.extract_lane(exp4(f32x4.splat(yv)), 0);
      store<f32>(xr + ((<usize>i) << 2), log ? g - e * s : yv * (g - s));
    }
  }
}

/** Cross-entropy per row: losses[r] = lse − logits[r, t]; lse[r] = logsumexp(row). */
export function crossEntropyRows(
  logits: usize,
  targets: usize,
  ignore: i32,
  losses: usize,
  lse: usize,
  c: i32,
  r0: i32,
  r1: i32,
): void {
  for (let r = r0; r < r1; r++) {
    const xr = row(logits, r, c);
    const m = rowMax(xr, c);
    const l = m + Mathf.log(sumExp(xr, c, m, 0));
    store<f32>(lse + ((<usize>r) << 2), l);
    const t = load<i32>(targets + ((<usize>r) << 2));
    store<f32>(
      losses + ((<usize>r) << 2),
      t === ignore ? 0 : l - load<f32>(xr + ((<usize>t) << 2)),
    );
  }
}

/** dlogits[r, j] = dloss[r] (exp(logits[r, j] − lse[r]) − [j = t_r]); 0 for ignored rows. */
export function crossEntropyBackwardRows(
  logits: usize,
  targets: usize,
  lse: usize,
  dloss: usize,
  ignore: i32,
  dlogits: usize,
  c: i32,
  r0: i32,
  r1: i32,
): void {
  for (let r = r0; r < r1; r++) {
    const out = row(dlogits, r, c);
    const t = load<i32>(targets + ((<usize>r) << 2));
    if (t === ignore) {
      memory.fill(out, 0, (<usize>c) << 2);
      continue;
    }
    const g = load<f32>(dloss + ((<usize>r) << 2));
    const l = load<f32>(lse + ((<usize>r) << 2));
    sumExp(row(logits, r, c), c, l, out);
    scaleRow(out, c, g);
    store<f32>(out + ((<usize>t) << 2), load<f32>(out + ((<usize>t) << 2)) - g);
  }
}

/**
 * LayerNorm (rms = false) or RMSNorm (rms = true) of each row: out = x̂ · w + b with
 * x̂ = (x − mean) · rstd (LayerNorm) or x · rstd (RMSNorm). w, b, mean may be 0 (absent).
 */
export function normRows(
  x: usize,
  w: usize,
  b: usize,
  eps: f32,
  out: usize,
  mean: usize,
  rstd: usize,
  d: i32,
  r0: i32,
  r1: i32,
  rms: bool,
): void {
  for (let r = r0; r < r1; r++) {
    const xr = row(x, r, d);
    const or = row(out, r, d);
    let mu: f32 = 0;
    if (!rms) {
      let acc = f32x4.splat(0);
      let i = 0;
      for (; i + 4 <= d; i += 4) acc = f32x4.add(acc, v128.load(xr + ((<usize>i) << 2)));
      let s = hsum(acc);
      for (; i < d; i++) s += load<f32>(xr + ((<usize>i) << 2));
      mu = s / <f32>d;
    }
    const muv = f32x4.splat(mu);
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= d; i += 4) {
      const c = f32x4.sub(v128.load(xr + ((<usize>i) << 2)), muv);
      acc = f32x4.add(acc, f32x4.mul(c, c));
    }
    let ss = hsum(acc);
    for (; i < d; i++) {
      const c = load<f32>(xr + ((<usize>i) << 2)) - mu;
      ss += c * c;
    }
    const rs: f32 = 1 / Mathf.sqrt(ss / <f32>d + eps);
    if (mean) store<f32>(mean + ((<usize>r) << 2), mu);
    store<f32>(rstd + ((<usize>r) << 2), rs);
    const rv = f32x4.splat(rs);
    for (i = 0; i + 4 <= d; i += 4) {
      const off = (<usize>i) << 2;
      let v = f32x4.mul(f32x4.sub(v128.load(xr + off), muv), rv);
      if (w) v = f32x4.mul(v, v128.load(w + off));
      if (b) v = f32x4.add(v, v128.load(b + off));
      v128.store(or + off, v);
    }
    for (; i < d; i++) {
      const off = (<usize>i) << 2;
      let v = (load<f32>(xr + off) - mu) * rs;
      if (w) v *= load<f32>(w + off);
      if (b) v += load<f32>(b + off);
      store<f32>(or + off, v);
    }
  }
}

/**
 * Backward of normRows: dx = rstd (g − mean(g) − x̂ mean(g x̂)) for LayerNorm, rstd (g − x̂
 * mean(g x̂)) for RMSNorm, with g = dy · w. dw += Σ_r dy x̂ and db += Σ_r dy (when non-zero),
 * accumulated into the given buffers (each thread passes its own).
 */
export function normBackwardRows(
  x: usize,
  w: usize,
  mean: usize,
  rstd: usize,
  dy: usize,
  dx: usize,
  dw: usize,
  db: usize,
  d: i32,
  r0: i32,
  r1: i32,
  rms: bool,
): void {
  const inv: f32 = 1 / <f32>d;
  for (let r = r0; r < r1; r++) {
    const xr = row(x, r, d);
    const gr = row(dy, r, d);
    const dr = row(dx, r, d);
    const mu: f32 = rms ? 0 : load<f32>(mean + ((<usize>r) << 2));
    const rs = load<f32>(rstd + ((<usize>r) << 2));
    const muv = f32x4.splat(mu);
    const rv = f32x4.splat(rs);
    let sg = f32x4.splat(0);
    let sgx = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= d; i += 4) {
      const off = (<usize>i) << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + off), muv), rv);
      const dyv = v128.load(gr + off);
      const g = w ? f32x4.mul(dyv, v128.load(w + off)) : dyv;
      sg = f32x4.add(sg, g);
      sgx = f32x4.add(sgx, f32x4.mul(g, xh));
      if (dw) v128.store(dw + off, f32x4.add(v128.load(dw + off), f32x4.mul(dyv, xh)));
      if (db) v128.store(db + off, f32x4.add(v128.load(db + off), dyv));
    }
    let s1 = hsum(sg);
    let s2 = hsum(sgx);
    for (let j = i; j < d; j++) {
      const off = (<usize>j) << 2;
      const xh = (load<f32>(xr + off) - mu) * rs;
      const dyv = load<f32>(gr + off);
      const g = w ? dyv * load<f32>(w + off) : dyv;
      s1 += g;
      s2 += g * xh;
      if (dw) store<f32>(dw + off, load<f32>(dw + off) + dyv * xh);
      if (db) store<f32>(db + off, load<f32>(db + off) + dyv);
    }
    const mg: f32 = rms ? 0 : s1 * inv;
    const mgx = s2 * inv;
    const mgv = f32x4.splat(mg);
    const mgxv = f32x4.splat(mgx);
    for (i = 0; i + 4 <= d; i += 4) {
      const off = (<usize>i) << 2;
      const xh = f32x4.mul(f32x4.sub(v128.load(xr + off), muv), rv);
      const dyv = v128.load(gr + off);
      const g = w ? f32x4.mul(dyv, v128.load(w + off)) : dyv;
      v128.store(dr + off, f32x4.mul(rv, f32x4.sub(f32x4.sub(g, mgv), f32x4.mul(xh, mgxv))));
    }
    for (; i < d; i++) {
      const off = (<usize>i) << 2;
      const xh = (load<f32>(xr + off) - mu) * rs;
      const dyv = load<f32>(gr + off);
      const g = w ? dyv * load<f32>(w + off) : dyv;
      store<f32>(dr + off, rs * (g - mg - xh * mgx));
    }
  }
}

/** Adds n floats of src into dst (summing per-thread partial gradients). */
export function addInto(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const off = (<usize>i) << 2;
    v128.store(dst + off, f32x4.add(v128.load(dst + off), v128.load(src + off)));
  }
  for (; i < n; i++) {
    const off = (<usize>i) << 2;
    store<f32>(dst + off, load<f32>(dst + off) + load<f32>(src + off));
  }
}

/** One AdamW step over elements [i0, i1) (torch.optim.AdamW). bc1 = 1 − β1^t, bc2 = 1 − β2^t. */
export function adamw(
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  i0: i32,
  i1: i32,
  lr: f32,
  b1: f32,
  b2: f32,
  eps: f32,
  wd: f32,
  bc1: f32,
  bc2: f32,
): void {
  const decay = f32x4.splat(1 - lr * wd);
  const b1v = f32x4.splat(b1);
  const b2v = f32x4.splat(b2);
  const c1 = f32x4.splat(1 - b1);
  const c2 = f32x4.splat(1 - b2);
  const stepv = f32x4.splat(lr / bc1);
  const ibc2 = f32x4.splat(1 / bc2);
  const epsv = f32x4.splat(eps);
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const off = (<usize>i) << 2;
    const gv = v128.load(g + off);
    const mv = f32x4.add(f32x4.mul(b1v, v128.load(m + off)), f32x4.mul(c1, gv));
    const vv = f32x4.add(f32x4.mul(b2v, v128.load(v + off)), f32x4.mul(c2, f32x4.mul(gv, gv)));
    v128.store(m + off, mv);
    v128.store(v + off, vv);
    const denom = f32x4.add(f32x4.sqrt(f32x4.mul(vv, ibc2)), epsv);
    const pv = f32x4.mul(v128.load(p + off), decay);
    v128.store(p + off, f32x4.sub(pv, f32x4.div(f32x4.mul(stepv, mv), denom)));
  }
  for (; i < i1; i++) {
    const off = (<usize>i) << 2;
    const gv = load<f32>(g + off);
    const mv = b1 * load<f32>(m + off) + (1 - b1) * gv;
    const vv = b2 * load<f32>(v + off) + (1 - b2) * gv * gv;
    store<f32>(m + off, mv);
    store<f32>(v + off, vv);
    const denom = Mathf.sqrt(vv / bc2) + eps;
    store<f32>(p + off, load<f32>(p + off) * (1 - lr * wd) - ((lr / bc1) * mv) / denom);
  }
}

/** One SGD step over elements [i0, i1) (torch.optim.SGD). buf may be 0 when momentum = 0. */
export function sgd(
  p: usize,
  g: usize,
  buf: usize,
  i0: i32,
  i1: i32,
  lr: f32,
  momentum: f32,
  dampening: f32,
  wd: f32,
  nesterov: bool,
  first: bool,
): void {
  for (let i = i0; i < i1; i++) {
    const off = (<usize>i) << 2;
    const pv = load<f32>(p + off);
    let d = load<f32>(g + off) + wd * pv;
    if (momentum !== 0) {
      const b = first ? d : momentum * load<f32>(buf + off) + (1 - dampening) * d;
      store<f32>(buf + off, b);
      d = nesterov ? d + momentum * b : b;
    }
    store<f32>(p + off, pv - lr * d);
  }
}

/**
 * Gather: out[o, l, :] = x[o, ids[l], :] for o in [o0, o1), x [outer, n, inner], out
 * [outer, L, inner], ids i32 [L] (bounds checked by the caller). 4-byte elements of any type.
 */
export function indexSelectRows(
  x: usize,
  ids: usize,
  out: usize,
  n: i32,
  len: i32,
  inner: i32,
  o0: i32,
  o1: i32,
): void {
  const bytes = (<usize>inner) << 2;
  for (let o = o0; o < o1; o++) {
    for (let l = 0; l < len; l++) {
      const id = load<i32>(ids + ((<usize>l) << 2));
      memory.copy(out + <usize>(o * len + l) * bytes, x + <usize>(o * n + id) * bytes, bytes);
    }
  }
}

/**
 * Scatter-add: out[o, ids[l], :] += src[o, l, :] for o in [o0, o1) (f32 or, with isInt, i32).
 * Duplicate ids add up; threads split o, so no two write the same row.
 */
export function indexAddRows(
  src: usize,
  ids: usize,
  out: usize,
  n: i32,
  len: i32,
  inner: i32,
  o0: i32,
  o1: i32,
  isInt: bool,
): void {
  for (let o = o0; o < o1; o++) {
    for (let l = 0; l < len; l++) {
      const id = load<i32>(ids + ((<usize>l) << 2));
      const d = out + ((<usize>(o * n + id) * <usize>inner) << 2);
      const s = src + ((<usize>(o * len + l) * <usize>inner) << 2);
      if (isInt) {
        for (let i = 0; i < inner; i++) {
          const p = d + ((<usize>i) << 2);
          store<i32>(p, load<i32>(p) + load<i32>(s + ((<usize>i) << 2)));
        }
      } else {
        addInto(d, s, inner);
      }
    }
  }
}
