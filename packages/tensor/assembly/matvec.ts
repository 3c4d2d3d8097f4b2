// f32 vector × matrix for one-row products (M = 1, e.g. a decoding step's projections), where
// packing the whole K×N operand as the blocked sgemm (and BLAS sgemm) does costs more than the
// product itself: each element of B is read once, straight from where it lies.
//
// y[j] = Σ_k x[k] · B[k, j] for j in [j0, j1). x is contiguous (K floats), y contiguous. Two
// layouts of B, by which stride is 1:
//   sgemvRows: B[k, j] at b + (j·ldb + k) — each output is a dot product of a contiguous row
//              (B is a transposed [N, K] weight, as in x Wᵀ);
//   sgemvCols: B[k, j] at b + (k·ldb + j) — each input scales a contiguous row of B into y.
// All pointers are byte addresses in the shared linear memory; sizes and strides are elements.

function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/** Dot products of x (k floats) with rows j0..j1 of B (row stride ldb) into y[j0..j1). */
export function sgemvRows(k: i32, x: usize, b: usize, ldb: i32, y: usize, j0: i32, j1: i32): void {
  const kv = k & ~3;
  const row = <usize>ldb * 4;
  let j = j0;
  // Four rows at a time: x is loaded once per four rows.
  for (; j + 4 <= j1; j += 4) {
    const r0 = b + <usize>j * row;
    const r1 = r0 + row;
    const r2 = r1 + row;
    const r3 = r2 + row;
    let s0 = f32x4.splat(0),
      s1 = f32x4.splat(0),
      s2 = f32x4.splat(0),
      s3 = f32x4.splat(0);
    for (let i = 0; i < kv; i += 4) {
      const o = <usize>i * 4;
      const xv = v128.load(x + o);
      s0 = madd(xv, v128.load(r0 + o), s0);
      s1 = madd(xv, v128.load(r1 + o), s1);
      s2 = madd(xv, v128.load(r2 + o), s2);
      s3 = madd(xv, v128.load(r3 + o), s3);
    }
    let t0 = hsum(s0),
      t1 = hsum(s1),
      t2 = hsum(s2),
      t3 = hsum(s3);
    for (let i = kv; i < k; i++) {
      const o = <usize>i * 4;
      const xi = load<f32>(x + o);
      t0 += xi * load<f32>(r0 + o);
      t1 += xi * load<f32>(r1 + o);
      t2 += xi * load<f32>(r2 + o);
      t3 += xi * load<f32>(r3 + o);
    }
    const out = y + <usize>j * 4;
    store<f32>(out, t0);
    store<f32>(out, t1, 4);
    store<f32>(out, t2, 8);
    store<f32>(out, t3, 12);
  }
  for (; j < j1; j++) {
    const r = b + <usize>j * row;
    let s = f32x4.splat(0);
    for (let i = 0; i < kv; i += 4) {
      const o = <usize>i * 4;
      s = madd(v128.load(x + o), v128.load(r + o), s);
    }
    let t = hsum(s);
    for (let i = kv; i < k; i++) t += load<f32>(x + <usize>i * 4) * load<f32>(r + <usize>i * 4);
    store<f32>(y + <usize>j * 4, t);
  }
}

/** y[j0..j1) = Σ_i x[i] · B[i, j0..j1) with rows of B contiguous (row stride ldb). */
export function sgemvCols(k: i32, x: usize, b: usize, ldb: i32, y: usize, j0: i32, j1: i32): void {
  const row = <usize>ldb * 4;
  let j = j0;
  // Sixteen outputs at a time stay in registers across the whole k loop.
  for (; j + 16 <= j1; j += 16) {
    let p = b + <usize>j * 4;
    let s0 = f32x4.splat(0),
      s1 = f32x4.splat(0),
      s2 = f32x4.splat(0),
      s3 = f32x4.splat(0);
    for (let i = 0; i < k; i++) {
      const xv = v128.load32_splat(x + <usize>i * 4);
      s0 = madd(xv, v128.load(p), s0);
      s1 = madd(xv, v128.load(p, 16), s1);
      s2 = madd(xv, v128.load(p, 32), s2);
      s3 = madd(xv, v128.load(p, 48), s3);
      p += row;
    }
    const out = y + <usize>j * 4;
    v128.store(out, s0);
    v128.store(out, s1, 16);
    v128.store(out, s2, 32);
    v128.store(out, s3, 48);
  }
  for (; j + 4 <= j1; j += 4) {
    let p = b + <usize>j * 4;
    let s = f32x4.splat(0);
    for (let i = 0; i < k; i++) {
      s = madd(v128.load32_splat(x + <usize>i * 4), v128.load(p), s);
      p += row;
    }
    v128.store(y + <usize>j * 4, s);
  }
  for (; j < j1; j++) {
    let p = b + <usize>j * 4;
    let t: f32 = 0;
    for (let i = 0; i < k; i++) {
      t += load<f32>(x + <usize>i * 4) * load<f32>(p);
      p += row;
    }
    store<f32>(y + <usize>j * 4, t);
  }
}
