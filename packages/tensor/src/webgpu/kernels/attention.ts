/**
 * Fused scaled-dot-product attention (causal aligned to the end, additive mask, GQA, KV-cache
 * shaped q/k where Tk > Tq) with an online softmax, so the Tq×Tk score matrix never reaches
 * memory. Forward: one workgroup per query row walks the keys in blocks. Backward recomputes
 * the probabilities from the saved logsumexp: one kernel per query row for dq, one per key row
 * for dk and dv (summing over the query heads of its group), so no atomics are needed.
 * q, k, v and the mask are addressed through their 4-D strides; outputs are contiguous.
 */

import type { AttentionArgs, View } from "../../backend.js";
import type { GpuStorage, Runtime } from "../runtime.js";
import {
  bindings,
  entry,
  f32Bits,
  grid,
  halfTag,
  load,
  MATH,
  reducers,
  wgslType,
} from "../wgsl.js";

const WG = 64;
/** Largest head size: each invocation accumulates up to NA output dims. */
const NA = 8;
export const MAX_HEAD_DIM = WG * NA;

function view4(v: View | null): number[] {
  if (!v) return [0, 0, 0, 0, 0];
  return [v.offset, ...v.strides];
}

export function common(args: AttentionArgs): number[] {
  const [B, Hq, Tq, D] = args.q.shape;
  const Hkv = args.k.shape[1];
  const Tk = args.k.shape[2];
  const Dv = args.v.shape[3];
  if (D > MAX_HEAD_DIM || Dv > MAX_HEAD_DIM) {
    throw new Error(
      `webgpu attention: head size ${Math.max(D, Dv)} exceeds the kernel's limit ${MAX_HEAD_DIM}`,
    );
  }
  return [
    B,
    Hq,
    Hkv,
    Tq,
    Tk,
    D,
    Dv,
    args.causal ? 1 : 0,
    f32Bits(args.scale),
    args.mask ? 1 : 0,
    ...view4(args.q),
    ...view4(args.k),
    ...view4(args.v),
    ...view4(args.mask),
  ];
}

/** Shared WGSL: parameter names and the score of (query row of Q at qb / shared qs, key j). */
export const PRELUDE = /* wgsl */ `
fn qoff(b: u32, h: u32, i: u32) -> u32 { return P[10] + b * P[11] + h * P[12] + i * P[13]; }
fn koff(b: u32, h: u32, j: u32) -> u32 { return P[15] + b * P[16] + h * P[17] + j * P[18]; }
fn voff(b: u32, h: u32, j: u32) -> u32 { return P[20] + b * P[21] + h * P[22] + j * P[23]; }
fn moff(b: u32, h: u32, i: u32, j: u32) -> u32 {
  return P[25] + b * P[26] + h * P[27] + i * P[28] + j * P[29];
}
// Key j is visible from query i (causal alignment to the end).
fn visible(i: u32, j: u32) -> bool {
  return P[7] == 0u || j + P[3] <= i + P[4];
}
fn masked_score(dot: f32, b: u32, h: u32, i: u32, j: u32) -> f32 {
  var s = dot * pf(8u);
  if (P[9] != 0u) { s = s + M[moff(b, h, i, j)]; }
  return select(s, -f_inf(), s < -1e30);
}
`;

/**
 * What an attention backward reads and writes besides q, k, v: the forward's `out` and `lse`
 * (contiguous), the output gradient `dout` ([B, Hq, Tq, Dv], any strides but a contiguous last
 * axis: the gradient of merged heads arrives as a permuted view), `delta` (a contiguous
 * [B·Hq·Tq] scratch for Σ_d dout·out per row, see {@link attentionDelta}) and the contiguous
 * gradients dq, dk, dv.
 */
export interface AttentionGrads {
  out: View;
  lse: View;
  dout: View;
  delta: View;
  dq: View;
  dk: View;
  dv: View;
}

/**
 * The backward kernels' parameter words: {@link common}'s, then the offsets of out, lse, dout,
 * delta, dq, dk, dv (P[30..36]) and dout's batch, head and row strides (P[37..39]).
 */
export function backwardWords(args: AttentionArgs, g: AttentionGrads): number[] {
  return [
    ...common(args),
    ...[g.out, g.lse, g.dout, g.delta, g.dq, g.dk, g.dv].map((v) => v.offset),
    ...g.dout.strides.slice(0, 3),
  ];
}

/** WGSL: where dout's row `row` (of B·Hq·Tq, row-major) starts (see {@link backwardWords}). */
export const DOUT_ROW = /* wgsl */ `
fn goff(row: u32) -> u32 {
  let Tq = P[3];
  return P[32] + (row / (P[1] * Tq)) * P[37] + ((row / Tq) % P[1]) * P[38] + (row % Tq) * P[39];
}
`;

/** The input bindings: q, k, v (k and v may be f16 storage in the forward kernels), mask. */
export function bindingsIn(args: AttentionArgs) {
  return [
    { name: "Q", type: "f32", access: "r" as const },
    { name: "K", type: wgslType(args.k.storage.dtype), access: "r" as const },
    { name: "V", type: wgslType(args.v.storage.dtype), access: "r" as const },
    { name: "M", type: "f32", access: "r" as const },
  ];
}

/** Pipeline-key suffix naming f16 keys / values ("" for f32, so f32 keys are unchanged). */
export function kvTag(args: AttentionArgs): string {
  return halfTag(args.k.storage.dtype, args.v.storage.dtype);
}

export function inBuffers(args: AttentionArgs) {
  const mask = args.mask ?? args.q;
  return [args.q, args.k, args.v, mask].map((v) => ({
    buffer: (v.storage as GpuStorage).buffer,
    access: "r" as const,
  }));
}

export function buf(v: View, access: "r" | "rw") {
  return { buffer: (v.storage as GpuStorage).buffer, access };
}

export function attention(rt: Runtime, args: AttentionArgs, out: View, lse: View): void {
  const [B, Hq, Tq] = args.q.shape;
  const rows = B * Hq * Tq;
  if (rows === 0) return;
  rt.dispatch({
    key: `attention:fwd${kvTag(args)}`,
    wgsl: () => `${bindings([
      ...bindingsIn(args),
      { name: "O", type: "f32", access: "rw" },
      { name: "L", type: "f32", access: "rw" },
    ])}
${MATH}
${reducers(WG)}
${PRELUDE}
var<workgroup> qs: array<f32, ${MAX_HEAD_DIM}>;
var<workgroup> ps: array<f32, ${WG}>;
${entry(WG)}
  let Hq = P[1]; let Tq = P[3]; let Tk = P[4]; let D = P[5]; let Dv = P[6];
  let row = group;
  if (row >= P[0] * Hq * Tq) { return; }
  let i = row % Tq;
  let bh = row / Tq;
  let b = bh / Hq;
  let h = bh % Hq;
  let kh = h / (Hq / P[2]);
  for (var d = lid; d < D; d = d + ${WG}u) { qs[d] = Q[qoff(b, h, i) + d * P[14]]; }
  workgroupBarrier();
  var limit = Tk;
  if (P[7] != 0u) { limit = min(Tk, max(i + Tk + 1u, Tq) - Tq); }
  var m = -f_inf();
  var l = 0.0;
  var acc: array<f32, ${NA}>;
  for (var j0 = 0u; j0 < limit; j0 = j0 + ${WG}u) {
    let j = j0 + lid;
    var s = -f_inf();
    if (j < limit) {
      var dot = 0.0;
      let ko = koff(b, kh, j);
      for (var d = 0u; d < D; d = d + 1u) {
        dot = fma(qs[d], ${load("K", args.k.storage.dtype, "ko + d * P[19]")}, dot);
      }
      s = masked_score(dot, b, h, i, j);
    }
    let mnew = max(m, wg_max(s, lid));
    let p = select(exp(s - mnew), 0.0, s == -f_inf());
    let corr = select(exp(m - mnew), 0.0, m == -f_inf());
    ps[lid] = p;
    l = l * corr + wg_sum(p, lid);
    let nj = min(${WG}u, limit - j0);
    for (var t = 0u; t < ${NA}u; t = t + 1u) {
      let d = lid + t * ${WG}u;
      if (d < Dv) {
        var a = acc[t] * corr;
        for (var jj = 0u; jj < nj; jj = jj + 1u) {
          a = fma(ps[jj], ${load("V", args.v.storage.dtype, "voff(b, kh, j0 + jj) + d * P[24]")}, a);
        }
        acc[t] = a;
      }
    }
    m = mnew;
    workgroupBarrier();
  }
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var t = 0u; t < ${NA}u; t = t + 1u) {
    let d = lid + t * ${WG}u;
    if (d < Dv) { O[P[30] + row * Dv + d] = acc[t] * inv; }
  }
  if (lid == 0u) { L[P[31] + row] = select(-f_inf(), m + log(l), l > 0.0); }
}`,
    buffers: [...inBuffers(args), buf(out, "rw"), buf(lse, "rw")],
    params: [...common(args), out.offset, lse.offset],
    groups: grid(rows),
  });
}

/**
 * Backward with the row kernels (see {@link AttentionGrads}; `delta` already holds
 * {@link attentionDelta}'s sums).
 */
export function attentionBackward(rt: Runtime, args: AttentionArgs, g: AttentionGrads): void {
  const [B, Hq, Tq] = args.q.shape;
  const Hkv = args.k.shape[1];
  const Tk = args.k.shape[2];
  const rows = B * Hq * Tq;
  const params = backwardWords(args, g);
  const outs = `${bindings([
    ...bindingsIn(args),
    { name: "L", type: "f32", access: "r" },
    { name: "G", type: "f32", access: "r" },
    { name: "DL", type: "f32", access: "r" },
    { name: "R", type: "f32", access: "rw" },
  ])}
${MATH}
${reducers(WG)}
${PRELUDE}
${DOUT_ROW}
fn lse_of(row: u32) -> f32 { return L[P[31] + row]; }
fn delta_of(row: u32) -> f32 { return DL[P[33] + row]; }
`;
  const inputs = [buf(g.lse, "r"), buf(g.dout, "r"), buf(g.delta, "r")];
  // dq: one workgroup per query row.
  rt.dispatch({
    key: "attention:dq",
    wgsl: () => `${outs}
var<workgroup> qs: array<f32, ${MAX_HEAD_DIM}>;
var<workgroup> gs: array<f32, ${MAX_HEAD_DIM}>;
var<workgroup> ps: array<f32, ${WG}>;
${entry(WG)}
  let Hq = P[1]; let Tq = P[3]; let Tk = P[4]; let D = P[5]; let Dv = P[6];
  let row = group;
  if (row >= P[0] * Hq * Tq) { return; }
  let i = row % Tq;
  let bh = row / Tq;
  let b = bh / Hq;
  let h = bh % Hq;
  let kh = h / (Hq / P[2]);
  for (var d = lid; d < D; d = d + ${WG}u) { qs[d] = Q[qoff(b, h, i) + d * P[14]]; }
  for (var d = lid; d < Dv; d = d + ${WG}u) { gs[d] = G[goff(row) + d]; }
  workgroupBarrier();
  let z = lse_of(row);
  let dl = delta_of(row);
  var limit = Tk;
  if (P[7] != 0u) { limit = min(Tk, max(i + Tk + 1u, Tq) - Tq); }
  var acc: array<f32, ${NA}>;
  for (var j0 = 0u; j0 < limit; j0 = j0 + ${WG}u) {
    let j = j0 + lid;
    var ds = 0.0;
    if (j < limit && z > -f_inf()) {
      var dot = 0.0;
      let ko = koff(b, kh, j);
      for (var d = 0u; d < D; d = d + 1u) { dot = fma(qs[d], K[ko + d * P[19]], dot); }
      let s = masked_score(dot, b, h, i, j);
      let p = select(exp(s - z), 0.0, s == -f_inf());
      var dp = 0.0;
      let vo = voff(b, kh, j);
      for (var d = 0u; d < Dv; d = d + 1u) { dp = fma(gs[d], V[vo + d * P[24]], dp); }
      ds = p * (dp - dl) * pf(8u);
    }
    ps[lid] = ds;
    workgroupBarrier();
    let nj = min(${WG}u, limit - j0);
    for (var t = 0u; t < ${NA}u; t = t + 1u) {
      let d = lid + t * ${WG}u;
      if (d < D) {
        var a = acc[t];
        for (var jj = 0u; jj < nj; jj = jj + 1u) {
          a = fma(ps[jj], K[koff(b, kh, j0 + jj) + d * P[19]], a);
        }
        acc[t] = a;
      }
    }
    workgroupBarrier();
  }
  for (var t = 0u; t < ${NA}u; t = t + 1u) {
    let d = lid + t * ${WG}u;
    if (d < D) { R[P[34] + row * D + d] = acc[t]; }
  }
}`,
    buffers: [...inBuffers(args), ...inputs, buf(g.dq, "rw")],
    params,
    groups: grid(rows),
  });
  // dk, dv: one workgroup per key row, over every query row of every head in its group.
  const kvRows = B * Hkv * Tk;
  for (const which of ["dk", "dv"] as const) {
    const target = which === "dk" ? g.dk : g.dv;
    rt.dispatch({
      key: `attention:${which}`,
      wgsl: () => `${outs}
var<workgroup> ks: array<f32, ${MAX_HEAD_DIM}>;
var<workgroup> vs: array<f32, ${MAX_HEAD_DIM}>;
var<workgroup> ps: array<f32, ${WG}>;
${entry(WG)}
  let Hq = P[1]; let Hkv = P[2]; let Tq = P[3]; let Tk = P[4]; let D = P[5]; let Dv = P[6];
  let krow = group;
  if (krow >= P[0] * Hkv * Tk) { return; }
  let j = krow % Tk;
  let bk = krow / Tk;
  let b = bk / Hkv;
  let kh = bk % Hkv;
  let grp = Hq / Hkv;
  for (var d = lid; d < D; d = d + ${WG}u) { ks[d] = K[koff(b, kh, j) + d * P[19]]; }
  for (var d = lid; d < Dv; d = d + ${WG}u) { vs[d] = V[voff(b, kh, j) + d * P[24]]; }
  workgroupBarrier();
  // First query row that sees key j (causal): i + Tk >= j + Tq.
  var first = 0u;
  if (P[7] != 0u && j + Tq > Tk) { first = j + Tq - Tk; }
  let OUTD = ${which === "dk" ? "D" : "Dv"};
  var acc: array<f32, ${NA}>;
  for (var h = kh * grp; h < kh * grp + grp; h = h + 1u) {
    for (var i0 = first; i0 < Tq; i0 = i0 + ${WG}u) {
      let i = i0 + lid;
      var w = 0.0;
      if (i < Tq) {
        let row = (b * Hq + h) * Tq + i;
        let z = lse_of(row);
        if (z > -f_inf()) {
          var dot = 0.0;
          let qo = qoff(b, h, i);
          for (var d = 0u; d < D; d = d + 1u) { dot = fma(Q[qo + d * P[14]], ks[d], dot); }
          let s = masked_score(dot, b, h, i, j);
          let p = select(exp(s - z), 0.0, s == -f_inf());
          ${
            which === "dv"
              ? "w = p;"
              : `var dp = 0.0;
          let go = goff(row);
          for (var d = 0u; d < Dv; d = d + 1u) { dp = fma(G[go + d], vs[d], dp); }
          w = p * (dp - delta_of(row)) * pf(8u);`
          }
        }
      }
      ps[lid] = w;
      workgroupBarrier();
      let ni = min(${WG}u, Tq - i0);
      for (var t = 0u; t < ${NA}u; t = t + 1u) {
        let d = lid + t * ${WG}u;
        if (d < OUTD) {
          var a = acc[t];
          for (var ii = 0u; ii < ni; ii = ii + 1u) {
            let row = (b * Hq + h) * Tq + i0 + ii;
            ${which === "dv" ? "a = fma(ps[ii], G[goff(row) + d], a);" : "a = fma(ps[ii], Q[qoff(b, h, i0 + ii) + d * P[14]], a);"}
          }
          acc[t] = a;
        }
      }
      workgroupBarrier();
    }
  }
  for (var t = 0u; t < ${NA}u; t = t + 1u) {
    let d = lid + t * ${WG}u;
    if (d < OUTD) { R[P[${which === "dk" ? 35 : 36}] + krow * OUTD + d] = acc[t]; }
  }
}`,
      buffers: [...inBuffers(args), ...inputs, buf(target, "rw")],
      params,
      groups: grid(kvRows),
    });
  }
}

/**
 * delta[row] = Σ_d dout·out (the softmax-backward term every attention backward needs), one
 * invocation per row; the parameters are the backward kernels' ({@link backwardWords}).
 */
export function attentionDelta(rt: Runtime, args: AttentionArgs, g: AttentionGrads): void {
  const [B, Hq, Tq] = args.q.shape;
  const rows = B * Hq * Tq;
  rt.dispatch({
    key: "attention:delta",
    wgsl: () => `${bindings([
      { name: "O", type: "f32", access: "r" },
      { name: "G", type: "f32", access: "r" },
      { name: "DL", type: "f32", access: "rw" },
    ])}
${DOUT_ROW}
${entry(256)}
  if (gi >= P[0] * P[1] * P[3]) { return; }
  let Dv = P[6];
  let go = goff(gi);
  var s = 0.0;
  for (var d = 0u; d < Dv; d = d + 1u) { s = fma(O[P[30] + gi * Dv + d], G[go + d], s); }
  DL[P[33] + gi] = s;
}`,
    buffers: [buf(g.out, "r"), buf(g.dout, "r"), buf(g.delta, "rw")],
    params: backwardWords(args, g),
    groups: grid(Math.ceil(rows / 256)),
  });
}
