// f32x4 math: exp / tanh / erf with the usual Cephes-style range reduction and polynomials
// (exp: ~1-2 ulp; tanh: ~2 ulp; erf: Abramowitz-Stegun 7.1.26, |error| < 1.5e-7), and the
// unary / binary op tables every elementwise kernel dispatches through.
//
// Op codes are shared with src/cpu/ops.ts (same order as the Backend's UnaryOp / BinaryOp).

export const U_NEG: i32 = 0;
export const U_ABS: i32 = 1;
export const U_SIGN: i32 = 2;
export const U_EXP: i32 = 3;
export const U_LOG: i32 = 4;
export const U_SQRT: i32 = 5;
export const U_RSQRT: i32 = 6;
export const U_SQUARE: i32 = 7;
export const U_RECIPROCAL: i32 = 8;
export const U_SIN: i32 = 9;
export const U_COS: i32 = 10;
export const U_TANH: i32 = 11;
export const U_SIGMOID: i32 = 12;
export const U_RELU: i32 = 13;
export const U_GELU_TANH: i32 = 14;
export const U_GELU_ERF: i32 = 15;
export const U_SILU: i32 = 16;

export const B_ADD: i32 = 0;
export const B_SUB: i32 = 1;
export const B_MUL: i32 = 2;
export const B_DIV: i32 = 3;
export const B_POW: i32 = 4;
export const B_MAX: i32 = 5;
export const B_MIN: i32 = 6;
export const B_EQ: i32 = 7;
export const B_NE: i32 = 8;
export const B_LT: i32 = 9;
export const B_LE: i32 = 10;
export const B_GT: i32 = 11;
export const B_GE: i32 = 12;

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_C: f32 = 0.044715;
const INV_SQRT_2: f32 = 0.7071067811865476;
const INV_SQRT_2PI: f32 = 0.3989422804014327;

function splat(x: f32): v128 {
  return f32x4.splat(x);
}

/** e^x per lane. Below −87.33 gives 0, above 88.72 gives +Infinity, NaN stays NaN. */
export function exp4(x: v128): v128 {
  const cx = f32x4.min(f32x4.max(x, splat(-87.33654)), splat(88.3762626647949));
  const fx = f32x4.nearest(f32x4.mul(cx, splat(1.4426950408889634)));
  let r = f32x4.sub(cx, f32x4.mul(fx, splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(fx, splat(-2.1219444e-4)));
  const z = f32x4.mul(r, r);
  let y = splat(1.98756915e-4);
  y = f32x4.add(f32x4.mul(y, r), splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), r), splat(1));
  const n = i32x4.trunc_sat_f32x4_s(fx);
  const pow2 = i32x4.shl(i32x4.add(n, i32x4.splat(127)), 23);
  let out = f32x4.mul(y, pow2);
  out = v128.andnot(out, f32x4.lt(x, splat(-87.33654)));
  out = v128.bitselect(splat(Infinity), out, f32x4.gt(x, splat(88.7228391)));
  return out;
}

/** tanh per lane: odd polynomial for |x| < 0.625, 1 − 2/(e^{2|x|} + 1) beyond. */
export function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const e = exp4(f32x4.mul(ax, splat(2)));
  let big = f32x4.sub(splat(1), f32x4.div(splat(2), f32x4.add(e, splat(1))));
  // Copy x's sign onto the |x| result.
  big = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, big, f32x4.lt(ax, splat(0.625)));
}

/** erf per lane (Abramowitz-Stegun 7.1.26). */
export function erf4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const t = f32x4.div(splat(1), f32x4.add(splat(1), f32x4.mul(splat(0.3275911), ax)));
  let p = splat(1.061405429);
  p = f32x4.add(f32x4.mul(p, t), splat(-1.453152027));
  p = f32x4.add(f32x4.mul(p, t), splat(1.421413741));
  p = f32x4.add(f32x4.mul(p, t), splat(-0.284496736));
  p = f32x4.add(f32x4.mul(p, t), splat(0.254829592));
  p = f32x4.mul(p, t);
  const r = f32x4.sub(splat(1), f32x4.mul(p, exp4(f32x4.neg(f32x4.mul(ax, ax)))));
  return v128.or(r, v128.and(x, i32x4.splat(0x80000000)));
}

export function sigmoid4(x: v128): v128 {
  return f32x4.div(splat(1), f32x4.add(splat(1), exp4(f32x4.neg(x))));
}

// Applies a scalar function to each lane (for ops without a vector form).
function lanes(x: v128, op: i32): v128 {
  let r = x;
  r = f32x4.replace_lane(r, 0, scalarUnary(op, f32x4.extract_lane(x, 0)));
  r = f32x4.replace_lane(r, 1, scalarUnary(op, f32x4.extract_lane(x, 1)));
  r = f32x4.replace_lane(r, 2, scalarUnary(op, f32x4.extract_lane(x, 2)));
  r = f32x4.replace_lane(r, 3, scalarUnary(op, f32x4.extract_lane(x, 3)));
  return r;
}

function scalarUnary(op: i32, x: f32): f32 {
  switch (op) {
    case U_LOG:
      return Mathf.log(x);
    case U_SIN:
      return <f32>Math.sin(<f64>x);
    case U_COS:
      return <f32>Math.cos(<f64>x);
    default:
      return NaN;
  }
}

export function geluTanh4(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  const u = f32x4.mul(splat(SQRT_2_OVER_PI), f32x4.add(x, f32x4.mul(splat(GELU_C), x3)));
  return f32x4.mul(f32x4.mul(splat(0.5), x), f32x4.add(splat(1), tanh4(u)));
}

export function geluErf4(x: v128): v128 {
  const e = erf4(f32x4.mul(x, splat(INV_SQRT_2)));
  return f32x4.mul(f32x4.mul(splat(0.5), x), f32x4.add(splat(1), e));
}

export function silu4(x: v128): v128 {
  return f32x4.mul(x, sigmoid4(x));
}

export function geluTanhGrad4(x: v128, dy: v128): v128 {
  const one = splat(1);
  const x2 = f32x4.mul(x, x);
  const u = f32x4.mul(
    splat(SQRT_2_OVER_PI),
    f32x4.add(x, f32x4.mul(splat(GELU_C), f32x4.mul(x2, x))),
  );
  const t = tanh4(u);
  const du = f32x4.mul(splat(SQRT_2_OVER_PI), f32x4.add(one, f32x4.mul(splat(3 * GELU_C), x2)));
  const left = f32x4.mul(splat(0.5), f32x4.add(one, t));
  const right = f32x4.mul(f32x4.mul(f32x4.mul(splat(0.5), x), f32x4.sub(one, f32x4.mul(t, t))), du);
  return f32x4.mul(dy, f32x4.add(left, right));
}

export function geluErfGrad4(x: v128, dy: v128): v128 {
  const cdf = f32x4.mul(splat(0.5), f32x4.add(splat(1), erf4(f32x4.mul(x, splat(INV_SQRT_2)))));
  const pdf = f32x4.mul(splat(INV_SQRT_2PI), exp4(f32x4.mul(splat(-0.5), f32x4.mul(x, x))));
  return f32x4.mul(dy, f32x4.add(cdf, f32x4.mul(x, pdf)));
}

export function siluGrad4(x: v128, dy: v128): v128 {
  const one = splat(1);
  const s = sigmoid4(x);
  return f32x4.mul(dy, f32x4.mul(s, f32x4.add(one, f32x4.mul(x, f32x4.sub(one, s)))));
}

/** op(x) per lane, for every UnaryOp. */
export function unary4(op: i32, x: v128): v128 {
  switch (op) {
    case U_NEG:
      return f32x4.neg(x);
    case U_ABS:
      return f32x4.abs(x);
    case U_SIGN: {
      const pos = v128.and(f32x4.gt(x, splat(0)), splat(1));
      const neg = v128.and(f32x4.lt(x, splat(0)), splat(-1));
      // NaN compares false both ways and gives 0, like the reference backend.
      return v128.or(pos, neg);
    }
    case U_EXP:
      return exp4(x);
    case U_SQRT:
      return f32x4.sqrt(x);
    case U_RSQRT:
      return f32x4.div(splat(1), f32x4.sqrt(x));
    case U_SQUARE:
      return f32x4.mul(x, x);
    case U_RECIPROCAL:
      return f32x4.div(splat(1), x);
    case U_TANH:
      return tanh4(x);
    case U_SIGMOID:
      return sigmoid4(x);
    case U_RELU:
      return v128.and(x, f32x4.gt(x, splat(0)));
    case U_GELU_TANH:
      return geluTanh4(x);
    case U_GELU_ERF:
      return geluErf4(x);
    case U_SILU:
      return silu4(x);
    default:
      return lanes(x, op);
  }
}

/** dy · op'(x) per lane; y = op(x) (the forward output). */
export function unaryGrad4(op: i32, x: v128, y: v128, dy: v128): v128 {
  const one = splat(1);
  switch (op) {
    case U_NEG:
      return f32x4.neg(dy);
    case U_ABS:
      return f32x4.mul(dy, unary4(U_SIGN, x));
    case U_SIGN:
      return f32x4.mul(dy, splat(0));
    case U_EXP:
      return f32x4.mul(dy, y);
    case U_LOG:
      return f32x4.div(dy, x);
    case U_SQRT:
      return f32x4.div(dy, f32x4.mul(splat(2), y));
    case U_RSQRT:
      // d/dx x^(-1/2) = −½ x^(−3/2) = −½ y³
      return f32x4.mul(dy, f32x4.mul(splat(-0.5), f32x4.mul(f32x4.mul(y, y), y)));
    case U_SQUARE:
      return f32x4.mul(dy, f32x4.mul(splat(2), x));
    case U_RECIPROCAL:
      return f32x4.neg(f32x4.mul(dy, f32x4.mul(y, y)));
    case U_SIN:
      return f32x4.mul(dy, lanes(x, U_COS));
    case U_COS:
      return f32x4.neg(f32x4.mul(dy, lanes(x, U_SIN)));
    case U_TANH:
      return f32x4.mul(dy, f32x4.sub(one, f32x4.mul(y, y)));
    case U_SIGMOID:
      return f32x4.mul(dy, f32x4.mul(y, f32x4.sub(one, y)));
    case U_RELU:
      return v128.and(dy, f32x4.gt(x, splat(0)));
    case U_GELU_TANH:
      return geluTanhGrad4(x, dy);
    case U_GELU_ERF:
      return geluErfGrad4(x, dy);
    case U_SILU:
      return siluGrad4(x, dy);
    default:
      return splat(NaN);
  }
}

function powLanes(a: v128, b: v128): v128 {
  let r = a;
  r = f32x4.replace_lane(
    r,
    0,
    <f32>(<f64>f32x4.extract_lane(a, 0) ** <f64>f32x4.extract_lane(b, 0)),
  );
  r = f32x4.replace_lane(
    r,
    1,
    <f32>(<f64>f32x4.extract_lane(a, 1) ** <f64>f32x4.extract_lane(b, 1)),
  );
  r = f32x4.replace_lane(
    r,
    2,
    <f32>(<f64>f32x4.extract_lane(a, 2) ** <f64>f32x4.extract_lane(b, 2)),
  );
  r = f32x4.replace_lane(
    r,
    3,
    <f32>(<f64>f32x4.extract_lane(a, 3) ** <f64>f32x4.extract_lane(b, 3)),
  );
  return r;
}

/** a op b per lane (f32); comparisons give 1.0 / 0.0. */
export function binary4(op: i32, a: v128, b: v128): v128 {
  const one = splat(1);
  switch (op) {
    case B_ADD:
      return f32x4.add(a, b);
    case B_SUB:
      return f32x4.sub(a, b);
    case B_MUL:
      return f32x4.mul(a, b);
    case B_DIV:
      return f32x4.div(a, b);
    case B_POW:
      return powLanes(a, b);
    case B_MAX:
      return f32x4.max(a, b);
    case B_MIN:
      return f32x4.min(a, b);
    case B_EQ:
      return v128.and(f32x4.eq(a, b), one);
    case B_NE:
      return v128.and(f32x4.ne(a, b), one);
    case B_LT:
      return v128.and(f32x4.lt(a, b), one);
    case B_LE:
      return v128.and(f32x4.le(a, b), one);
    case B_GT:
      return v128.and(f32x4.gt(a, b), one);
    case B_GE:
      return v128.and(f32x4.ge(a, b), one);
    default:
      return splat(NaN);
  }
}
