/**
 * Batched matmul: tiled through workgroup shared memory with register blocking (each
 * invocation accumulates a TM×TN block in registers, fully unrolled). Three size classes pick
 * the tile; operands are strided (transposes and broadcast batches arrive as views), and the
 * global→shared loads are laid out so that consecutive invocations read consecutive addresses
 * along whichever axis of the operand has unit stride.
 */

import type { View } from "../../backend.js";
import type { GpuStorage, Runtime } from "../runtime.js";
import { bindings, MAX_GROUPS } from "../wgsl.js";

export interface Tile {
  name: string;
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  TN: number;
}

export const TILES: Record<"large" | "medium" | "small", Tile> = {
  large: { name: "large", BM: 128, BN: 128, BK: 8, TM: 8, TN: 8 },
  medium: { name: "medium", BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 },
  small: { name: "small", BM: 32, BN: 32, BK: 16, TM: 2, TN: 2 },
};

/** The size class for an M×N output. */
export function pickTile(M: number, N: number, batch: number): Tile {
  const work = M * N * batch;
  if (M >= 256 && N >= 256 && work >= 512 * 512) return TILES.large;
  if (M >= 48 && N >= 48) return TILES.medium;
  return TILES.small;
}

function shader(t: Tile, aKFast: boolean, bNFast: boolean): string {
  const { BM, BN, BK, TM, TN } = t;
  const TX = BN / TN;
  const threads = (BM / TM) * (BN / TN);
  const aLoads = (BM * BK) / threads;
  const bLoads = (BN * BK) / threads;
  const lines: string[] = [];
  for (let i = 0; i < TM; i++) lines.push(`  let a${i} = As[kk * ${BM}u + ty * ${TM}u + ${i}u];`);
  for (let j = 0; j < TN; j++) lines.push(`  let b${j} = Bs[kk * ${BN}u + tx * ${TN}u + ${j}u];`);
  for (let i = 0; i < TM; i++)
    for (let j = 0; j < TN; j++) lines.push(`  c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`);
  const decl: string[] = [];
  for (let i = 0; i < TM; i++)
    for (let j = 0; j < TN; j++) decl.push(`  var c${i}_${j} = 0.0;`);
  const stores: string[] = [];
  for (let i = 0; i < TM; i++)
    for (let j = 0; j < TN; j++)
      stores.push(`  if (m0 + ${i}u < M && n0 + ${j}u < N) { O[ob + (m0 + ${i}u) * N + n0 + ${j}u] = c${i}_${j}; }`);
  // A tile element e → (m, k): k varies fastest when A's K axis has unit stride.
  const aIdx = aKFast
    ? `let mm = e / ${BK}u; let kk2 = e % ${BK}u;`
    : `let kk2 = e / ${BM}u; let mm = e % ${BM}u;`;
  const bIdx = bNFast
    ? `let kk2 = e / ${BN}u; let nn = e % ${BN}u;`
    : `let nn = e / ${BK}u; let kk2 = e % ${BK}u;`;
  return `${bindings([
    { name: "A", type: "f32", access: "r" },
    { name: "B", type: "f32", access: "r" },
    { name: "O", type: "f32", access: "rw" },
  ])}
var<workgroup> As: array<f32, ${BM * BK}>;
var<workgroup> Bs: array<f32, ${BN * BK}>;
@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = P[0]; let N = P[1]; let K = P[2];
  let brank = P[3];
  let ars = P[7]; let acs = P[8]; let brs = P[9]; let bcs = P[10];
  // batch index → operand offsets
  var p = wid.z + P[11] * ${MAX_GROUPS}u;
  var ab = P[4]; var bb = P[5];
  let ob = P[6] + p * M * N;
  var d = brank;
  loop {
    if (d == 0u) { break; }
    d = d - 1u;
    let s = P[12u + d];
    let i = p % s;
    p = p / s;
    ab = ab + i * P[12u + brank + d];
    bb = bb + i * P[12u + 2u * brank + d];
  }
  let tx = lid % ${TX}u;
  let ty = lid / ${TX}u;
  let rowBase = wid.y * ${BM}u;
  let colBase = wid.x * ${BN}u;
${decl.join("\n")}
  for (var k0 = 0u; k0 < K; k0 = k0 + ${BK}u) {
    for (var l = 0u; l < ${aLoads}u; l = l + 1u) {
      let e = lid + l * ${threads}u;
      ${aIdx}
      let gm = rowBase + mm; let gk = k0 + kk2;
      var v = 0.0;
      if (gm < M && gk < K) { v = A[ab + gm * ars + gk * acs]; }
      As[kk2 * ${BM}u + mm] = v;
    }
    for (var l = 0u; l < ${bLoads}u; l = l + 1u) {
      let e = lid + l * ${threads}u;
      ${bIdx}
      let gn = colBase + nn; let gk = k0 + kk2;
      var v = 0.0;
      if (gn < N && gk < K) { v = B[bb + gk * brs + gn * bcs]; }
      Bs[kk2 * ${BN}u + nn] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk = kk + 1u) {
${lines.join("\n")}
    }
    workgroupBarrier();
  }
  let m0 = rowBase + ty * ${TM}u;
  let n0 = colBase + tx * ${TN}u;
${stores.join("\n")}
}`;
}

export function matmul(rt: Runtime, a: View, b: View, out: View, tile?: Tile): void {
  const rank = a.shape.length;
  const M = a.shape[rank - 2];
  const K = a.shape[rank - 1];
  const N = b.shape[rank - 1];
  const batchShape = out.shape.slice(0, rank - 2);
  let batch = 1;
  for (const d of batchShape) batch *= d;
  if (batch === 0 || M === 0 || N === 0) return;
  const t = tile ?? pickTile(M, N, batch);
  const ars = a.strides[rank - 2];
  const acs = a.strides[rank - 1];
  const brs = b.strides[rank - 2];
  const bcs = b.strides[rank - 1];
  const aKFast = acs === 1 || (ars !== 1 && acs <= ars);
  const bNFast = bcs === 1 || (brs !== 1 && bcs <= brs);
  const base = [
    M,
    N,
    K,
    batchShape.length,
    a.offset,
    b.offset,
    out.offset,
    ars,
    acs,
    brs,
    bcs,
  ];
  const tail = [
    ...batchShape,
    ...a.strides.slice(0, rank - 2),
    ...b.strides.slice(0, rank - 2),
  ];
  const gx = Math.ceil(N / t.BN);
  const gy = Math.ceil(M / t.BM);
  if (gx > MAX_GROUPS || gy > MAX_GROUPS) {
    throw new Error(`webgpu matmul: ${M}×${N} output needs more than ${MAX_GROUPS} tiles per axis`);
  }
  for (let z0 = 0; z0 < batch; z0 += MAX_GROUPS) {
    rt.dispatch({
      key: `matmul:${t.name}:${aKFast ? "k" : "m"}${bNFast ? "n" : "k"}`,
      wgsl: () => shader(t, aKFast, bNFast),
      buffers: [
        { buffer: (a.storage as GpuStorage).buffer, access: "r" },
        { buffer: (b.storage as GpuStorage).buffer, access: "r" },
        { buffer: (out.storage as GpuStorage).buffer, access: "rw" },
      ],
      params: [...base, z0 / MAX_GROUPS, ...tail],
      groups: [gx, gy, Math.min(MAX_GROUPS, batch - z0)],
    });
  }
}
