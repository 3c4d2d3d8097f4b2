/**
 * Matmul for outputs with very few rows (decoding: one token per sequence), out = a·b with
 * M ≤ {@link MATVEC_MAX_ROWS} per batch entry. The tiled kernels would give each workgroup a
 * 32-row (or larger) tile of which one row is real, and only ⌈N / 32⌉ workgroups, too few to
 * fill a GPU. Here each workgroup computes a handful of outputs of one row, and its 256
 * invocations share the K loop, so every element of `b` is read once, by neighbouring
 * invocations at neighbouring addresses:
 * - "kfast" (b has unit stride along K: a transposed weight, `x·Wᵀ`): 32 invocations per
 *   output each take every 32nd k of the weight row, 8 outputs per workgroup;
 * - "nfast" (any other layout; coalesced when b has unit stride along N): 64 outputs per
 *   workgroup, each summed by 4 invocations taking every 4th k.
 * The partial sums meet in workgroup memory. Batch axes broadcast through their strides as in
 * matmul.ts; `out` is contiguous. Either operand may be f16 storage (unpacked as it is read):
 * decoding with f16 weights reads half the bytes, and decoding is bound by those reads.
 */

import type { View } from "../../backend.js";
import type { GpuStorage, Runtime } from "../runtime.js";
import { bindings, halfTag, load, MAX_GROUPS, wgslType } from "../wgsl.js";
import { batchWalk, type OperandTypes } from "./matmul.js";

/** Largest M (rows per batch entry) the matvec kernels take. */
export const MATVEC_MAX_ROWS = 4;

const WG = 256;

interface Layout {
  /** Outputs per workgroup. */
  outputs: number;
  /** Invocations per output (they split K). */
  lanes: number;
}

const LAYOUTS: Record<"kfast" | "nfast", Layout> = {
  kfast: { outputs: 8, lanes: 32 },
  nfast: { outputs: 64, lanes: 4 },
};

/** Whether the matvec path takes this product (few rows, a grid that fits). */
export function matvecApplies(a: View, out: View): boolean {
  const rank = a.shape.length;
  const M = a.shape[rank - 2];
  let rows = M;
  for (const d of out.shape.slice(0, rank - 2)) rows *= d;
  return M > 0 && M <= MATVEC_MAX_ROWS && rows <= MAX_GROUPS;
}

/**
 * `pairs`: kfast with f16 weights whose rows start on word boundaries: each lane reads whole
 * 32-bit words (two consecutive k), so a warp's load covers 128 bytes of the row instead of 64
 * and each word is unpacked once.
 */
function shader(kind: "kfast" | "nfast", ty: OperandTypes, pairs = false): string {
  const { outputs, lanes } = LAYOUTS[kind];
  // Output `o` of the workgroup and this invocation's lane: kfast puts an output's lanes in
  // consecutive invocations (they read consecutive k of one weight row); nfast puts outputs in
  // consecutive invocations (they read consecutive n of one row of b).
  const mapping =
    kind === "kfast"
      ? `let o = lid / ${lanes}u; let lane = lid % ${lanes}u;`
      : `let o = lid % ${outputs}u; let lane = lid / ${outputs}u;`;
  const slot = (l: string) =>
    kind === "kfast" ? `o * ${lanes}u + (${l})` : `(${l}) * ${outputs}u + o`;
  return `${bindings([
    { name: "A", type: wgslType(ty.a), access: "r" },
    { name: "B", type: wgslType(ty.b), access: "r" },
    { name: "O", type: "f32", access: "rw" },
  ])}
var<workgroup> red: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = P[0]; let N = P[1]; let K = P[2]; let nb = P[3];
  let ars = P[7]; let acs = P[8]; let brs = P[9]; let bcs = P[10];
  // wid.y = batch entry · M + row
  let m = wid.y % M;
  var p = wid.y / M;
  var ao = P[4];
  var bo = P[5];
${batchWalk("nb", 11, "ao", "bo")}
  ${mapping}
  let n = wid.x * ${outputs}u + o;
  let arow = ao + m * ars;
  var acc = 0.0;
  if (n < N) {
    let bcol = bo + n * bcs;
${
  pairs
    ? `    let words = (K + 1u) / 2u;
    let wcol = bcol >> 1u;
    for (var w = lane; w < words; w = w + ${lanes}u) {
      let k = 2u * w;
      let h = unpack2x16float(B[wcol + w]);
      acc = acc + ${load("A", ty.a, "arow + k * acs")} * h.x;
      if (k + 1u < K) { acc = acc + ${load("A", ty.a, "arow + (k + 1u) * acs")} * h.y; }
    }`
    : `    for (var k = lane; k < K; k = k + ${lanes}u) {
      acc = acc + ${load("A", ty.a, "arow + k * acs")} * ${load("B", ty.b, "bcol + k * brs")};
    }`
}
  }
  red[lid] = acc;
  workgroupBarrier();
  var s = ${lanes / 2}u;
  loop {
    if (s == 0u) { break; }
    if (lane < s) { red[${slot("lane")}] = red[${slot("lane")}] + red[${slot("lane + s")}]; }
    workgroupBarrier();
    s = s / 2u;
  }
  if (lane == 0u && n < N) { O[P[6] + wid.y * N + n] = red[${slot("0u")}]; }
}`;
}

/** out = a·b over the last two axes for M ≤ MATVEC_MAX_ROWS (see {@link matvecApplies}). */
export function matvec(rt: Runtime, a: View, b: View, out: View): void {
  const rank = a.shape.length;
  const M = a.shape[rank - 2];
  const K = a.shape[rank - 1];
  const N = b.shape[rank - 1];
  const batchShape = out.shape.slice(0, rank - 2);
  let rows = M;
  for (const d of batchShape) rows *= d;
  if (rows === 0 || N === 0) return;
  const brs = b.strides[rank - 2];
  const kind = brs === 1 && K > 1 ? "kfast" : "nfast";
  const { outputs } = LAYOUTS[kind];
  const ty: OperandTypes = { a: a.storage.dtype, b: b.storage.dtype };
  // Whole words of an f16 weight row: every row (and batch entry) starts at an even element.
  const pairs =
    kind === "kfast" &&
    ty.b === "f16" &&
    b.offset % 2 === 0 &&
    b.strides[rank - 1] % 2 === 0 &&
    b.strides.slice(0, rank - 2).every((s) => s % 2 === 0);
  const groupsX = Math.ceil(N / outputs);
  if (groupsX > MAX_GROUPS) {
    throw new Error(`webgpu matvec: ${N} outputs per row need more than ${MAX_GROUPS} workgroups`);
  }
  rt.dispatch({
    key: `matvec:${kind}${halfTag(ty.a, ty.b)}${pairs ? ":pairs" : ""}`,
    wgsl: () => shader(kind, ty, pairs),
    buffers: [
      { buffer: (a.storage as GpuStorage).buffer, access: "r" },
      { buffer: (b.storage as GpuStorage).buffer, access: "r" },
      { buffer: (out.storage as GpuStorage).buffer, access: "rw" },
    ],
    params: [
      M,
      N,
      K,
      batchShape.length,
      a.offset,
      b.offset,
      out.offset,
      a.strides[rank - 2],
      a.strides[rank - 1],
      brs,
      b.strides[rank - 1],
      ...batchShape,
      ...a.strides.slice(0, rank - 2),
      ...b.strides.slice(0, rank - 2),
    ],
    groups: [groupsX, rows, 1],
  });
}
