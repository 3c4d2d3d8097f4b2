// f32 matrix multiply with 128-bit SIMD, BLIS-style: the K×N operand is packed into panels of
// NR columns, the M×K operand into panels of MR rows, and a register-blocked MR×NR micro-kernel
// keeps the whole C tile in registers (8 v128 accumulators; 6×8 spills under V8) while streaming both panels.
// Blocking: KC × NC of B stays in L2/L3, MC × KC of A in L2, one KC × NR B panel in L1.
//
// All pointers are byte addresses in the shared linear memory; strides and sizes are elements.

// Micro-tile: MR rows × NR columns (NR = two f32x4 vectors).
export const MR: i32 = 4; // packA's column-major path and the micro-kernel assume 4
export const NR: i32 = 8;
// Cache blocks (MC a multiple of MR, NC a multiple of NR).
export const KC: i32 = 256;
export const MC: i32 = 128;
export const NC: i32 = 2048;

/** Bytes of scratch one `sgemm` call needs (packed A block, packed B block, an edge tile). */
export function sgemmScratchBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4 + 64;
}

// Pack rows [i0, i0+mc) × cols [p0, p0+kc) of A into MR-row panels: panel[k*MR + r].
// Rows past mc are zero so the micro-kernel can always run a full tile.
function packA(a: usize, rsa: i32, csa: i32, mc: i32, kc: i32, dst: usize): void {
  for (let i = 0; i < mc; i += MR) {
    const rows = min(MR, mc - i);
    const panel = dst + <usize>(i * kc) * 4;
    if (rows === MR && csa === 1) {
      // Contiguous rows: read each row once, scatter with stride MR.
      for (let r = 0; r < MR; r++) {
        const src = a + <usize>((i + r) * rsa) * 4;
        const out = panel + <usize>r * 4;
        for (let k = 0; k < kc; k++) {
          store<f32>(out + <usize>(k * MR) * 4, load<f32>(src + <usize>k * 4));
        }
      }
    } else if (rows === MR && rsa === 1) {
      // Column-major A (a transposed view): each k gives MR = 4 contiguous floats, one vector.
      for (let k = 0; k < kc; k++) {
        v128.store(panel + <usize>(k * MR) * 4, v128.load(a + <usize>(i + k * csa) * 4));
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const out = panel + <usize>(k * MR) * 4;
        for (let r = 0; r < MR; r++) {
          const v: f32 = r < rows ? load<f32>(a + <usize>((i + r) * rsa + k * csa) * 4) : 0;
          store<f32>(out + <usize>r * 4, v);
        }
      }
    }
  }
}

// Pack rows [p0, p0+kc) × cols [j0, j0+nc) of B into NR-column panels: panel[k*NR + c].
function packB(b: usize, rsb: i32, csb: i32, kc: i32, nc: i32, dst: usize): void {
  for (let j = 0; j < nc; j += NR) {
    const cols = min(NR, nc - j);
    const panel = dst + <usize>(j * kc) * 4;
    if (cols === NR && csb === 1) {
      for (let k = 0; k < kc; k++) {
        const src = b + <usize>(k * rsb + j) * 4;
        const out = panel + <usize>(k * NR) * 4;
        v128.store(out, v128.load(src));
        v128.store(out, v128.load(src, 16), 16);
      }
    } else if (cols === NR && rsb === 1) {
      // Transposed B (column-major): read each column once, scatter with stride NR.
      for (let c = 0; c < NR; c++) {
        const src = b + <usize>((j + c) * csb) * 4;
        const out = panel + <usize>c * 4;
        for (let k = 0; k < kc; k++) {
          store<f32>(out + <usize>(k * NR) * 4, load<f32>(src + <usize>k * 4));
        }
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const out = panel + <usize>(k * NR) * 4;
        for (let c = 0; c < NR; c++) {
          const v: f32 = c < cols ? load<f32>(b + <usize>(k * rsb + (j + c) * csb) * 4) : 0;
          store<f32>(out + <usize>c * 4, v);
        }
      }
    }
  }
}

// c + a·b per lane: one fused multiply-add where relaxed SIMD is enabled (the
// kernels-relaxed.wasm build), else a multiply and an add.
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// C[0:MR, 0:NR] (+)= Apanel · Bpanel over kc. `accumulate` adds to C, otherwise overwrites.
// c points at the tile's top-left; ldc is in elements.
function microKernel(kc: i32, ap: usize, bp: usize, c: usize, ldc: i32, accumulate: bool): void {
  let c00 = f32x4.splat(0),
    c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0),
    c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0),
    c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0),
    c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    ap += MR * 4;
    bp += NR * 4;
  }
  const ld = <usize>ldc * 4;
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ld));
    c11 = f32x4.add(c11, v128.load(c + ld, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ld));
    c21 = f32x4.add(c21, v128.load(c + 2 * ld, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ld));
    c31 = f32x4.add(c31, v128.load(c + 3 * ld, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ld, c10);
  v128.store(c + ld, c11, 16);
  v128.store(c + 2 * ld, c20);
  v128.store(c + 2 * ld, c21, 16);
  v128.store(c + 3 * ld, c30);
  v128.store(c + 3 * ld, c31, 16);
}

/**
 * C = A·B (or C += A·B when `accumulate`), A: M×K with strides (rsa, csa), B: K×N with strides
 * (rsb, csb), C: M×N row-major with leading dimension ldc. `scratch` holds
 * `sgemmScratchBytes()` bytes private to the calling thread.
 */
export function sgemm(
  m: i32,
  n: i32,
  k: i32,
  a: usize,
  rsa: i32,
  csa: i32,
  b: usize,
  rsb: i32,
  csb: i32,
  c: usize,
  ldc: i32,
  accumulate: bool,
  scratch: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) {
      for (let i = 0; i < m; i++) memory.fill(c + <usize>(i * ldc) * 4, 0, <usize>n * 4);
    }
    return;
  }
  const base = (scratch + 63) & ~(<usize>63);
  const packedA = base;
  const packedB = packedA + <usize>(MC * KC) * 4;
  const edge = packedB + <usize>(KC * NC) * 4;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const acc = accumulate || pc > 0;
      packB(b + <usize>(pc * rsb + jc * csb) * 4, rsb, csb, kc, nc, packedB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(a + <usize>(ic * rsa + pc * csa) * 4, rsa, csa, mc, kc, packedA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bp = packedB + <usize>(jr * kc) * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const ap = packedA + <usize>(ir * kc) * 4;
            const ct = c + <usize>((ic + ir) * ldc + jc + jr) * 4;
            // Full tiles go straight to C; edge tiles to scratch, then the valid corner is
            // copied (one call site, so the optimizer inlines the micro-kernel).
            const full = mr === MR && nr === NR;
            microKernel(kc, ap, bp, full ? ct : edge, full ? ldc : NR, full && acc);
            if (!full) {
              for (let i = 0; i < mr; i++) {
                const dst = ct + <usize>(i * ldc) * 4;
                const src = edge + <usize>(i * NR) * 4;
                for (let j = 0; j < nr; j++) {
                  const v = load<f32>(src + <usize>j * 4);
                  store<f32>(dst + <usize>j * 4, acc ? load<f32>(dst + <usize>j * 4) + v : v);
                }
              }
            }
          }
        }
      }
    }
  }
}

/**
 * Runs records [start, end) of a matmul job list. Each record is 13 i32:
 * m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, accumulate, (unused).
 */
export function sgemmList(list: usize, start: i32, end: i32, scratch: usize): void {
  for (let r = start; r < end; r++) {
    const p = list + <usize>(r * 13) * 4;
    sgemm(
      load<i32>(p),
      load<i32>(p, 4),
      load<i32>(p, 8),
      load<u32>(p, 12),
      load<i32>(p, 16),
      load<i32>(p, 20),
      load<u32>(p, 24),
      load<i32>(p, 28),
      load<i32>(p, 32),
      load<u32>(p, 36),
      load<i32>(p, 40),
      load<i32>(p, 44) !== 0,
      scratch,
    );
  }
}
