/** Scalar math shared by the reference backend (computed in f64, stored as f32). */

import type { BinaryOp, UnaryOp } from "../backend.js";

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** erf(x) to ~1e-12 (series for |x| < 2.5, continued fraction for erfc beyond). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf x = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // erfc via Lentz continued fraction: erfc x = exp(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = ax + an / c;
    if (c === 0) c = 1e-300;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  const r = 1 - erfc;
  return x < 0 ? -r : r;
}

export function unaryFn(op: UnaryOp): (x: number) => number {
  switch (op) {
    case "neg":
      return (x) => -x;
    case "abs":
      return Math.abs;
    case "sign":
      return (x) => (x > 0 ? 1 : x < 0 ? -1 : 0);
    case "exp":
      return Math.exp;
    case "log":
      return Math.log;
    case "sqrt":
      return Math.sqrt;
    case "rsqrt":
      return (x) => 1 / Math.sqrt(x);
    case "square":
      return (x) => x * x;
    case "reciprocal":
      return (x) => 1 / x;
    case "sin":
      return Math.sin;
    case "cos":
      return Math.cos;
    case "tanh":
      return Math.tanh;
    case "sigmoid":
      return (x) => 1 / (1 + Math.exp(-x));
    case "relu":
      return (x) => Math.max(x, 0);
    case "gelu_tanh":
      return (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case "gelu_erf":
      return (x) => 0.5 * x * (1 + erf(x * INV_SQRT_2));
    case "silu":
      return (x) => x / (1 + Math.exp(-x));
  }
}

/** Derivative d op(x) / dx, given x and y = op(x). */
export function unaryGradFn(op: UnaryOp): (x: number, y: number) => number {
  switch (op) {
    case "neg":
      return () => -1;
    case "abs":
    case "sign":
      return op === "abs" ? (x) => (x > 0 ? 1 : x < 0 ? -1 : 0) : () => 0;
    case "exp":
      return (_x, y) => y;
    case "log":
      return (x) => 1 / x;
    case "sqrt":
      return (_x, y) => 0.5 / y;
    case "rsqrt":
      return (x, y) => (-0.5 * y) / x;
    case "square":
      return (x) => 2 * x;
    case "reciprocal":
      return (_x, y) => -y * y;
    case "sin":
      return Math.cos;
    case "cos":
      return (x) => -Math.sin(x);
    case "tanh":
      return (_x, y) => 1 - y * y;
    case "sigmoid":
      return (_x, y) => y * (1 - y);
    case "relu":
      return (x) => (x > 0 ? 1 : 0);
    case "gelu_tanh":
      return (x) => {
        const u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
        const t = Math.tanh(u);
        const du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
      };
    case "gelu_erf":
      return (x) => 0.5 * (1 + erf(x * INV_SQRT_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case "silu":
      return (x) => {
        const s = 1 / (1 + Math.exp(-x));
        return s * (1 + x * (1 - s));
      };
  }
}

export function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case "add":
      return (a, b) => a + b;
    case "sub":
      return (a, b) => a - b;
    case "mul":
      return (a, b) => a * b;
    case "div":
      return (a, b) => a / b;
    case "pow":
      return Math.pow;
    case "max":
      return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b));
    case "min":
      return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b));
    case "eq":
      return (a, b) => (a === b ? 1 : 0);
    case "ne":
      return (a, b) => (a !== b ? 1 : 0);
    case "lt":
      return (a, b) => (a < b ? 1 : 0);
    case "le":
      return (a, b) => (a <= b ? 1 : 0);
    case "gt":
      return (a, b) => (a > b ? 1 : 0);
    case "ge":
      return (a, b) => (a >= b ? 1 : 0);
  }
}

export const COMPARISONS: ReadonlySet<BinaryOp> = new Set(["eq", "ne", "lt", "le", "gt", "ge"]);
