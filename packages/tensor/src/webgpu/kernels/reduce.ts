/**
 * Reductions over any set of axes (one workgroup per output element, strided input: the
 * reduced axes are permuted last and the rest addressed through strides) and argmax (one
 * invocation per output for short axes, one workgroup per output for long ones). With
 * `subgroups` the workgroup reductions run through subgroup operations (see
 * `workgroupReducer`); otherwise through shared-memory trees.
 */

import type { ReduceOp, View } from "../../backend.js";
import type { GpuStorage, Runtime } from "../runtime.js";
import {
  bindings,
  enableSubgroups,
  entry,
  grid,
  MATH,
  MIN_SUBGROUP,
  reduceEntry,
  wgslType,
  workgroupReducer,
} from "../wgsl.js";
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

/** The subgroup-wide form of `combine` (f32 max / min propagate NaN like `combine`). */
function subgroupCombine(op: ReduceOp, t: string, v: string): string {
  switch (op) {
    case "sum":
      return `subgroupAdd(${v})`;
    case "prod":
      return `subgroupMul(${v})`;
    case "max":
    case "min": {
      const r = `${op === "max" ? "subgroupMax" : "subgroupMin"}(${v})`;
      return t === "f32" ? `select(${r}, f_nan(), subgroupAny(is_nan(${v})))` : r;
    }
  }
}

export function reduce(
  rt: Runtime,
  op: ReduceOp,
  x: View,
  axes: readonly number[],
  out: View,
  subgroups = false,
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
  // When the reduced elements of a row lie along the last coalesced axis (a last-axis or full
  // reduction, or one axis of any strided view), element j of a row is at xoff(row·cols) +
  // j·stride: no per-element index arithmetic.
  const inner = cols > 0 && c.shape[c.shape.length - 1] % cols === 0;
  const r = c.shape.length;
  const t = wgslType(x.storage.dtype);
  const xs = x.storage as GpuStorage;
  const os = out.storage as GpuStorage;
  const cast = (v: string) =>
    out.storage.dtype === x.storage.dtype
      ? v
      : out.storage.dtype === "i32"
        ? `i32(${v})`
        : `f32(${v})`;
  rt.dispatch({
    key: `reduce:${op}:${t}:${out.storage.dtype}:${inner ? "inner" : "strided"}:${subgroups ? "sg" : "wg"}`,
    wgsl: () => `${enableSubgroups(subgroups)}${bindings([
      { name: "X", type: t, access: "r" },
      { name: "O", type: wgslType(out.storage.dtype), access: "rw" },
    ])}
${MATH}
${STRIDED_OFFSET}
${workgroupReducer({
  name: "wg_reduce",
  type: t as "f32" | "i32",
  wg: WG,
  combine: (a, b) => combine(op, t, a, b),
  subgroup: (v) => subgroupCombine(op, t, v),
  subgroups,
})}
${reduceEntry(WG, subgroups)}
  let row = group;
  if (row >= P[0]) { return; }
  let cols = P[1];
  var acc: ${t} = ${identity(op, t)};
${
  inner
    ? `  let base = xoff(row * cols);
  let step = P[5u + 2u * P[2]];
  for (var j = lid; j < cols; j = j + ${WG}u) {
    let v = X[base + j * step];`
    : `  for (var j = lid; j < cols; j = j + ${WG}u) {
    let v = X[xoff(row * cols + j)];`
}
    acc = ${combine(op, t, "acc", "v")};
  }
  let r = wg_reduce(acc, lid);
  if (lid == 0u) { O[P[4u + 2u * P[2]] + row] = ${cast("r")}; }
}`,
    buffers: [
      { buffer: xs.buffer, access: "r" },
      { buffer: os.buffer, access: "rw" },
    ],
    params: [rows, cols, r, x.offset, ...c.shape, ...c.strides[0], out.offset, c.strides[0][r - 1]],
    groups: grid(rows),
  });
}

/** Axes at least this long get a workgroup per output in argmax (shorter: an invocation). */
export const ARGMAX_WORKGROUP_MIN = 64;

/**
 * Order-preserving u32 key of a value for argmax: larger value, larger key; every NaN is the
 * largest (the first NaN wins, like the reference); −0 and +0 are equal.
 */
function argmaxKey(t: string): string {
  return t === "f32"
    ? `fn am_key(v: f32) -> u32 {
  if (is_nan(v)) { return 0xffffffffu; }
  let b = bitcast<u32>(select(v, 0.0, v == 0.0));
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}`
    : "fn am_key(v: i32) -> u32 { return bitcast<u32>(v) ^ 0x80000000u; }";
}

/**
 * The workgroup combine of argmax's (key, index) pairs: the largest key, then the smallest
 * index (the first occurrence). `am_reduce(k, i, lid)` returns the winning index to every
 * invocation; call it in uniform control flow.
 */
function argmaxReducer(wg: number, subgroups: boolean): string {
  const better = (k: string, i: string, bk: string, bi: string) =>
    `${k} > ${bk} || (${k} == ${bk} && ${i} < ${bi})`;
  if (subgroups) {
    const n = Math.max(1, wg / MIN_SUBGROUP);
    return `var<workgroup> am_keys: array<u32, ${n}>;
var<workgroup> am_idx: array<u32, ${n}>;
fn am_reduce(k: u32, i: u32, lid: u32) -> u32 {
  let mk = subgroupMax(k);
  let mi = subgroupMin(select(0xffffffffu, i, k == mk));
  workgroupBarrier();
  if (sg_lane == 0u) { am_keys[sg_id] = mk; am_idx[sg_id] = mi; }
  workgroupBarrier();
  var bk = am_keys[0];
  var bi = am_idx[0];
  for (var s = 1u; s < sg_count; s = s + 1u) {
    let sk = am_keys[s];
    let si = am_idx[s];
    if (${better("sk", "si", "bk", "bi")}) { bk = sk; bi = si; }
  }
  return bi;
}`;
  }
  return `var<workgroup> am_keys: array<u32, ${wg}>;
var<workgroup> am_idx: array<u32, ${wg}>;
fn am_reduce(k: u32, i: u32, lid: u32) -> u32 {
  workgroupBarrier();
  am_keys[lid] = k;
  am_idx[lid] = i;
  workgroupBarrier();
  var s = ${wg / 2}u;
  loop {
    if (s == 0u) { break; }
    if (lid < s) {
      let ok = am_keys[lid + s];
      let oi = am_idx[lid + s];
      if (${better("ok", "oi", "am_keys[lid]", "am_idx[lid]")}) { am_keys[lid] = ok; am_idx[lid] = oi; }
    }
    workgroupBarrier();
    s = s / 2u;
  }
  let r = am_idx[0];
  workgroupBarrier();
  return r;
}`;
}

export function argmax(rt: Runtime, x: View, axis: number, out: View, subgroups = false): void {
  const n = x.shape[axis];
  const shape = x.shape.map((d, i) => (i === axis ? 1 : d));
  let total = 1;
  for (const d of shape) total *= d;
  if (total === 0) return;
  const c = coalesce(shape, [x.strides]);
  const t = wgslType(x.storage.dtype);
  const params = [
    total,
    n,
    c.shape.length,
    x.offset,
    ...c.shape,
    ...c.strides[0],
    x.strides[axis],
    out.offset,
  ];
  const buffers = [
    { buffer: (x.storage as GpuStorage).buffer, access: "r" as const },
    { buffer: (out.storage as GpuStorage).buffer, access: "rw" as const },
  ];
  const binds = bindings([
    { name: "X", type: t, access: "r" },
    { name: "O", type: "i32", access: "rw" },
  ]);
  if (n >= ARGMAX_WORKGROUP_MIN) {
    // One workgroup per output: each invocation scans a strided share of the axis keeping
    // its first maximum, then the workgroup picks the largest key, first index.
    rt.dispatch({
      key: `argmax-wg:${t}:${subgroups ? "sg" : "wg"}`,
      wgsl: () => `${enableSubgroups(subgroups)}${binds}
${MATH}
${STRIDED_OFFSET}
${argmaxKey(t)}
${argmaxReducer(WG, subgroups)}
${reduceEntry(WG, subgroups)}
  if (group >= P[0]) { return; }
  let n = P[1];
  let step = P[4u + 2u * P[2]];
  let base = xoff(group);
  var bk = 0u;
  var bi = 0xffffffffu;
  for (var j = lid; j < n; j = j + ${WG}u) {
    let k = am_key(X[base + j * step]);
    if (k > bk || bi == 0xffffffffu) { bk = k; bi = j; }
  }
  let r = am_reduce(bk, bi, lid);
  if (lid == 0u) { O[P[5u + 2u * P[2]] + group] = i32(r); }
}`,
      buffers,
      params,
      groups: grid(total),
    });
    return;
  }
  const W = 256;
  rt.dispatch({
    key: `argmax:${t}`,
    wgsl: () => `${binds}
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
    buffers,
    params,
    groups: grid(Math.ceil(total / W)),
  });
}
