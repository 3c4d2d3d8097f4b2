/** Reductions over axes: sum, mean, max, min, prod, argmax, logsumexp, variance. */

import { attach, needsGrad, save } from "../autograd.js";
import type { ReduceOp } from "../backend.js";
import type { Tensor } from "../tensor.js";
import { div, eq, exp, log, mul, sub } from "./elementwise.js";
import { expand, reshape } from "./shape.js";
import { empty, normAxis } from "./util.js";

function normAxes(x: Tensor, axes: number | readonly number[] | undefined, op: string): number[] {
  if (axes === undefined) return [...Array(x.rank).keys()];
  const list = typeof axes === "number" ? [axes] : axes;
  return [...new Set(list.map((a) => normAxis(a, x.rank, op)))].sort((p, q) => p - q);
}

function keptShape(x: Tensor, axes: readonly number[]): number[] {
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function finalShape(x: Tensor, axes: readonly number[], keepdim: boolean): number[] {
  return keepdim ? keptShape(x, axes) : x.shape.filter((_, i) => !axes.includes(i));
}

function rawReduce(op: ReduceOp, x0: Tensor, axes: readonly number[], name: string): Tensor {
  const x = x0.dtype === "f16" ? x0.cast("f32") : x0;
  if (x.size === 0 && op !== "sum")
    throw new Error(`${name}: cannot reduce an empty tensor ${x.describe()}`);
  const out = empty(keptShape(x, axes), x.dtype, x.backend, name);
  x.backend.reduce(op, x._view(name), axes, out._view(name));
  return out;
}

/** Sum over `axes` (all by default). */
export function sum(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = normAxes(x, axes, "sum");
  const kept = rawReduce("sum", x, ax, "sum");
  if (needsGrad(x)) {
    const inShape = x.shape;
    const ks = kept.shape;
    attach("sum", [x], [kept], ([g]) => [expand(reshape(g, ks), inShape)]);
  }
  return keepdim ? kept : reshape(kept, finalShape(x, ax, false));
}

/** Mean over `axes` (all by default). */
export function mean(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = normAxes(x, axes, "mean");
  const n = ax.reduce((p, a) => p * x.shape[a], 1);
  return div(sum(x.dtype === "f32" ? x : x.cast("f32"), ax, keepdim), n);
}

function extremum(
  op: "max" | "min",
  x: Tensor,
  axes: number | readonly number[] | undefined,
  keepdim: boolean,
): Tensor {
  const ax = normAxes(x, axes, op);
  const kept = rawReduce(op, x, ax, op);
  if (needsGrad(x)) {
    const sx = save(x, op);
    const sk = save(kept, op);
    const ks = kept.shape;
    attach(
      op,
      [x],
      [kept],
      ([g]) => {
        // Gradient split evenly among the positions that attain the extremum (PyTorch amax).
        const mask = eq(sx.get(), sk.get());
        const count = sum(mask, ax, true);
        return [mul(mask, div(reshape(g, ks), count))];
      },
      [sx, sk],
    );
  }
  return keepdim ? kept : reshape(kept, finalShape(x, ax, false));
}

/** Max over `axes` (all by default). Ties share the gradient. */
export function max(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  return extremum("max", x, axes, keepdim);
}

/** Min over `axes` (all by default). */
export function min(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  return extremum("min", x, axes, keepdim);
}

/** Product over `axes` (no gradient). */
export function prod(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = normAxes(x, axes, "prod");
  const kept = rawReduce("prod", x, ax, "prod");
  return keepdim ? kept : reshape(kept, finalShape(x, ax, false));
}

/** Index (i32) of the maximum along `axis` (first one on ties). */
export function argmax(x0: Tensor, axis = -1, keepdim = false): Tensor {
  const x = x0.dtype === "f16" ? x0.cast("f32") : x0;
  const a = normAxis(axis, x.rank, "argmax");
  const out = empty(keptShape(x, [a]), "i32", x.backend, "argmax");
  x.backend.argmax(x._view("argmax"), a, out._view("argmax"));
  return keepdim ? out : reshape(out, finalShape(x, [a], false));
}

/** log Σ exp over `axes`, computed stably. */
export function logsumexp(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = normAxes(x, axes, "logsumexp");
  const m = max(x, ax, true).detach();
  const r = log(sum(exp(sub(x, m)), ax, true)).add(m);
  return keepdim ? r : reshape(r, finalShape(x, ax, false));
}

/** Variance over `axes` (population by default; `unbiased` divides by n − 1). */
export function variance(
  x: Tensor,
  axes?: number | readonly number[],
  keepdim = false,
  unbiased = false,
): Tensor {
  const ax = normAxes(x, axes, "variance");
  const n = ax.reduce((p, a) => p * x.shape[a], 1);
  const d = sub(x, mean(x, ax, true));
  return div(sum(mul(d, d), ax, keepdim), unbiased ? n - 1 : n);
}
