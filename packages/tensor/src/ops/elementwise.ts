/** Elementwise unary and binary math with broadcasting, `where`, `maskedFill`. */

import { attach, needsGrad, save } from "../autograd.js";
import type { BinaryOp, DType, UnaryOp } from "../backend.js";
import type { Tensor } from "../tensor.js";
import { cast, sumTo } from "./shape.js";
import {
  asTensor,
  broadcastShapes,
  broadcastView,
  empty,
  requireDType,
  sameBackend,
  scalarLike,
} from "./util.js";

/** Applies a unary kernel op (f32; f16 is read as f32) with its gradient. */
export function unaryOp(op: UnaryOp, x0: Tensor): Tensor {
  const x = x0.dtype === "f16" ? cast(x0, "f32") : x0;
  requireDType(op, x, "f32");
  const out = empty(x.shape, "f32", x.backend, op);
  x.backend.unary(op, x._view(op), out._view(op));
  if (needsGrad(x)) {
    const sx = save(x, op);
    const sy = save(out, op);
    attach(
      op,
      [x],
      [out],
      ([g]) => {
        const dx = empty(x.shape, "f32", g.backend, `${op} backward`);
        g.backend.unaryBackward(
          op,
          sx.get()._view(op),
          sy.get()._view(op),
          g._view(op),
          dx._view(op),
        );
        return [dx];
      },
      [sx, sy],
    );
  }
  return out;
}

export const neg = (x: Tensor) => unaryOp("neg", x);
export const abs = (x: Tensor) => unaryOp("abs", x);
export const sign = (x: Tensor) => unaryOp("sign", x);
export const exp = (x: Tensor) => unaryOp("exp", x);
export const log = (x: Tensor) => unaryOp("log", x);
export const sqrt = (x: Tensor) => unaryOp("sqrt", x);
export const rsqrt = (x: Tensor) => unaryOp("rsqrt", x);
export const square = (x: Tensor) => unaryOp("square", x);
export const reciprocal = (x: Tensor) => unaryOp("reciprocal", x);
export const sin = (x: Tensor) => unaryOp("sin", x);
export const cos = (x: Tensor) => unaryOp("cos", x);
export const tanh = (x: Tensor) => unaryOp("tanh", x);
export const sigmoid = (x: Tensor) => unaryOp("sigmoid", x);
export const relu = (x: Tensor) => unaryOp("relu", x);
export const silu = (x: Tensor) => unaryOp("silu", x);
/**
 * GELU. `approximate: "tanh"` (default) is HF's `gelu_new` / PyTorch `gelu(approximate="tanh")`
 * used by GPT-2; `"none"` is the exact erf form.
 */
export function gelu(x: Tensor, approximate: "tanh" | "none" = "tanh"): Tensor {
  return unaryOp(approximate === "tanh" ? "gelu_tanh" : "gelu_erf", x);
}

const COMPARE = new Set<BinaryOp>(["eq", "ne", "lt", "le", "gt", "ge"]);

/** Applies a binary kernel op with broadcasting, dtype promotion and gradients. */
export function binaryOp(op: BinaryOp, a0: Tensor | number, b0: Tensor | number): Tensor {
  if (typeof a0 === "number" && typeof b0 === "number") {
    throw new Error(`${op}: at least one operand must be a tensor`);
  }
  let a = typeof a0 === "number" ? asTensor(a0, b0 as Tensor) : a0;
  let b = typeof b0 === "number" ? asTensor(b0, a) : b0;
  const backend = sameBackend(op, a, b);
  // Mixed dtypes compute in f32, and so does f16 (a storage dtype).
  if (a.dtype !== b.dtype || a.dtype === "f16") {
    a = cast(a, "f32");
    b = cast(b, "f32");
  }
  const shape = broadcastShapes(op, a.shape, b.shape);
  const dtype: DType = COMPARE.has(op) ? "f32" : a.dtype;
  const out = empty(shape, dtype, backend, op);
  backend.binary(op, broadcastView(a, shape, op), broadcastView(b, shape, op), out._view(op));
  if (!COMPARE.has(op) && needsGrad(a, b)) recordBinary(op, a, b, out);
  return out;
}

function recordBinary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor): void {
  const as = a.shape;
  const bs = b.shape;
  switch (op) {
    case "add":
      attach(op, [a, b], [out], ([g]) => [sumTo(g, as), sumTo(g, bs)]);
      return;
    case "sub":
      attach(op, [a, b], [out], ([g]) => [sumTo(g, as), b.requiresGrad ? sumTo(neg(g), bs) : null]);
      return;
    case "mul": {
      const sa = save(a, op);
      const sb = save(b, op);
      attach(
        op,
        [a, b],
        [out],
        ([g]) => [
          a.requiresGrad ? sumTo(mul(g, sb.get()), as) : null,
          b.requiresGrad ? sumTo(mul(g, sa.get()), bs) : null,
        ],
        [sa, sb],
      );
      return;
    }
    case "div": {
      const sb = save(b, op);
      const so = save(out, op);
      attach(
        op,
        [a, b],
        [out],
        ([g]) => {
          const gb = div(g, sb.get());
          return [
            a.requiresGrad ? sumTo(gb, as) : null,
            b.requiresGrad ? sumTo(neg(mul(gb, so.get())), bs) : null,
          ];
        },
        [sb, so],
      );
      return;
    }
    case "pow": {
      const sa = save(a, op);
      const sb = save(b, op);
      const so = save(out, op);
      attach(
        op,
        [a, b],
        [out],
        ([g]) => {
          const av = sa.get();
          const bv = sb.get();
          const da = a.requiresGrad ? sumTo(mul(g, mul(bv, pow(av, sub(bv, 1)))), as) : null;
          const db = b.requiresGrad ? sumTo(mul(g, mul(so.get(), log(av))), bs) : null;
          return [da, db];
        },
        [sa, sb, so],
      );
      return;
    }
    case "max":
    case "min": {
      const sa = save(a, op);
      const sb = save(b, op);
      attach(
        op,
        [a, b],
        [out],
        ([g]) => {
          const av = sa.get();
          const bv = sb.get();
          // PyTorch semantics: the larger (smaller) side gets the gradient; ties split it.
          const win = binaryOp(op === "max" ? "gt" : "lt", av, bv);
          const tie = mul(binaryOp("eq", av, bv), 0.5);
          const wa = add(win, tie);
          const wb = sub(1, wa);
          return [
            a.requiresGrad ? sumTo(mul(g, wa), as) : null,
            b.requiresGrad ? sumTo(mul(g, wb), bs) : null,
          ];
        },
        [sa, sb],
      );
      return;
    }
    default:
      throw new Error(`${op}: not differentiable`);
  }
}

type T = Tensor | number;
export const add = (a: T, b: T) => binaryOp("add", a, b);
export const sub = (a: T, b: T) => binaryOp("sub", a, b);
export const mul = (a: T, b: T) => binaryOp("mul", a, b);
export const div = (a: T, b: T) => binaryOp("div", a, b);
export const pow = (a: T, b: T) => binaryOp("pow", a, b);
export const maximum = (a: T, b: T) => binaryOp("max", a, b);
export const minimum = (a: T, b: T) => binaryOp("min", a, b);
export const eq = (a: T, b: T) => binaryOp("eq", a, b);
export const ne = (a: T, b: T) => binaryOp("ne", a, b);
export const lt = (a: T, b: T) => binaryOp("lt", a, b);
export const le = (a: T, b: T) => binaryOp("le", a, b);
export const gt = (a: T, b: T) => binaryOp("gt", a, b);
export const ge = (a: T, b: T) => binaryOp("ge", a, b);

/** Elementwise `cond != 0 ? a : b`, broadcasting all three. */
export function where(cond: Tensor, a0: Tensor | number, b0: Tensor | number): Tensor {
  const op = "where";
  let a = asTensor(a0, typeof b0 === "number" ? cond.cast("f32") : b0);
  let b = asTensor(b0, a);
  if (a.dtype === "f16") a = cast(a, "f32");
  if (b.dtype === "f16") b = cast(b, "f32");
  if (a.dtype !== b.dtype)
    throw new Error(`${op}: branches have different dtypes (${a.describe()}, ${b.describe()})`);
  const backend = sameBackend(op, cond, a, b);
  const shape = broadcastShapes(op, cond.shape, a.shape, b.shape);
  const out = empty(shape, a.dtype, backend, op);
  backend.where(
    broadcastView(cond, shape, op),
    broadcastView(a, shape, op),
    broadcastView(b, shape, op),
    out._view(op),
  );
  if (needsGrad(a, b)) {
    const sc = save(cond, op);
    const as = a.shape;
    const bs = b.shape;
    attach(
      op,
      [null, a, b],
      [out],
      ([g]) => {
        const zero = scalarLike(0, g);
        const c = sc.get();
        return [
          null,
          a.requiresGrad ? sumTo(where(c, g, zero), as) : null,
          b.requiresGrad ? sumTo(where(c, zero, g), bs) : null,
        ];
      },
      [sc],
    );
  }
  return out;
}

/** `x` with `value` wherever `mask` (broadcast) is nonzero. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, scalarLike(value, x), x);
}

/** Clamps into [lo, hi] (either bound may be omitted). */
export function clamp(x: Tensor, lo?: number, hi?: number): Tensor {
  let y = x;
  if (lo !== undefined) y = maximum(y, lo);
  if (hi !== undefined) y = minimum(y, hi);
  return y;
}
