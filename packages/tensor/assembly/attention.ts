// Fused scaled-dot-product attention, one (batch, kv-head) group per task so threads never
// write the same dk / dv rows: S = scale · q kᵀ (+ mask, causal), P = softmax(S), O = P v,
// both products through the packed SIMD sgemm. The backward recomputes P from the saved
// row logsumexp, as FlashAttention does, instead of storing it.
//
// Parameter block (i32 words; scale is f32 bits):
//  0 B, 1 Hq, 2 Hkv, 3 Tq, 4 Tk, 5 D, 6 Dv, 7 causal, 8 scale,
//  9 q ptr, 10..13 q strides (B, H, T, D)    14 k ptr, 15..18 k strides
// 19 v ptr, 20..23 v strides                 24 mask ptr (0 = none), 25..28 mask strides
// 29 out ptr (contiguous [B, Hq, Tq, Dv])    30 lse ptr (contiguous [B, Hq, Tq])
// 31 dout ptr, 32..35 dout strides           36 dq, 37 dk, 38 dv ptrs (contiguous)

import { sgemm, sgemmScratchBytes } from "./gemm";
import { sgemvCols, sgemvRows } from "./matvec";
import { exp4 } from "./vmath";

function w(p: usize, i: i32): i32 {
  return load<i32>(p + ((<usize>i) << 2));
}

function ptr(base: i32, s0: i32, i0: i32, s1: i32, i1: i32): usize {
  return <usize>base + ((<usize>(s0 * i0 + s1 * i1)) << 2);
}

/** Scratch bytes one attention task needs. */
export function attentionScratchBytes(tq: i32, tk: i32): i32 {
  return sgemmScratchBytes() + 2 * tq * tk * 4 + 64;
}

// S (Tq × Tk, in place) ← scale · S + mask, causal → −∞. Then, when `lse` ≠ 0, turns each row
// into softmax probabilities and stores its logsumexp; otherwise (backward) rebuilds the
// probabilities from the saved lse.
export function scoresToProbs(
  s: usize,
  tq: i32,
  tk: i32,
  scale: f32,
  causal: bool,
  mask: usize,
  msq: i32,
  msk: i32,
  lse: usize,
  saved: bool,
): void {
  const shift = tk - tq;
  const sv = f32x4.splat(scale);
  for (let i = 0; i < tq; i++) {
    const r = s + ((<usize>(i * tk)) << 2);
    let j = 0;
    if (mask === 0 || msk === 1) {
      for (; j + 4 <= tk; j += 4) {
        let v = f32x4.mul(v128.load(r + ((<usize>j) << 2)), sv);
        if (mask) v = f32x4.add(v, v128.load(mask + ((<usize>(i * msq + j)) << 2)));
        v128.store(r + ((<usize>j) << 2), v);
      }
    }
    for (; j < tk; j++) {
      let v = load<f32>(r + ((<usize>j) << 2)) * scale;
      if (mask) v += load<f32>(mask + ((<usize>(i * msq + j * msk)) << 2));
      store<f32>(r + ((<usize>j) << 2), v);
    }
    const limit = causal ? min(tk, i + shift + 1) : tk;
    for (j = max(limit, 0); j < tk; j++) store<f32>(r + ((<usize>j) << 2), -Infinity);
    let l: f32;
    if (!saved) {
      let m: f32 = -Infinity;
      for (j = 0; j < tk; j++) m = max(m, load<f32>(r + ((<usize>j) << 2)));
      if (m === -Infinity) {
        memory.fill(r, 0, (<usize>tk) << 2);
        store<f32>(lse + ((<usize>i) << 2), -Infinity);
        continue;
      }
      let sum: f32 = 0;
      const mv = f32x4.splat(m);
      j = 0;
      let acc = f32x4.splat(0);
      for (; j + 4 <= tk; j += 4) {
        const e = exp4(f32x4.sub(v128.load(r + ((<usize>j) << 2)), mv));
        v128.store(r + ((<usize>j) << 2), e);
        acc = f32x4.add(acc, e);
      }
      sum =
        f32x4.extract_lane(acc, 0) +
        f32x4.extract_lane(acc, 1) +
        f32x4.extract_lane(acc, 2) +
        f32x4.extract_lane(acc, 3);
      for (; j < tk; j++) {
        const e = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(r + ((<usize>j) << 2)) - m)), 0);
        store<f32>(r + ((<usize>j) << 2), e);
        sum += e;
      }
      const inv: f32 = 1 / sum;
      const iv = f32x4.splat(inv);
      for (j = 0; j + 4 <= tk; j += 4)
        v128.store(r + ((<usize>j) << 2), f32x4.mul(v128.load(r + ((<usize>j) << 2)), iv));
      for (; j < tk; j++) store<f32>(r + ((<usize>j) << 2), load<f32>(r + ((<usize>j) << 2)) * inv);
      l = m + Mathf.log(sum);
      store<f32>(lse + ((<usize>i) << 2), l);
    } else {
      l = load<f32>(lse + ((<usize>i) << 2));
      if (l === -Infinity) {
        memory.fill(r, 0, (<usize>tk) << 2);
        continue;
      }
      const lv = f32x4.splat(l);
      for (j = 0; j + 4 <= tk; j += 4) {
        v128.store(r + ((<usize>j) << 2), exp4(f32x4.sub(v128.load(r + ((<usize>j) << 2)), lv)));
      }
      for (; j < tk; j++) {
        store<f32>(
          r + ((<usize>j) << 2),
          f32x4.extract_lane(exp4(f32x4.splat(load<f32>(r + ((<usize>j) << 2)) - l)), 0),
        );
      }
    }
  }
}

/** Forward for groups [g0, g1) of B·Hkv (each group: all query heads sharing one kv head). */
export function attentionForward(prm: usize, g0: i32, g1: i32, scratch: usize): void {
  const hq = w(prm, 1),
    hkv = w(prm, 2),
    tq = w(prm, 3),
    tk = w(prm, 4),
    d = w(prm, 5),
    dv = w(prm, 6);
  const causal = w(prm, 7) !== 0;
  const scale = reinterpret<f32>(w(prm, 8));
  const rep = hq / hkv;
  const gemmScratch = scratch;
  const s = (scratch + <usize>sgemmScratchBytes() + 63) & ~(<usize>63);
  for (let g = g0; g < g1; g++) {
    const b = g / hkv;
    const kh = g % hkv;
    const kp = ptr(w(prm, 14), w(prm, 15), b, w(prm, 16), kh);
    const vp = ptr(w(prm, 19), w(prm, 20), b, w(prm, 21), kh);
    for (let r = 0; r < rep; r++) {
      const h = kh * rep + r;
      const qp = ptr(w(prm, 9), w(prm, 10), b, w(prm, 11), h);
      // S = q · kᵀ (one query row: a direct vector × matrix product, no packing)
      if (tq === 1 && w(prm, 13) === 1 && w(prm, 18) === 1)
        sgemvRows(d, qp, kp, w(prm, 17), s, 0, tk);
      else
        sgemm(
          tq,
          tk,
          d,
          qp,
          w(prm, 12),
          w(prm, 13),
          kp,
          w(prm, 18),
          w(prm, 17),
          s,
          tk,
          false,
          gemmScratch,
        );
      const mask = w(prm, 24) ? ptr(w(prm, 24), w(prm, 25), b, w(prm, 26), h) : 0;
      const lse = <usize>w(prm, 30) + ((<usize>((b * hq + h) * tq)) << 2);
      scoresToProbs(s, tq, tk, scale, causal, mask, w(prm, 27), w(prm, 28), lse, false);
      // O = P · v
      const out = <usize>w(prm, 29) + ((<usize>((b * hq + h) * tq * dv)) << 2);
      if (tq === 1 && w(prm, 23) === 1) sgemvCols(tk, s, vp, w(prm, 22), out, 0, dv);
      else sgemm(tq, dv, tk, s, tk, 1, vp, w(prm, 22), w(prm, 23), out, dv, false, gemmScratch);
    }
  }
}

/** Backward for groups [g0, g1): overwrites dq, dk, dv of those groups. */
export function attentionBackward(prm: usize, g0: i32, g1: i32, scratch: usize): void {
  const hq = w(prm, 1),
    hkv = w(prm, 2),
    tq = w(prm, 3),
    tk = w(prm, 4),
    d = w(prm, 5),
    dv = w(prm, 6);
  const causal = w(prm, 7) !== 0;
  const scale = reinterpret<f32>(w(prm, 8));
  const rep = hq / hkv;
  const gemmScratch = scratch;
  const p = (scratch + <usize>sgemmScratchBytes() + 63) & ~(<usize>63);
  const dp = p + ((<usize>(tq * tk)) << 2);
  for (let g = g0; g < g1; g++) {
    const b = g / hkv;
    const kh = g % hkv;
    const kp = ptr(w(prm, 14), w(prm, 15), b, w(prm, 16), kh);
    const vp = ptr(w(prm, 19), w(prm, 20), b, w(prm, 21), kh);
    const dkp = <usize>w(prm, 37) + ((<usize>((b * hkv + kh) * tk * d)) << 2);
    const dvp = <usize>w(prm, 38) + ((<usize>((b * hkv + kh) * tk * dv)) << 2);
    for (let r = 0; r < rep; r++) {
      const h = kh * rep + r;
      const first = r === 0;
      const qp = ptr(w(prm, 9), w(prm, 10), b, w(prm, 11), h);
      const dop = ptr(w(prm, 31), w(prm, 32), b, w(prm, 33), h);
      const rdo = w(prm, 34),
        cdo = w(prm, 35);
      const op = <usize>w(prm, 29) + ((<usize>((b * hq + h) * tq * dv)) << 2);
      const lse = <usize>w(prm, 30) + ((<usize>((b * hq + h) * tq)) << 2);
      const dqp = <usize>w(prm, 36) + ((<usize>((b * hq + h) * tq * d)) << 2);
      // P from the saved logsumexp.
      sgemm(
        tq,
        tk,
        d,
        qp,
        w(prm, 12),
        w(prm, 13),
        kp,
        w(prm, 18),
        w(prm, 17),
        p,
        tk,
        false,
        gemmScratch,
      );
      const mask = w(prm, 24) ? ptr(w(prm, 24), w(prm, 25), b, w(prm, 26), h) : 0;
      scoresToProbs(p, tq, tk, scale, causal, mask, w(prm, 27), w(prm, 28), lse, true);
      // dv (+)= Pᵀ · dO
      sgemm(tk, dv, tq, p, 1, tk, dop, rdo, cdo, dvp, dv, !first, gemmScratch);
      // dP = dO · vᵀ
      sgemm(tq, tk, dv, dop, rdo, cdo, vp, w(prm, 23), w(prm, 22), dp, tk, false, gemmScratch);
      attentionScoresGrad(p, dp, dop, rdo, cdo, op, tq, tk, dv, scale);
      // dq = dS · k
      sgemm(tq, d, tk, dp, tk, 1, kp, w(prm, 17), w(prm, 18), dqp, d, false, gemmScratch);
      // dk (+)= dSᵀ · q
      sgemm(tk, d, tq, dp, 1, tk, qp, w(prm, 12), w(prm, 13), dkp, d, !first, gemmScratch);
    }
  }
}

/**
 * dS = P ⊙ (dP − rowsum(dO ⊙ O)) · scale for one head, written over dP (Tq × Tk). dO has row /
 * column strides (rdo, cdo); O is contiguous Tq × Dv.
 */
export function attentionScoresGrad(
  p: usize,
  dp: usize,
  dop: usize,
  rdo: i32,
  cdo: i32,
  op: usize,
  tq: i32,
  tk: i32,
  dv: i32,
  scale: f32,
): void {
  const sv = f32x4.splat(scale);
  for (let i = 0; i < tq; i++) {
    let di: f32 = 0;
    for (let j = 0; j < dv; j++) {
      di +=
        load<f32>(dop + ((<usize>(i * rdo + j * cdo)) << 2)) *
        load<f32>(op + ((<usize>(i * dv + j)) << 2));
    }
    const pr = p + ((<usize>(i * tk)) << 2);
    const dr = dp + ((<usize>(i * tk)) << 2);
    const dvv = f32x4.splat(di);
    let j = 0;
    for (; j + 4 <= tk; j += 4) {
      const off = (<usize>j) << 2;
      v128.store(
        dr + off,
        f32x4.mul(f32x4.mul(v128.load(pr + off), f32x4.sub(v128.load(dr + off), dvv)), sv),
      );
    }
    for (; j < tk; j++) {
      const off = (<usize>j) << 2;
      store<f32>(dr + off, load<f32>(pr + off) * (load<f32>(dr + off) - di) * scale);
    }
  }
}

/**
 * For flat heads f in [h0, h1) of B·Hq, turns the scores at s + (f − base)·Tq·Tk into
 * probabilities in place (see scoresToProbs; `saved` rebuilds them from the saved lse). Used by
 * the BLAS attention path, which computes the products on BLAS and this step on the threads.
 */
export function attentionProbsRange(
  prm: usize,
  h0: i32,
  h1: i32,
  base: i32,
  s: usize,
  saved: bool,
): void {
  const hq = w(prm, 1);
  const tq = w(prm, 3);
  const tk = w(prm, 4);
  const causal = w(prm, 7) !== 0;
  const scale = reinterpret<f32>(w(prm, 8));
  for (let f = h0; f < h1; f++) {
    const b = f / hq;
    const h = f % hq;
    const sp = s + ((<usize>((f - base) * tq * tk)) << 2);
    const mask = w(prm, 24) ? ptr(w(prm, 24), w(prm, 25), b, w(prm, 26), h) : 0;
    const lse = <usize>w(prm, 30) + ((<usize>(f * tq)) << 2);
    scoresToProbs(sp, tq, tk, scale, causal, mask, w(prm, 27), w(prm, 28), lse, saved);
  }
}

/** attentionScoresGrad for flat heads [h0, h1), P and dP at p / dp + (f − base)·Tq·Tk. */
export function attentionScoresGradRange(
  prm: usize,
  h0: i32,
  h1: i32,
  base: i32,
  p: usize,
  dp: usize,
): void {
  const hq = w(prm, 1);
  const tq = w(prm, 3);
  const tk = w(prm, 4);
  const dv = w(prm, 6);
  const scale = reinterpret<f32>(w(prm, 8));
  for (let f = h0; f < h1; f++) {
    const b = f / hq;
    const h = f % hq;
    const off = (<usize>((f - base) * tq * tk)) << 2;
    const dop = ptr(w(prm, 31), w(prm, 32), b, w(prm, 33), h);
    const op = <usize>w(prm, 29) + ((<usize>(f * tq * dv)) << 2);
    attentionScoresGrad(p + off, dp + off, dop, w(prm, 34), w(prm, 35), op, tq, tk, dv, scale);
  }
}
