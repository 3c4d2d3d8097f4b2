/**
 * One-invocation-per-element kernels over contiguous operands: im2col / col2im, pooling and
 * its backward (each written as a gather, so no two invocations write the same element),
 * index-select, and index-add (scatter with duplicate indices, through a compare-and-swap
 * loop on the float's bits, since WGSL has no float atomics).
 */

import { type Conv2dGeometry, convGeometryWords, type View } from "../../backend.js";
import type { Access, GpuStorage, Runtime } from "../runtime.js";
import { bindings, entry, grid, HALF, load, MATH, wgslType } from "../wgsl.js";

const WG = 256;

interface Bound {
  name: string;
  view: View;
  access: Access;
  /** Override the WGSL element type (atomics). */
  type?: string;
}

function perElement(
  rt: Runtime,
  key: string,
  total: number,
  operands: Bound[],
  params: number[],
  body: string,
  prelude = "",
): void {
  if (total === 0) return;
  rt.dispatch({
    key,
    wgsl: () => `${bindings(
      operands.map((o) => ({
        name: o.name,
        type: o.type ?? wgslType(o.view.storage.dtype),
        access: o.access,
      })),
    )}
${MATH}
${prelude}
${entry(WG)}
  if (gi >= P[0]) { return; }
${body}
}`,
    buffers: operands.map((o) => ({
      buffer: (o.view.storage as GpuStorage).buffer,
      access: o.access,
    })),
    params: [total, ...params],
    groups: grid(Math.ceil(total / WG)),
  });
}

/** Geometry names: P[1..14] = N C H W OH OW kH kW sH sW pH pW dH dW; P[15], P[16] offsets. */
const GEOM = /* wgsl */ `
  let C = i32(P[2]); let H = i32(P[3]); let W = i32(P[4]); let OH = i32(P[5]); let OW = i32(P[6]);
  let kH = i32(P[7]); let kW = i32(P[8]); let sH = i32(P[9]); let sW = i32(P[10]);
  let pH = i32(P[11]); let pW = i32(P[12]); let dH = i32(P[13]); let dW = i32(P[14]);
  let x0 = P[15]; let o0 = P[16];
  let e = i32(gi);
`;

export function im2col(rt: Runtime, x: View, g: Conv2dGeometry, cols: View): void {
  let total = 1;
  for (const d of cols.shape) total *= d;
  perElement(
    rt,
    "im2col",
    total,
    [
      { name: "X", view: x, access: "r" },
      { name: "O", view: cols, access: "rw" },
    ],
    [...convGeometryWords(x.shape, g), x.offset, cols.offset],
    `${GEOM}
  let p = e % (OH * OW);
  let row = (e / (OH * OW)) % (C * kH * kW);
  let n = e / (OH * OW * C * kH * kW);
  let c = row / (kH * kW);
  let ki = (row / kW) % kH;
  let kj = row % kW;
  let h = (p / OW) * sH - pH + ki * dH;
  let w = (p % OW) * sW - pW + kj * dW;
  var v = 0.0;
  if (h >= 0 && h < H && w >= 0 && w < W) { v = X[x0 + u32(((n * C + c) * H + h) * W + w)]; }
  O[o0 + gi] = v;`,
  );
}

/** Loops over the windows (oh, ow) whose tap (ki, kj) lands on input (h, w); runs `visit`. */
function windowsCovering(visit: string): string {
  return `
  for (var ki = 0; ki < kH; ki = ki + 1) {
    let hh = h + pH - ki * dH;
    if (hh < 0 || hh % sH != 0 || hh / sH >= OH) { continue; }
    let oh = hh / sH;
    for (var kj = 0; kj < kW; kj = kj + 1) {
      let ww = w + pW - kj * dW;
      if (ww < 0 || ww % sW != 0 || ww / sW >= OW) { continue; }
      let ow = ww / sW;
${visit}
    }
  }`;
}

export function col2im(rt: Runtime, cols: View, g: Conv2dGeometry, dx: View): void {
  let total = 1;
  for (const d of dx.shape) total *= d;
  perElement(
    rt,
    "col2im",
    total,
    [
      { name: "X", view: cols, access: "r" },
      { name: "O", view: dx, access: "rw" },
    ],
    [...convGeometryWords(dx.shape, g), cols.offset, dx.offset],
    `${GEOM}
  let w = e % W;
  let h = (e / W) % H;
  let c = (e / (W * H)) % C;
  let n = e / (W * H * C);
  var acc = 0.0;
  ${windowsCovering(`      let row = (c * kH + ki) * kW + kj;
      acc = acc + X[x0 + u32(((n * C * kH * kW + row) * OH + oh) * OW + ow)];`)}
  O[o0 + gi] = acc;`,
  );
}

export function pool2d(
  rt: Runtime,
  kind: "max" | "avg",
  x: View,
  g: Conv2dGeometry,
  out: View,
  argmax: View | null,
): void {
  let total = 1;
  for (const d of out.shape) total *= d;
  const ops: Bound[] = [
    { name: "X", view: x, access: "r" },
    { name: "O", view: out, access: "rw" },
  ];
  if (argmax) ops.push({ name: "A", view: argmax, access: "rw" });
  perElement(
    rt,
    `pool2d:${kind}:${argmax ? 1 : 0}`,
    total,
    ops,
    [...convGeometryWords(x.shape, g), x.offset, out.offset, argmax?.offset ?? 0],
    `${GEOM}
  let ow = e % OW;
  let oh = (e / OW) % OH;
  let plane = e / (OW * OH);
  var best = ${kind === "max" ? "-f_inf()" : "0.0"};
  var bi = -1;
  for (var ki = 0; ki < kH; ki = ki + 1) {
    let h = oh * sH - pH + ki * dH;
    if (h < 0 || h >= H) { continue; }
    for (var kj = 0; kj < kW; kj = kj + 1) {
      let w = ow * sW - pW + kj * dW;
      if (w < 0 || w >= W) { continue; }
      let v = X[x0 + u32((plane * H + h) * W + w)];
      ${
        kind === "max"
          ? "if (v > best || bi < 0) { best = v; bi = h * W + w; }"
          : "best = best + v / f32(kH * kW);"
      }
    }
  }
  O[o0 + gi] = best;
  ${argmax ? "A[P[17] + gi] = bi;" : ""}`,
  );
}

export function pool2dBackward(
  rt: Runtime,
  kind: "max" | "avg",
  dy: View,
  g: Conv2dGeometry,
  argmax: View | null,
  dx: View,
): void {
  let total = 1;
  for (const d of dx.shape) total *= d;
  const ops: Bound[] = [
    { name: "X", view: dy, access: "r" },
    { name: "O", view: dx, access: "rw" },
  ];
  if (kind === "max") ops.push({ name: "A", view: argmax!, access: "r" });
  perElement(
    rt,
    `pool2dBackward:${kind}`,
    total,
    ops,
    [...convGeometryWords(dx.shape, g), dy.offset, dx.offset, argmax?.offset ?? 0],
    `${GEOM}
  let w = e % W;
  let h = (e / W) % H;
  let plane = e / (W * H);
  var acc = 0.0;
  ${windowsCovering(
    kind === "max"
      ? `      let o = u32((plane * OH + oh) * OW + ow);
      if (A[P[17] + o] == h * W + w) { acc = acc + X[x0 + o]; }`
      : `      acc = acc + X[x0 + u32((plane * OH + oh) * OW + ow)] / f32(kH * kW);`,
  )}
  O[o0 + gi] = acc;`,
  );
}

/** out[o, l, i] = x[o, ids[l], i]; x contiguous [outer, n, inner]. */
export function indexSelect(rt: Runtime, x: View, axis: number, index: View, out: View): void {
  const n = x.shape[axis];
  const L = index.shape[0];
  let inner = 1;
  for (const d of x.shape.slice(axis + 1)) inner *= d;
  let total = 1;
  for (const d of out.shape) total *= d;
  perElement(
    rt,
    `indexSelect:${x.storage.dtype}`,
    total,
    [
      { name: "X", view: x, access: "r" },
      { name: "I", view: index, access: "r" },
      { name: "O", view: out, access: "rw" },
    ],
    [n, L, inner, x.offset, index.offset, out.offset],
    `  let n = P[1]; let L = P[2]; let inner = P[3];
  let i = gi % inner;
  let l = (gi / inner) % L;
  let o = gi / (inner * L);
  let at = P[4] + (o * n + u32(I[P[5] + l])) * inner + i;
  O[P[6] + gi] = ${load("X", x.storage.dtype, "at")};`,
  );
}

/**
 * Index lists up to this long are summed in a fixed order (see {@link indexAdd}); finding each
 * position's next repeat costs O(L²) comparisons, 4M at 2,048 positions, 67M at this bound.
 */
export const ORDERED_INDEX_ADD_MAX = 8192;

/** The shape of a scatter-add: out [outer, n, inner] += src [outer, L, inner] at ids [L]. */
interface Scatter {
  L: number;
  /** Elements of src (one invocation each). */
  total: number;
  /** P[1..6]: n, L, inner and the offsets of src, index and out. */
  params: number[];
}

/**
 * WGSL shared by the scatter-add kernels: invocation gi's place (i, l, o) in src, and `t`, the
 * out element it adds to.
 */
const SCATTER_AT = `  let n = P[1]; let L = P[2]; let inner = P[3];
  let i = gi % inner;
  let l = (gi / inner) % L;
  let o = gi / (inner * L);
  let t = P[6] + (o * n + u32(I[P[5] + l])) * inner + i;`;

/**
 * Reading and writing element `t` of the scatter's output `O`, whatever its dtype. With
 * `exclusive`, each element has one writer (the ordered kernels): f32 is then plain loads and
 * stores. f16 output (a half KV cache) is packed two per word, bound as atomics: a write
 * replaces its own half in a compare-and-swap loop, so a neighbour written at the same time
 * keeps its half; sums are taken in f32 and rounded once per write.
 */
function scatterOut(out: View, exclusive: boolean): { type: string; prelude: string } {
  const dtype = out.storage.dtype;
  if (dtype === "f32" && exclusive)
    return {
      type: "f32",
      prelude: `
fn out_get(t: u32) -> f32 { return O[t]; }
fn out_set(t: u32, x: f32) { O[t] = x; }
fn out_add(t: u32, x: f32) { O[t] = O[t] + x; }`,
    };
  if (dtype === "f16")
    return {
      type: "atomic<u32>",
      prelude: `${HALF}
fn out_get(t: u32) -> f32 { return unpack2x16float(atomicLoad(&O[t >> 1u]))[t & 1u]; }
// half t of its word becomes x (plus its current value when add), the other half untouched
fn out_swap(t: u32, x: f32, add: bool) {
  let sh = (t & 1u) * 16u;
  var old = atomicLoad(&O[t >> 1u]);
  loop {
    let v = select(x, unpack2x16float(old)[t & 1u] + x, add);
    let r = atomicCompareExchangeWeak(&O[t >> 1u], old, (old & ~(0xffffu << sh)) | (f2h(v) << sh));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}
fn out_set(t: u32, x: f32) { out_swap(t, x, false); }
fn out_add(t: u32, x: f32) { out_swap(t, x, true); }`,
    };
  if (dtype === "f32")
    return {
      type: "atomic<u32>",
      prelude: `
fn out_get(t: u32) -> f32 { return bitcast<f32>(atomicLoad(&O[t])); }
fn out_set(t: u32, x: f32) { atomicStore(&O[t], bitcast<u32>(x)); }
fn out_add(t: u32, x: f32) {
  var old = atomicLoad(&O[t]);
  loop {
    let r = atomicCompareExchangeWeak(&O[t], old, bitcast<u32>(bitcast<f32>(old) + x));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}`,
    };
  return {
    type: "atomic<i32>",
    prelude: `
fn out_get(t: u32) -> i32 { return atomicLoad(&O[t]); }
fn out_set(t: u32, x: i32) { atomicStore(&O[t], x); }
fn out_add(t: u32, x: i32) { atomicAdd(&O[t], x); }`,
  };
}

/**
 * out.index_select(axis, index) += src: scatter-add with duplicate indices, out contiguous (f32,
 * f16 or i32). Up to {@link ORDERED_INDEX_ADD_MAX} float positions, deterministically: a first
 * kernel links each position to the next one with the same index and marks first occurrences;
 * a second one has each first occurrence add its chain in position order (the sequential sum,
 * so the result does not depend on how the GPU schedules invocations). One position (a
 * KV-cache write) needs no links. Beyond the bound, and for i32, every position adds itself
 * atomically (a compare-and-swap loop for floats): the sum's order then varies from run to run.
 */
export function indexAdd(rt: Runtime, src: View, axis: number, index: View, out: View): void {
  const n = out.shape[axis];
  const L = index.shape[0];
  let inner = 1;
  for (const d of out.shape.slice(axis + 1)) inner *= d;
  let total = 1;
  for (const d of src.shape) total *= d;
  if (total === 0) return;
  const g = { L, total, params: [n, L, inner, src.offset, index.offset, out.offset] };
  if (out.storage.dtype !== "i32" && L <= ORDERED_INDEX_ADD_MAX)
    orderedIndexAdd(rt, g, src, index, out);
  else atomicIndexAdd(rt, g, src, index, out);
}

/** The key suffix and bindings of a scatter's source and output (see {@link scatterOut}). */
function scatterIO(src: View, out: View, exclusive: boolean) {
  const o = scatterOut(out, exclusive);
  return {
    tag: `${out.storage.dtype}:${src.storage.dtype}`,
    prelude: o.prelude,
    src: { name: "S", view: src, access: "r" as const },
    out: { name: "O", view: out, access: "rw" as const, type: o.type },
  };
}

function orderedIndexAdd(rt: Runtime, g: Scatter, src: View, index: View, out: View): void {
  const read = (at: string) => `f32(${load("S", src.storage.dtype, at)})`;
  const io = scatterIO(src, out, true);
  const I = { name: "I", view: index, access: "r" as const };
  if (g.L === 1) {
    // nothing repeats: each element adds its own value
    perElement(
      rt,
      `indexAdd:one:${io.tag}`,
      g.total,
      [io.src, I, io.out],
      g.params,
      `${SCATTER_AT}
  out_add(t, ${read("P[4] + gi")});`,
      io.prelude,
    );
    return;
  }
  // links: [0, L) the next position with the same index (or -1), [L, 2L) 1 at first occurrences
  const links = rt.newStorage(out.storage.backend, "i32", 2 * g.L);
  const linksView: View = { storage: links, shape: [2 * g.L], strides: [1], offset: 0 };
  try {
    perElement(
      rt,
      "indexAdd:links",
      g.L,
      [I, { name: "N", view: linksView, access: "rw" }],
      [index.offset],
      `  let L = P[0];
  let v = I[P[1] + gi];
  var next = -1;
  for (var j = gi + 1u; j < L; j = j + 1u) {
    if (I[P[1] + j] == v) { next = i32(j); break; }
  }
  var first = 1;
  for (var j = 0u; j < gi; j = j + 1u) {
    if (I[P[1] + j] == v) { first = 0; break; }
  }
  N[gi] = next;
  N[L + gi] = first;`,
    );
    perElement(
      rt,
      `indexAdd:ordered:${io.tag}`,
      g.total,
      [io.src, I, { name: "N", view: linksView, access: "r" }, io.out],
      g.params,
      `${SCATTER_AT}
  if (N[L + l] == 0) { return; }
  var acc = out_get(t);
  var j = i32(l);
  loop {
    acc = acc + ${read("P[4] + (o * L + u32(j)) * inner + i")};
    j = N[j];
    if (j < 0) { break; }
  }
  out_set(t, acc);`,
      io.prelude,
    );
  } finally {
    rt.release(links.buffer);
  }
}

function atomicIndexAdd(rt: Runtime, g: Scatter, src: View, index: View, out: View): void {
  const io = scatterIO(src, out, false);
  const v = load("S", src.storage.dtype, "P[4] + gi");
  perElement(
    rt,
    `indexAdd:${io.tag}`,
    g.total,
    [io.src, { name: "I", view: index, access: "r" }, io.out],
    g.params,
    `${SCATTER_AT}
  out_add(t, ${out.storage.dtype === "i32" ? `i32(${v})` : `f32(${v})`});`,
    io.prelude,
  );
}
