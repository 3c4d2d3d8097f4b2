/** Shape ops. Views (reshape of contiguous data, permute, slice, expand, squeeze) are free. */

import { attach, needsGrad, noGrad } from "../autograd.js";
import type { DType } from "../backend.js";
import { contiguousStrides, shapeSize, sliceAlong } from "../backend.js";
import { Tensor } from "../tensor.js";
import { sum } from "./reduce.js";
import { broadcastShapes, empty, fmtShape, normAxis, sameBackend } from "./util.js";

function viewOf(
  t: Tensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  op: string,
): Tensor {
  t._view(op);
  return new Tensor(t._buf, shape, strides, offset);
}

/** Resolves a -1 in a reshape target. */
function resolveShape(t: Tensor, shape: readonly number[], op: string): number[] {
  const out = [...shape];
  const neg = out.indexOf(-1);
  const known = out.reduce((p, d) => (d === -1 ? p : p * d), 1);
  if (neg >= 0) {
    if (out.indexOf(-1, neg + 1) >= 0 || known === 0 || t.size % known !== 0) {
      throw new Error(`${op}: cannot reshape ${t.describe()} to ${fmtShape(shape)}`);
    }
    out[neg] = t.size / known;
  }
  if (shapeSize(out) !== t.size || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(
      `${op}: cannot reshape ${t.describe()} (${t.size} elements) to ${fmtShape(shape)}`,
    );
  }
  return out;
}

/** Strides for viewing `t` as `shape` without a copy, or null if impossible (PyTorch's rule). */
function viewStrides(t: Tensor, shape: readonly number[]): number[] | null {
  if (t.size === 0 || t.rank === 0) return contiguousStrides(shape);
  const oldShape = t.shape;
  const oldStrides = t.strides;
  const newStrides = new Array<number>(shape.length).fill(1);
  let viewD = shape.length - 1;
  let chunkBaseStride = oldStrides[oldStrides.length - 1];
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d];
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkBaseStride)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
        newStrides[viewD] = viewNumel * chunkBaseStride;
        viewNumel *= shape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBaseStride = oldStrides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? newStrides : null;
}

/** Reshapes (a free view when the layout allows, else a contiguous copy). One dim may be -1. */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  const op = "reshape";
  const target = resolveShape(t, shape, op);
  if (target.join() === t.shape.join()) return view(t, target, t.strides, t.offset, op);
  const strides = t.isContiguous() ? contiguousStrides(target) : viewStrides(t, target);
  if (strides) return view(t, target, strides, t.offset, op);
  return view(contiguous(t), target, contiguousStrides(target), 0, op);
}

function view(
  t: Tensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  op: string,
): Tensor {
  const out = viewOf(t, shape, strides, offset, op);
  if (needsGrad(t)) {
    const inShape = t.shape;
    attach(op, [t], [out], ([g]) => [reshape(g, inShape)]);
  }
  return out;
}

/** Reorders axes (a view). */
export function permute(t: Tensor, dims: readonly number[]): Tensor {
  const op = "permute";
  const r = t.rank;
  const d = dims.map((a) => normAxis(a, r, op));
  if (d.length !== r || new Set(d).size !== r) {
    throw new Error(
      `${op}: dims ${fmtShape(dims)} are not a permutation of the axes of ${t.describe()}`,
    );
  }
  const out = viewOf(
    t,
    d.map((a) => t.shape[a]),
    d.map((a) => t.strides[a]),
    t.offset,
    op,
  );
  if (needsGrad(t)) {
    const inv = new Array<number>(r);
    d.forEach((a, i) => {
      inv[a] = i;
    });
    attach(op, [t], [out], ([g]) => [permute(g, inv)]);
  }
  return out;
}

/** Swaps two axes (a view). */
export function transpose(t: Tensor, a = -2, b = -1): Tensor {
  const r = t.rank;
  const dims = [...Array(r).keys()];
  const x = normAxis(a, r, "transpose");
  const y = normAxis(b, r, "transpose");
  dims[x] = y;
  dims[y] = x;
  return permute(t, dims);
}

/** Elements start, start+step, ... < end along `axis` (a view). Negative start/end count from the end. */
export function slice(t: Tensor, axis: number, start: number, end?: number, step = 1): Tensor {
  const op = "slice";
  const a = normAxis(axis, t.rank, op);
  const n = t.shape[a];
  let s = start < 0 ? start + n : start;
  let e = end === undefined ? n : end < 0 ? end + n : end;
  s = Math.min(Math.max(s, 0), n);
  e = Math.min(Math.max(e, s), n);
  if (!Number.isInteger(step) || step < 1)
    throw new Error(`${op}: step must be a positive integer, got ${step}`);
  const len = Math.ceil((e - s) / step);
  const shape = [...t.shape];
  shape[a] = len;
  const strides = [...t.strides];
  strides[a] = t.strides[a] * step;
  const out = viewOf(t, shape, strides, t.offset + s * t.strides[a], op);
  if (needsGrad(t)) {
    const inShape = t.shape;
    attach(op, [t], [out], ([g]) => {
      const dx = zerosOf(inShape, g);
      const dst = dx._view(op);
      const dstStrides = [...dst.strides];
      dstStrides[a] *= step;
      g.backend.copy(g._view(op), {
        storage: dst.storage,
        shape: g.shape,
        strides: dstStrides,
        offset: s * dst.strides[a],
      });
      return [dx];
    });
  }
  return out;
}

function zerosOf(shape: readonly number[], like: Tensor): Tensor {
  const z = empty(shape, like.dtype, like.backend, "zeros");
  z.backend.fill(z._view("zeros"), 0);
  return z;
}

/** Broadcasts to `shape` (a view with stride 0 on the expanded axes). -1 keeps a dim. */
export function expand(t: Tensor, shape: readonly number[]): Tensor {
  const op = "expand";
  const target = shape.map((d, i) => (d === -1 ? t.shape[i - (shape.length - t.rank)] : d));
  const b = broadcastShapes(op, t.shape, target);
  if (b.join() !== target.join()) {
    throw new Error(`${op}: cannot expand ${t.describe()} to ${fmtShape(shape)}`);
  }
  const strides = new Array<number>(target.length).fill(0);
  for (let i = 0; i < t.rank; i++) {
    const o = target.length - t.rank + i;
    strides[o] = t.shape[i] === 1 && target[o] !== 1 ? 0 : t.strides[i];
  }
  const out = viewOf(t, target, strides, t.offset, op);
  if (needsGrad(t)) {
    const inShape = t.shape;
    attach(op, [t], [out], ([g]) => [sumTo(g, inShape)]);
  }
  return out;
}

/** Sums `g` over the axes that broadcasting added or expanded, back to `shape`. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.join() === shape.join()) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const s = axes.length ? sum(g, axes, true) : g;
  return reshape(s, shape);
}

/** Removes size-1 axes (all, or just `axis`). */
export function squeeze(t: Tensor, axis?: number): Tensor {
  if (axis === undefined)
    return reshape(
      t,
      t.shape.filter((d) => d !== 1),
    );
  const a = normAxis(axis, t.rank, "squeeze");
  if (t.shape[a] !== 1)
    throw new Error(`squeeze: axis ${axis} of ${t.describe()} has size ${t.shape[a]}, not 1`);
  return reshape(
    t,
    t.shape.filter((_, i) => i !== a),
  );
}

/** Inserts a size-1 axis at `axis` (may be rank, or negative). */
export function unsqueeze(t: Tensor, axis: number): Tensor {
  const a = normAxis(axis < 0 ? axis + t.rank + 1 : axis, t.rank + 1, "unsqueeze");
  const shape = [...t.shape];
  shape.splice(a, 0, 1);
  return reshape(t, shape);
}

/** Merges axes start..end (inclusive) into one. */
export function flatten(t: Tensor, start = 0, end = -1): Tensor {
  if (t.rank === 0) return reshape(t, [1]);
  const s = normAxis(start, t.rank, "flatten");
  const e = normAxis(end, t.rank, "flatten");
  const shape = [
    ...t.shape.slice(0, s),
    shapeSize(t.shape.slice(s, e + 1)),
    ...t.shape.slice(e + 1),
  ];
  return reshape(t, shape);
}

/** A contiguous tensor with the same values (the same tensor if already contiguous). */
export function contiguous(t: Tensor): Tensor {
  if (t.isContiguous()) return t;
  return clone(t);
}

/** A contiguous copy (gradient flows through). */
export function clone(t: Tensor): Tensor {
  const op = "clone";
  const out = empty(t.shape, t.dtype, t.backend, op);
  t.backend.copy(t._view(op), out._view(op));
  if (needsGrad(t)) attach(op, [t], [out], ([g]) => [g]);
  return out;
}

/** Same values, cut from the graph (shares the buffer). */
export function detach(t: Tensor): Tensor {
  t._view("detach");
  return new Tensor(t._buf, t.shape, t.strides, t.offset);
}

/**
 * Converts dtype: f32 → i32 truncates toward zero; → f16 rounds to nearest even (beyond ±65504
 * to ±inf). No gradient flows through a cast.
 */
export function cast(t: Tensor, dtype: DType): Tensor {
  const op = "cast";
  if (t.dtype === dtype) return t;
  const out = empty(t.shape, dtype, t.backend, op);
  t.backend.copy(t._view(op), out._view(op));
  return out;
}

/** Joins tensors along `axis` (all other dims equal). */
export function concat(ts: readonly Tensor[], axis = 0): Tensor {
  const op = "concat";
  if (ts.length === 0) throw new Error(`${op}: needs at least one tensor`);
  const first = ts[0];
  const a = normAxis(axis, first.rank, op);
  const backend = sameBackend(op, ...ts);
  for (const t of ts) {
    if (
      t.rank !== first.rank ||
      t.dtype !== first.dtype ||
      t.shape.some((d, i) => i !== a && d !== first.shape[i])
    ) {
      throw new Error(
        `${op}: along axis ${a}, shapes ${ts.map((x) => fmtShape(x.shape) + " " + x.dtype).join(", ")} do not match`,
      );
    }
  }
  const shape = [...first.shape];
  shape[a] = ts.reduce((p, t) => p + t.shape[a], 0);
  const out = empty(shape, first.dtype, backend, op);
  const ov = out._view(op);
  const sizes = ts.map((t) => t.shape[a]);
  if (backend.concat && ts.length > 1)
    backend.concat(
      ts.map((t) => t._view(op)),
      a,
      ov,
    );
  else {
    let off = 0;
    for (const t of ts) {
      backend.copy(t._view(op), sliceAlong(ov, a, off, t.shape));
      off += t.shape[a];
    }
  }
  if (needsGrad(...ts)) attach(op, [...ts], [out], ([g]) => split(g, sizes, a));
  return out;
}

/** Stacks same-shape tensors along a new axis. */
export function stack(ts: readonly Tensor[], axis = 0): Tensor {
  return concat(
    ts.map((t) => unsqueeze(t, axis)),
    axis,
  );
}

/**
 * Splits along `axis` into pieces of the given sizes, or into `n` equal pieces (views). One
 * graph node for all the pieces: its backward concatenates their gradients (zeros for a piece
 * that got none), instead of a zero-filled full-size gradient per piece added together.
 */
export function split(t: Tensor, sizesOrCount: number | readonly number[], axis = 0): Tensor[] {
  const a = normAxis(axis, t.rank, "split");
  const n = t.shape[a];
  let sizes: number[];
  if (typeof sizesOrCount === "number") {
    if (n % sizesOrCount !== 0)
      throw new Error(
        `split: axis ${a} of ${t.describe()} is not divisible into ${sizesOrCount} parts`,
      );
    sizes = new Array(sizesOrCount).fill(n / sizesOrCount);
  } else sizes = [...sizesOrCount];
  if (sizes.reduce((p, s) => p + s, 0) !== n) {
    throw new Error(
      `split: sizes ${fmtShape(sizes)} do not add up to ${n} (axis ${a} of ${t.describe()})`,
    );
  }
  const out: Tensor[] = [];
  let off = 0;
  for (const s of sizes) {
    const start = off;
    out.push(noGrad(() => slice(t, a, start, start + s)));
    off += s;
  }
  if (needsGrad(t)) attach("split", [t], out, (gs) => [concat(gs, a)]);
  return out;
}
