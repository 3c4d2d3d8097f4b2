/** Helpers shared by ops: allocation, validation with clear errors, broadcasting. */

import type { Backend, DType, View } from "../backend.js";
import { contiguousStrides, shapeSize } from "../backend.js";
import { DataBuffer } from "../memory.js";
import { getBackend } from "../registry.js";
import { Tensor } from "../tensor.js";

/** A fresh contiguous tensor (contents unspecified until a kernel writes it). */
export function empty(
  shape: readonly number[],
  dtype: DType,
  backend: Backend,
  op: string,
): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new Error(`${op}: invalid shape [${shape.join(", ")}]`);
  }
  const buf = new DataBuffer(backend, dtype, shapeSize(shape), op);
  return new Tensor(buf, [...shape], contiguousStrides(shape), 0);
}

/** Wraps a number as a 0-d tensor like `like` (same backend; dtype given or like's). */
export function scalarLike(value: number, like: Tensor, dtype: DType = like.dtype): Tensor {
  const t = empty([], dtype, like.backend, "scalar");
  t.backend.fill(t._view("scalar"), value);
  return t;
}

export function asTensor(x: Tensor | number, like: Tensor): Tensor {
  return typeof x === "number"
    ? scalarLike(x, like, like.dtype === "i32" && !Number.isInteger(x) ? "f32" : like.dtype)
    : x;
}

export function fmtShape(s: readonly number[]): string {
  return `[${s.join(", ")}]`;
}

/** Normalises a possibly negative axis. */
export function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) {
    throw new Error(`${op}: axis ${axis} out of range for rank ${rank}`);
  }
  return a;
}

export function sameBackend(op: string, ...ts: (Tensor | null | undefined)[]): Backend {
  let b: Backend | null = null;
  for (const t of ts) {
    if (!t) continue;
    if (b && t.backend !== b) {
      throw new Error(
        `${op}: tensors are on different backends ("${b.name}" and "${t.backend.name}")`,
      );
    }
    b = t.backend;
  }
  return b ?? getBackend();
}

export function requireDType(op: string, t: Tensor, dtype: DType, what = "input"): void {
  if (t.dtype === dtype) return;
  const hint = t.dtype === "f16" ? " (f16 is a storage dtype: convert with .float() first)" : "";
  throw new Error(`${op}: ${what} must be ${dtype}, got ${t.describe()}${hint}`);
}

export function requireRank(op: string, t: Tensor, rank: number, what = "input"): void {
  if (t.rank !== rank)
    throw new Error(`${op}: ${what} must have rank ${rank}, got ${t.describe()}`);
}

/** Broadcast result shape (NumPy rules) or a clear error naming the op and shapes. */
export function broadcastShapes(op: string, ...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else {
        throw new Error(
          `${op}: shapes ${shapes.map(fmtShape).join(" and ")} cannot be broadcast together`,
        );
      }
    }
  }
  return out;
}

/** A view of `t` broadcast to `shape` (stride 0 on broadcast axes). */
export function broadcastView(t: Tensor, shape: readonly number[], op: string): View {
  const v = t._view(op);
  const rank = shape.length;
  const strides = new Array<number>(rank).fill(0);
  for (let i = 0; i < t.rank; i++) {
    const o = rank - t.rank + i;
    strides[o] = t.shape[i] === 1 && shape[o] !== 1 ? 0 : t.strides[i];
  }
  return { storage: v.storage, shape, strides, offset: v.offset };
}
