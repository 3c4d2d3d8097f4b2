/**
 * Tiled ("flash") attention for head sizes up to 128: a workgroup takes a block of 64 query
 * rows (forward, dq) or 64 key rows (dk + dv) of one head; four invocations share each row, each
 * keeping its own online-softmax state / partial gradients in registers for every fourth key
 * (query) of a block, merged through workgroup memory at the end. The other side's rows stream
 * through workgroup memory in blocks read as broadcasts, so K and V are read from global memory
 * once per query block instead of once per query row. Same semantics and parameters as
 * attention.ts (which remains the path for wider heads).
 */

import type { AttentionArgs, View } from "../../backend.js";
import type { Runtime } from "../runtime.js";
import { bindings, grid, MATH } from "../wgsl.js";
import { BINDINGS_IN, buf, common, inBuffers, PRELUDE } from "./attention.js";

const ROWS = 64;
/** Invocations per row: each takes every LANES-th key (or query) of a block; merged at the end. */
const LANES = 4;
const THREADS = ROWS * LANES;
/** Widest head the tiled kernels take. */
export const FLASH_MAX_HEAD = 128;

function width(args: AttentionArgs): number {
  const D = Math.max(args.q.shape[3], args.v.shape[3]);
  return D <= 32 ? 32 : D <= 64 ? 64 : 128;
}

function dims(args: AttentionArgs): [number, number] {
  return [args.q.shape[3], args.v.shape[3]];
}

/** Rows of the streamed side per block, so two blocks of `w` floats fit in 16 KiB. */
const block = (w: number) => 2048 / w;

/** Head sizes are compile-time constants here, so the row loops unroll into registers. */
const HEADER = (extra: string, D: number, Dv: number) => `
  let Hq = P[1]; let Hkv = P[2]; let Tq = P[3]; let Tk = P[4];
  const D = ${D}u; const Dv = ${Dv}u;
  let g = wid.x + wid.y * nwg.x;
  let r = lid % ${ROWS}u;
  let lane = lid / ${ROWS}u;
  ${extra}`;

/**
 * Sums each lane's \`acc\` (n values, scaled by \`f\`) through the workgroup buffer \`buf\` (2048
 * floats), 8 values at a time; lane 0 then runs \`store\` with \`s\` = the sum of value \`c0 + dd\`.
 */
function mergeLanes(
  buf: string,
  acc: string,
  n: string,
  f: string,
  cond: string,
  store: string,
): string {
  return `
  for (var c0 = 0u; c0 < ${n}; c0 = c0 + 8u) {
    workgroupBarrier();
    for (var dd = 0u; dd < 8u; dd = dd + 1u) {
      if (c0 + dd < ${n}) { ${buf}[(lane * ${ROWS}u + r) * 8u + dd] = ${acc}[c0 + dd] * ${f}; }
    }
    workgroupBarrier();
    if (lane == 0u && ${cond}) {
      for (var dd = 0u; dd < 8u; dd = dd + 1u) {
        if (c0 + dd < ${n}) {
          var s = 0.0;
          for (var t = 0u; t < ${LANES}u; t = t + 1u) { s = s + ${buf}[(t * ${ROWS}u + r) * 8u + dd]; }
          ${store}
        }
      }
    }
  }`;
}

const ENTRY = `@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {`;

export function flashAttention(rt: Runtime, args: AttentionArgs, out: View, lse: View): void {
  const [B, Hq, Tq] = args.q.shape;
  const nqb = Math.ceil(Tq / ROWS);
  if (B * Hq * nqb === 0) return;
  const W = width(args);
  const BK = block(W);
  const [D, Dv] = dims(args);
  rt.dispatch({
    key: `flash:fwd:${D}:${Dv}`,
    wgsl: () => `${bindings([
      ...BINDINGS_IN,
      { name: "O", type: "f32", access: "rw" },
      { name: "L", type: "f32", access: "rw" },
    ])}
${MATH}
${PRELUDE}
var<workgroup> Ks: array<f32, ${BK * W}>;
var<workgroup> Vs: array<f32, ${BK * W}>;
${ENTRY}
${HEADER(
  `let nqb = (Tq + ${ROWS - 1}u) / ${ROWS}u;
  if (g >= P[0] * Hq * nqb) { return; }
  let qb = g % nqb; let bh = g / nqb; let b = bh / Hq; let h = bh % Hq; let kh = h / (Hq / Hkv);
  let i = qb * ${ROWS}u + r;
  let valid = i < Tq;`,
  D,
  Dv,
)}
  var q: array<f32, ${W}>;
  var acc: array<f32, ${W}>;
  if (valid) { for (var d = 0u; d < D; d = d + 1u) { q[d] = Q[qoff(b, h, i) + d * P[14]]; } }
  var kend = Tk;
  if (P[7] != 0u) { kend = min(Tk, max(min(qb * ${ROWS}u + ${ROWS}u, Tq) + Tk, Tq) - Tq); }
  var m = -f_inf();
  var l = 0.0;
  for (var j0 = 0u; j0 < kend; j0 = j0 + ${BK}u) {
    for (var e = lid; e < ${BK}u * D; e = e + ${THREADS}u) {
      let jj = e / D; let d = e % D; let j = j0 + jj;
      var x = 0.0;
      if (j < Tk) { x = K[koff(b, kh, j) + d * P[19]]; }
      Ks[jj * ${W}u + d] = x;
    }
    for (var e = lid; e < ${BK}u * Dv; e = e + ${THREADS}u) {
      let jj = e / Dv; let d = e % Dv; let j = j0 + jj;
      var x = 0.0;
      if (j < Tk) { x = V[voff(b, kh, j) + d * P[24]]; }
      Vs[jj * ${W}u + d] = x;
    }
    workgroupBarrier();
    if (valid) {
      let nj = min(${BK}u, kend - j0);
      for (var jj = lane; jj < nj; jj = jj + ${LANES}u) {
        let j = j0 + jj;
        if (!visible(i, j)) { continue; }
        var dot = 0.0;
        for (var d = 0u; d < D; d = d + 1u) { dot = fma(q[d], Ks[jj * ${W}u + d], dot); }
        let s = masked_score(dot, b, h, i, j);
        if (s == -f_inf()) { continue; }
        if (s > m) {
          let corr = select(exp(m - s), 0.0, m == -f_inf());
          l = l * corr;
          for (var d = 0u; d < Dv; d = d + 1u) { acc[d] = acc[d] * corr; }
          m = s;
        }
        let p = exp(s - m);
        l = l + p;
        for (var d = 0u; d < Dv; d = d + 1u) { acc[d] = fma(p, Vs[jj * ${W}u + d], acc[d]); }
      }
    }
    workgroupBarrier();
  }
  // merge the lanes: softmax statistics first, then the rescaled accumulators
  let row = bh * Tq + i;
  workgroupBarrier();
  Ks[lane * ${ROWS}u + r] = m;
  Ks[${THREADS}u + lane * ${ROWS}u + r] = l;
  workgroupBarrier();
  var mt = -f_inf();
  for (var t = 0u; t < ${LANES}u; t = t + 1u) { mt = max(mt, Ks[t * ${ROWS}u + r]); }
  var lt = 0.0;
  for (var t = 0u; t < ${LANES}u; t = t + 1u) {
    let mm = Ks[t * ${ROWS}u + r];
    lt = lt + select(Ks[${THREADS}u + t * ${ROWS}u + r] * exp(mm - mt), 0.0, mm == -f_inf());
  }
  let f = select(exp(m - mt), 0.0, m == -f_inf());
  let inv = select(0.0, 1.0 / lt, lt > 0.0);
  ${mergeLanes("Ks", "acc", "Dv", "f", "valid", "O[P[30] + row * Dv + c0 + dd] = s * inv;")}
  if (lane == 0u && valid) { L[P[31] + row] = select(-f_inf(), mt + log(lt), lt > 0.0); }
}`,
    buffers: [...inBuffers(args), buf(out, "rw"), buf(lse, "rw")],
    params: [...common(args), out.offset, lse.offset],
    groups: grid(B * Hq * nqb),
  });
}

/**
 * dq (per query block) and dk + dv (per key block). `delta` = Σ dout·out per row, computed
 * by the caller; `out`, `dout`, `lse` contiguous.
 */
export function flashAttentionBackward(
  rt: Runtime,
  args: AttentionArgs,
  out: View,
  lse: View,
  dout: View,
  delta: View,
  dq: View,
  dk: View,
  dv: View,
): void {
  const [B, Hq, Tq] = args.q.shape;
  const Hkv = args.k.shape[1];
  const Tk = args.k.shape[2];
  const W = width(args);
  const BK = block(W);
  const [D, Dv] = dims(args);
  const params = [
    ...common(args),
    out.offset,
    lse.offset,
    dout.offset,
    delta.offset,
    dq.offset,
    dk.offset,
    dv.offset,
  ];
  const decl = (outs: { name: string }[]) => `${bindings([
    ...BINDINGS_IN,
    { name: "L", type: "f32", access: "r" },
    { name: "G", type: "f32", access: "r" },
    { name: "DL", type: "f32", access: "r" },
    ...outs.map((o) => ({ name: o.name, type: "f32", access: "rw" as const })),
  ])}
${MATH}
${PRELUDE}
fn goff(row: u32) -> u32 { return P[32] + row * P[6]; }
`;
  const inputs = [buf(lse, "r"), buf(dout, "r"), buf(delta, "r")];
  const nqb = Math.ceil(Tq / ROWS);
  rt.dispatch({
    key: `flash:dq:${D}:${Dv}`,
    wgsl: () => `${decl([{ name: "R" }])}
var<workgroup> Ks: array<f32, ${BK * W}>;
var<workgroup> Vs: array<f32, ${BK * W}>;
${ENTRY}
${HEADER(
  `let nqb = (Tq + ${ROWS - 1}u) / ${ROWS}u;
  if (g >= P[0] * Hq * nqb) { return; }
  let qb = g % nqb; let bh = g / nqb; let b = bh / Hq; let h = bh % Hq; let kh = h / (Hq / Hkv);
  let i = qb * ${ROWS}u + r;
  let row = bh * Tq + i;
  var z = -f_inf();
  var dl = 0.0;
  if (i < Tq) { z = L[P[31] + row]; dl = DL[P[33] + row]; }
  let valid = i < Tq && z > -f_inf();`,
  D,
  Dv,
)}
  var q: array<f32, ${W}>;
  var go: array<f32, ${W}>;
  var acc: array<f32, ${W}>;
  if (valid) {
    for (var d = 0u; d < D; d = d + 1u) { q[d] = Q[qoff(b, h, i) + d * P[14]]; }
    for (var d = 0u; d < Dv; d = d + 1u) { go[d] = G[goff(row) + d]; }
  }
  var kend = Tk;
  if (P[7] != 0u) { kend = min(Tk, max(min(qb * ${ROWS}u + ${ROWS}u, Tq) + Tk, Tq) - Tq); }
  for (var j0 = 0u; j0 < kend; j0 = j0 + ${BK}u) {
    for (var e = lid; e < ${BK}u * D; e = e + ${THREADS}u) {
      let jj = e / D; let d = e % D; let j = j0 + jj;
      var x = 0.0;
      if (j < Tk) { x = K[koff(b, kh, j) + d * P[19]]; }
      Ks[jj * ${W}u + d] = x;
    }
    for (var e = lid; e < ${BK}u * Dv; e = e + ${THREADS}u) {
      let jj = e / Dv; let d = e % Dv; let j = j0 + jj;
      var x = 0.0;
      if (j < Tk) { x = V[voff(b, kh, j) + d * P[24]]; }
      Vs[jj * ${W}u + d] = x;
    }
    workgroupBarrier();
    if (valid) {
      let nj = min(${BK}u, kend - j0);
      for (var jj = lane; jj < nj; jj = jj + ${LANES}u) {
        let j = j0 + jj;
        if (!visible(i, j)) { continue; }
        var dot = 0.0;
        for (var d = 0u; d < D; d = d + 1u) { dot = fma(q[d], Ks[jj * ${W}u + d], dot); }
        let s = masked_score(dot, b, h, i, j);
        if (s == -f_inf()) { continue; }
        let p = exp(s - z);
        var dp = 0.0;
        for (var d = 0u; d < Dv; d = d + 1u) { dp = fma(go[d], Vs[jj * ${W}u + d], dp); }
        let ds = p * (dp - dl) * pf(8u);
        for (var d = 0u; d < D; d = d + 1u) { acc[d] = fma(ds, Ks[jj * ${W}u + d], acc[d]); }
      }
    }
    workgroupBarrier();
  }
  ${mergeLanes("Ks", "acc", "D", "1.0", "i < Tq", "R[P[34] + row * D + c0 + dd] = s;")}
}`,
    buffers: [...inBuffers(args), ...inputs, buf(dq, "rw")],
    params,
    groups: grid(B * Hq * nqb),
  });
  const nkb = Math.ceil(Tk / ROWS);
  rt.dispatch({
    key: `flash:dkv:${D}:${Dv}`,
    wgsl: () => `${decl([{ name: "RK" }, { name: "RV" }])}
var<workgroup> Qs: array<f32, ${BK * W}>;
var<workgroup> Gs: array<f32, ${BK * W}>;
var<workgroup> Zs: array<f32, ${BK}>;
var<workgroup> Ds: array<f32, ${BK}>;
${ENTRY}
${HEADER(
  `let nkb = (Tk + ${ROWS - 1}u) / ${ROWS}u;
  if (g >= P[0] * Hkv * nkb) { return; }
  let kb = g % nkb; let bk = g / nkb; let b = bk / Hkv; let kh = bk % Hkv;
  let grp = Hq / Hkv;
  let j = kb * ${ROWS}u + r;
  let valid = j < Tk;`,
  D,
  Dv,
)}
  var kr: array<f32, ${W}>;
  var vr: array<f32, ${W}>;
  var dk: array<f32, ${W}>;
  var dv: array<f32, ${W}>;
  if (valid) {
    for (var d = 0u; d < D; d = d + 1u) { kr[d] = K[koff(b, kh, j) + d * P[19]]; }
    for (var d = 0u; d < Dv; d = d + 1u) { vr[d] = V[voff(b, kh, j) + d * P[24]]; }
  }
  // first query row that sees the block's first key (causal): i + Tk >= j + Tq
  var istart = 0u;
  if (P[7] != 0u && kb * ${ROWS}u + Tq > Tk) { istart = kb * ${ROWS}u + Tq - Tk; }
  for (var h = kh * grp; h < kh * grp + grp; h = h + 1u) {
    for (var i0 = istart; i0 < Tq; i0 = i0 + ${BK}u) {
      for (var e = lid; e < ${BK}u * D; e = e + ${THREADS}u) {
        let ii = e / D; let d = e % D; let i = i0 + ii;
        var x = 0.0;
        if (i < Tq) { x = Q[qoff(b, h, i) + d * P[14]]; }
        Qs[ii * ${W}u + d] = x;
      }
      for (var e = lid; e < ${BK}u * Dv; e = e + ${THREADS}u) {
        let ii = e / Dv; let d = e % Dv; let i = i0 + ii;
        var x = 0.0;
        if (i < Tq) { x = G[goff((b * Hq + h) * Tq + i) + d]; }
        Gs[ii * ${W}u + d] = x;
      }
      if (lid < ${BK}u) {
        let i = i0 + lid;
        var z = -f_inf();
        var dl = 0.0;
        if (i < Tq) { let row = (b * Hq + h) * Tq + i; z = L[P[31] + row]; dl = DL[P[33] + row]; }
        Zs[lid] = z;
        Ds[lid] = dl;
      }
      workgroupBarrier();
      if (valid) {
        let ni = min(${BK}u, Tq - i0);
        for (var ii = lane; ii < ni; ii = ii + ${LANES}u) {
          let i = i0 + ii;
          let z = Zs[ii];
          if (z == -f_inf() || !visible(i, j)) { continue; }
          var dot = 0.0;
          for (var d = 0u; d < D; d = d + 1u) { dot = fma(Qs[ii * ${W}u + d], kr[d], dot); }
          let s = masked_score(dot, b, h, i, j);
          if (s == -f_inf()) { continue; }
          let p = exp(s - z);
          var dp = 0.0;
          for (var d = 0u; d < Dv; d = d + 1u) {
            let gv = Gs[ii * ${W}u + d];
            dv[d] = fma(p, gv, dv[d]);
            dp = fma(gv, vr[d], dp);
          }
          let ds = p * (dp - Ds[ii]) * pf(8u);
          for (var d = 0u; d < D; d = d + 1u) { dk[d] = fma(ds, Qs[ii * ${W}u + d], dk[d]); }
        }
      }
      workgroupBarrier();
    }
  }
  let krow = bk * Tk + j;
  ${mergeLanes("Qs", "dk", "D", "1.0", "valid", "RK[P[35] + krow * D + c0 + dd] = s;")}
  ${mergeLanes("Qs", "dv", "Dv", "1.0", "valid", "RV[P[36] + krow * Dv + c0 + dd] = s;")}
}`,
    buffers: [...inBuffers(args), ...inputs, buf(dk, "rw"), buf(dv, "rw")],
    params,
    groups: grid(B * Hkv * nkb),
  });
}
