/**
 * Batched matmul: tiled through workgroup shared memory with register blocking (each
 * invocation accumulates a TM×TN block in registers, fully unrolled). Three size classes pick
 * the tile; operands are strided (transposes and broadcast batches arrive as views), and the
 * global→shared loads are laid out so that consecutive invocations read consecutive addresses
 * along whichever axis of the operand has unit stride.
 */

import type { View } from "../../backend.js";
import type { GpuStorage, Runtime } from "../runtime.js";
import { bindings, entry, grid, MAX_GROUPS } from "../wgsl.js";

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

/**
 * The size class for an M×N output: the largest tile that still gives the GPU enough
 * workgroups to fill it (a 1024² product has only 64 tiles of 128², too few for a big GPU).
 */
export function pickTile(M: number, N: number, batch: number): Tile {
  const tiles = (t: Tile) => Math.ceil(M / t.BM) * Math.ceil(N / t.BN) * batch;
  if (tiles(TILES.large) >= 200) return TILES.large;
  if (tiles(TILES.medium) >= 100) return TILES.medium;
  return TILES.small;
}

function shader(t: Tile, aKFast: boolean, bNFast: boolean): string {
  const { BM, BN, BK, TM, TN } = t;
  const TX = BN / TN;
  const threads = (BM / TM) * (BN / TN);
  const aLoads = (BM * BK) / threads;
  const bLoads = (BN * BK) / threads;
  const lines: string[] = [];
  // Invocation (tx, ty) owns the TM×TN block at rows ty·TM.., columns tx·TN.. (measured on an
  // H200: faster than interleaved ownership, which avoids bank conflicts but costs locality).
  for (let i = 0; i < TM; i++) lines.push(`  let a${i} = As[kk * ${BM}u + ty * ${TM}u + ${i}u];`);
  for (let j = 0; j < TN; j++) lines.push(`  let b${j} = Bs[kk * ${BN}u + tx * ${TN}u + ${j}u];`);
  for (let i = 0; i < TM; i++)
    for (let j = 0; j < TN; j++) lines.push(`  c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`);
  const decl: string[] = [];
  for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) decl.push(`  var c${i}_${j} = 0.0;`);
  const stores: string[] = [];
  for (let i = 0; i < TM; i++)
    for (let j = 0; j < TN; j++)
      stores.push(
        `  if (m0 + ${i}u < M && n0 + ${j}u < N) { O[ob + (m0 + ${i}u) * N + n0 + ${j}u] = c${i}_${j}; }`,
      );
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
  // z = batch index · slices + K slice (split-K writes one partial product per slice)
  let z = wid.z + P[11] * ${MAX_GROUPS}u;
  let slice = z % P[12];
  var p = z / P[12];
  let kbeg = slice * P[13];
  let kend = min(K, kbeg + P[13]);
  var ab = P[4]; var bb = P[5];
  let ob = P[6] + z * M * N;
  var d = brank;
  loop {
    if (d == 0u) { break; }
    d = d - 1u;
    let s = P[14u + d];
    let i = p % s;
    p = p / s;
    ab = ab + i * P[14u + brank + d];
    bb = bb + i * P[14u + 2u * brank + d];
  }
  let tx = lid % ${TX}u;
  let ty = lid / ${TX}u;
  let rowBase = wid.y * ${BM}u;
  let colBase = wid.x * ${BN}u;
${decl.join("\n")}
  for (var k0 = kbeg; k0 < kend; k0 = k0 + ${BK}u) {
    for (var l = 0u; l < ${aLoads}u; l = l + 1u) {
      let e = lid + l * ${threads}u;
      ${aIdx}
      let gm = rowBase + mm; let gk = k0 + kk2;
      var v = 0.0;
      if (gm < M && gk < kend) { v = A[ab + gm * ars + gk * acs]; }
      As[kk2 * ${BM}u + mm] = v;
    }
    for (var l = 0u; l < ${bLoads}u; l = l + 1u) {
      let e = lid + l * ${threads}u;
      ${bIdx}
      let gn = colBase + nn; let gk = k0 + kk2;
      var v = 0.0;
      if (gn < N && gk < kend) { v = B[bb + gk * brs + gn * bcs]; }
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
  const base = [M, N, K, batchShape.length, a.offset, b.offset, out.offset, ars, acs, brs, bcs];
  const tail = [...batchShape, ...a.strides.slice(0, rank - 2), ...b.strides.slice(0, rank - 2)];
  const gx = Math.ceil(N / t.BN);
  const gy = Math.ceil(M / t.BM);
  if (gx > MAX_GROUPS || gy > MAX_GROUPS) {
    throw new Error(`webgpu matmul: ${M}×${N} output needs more than ${MAX_GROUPS} tiles per axis`);
  }
  // Split-K when the output has too few tiles to fill the GPU but K is long (weight gradients:
  // [d, tokens]·[tokens, d']): slices of K run in parallel into partial products, then summed.
  const tiles = gx * gy * batch;
  let slices = 1;
  let kchunk = K;
  if (tiles < 128 && K >= 512) {
    slices = Math.min(16, Math.ceil(K / 256), Math.ceil(256 / tiles));
    kchunk = Math.ceil(K / slices / t.BK) * t.BK;
    slices = Math.ceil(K / kchunk);
  }
  const partial = slices > 1 ? rt.acquire(batch * slices * M * N * 4) : null;
  const target = partial ?? (out.storage as GpuStorage).buffer;
  const z = batch * slices;
  for (let z0 = 0; z0 < z; z0 += MAX_GROUPS) {
    rt.dispatch({
      key: `matmul:${t.name}:${aKFast ? "k" : "m"}${bNFast ? "n" : "k"}`,
      wgsl: () => shader(t, aKFast, bNFast),
      buffers: [
        { buffer: (a.storage as GpuStorage).buffer, access: "r" },
        { buffer: (b.storage as GpuStorage).buffer, access: "r" },
        { buffer: target, access: "rw" },
      ],
      params: [
        ...base.slice(0, 6),
        partial ? 0 : out.offset,
        ...base.slice(7),
        z0 / MAX_GROUPS,
        slices,
        kchunk,
        ...tail,
      ],
      groups: [gx, gy, Math.min(MAX_GROUPS, z - z0)],
    });
  }
  if (partial) {
    const total = batch * M * N;
    rt.dispatch({
      key: "matmul:splitk-sum",
      wgsl: () => `${bindings([
        { name: "S", type: "f32", access: "r" },
        { name: "O", type: "f32", access: "rw" },
      ])}
${entry(256)}
  if (gi >= P[0]) { return; }
  let mn = P[1]; let slices = P[2];
  let p = gi / mn; let i = gi % mn;
  var acc = 0.0;
  for (var s = 0u; s < slices; s = s + 1u) { acc = acc + S[(p * slices + s) * mn + i]; }
  O[P[3] + gi] = acc;
}`,
      buffers: [
        { buffer: partial, access: "r" },
        { buffer: (out.storage as GpuStorage).buffer, access: "rw" },
      ],
      params: [total, M * N, slices, out.offset],
      groups: grid(Math.ceil(total / 256)),
    });
    rt.release(partial);
  }
}
