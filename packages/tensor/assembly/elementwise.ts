// Strided elementwise kernels. A call describes up to four operands of one (collapsed) shape
// in an N-d descriptor; the kernel walks rows [r0, r1) of the outer axes with an odometer and
// runs a row kernel on the innermost axis, vectorised when the inner strides are 1 (or 0 for a
// broadcast operand). Threads split the row range.
//
// Descriptor layout (i32 words): [0] rank, [1..8] shape, [9..16] strides of operand 0,
// [17..24] operand 1, [25..32] operand 2, [33..40] operand 3, [41..44] byte pointers of
// operands 0..3. Strides are in elements; every element is 4 bytes (f32 or i32).

import {
  B_ADD,
  B_DIV,
  B_EQ,
  B_GE,
  B_GT,
  B_LE,
  B_LT,
  B_MAX,
  B_MIN,
  B_MUL,
  B_NE,
  B_SUB,
  binary4,
  exp4,
  geluErf4,
  geluErfGrad4,
  geluTanh4,
  geluTanhGrad4,
  sigmoid4,
  silu4,
  siluGrad4,
  tanh4,
  U_EXP,
  U_GELU_ERF,
  U_GELU_TANH,
  U_SIGMOID,
  U_SILU,
  U_TANH,
  unary4,
  unaryGrad4,
} from "./vmath";

export const K_UNARY: i32 = 0;
export const K_BINARY: i32 = 1;
export const K_BINARY_I32: i32 = 2;
export const K_WHERE: i32 = 3;
export const K_COPY: i32 = 4;
export const K_REDUCE: i32 = 5;
export const K_UNARY_GRAD: i32 = 6;

export const R_SUM: i32 = 0;
export const R_MAX: i32 = 1;
export const R_MIN: i32 = 2;
export const R_PROD: i32 = 3;

function dget(desc: usize, word: i32): i32 {
  return load<i32>(desc + ((<usize>word) << 2));
}

function at(p: usize, i: i32, s: i32): usize {
  return p + ((<usize>(i * s)) << 2);
}

// ---- row kernels -----------------------------------------------------------------------

function unaryRow(op: i32, x: usize, sx: i32, out: usize, so: i32, n: i32): void {
  let i = 0;
  if (sx === 1 && so === 1) {
    // Dedicated loops for the hot activations (no per-vector dispatch), then the generic one.
    switch (op) {
      case U_EXP:
        for (; i + 4 <= n; i += 4) v128.store(at(out, i, 1), exp4(v128.load(at(x, i, 1))));
        break;
      case U_TANH:
        for (; i + 4 <= n; i += 4) v128.store(at(out, i, 1), tanh4(v128.load(at(x, i, 1))));
        break;
      case U_SIGMOID:
        for (; i + 4 <= n; i += 4) v128.store(at(out, i, 1), sigmoid4(v128.load(at(x, i, 1))));
        break;
      case U_GELU_TANH:
        for (; i + 4 <= n; i += 4) v128.store(at(out, i, 1), geluTanh4(v128.load(at(x, i, 1))));
        break;
      case U_GELU_ERF:
        for (; i + 4 <= n; i += 4) v128.store(at(out, i, 1), geluErf4(v128.load(at(x, i, 1))));
        break;
      case U_SILU:
        for (; i + 4 <= n; i += 4) v128.store(at(out, i, 1), silu4(v128.load(at(x, i, 1))));
        break;
    }
    for (; i + 4 <= n; i += 4) {
      v128.store(at(out, i, 1), unary4(op, v128.load(at(x, i, 1))));
    }
  }
  for (; i < n; i++) {
    const v = unary4(op, f32x4.splat(load<f32>(at(x, i, sx))));
    store<f32>(at(out, i, so), f32x4.extract_lane(v, 0));
  }
}

function unaryGradRow(
  op: i32,
  x: usize,
  sx: i32,
  y: usize,
  sy: i32,
  dy: usize,
  sdy: i32,
  dx: usize,
  sdx: i32,
  n: i32,
): void {
  let i = 0;
  if (sx === 1 && sy === 1 && sdy === 1 && sdx === 1) {
    switch (op) {
      case U_GELU_TANH:
        for (; i + 4 <= n; i += 4) {
          v128.store(at(dx, i, 1), geluTanhGrad4(v128.load(at(x, i, 1)), v128.load(at(dy, i, 1))));
        }
        break;
      case U_GELU_ERF:
        for (; i + 4 <= n; i += 4) {
          v128.store(at(dx, i, 1), geluErfGrad4(v128.load(at(x, i, 1)), v128.load(at(dy, i, 1))));
        }
        break;
      case U_SILU:
        for (; i + 4 <= n; i += 4) {
          v128.store(at(dx, i, 1), siluGrad4(v128.load(at(x, i, 1)), v128.load(at(dy, i, 1))));
        }
        break;
    }
    for (; i + 4 <= n; i += 4) {
      const g = unaryGrad4(
        op,
        v128.load(at(x, i, 1)),
        v128.load(at(y, i, 1)),
        v128.load(at(dy, i, 1)),
      );
      v128.store(at(dx, i, 1), g);
    }
  }
  for (; i < n; i++) {
    const g = unaryGrad4(
      op,
      f32x4.splat(load<f32>(at(x, i, sx))),
      f32x4.splat(load<f32>(at(y, i, sy))),
      f32x4.splat(load<f32>(at(dy, i, sdy))),
    );
    store<f32>(at(dx, i, sdx), f32x4.extract_lane(g, 0));
  }
}

function binaryRow(
  op: i32,
  a: usize,
  sa: i32,
  b: usize,
  sb: i32,
  out: usize,
  so: i32,
  n: i32,
): void {
  let i = 0;
  if (so === 1) {
    if (sa === 1 && sb === 1) {
      // The common arithmetic without per-vector dispatch; the rest below.
      if (op === B_ADD) {
        for (; i + 4 <= n; i += 4) {
          v128.store(at(out, i, 1), f32x4.add(v128.load(at(a, i, 1)), v128.load(at(b, i, 1))));
        }
      } else if (op === B_MUL) {
        for (; i + 4 <= n; i += 4) {
          v128.store(at(out, i, 1), f32x4.mul(v128.load(at(a, i, 1)), v128.load(at(b, i, 1))));
        }
      } else if (op === B_SUB) {
        for (; i + 4 <= n; i += 4) {
          v128.store(at(out, i, 1), f32x4.sub(v128.load(at(a, i, 1)), v128.load(at(b, i, 1))));
        }
      }
      for (; i + 4 <= n; i += 4) {
        v128.store(at(out, i, 1), binary4(op, v128.load(at(a, i, 1)), v128.load(at(b, i, 1))));
      }
    } else if (sa === 1 && sb === 0) {
      const bv = v128.load32_splat(b);
      for (; i + 4 <= n; i += 4) {
        v128.store(at(out, i, 1), binary4(op, v128.load(at(a, i, 1)), bv));
      }
    } else if (sa === 0 && sb === 1) {
      const av = v128.load32_splat(a);
      for (; i + 4 <= n; i += 4) {
        v128.store(at(out, i, 1), binary4(op, av, v128.load(at(b, i, 1))));
      }
    }
  }
  for (; i < n; i++) {
    const v = binary4(
      op,
      f32x4.splat(load<f32>(at(a, i, sa))),
      f32x4.splat(load<f32>(at(b, i, sb))),
    );
    store<f32>(at(out, i, so), f32x4.extract_lane(v, 0));
  }
}

function binaryI32(op: i32, a: i32, b: i32): i32 {
  switch (op) {
    case B_ADD:
      return a + b;
    case B_SUB:
      return a - b;
    case B_MUL:
      return a * b;
    case B_MAX:
      return max(a, b);
    case B_MIN:
      return min(a, b);
    default:
      return 0;
  }
}

function compareI32(op: i32, a: i32, b: i32): bool {
  switch (op) {
    case B_EQ:
      return a === b;
    case B_NE:
      return a !== b;
    case B_LT:
      return a < b;
    case B_LE:
      return a <= b;
    case B_GT:
      return a > b;
    case B_GE:
      return a >= b;
    default:
      return false;
  }
}

// i32 operands: add/sub/mul/max/min → i32; div → f32 division truncated to i32; pow → f64 pow
// truncated; comparisons → f32 0/1.
function binaryI32Row(
  op: i32,
  a: usize,
  sa: i32,
  b: usize,
  sb: i32,
  out: usize,
  so: i32,
  n: i32,
): void {
  for (let i = 0; i < n; i++) {
    const x = load<i32>(at(a, i, sa));
    const y = load<i32>(at(b, i, sb));
    const o = at(out, i, so);
    if (op >= B_EQ) {
      store<f32>(o, compareI32(op, x, y) ? 1 : 0);
    } else if (op === B_DIV) {
      const q = <f64>x / <f64>y;
      store<i32>(o, isFinite(q) ? <i32>q : 0);
    } else if (op === B_ADD || op === B_SUB || op === B_MUL || op === B_MAX || op === B_MIN) {
      store<i32>(o, binaryI32(op, x, y));
    } else {
      const p = <f64>x ** <f64>y;
      store<i32>(o, isFinite(p) ? <i32>p : 0);
    }
  }
}

// op bit 0: cond is i32 (else f32).
function whereRow(
  condI32: bool,
  c: usize,
  sc: i32,
  a: usize,
  sa: i32,
  b: usize,
  sb: i32,
  out: usize,
  so: i32,
  n: i32,
): void {
  for (let i = 0; i < n; i++) {
    const pick = condI32 ? load<i32>(at(c, i, sc)) !== 0 : load<f32>(at(c, i, sc)) !== 0;
    store<u32>(at(out, i, so), pick ? load<u32>(at(a, i, sa)) : load<u32>(at(b, i, sb)));
  }
}

// conv 0: bit copy; 1: f32 → i32 (truncate toward zero); 2: i32 → f32.
function copyRow(conv: i32, src: usize, ss: i32, dst: usize, sd: i32, n: i32): void {
  if (conv === 0) {
    if (ss === 1 && sd === 1) {
      memory.copy(dst, src, (<usize>n) << 2);
      return;
    }
    for (let i = 0; i < n; i++) store<u32>(at(dst, i, sd), load<u32>(at(src, i, ss)));
  } else if (conv === 1) {
    for (let i = 0; i < n; i++) {
      const v = load<f32>(at(src, i, ss));
      store<i32>(at(dst, i, sd), isFinite(v) ? <i32>v : 0);
    }
  } else {
    for (let i = 0; i < n; i++) store<f32>(at(dst, i, sd), <f32>load<i32>(at(src, i, ss)));
  }
}

function combine(op: i32, acc: f32, v: f32): f32 {
  if (op === R_SUM) return acc + v;
  if (op === R_PROD) return acc * v;
  if (isNaN(v) || isNaN(acc)) return NaN;
  if (op === R_MAX) return v > acc ? v : acc;
  return v < acc ? v : acc;
}

// out[i·so] = out[i·so] ⊕ x[i·sx]; so = 0 folds the row into one element.
function reduceRow(op: i32, x: usize, sx: i32, out: usize, so: i32, n: i32): void {
  let i = 0;
  if (so === 0) {
    let acc = load<f32>(out);
    if (sx === 1 && n >= 8) {
      let v = v128.load(x);
      for (i = 4; i + 4 <= n; i += 4) {
        const w = v128.load(at(x, i, 1));
        if (op === R_SUM) v = f32x4.add(v, w);
        else if (op === R_PROD) v = f32x4.mul(v, w);
        else if (op === R_MAX) v = f32x4.max(v, w);
        else v = f32x4.min(v, w);
      }
      acc = combine(op, acc, f32x4.extract_lane(v, 0));
      acc = combine(op, acc, f32x4.extract_lane(v, 1));
      acc = combine(op, acc, f32x4.extract_lane(v, 2));
      acc = combine(op, acc, f32x4.extract_lane(v, 3));
    }
    for (; i < n; i++) acc = combine(op, acc, load<f32>(at(x, i, sx)));
    store<f32>(out, acc);
    return;
  }
  if (so === 1 && sx === 1) {
    for (; i + 4 <= n; i += 4) {
      const o = v128.load(at(out, i, 1));
      const w = v128.load(at(x, i, 1));
      let r: v128;
      if (op === R_SUM) r = f32x4.add(o, w);
      else if (op === R_PROD) r = f32x4.mul(o, w);
      else if (op === R_MAX) r = f32x4.max(o, w);
      else r = f32x4.min(o, w);
      v128.store(at(out, i, 1), r);
    }
  }
  for (; i < n; i++) {
    const o = at(out, i, so);
    store<f32>(o, combine(op, load<f32>(o), load<f32>(at(x, i, sx))));
  }
}

// ---- the N-d walker ----------------------------------------------------------------------

/**
 * Runs `kind` with `op` over rows [r0, r1) of the descriptor. For K_REDUCE, operand 1 is the
 * (already initialised) output with stride 0 on the reduced axes; callers split threads only
 * over rows that do not share output elements. `tmp`: 32 bytes private to the calling thread.
 */
export function ndRun(kind: i32, op: i32, desc: usize, r0: i32, r1: i32, tmp: usize): void {
  const rank = dget(desc, 0);
  const n = dget(desc, rank);
  const s0 = dget(desc, 9 + rank - 1);
  const s1 = dget(desc, 17 + rank - 1);
  const s2 = dget(desc, 25 + rank - 1);
  const s3 = dget(desc, 33 + rank - 1);
  // Odometer over the outer axes (in the caller's private `tmp`), starting at row r0.
  const idx = tmp;
  let rem = r0;
  let p0 = <usize>dget(desc, 41);
  let p1 = <usize>dget(desc, 42);
  let p2 = <usize>dget(desc, 43);
  let p3 = <usize>dget(desc, 44);
  for (let d = rank - 2; d >= 0; d--) {
    const size = dget(desc, 1 + d);
    const i = rem % size;
    rem = rem / size;
    store<i32>(idx + ((<usize>d) << 2), i);
    p0 += (<usize>(i * dget(desc, 9 + d))) << 2;
    p1 += (<usize>(i * dget(desc, 17 + d))) << 2;
    p2 += (<usize>(i * dget(desc, 25 + d))) << 2;
    p3 += (<usize>(i * dget(desc, 33 + d))) << 2;
  }
  for (let r = r0; r < r1; r++) {
    switch (kind) {
      case K_UNARY:
        unaryRow(op, p0, s0, p1, s1, n);
        break;
      case K_BINARY:
        binaryRow(op, p0, s0, p1, s1, p2, s2, n);
        break;
      case K_BINARY_I32:
        binaryI32Row(op, p0, s0, p1, s1, p2, s2, n);
        break;
      case K_WHERE:
        whereRow(op !== 0, p0, s0, p1, s1, p2, s2, p3, s3, n);
        break;
      case K_COPY:
        copyRow(op, p0, s0, p1, s1, n);
        break;
      case K_REDUCE:
        reduceRow(op, p0, s0, p1, s1, n);
        break;
      case K_UNARY_GRAD:
        unaryGradRow(op, p0, s0, p1, s1, p2, s2, p3, s3, n);
        break;
    }
    // Advance the odometer.
    for (let d = rank - 2; d >= 0; d--) {
      const ip = idx + ((<usize>d) << 2);
      const i = load<i32>(ip) + 1;
      if (i < dget(desc, 1 + d)) {
        store<i32>(ip, i);
        p0 += (<usize>dget(desc, 9 + d)) << 2;
        p1 += (<usize>dget(desc, 17 + d)) << 2;
        p2 += (<usize>dget(desc, 25 + d)) << 2;
        p3 += (<usize>dget(desc, 33 + d)) << 2;
        break;
      }
      store<i32>(ip, 0);
      const back = i - 1;
      p0 -= (<usize>(back * dget(desc, 9 + d))) << 2;
      p1 -= (<usize>(back * dget(desc, 17 + d))) << 2;
      p2 -= (<usize>(back * dget(desc, 25 + d))) << 2;
      p3 -= (<usize>(back * dget(desc, 33 + d))) << 2;
    }
  }
}
