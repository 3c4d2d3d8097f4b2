/**
 * Reductions over any set of axes (one workgroup per output element, strided input: the
 * reduced axes are permuted last and the rest addressed through strides) and argmax.
 */

import type { ReduceOp, View } from "../../backend.js";
import type { GpuStorage, Runtime } from "../runtime.js";
import { bindings, entry, grid, MATH, wgslType } from "../wgsl.js";
import { coalesce } from "./elementwise.js";

const WG = 64;

const STRIDED_OFFSET = `fn xoff(i: u32) -> u32 {
  let r = P[2];
  var rem = i;
  var o = P[3];
  var d = r;
  loop {
    if (d == 0u) { break; }
    d = d - 1u;
    let s = P[4u + d];
    o = o + (rem % s) * P[4u + r + d];
    rem = rem / s;
  }
  return o;
}`;

function combine(op: ReduceOp, t: string, a: string, b: string): string {
  switch (op) {
    case "sum":
      return `${a} + ${b}`;
    case "prod":
      return `${a} * ${b}`;
    case "max":
      return t === "f32"
        ? `select(max(${a}, ${b}), f_nan(), is_nan(${a}) || is_nan(${b}))`
        : `max(${a}, ${b})`;
    case "min":
      return t === "f32"
        ? `select(min(${a}, ${b}), f_nan(), is_nan(${a}) || is_nan(${b}))`
        : `min(${a}, ${b})`;
  }
}

function identity(op: ReduceOp, t: string): string {
  if (op === "sum") return t === "f32" ? "0.0" : "0";
  if (op === "prod") return t === "f32" ? "1.0" : "1";
  if (t === "i32") return op === "max" ? "-2147483647 - 1" : "2147483647";
  return op === "max" ? "-f_inf()" : "f_inf()";
}

export function reduce(
  rt: Runtime,
  op: ReduceOp,
  x: View,
  axes: readonly number[],
  out: View,
): void {
  const rank = x.shape.length;
  const kept = [...Array(rank).keys()].filter((d) => !axes.includes(d));
  const order = [...kept, ...axes];
  const shape = order.map((d) => x.shape[d]);
  const strides = order.map((d) => x.strides[d]);
  let rows = 1;
  for (const d of kept) rows *= x.shape[d];
  let cols = 1;
  for (const d of axes) cols *= x.shape[d];
  if (rows === 0) return;
  const c = coalesce(shape, [strides]);
  const t = wgslType(x.storage.dtype);
  const xs = x.storage as GpuStorage;
  const os = out.storage as GpuStorage;
  rt.dispatch({
    key: `reduce:${op}:${t}:${out.storage.dtype}`,
    wgsl: () => `${bindings([
      { name: "X", type: t, access: "r" },
      { name: "O", type: wgslType(out.storage.dtype), access: "rw" },
    ])}
${MATH}
${STRIDED_OFFSET}
var<workgroup> red: array<${t}, ${WG}>;
${entry(WG)}
  let row = group;
  if (row >= P[0]) { return; }
  let cols = P[1];
  var acc: ${t} = ${identity(op, t)};
  for (var j = lid; j < cols; j = j + ${WG}u) {
    let v = X[xoff(row * cols + j)];
    acc = ${combine(op, t, "acc", "v")};
  }
  red[lid] = acc;
  workgroupBarrier();
  var s = ${WG / 2}u;
  loop {
    if (s == 0u) { break; }
    if (lid < s) { red[lid] = ${combine(op, t, "red[lid]", "red[lid + s]")}; }
    workgroupBarrier();
    s = s / 2u;
  }
  if (lid == 0u) {
    O[P[4u + 2u * P[2]] + row] = ${out.storage.dtype === x.storage.dtype ? "red[0]" : out.storage.dtype === "i32" ? "i32(red[0])" : "f32(red[0])"};
  }
}`,
    buffers: [
      { buffer: xs.buffer, access: "r" },
      { buffer: os.buffer, access: "rw" },
    ],
    params: [rows, cols, c.shape.length, x.offset, ...c.shape, ...c.strides[0], out.offset],
    groups: grid(rows),
  });
}

export function argmax(rt: Runtime, x: View, axis: number, out: View): void {
  const n = x.shape[axis];
  const shape = x.shape.map((d, i) => (i === axis ? 1 : d));
  let total = 1;
  for (const d of shape) total *= d;
  if (total === 0) return;
  const c = coalesce(shape, [x.strides]);
  const t = wgslType(x.storage.dtype);
  const W = 256;
  rt.dispatch({
    key: `argmax:${t}`,
    wgsl: () => `${bindings([
      { name: "X", type: t, access: "r" },
      { name: "O", type: "i32", access: "rw" },
    ])}
${MATH}
${STRIDED_OFFSET}
${entry(W)}
  if (gi >= P[0]) { return; }
  let n = P[1];
  let step = P[4u + 2u * P[2]];
  let base = xoff(gi);
  var best = X[base];
  var bi = 0u;
  for (var j = 1u; j < n; j = j + 1u) {
    let v = X[base + j * step];
    if (v > best${t === "f32" ? " || (is_nan(v) && !is_nan(best))" : ""}) { best = v; bi = j; }
  }
  O[P[5u + 2u * P[2]] + gi] = i32(bi);
}`,
    buffers: [
      { buffer: (x.storage as GpuStorage).buffer, access: "r" },
      { buffer: (out.storage as GpuStorage).buffer, access: "rw" },
    ],
    params: [
      total,
      n,
      c.shape.length,
      x.offset,
      ...c.shape,
      ...c.strides[0],
      x.strides[axis],
      out.offset,
    ],
    groups: grid(Math.ceil(total / W)),
  });
}
