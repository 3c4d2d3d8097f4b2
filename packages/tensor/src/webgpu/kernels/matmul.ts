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

/**
 * The vec4 fast path for operands whose inner axes are contiguous (A's K axis, B's N axis) with
 * every offset and stride a multiple of 4: 256 invocations per workgroup (16×16), each owning
 * (BM/16)×(BN/16) outputs as 4×4 blocks spaced 64 apart (so that a warp's shared-memory reads
 * are consecutive vec4s, conflict-free), one vec4 global load per operand per 1024 elements,
 * a k-tile of 8 and two shared-memory buffers: the next k-tile's global loads are in flight
 * while the current one is multiplied, and one barrier per k-tile suffices. At 128×128 the two
 * buffers fill exactly WebGPU's default 16 KiB of workgroup storage.
 */
function vec4Shader(t: Tile): string {
  const { BM, BN } = t;
  const RG = BM / 64; // 4-row groups per invocation
  const CG = BN / 64; // 4-column groups per invocation
  const A4 = BM / 4; // vec4s per k row of the A tile
  const B4 = BN / 4;
  const aLoads = Math.ceil((BM * 2) / 256); // A tile: BM rows × 2 vec4s
  const bLoads = Math.ceil((BN * 2) / 256); // B tile: 8 rows × BN/4 vec4s
  const decl: string[] = [];
  const body: string[] = [];
  const stores: string[] = [];
  for (let g = 0; g < RG; g++) body.push(`      let a${g} = As[sa + ${g * 16}u + ty];`);
  for (let h = 0; h < CG; h++) body.push(`      let b${h} = Bs[sb + ${h * 16}u + tx];`);
  const comp = ["x", "y", "z", "w"];
  for (let g = 0; g < RG; g++)
    for (let i = 0; i < 4; i++)
      for (let h = 0; h < CG; h++) {
        const c = `c${g * 4 + i}_${h}`;
        decl.push(`  var ${c} = vec4<f32>();`);
        body.push(`      ${c} = fma(vec4<f32>(a${g}.${comp[i]}), b${h}, ${c});`);
        stores.push(
          `  if (m${g * 4 + i} < M && n${h} < N) { O[(ob + m${g * 4 + i} * N + n${h}) / 4u] = ${c}; }`,
        );
      }
  const rows: string[] = [];
  for (let g = 0; g < RG; g++)
    for (let i = 0; i < 4; i++)
      rows.push(`  let m${g * 4 + i} = rowBase + ${g * 64 + i}u + ty * 4u;`);
  for (let h = 0; h < CG; h++) rows.push(`  let n${h} = colBase + ${h * 64}u + tx * 4u;`);
  return `${bindings([
    { name: "A", type: "vec4<f32>", access: "r" },
    { name: "B", type: "vec4<f32>", access: "r" },
    { name: "O", type: "vec4<f32>", access: "rw" },
  ])}
var<workgroup> As: array<vec4<f32>, ${2 * 8 * A4}>;
var<workgroup> Bs: array<vec4<f32>, ${2 * 8 * B4}>;
var<private> ra: array<vec4<f32>, ${aLoads}>;
var<private> rb: array<vec4<f32>, ${bLoads}>;
// Global → registers for the k-tile at k0 (zeros past M, N or the slice's end).
fn fetch(lid: u32, k0: u32, kend: u32, rowBase: u32, colBase: u32, ab: u32, bb: u32) {
  let M = P[0]; let N = P[1]; let ars = P[7]; let brs = P[9];
  for (var l = 0u; l < ${aLoads}u; l = l + 1u) {
    let e = lid + l * 256u;
    let gm = rowBase + e / 2u; let gk = k0 + (e % 2u) * 4u;
    var v = vec4<f32>();
    if (e < ${BM * 2}u && gm < M && gk < kend) { v = A[(ab + gm * ars + gk) / 4u]; }
    ra[l] = v;
  }
  for (var l = 0u; l < ${bLoads}u; l = l + 1u) {
    let e = lid + l * 256u;
    let gk = k0 + e / ${B4}u; let gn = colBase + (e % ${B4}u) * 4u;
    var v = vec4<f32>();
    if (e < ${BN * 2}u && gn < N && gk < kend) { v = B[(bb + gk * brs + gn) / 4u]; }
    rb[l] = v;
  }
}
// Registers → shared buffer buf: A transposed (k-major), B as loaded.
fn stash(lid: u32, buf: u32) {
  for (var l = 0u; l < ${aLoads}u; l = l + 1u) {
    let e = lid + l * 256u;
    if (e < ${BM * 2}u) {
      let m = e / 2u; let k = buf * 8u + (e % 2u) * 4u;
      let v = ra[l];
      As[k * ${A4}u + m / 4u][m % 4u] = v.x;
      As[(k + 1u) * ${A4}u + m / 4u][m % 4u] = v.y;
      As[(k + 2u) * ${A4}u + m / 4u][m % 4u] = v.z;
      As[(k + 3u) * ${A4}u + m / 4u][m % 4u] = v.w;
    }
  }
  for (var l = 0u; l < ${bLoads}u; l = l + 1u) {
    let e = lid + l * 256u;
    if (e < ${BN * 2}u) { Bs[buf * ${8 * B4}u + e] = rb[l]; }
  }
}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = P[0]; let N = P[1]; let K = P[2];
  let brank = P[3];
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
  let tx = lid % 16u;
  let ty = lid / 16u;
  let rowBase = wid.y * ${BM}u;
  let colBase = wid.x * ${BN}u;
${decl.join("\n")}
  fetch(lid, kbeg, kend, rowBase, colBase, ab, bb);
  stash(lid, 0u);
  workgroupBarrier();
  var buf = 0u;
  for (var k0 = kbeg; k0 < kend; k0 = k0 + 8u) {
    let next = k0 + 8u;
    if (next < kend) { fetch(lid, next, kend, rowBase, colBase, ab, bb); }
    for (var kk = 0u; kk < 8u; kk = kk + 1u) {
      let sa = (buf * 8u + kk) * ${A4}u;
      let sb = (buf * 8u + kk) * ${B4}u;
${body.join("\n")}
    }
    if (next < kend) { stash(lid, 1u - buf); }
    workgroupBarrier();
    buf = 1u - buf;
  }
${rows.join("\n")}
${stores.join("\n")}
}`;
}

/** vec4 variants of the large and medium tiles (the small one keeps the general path). */
const VEC4: Partial<Record<string, Tile>> = {
  large: { name: "large-v4", BM: 128, BN: 128, BK: 8, TM: 8, TN: 8 },
  medium: { name: "medium-v4", BM: 64, BN: 64, BK: 8, TM: 4, TN: 4 },
};

/** Whether a, b and out allow the vec4 path: unit inner strides, everything else a multiple of 4. */
function vec4Able(a: View, b: View, out: View, K: number, N: number): boolean {
  const rank = a.shape.length;
  const by4 = (x: number) => x % 4 === 0;
  if (a.strides[rank - 1] !== 1 || b.strides[rank - 1] !== 1) return false;
  if (!by4(K) || !by4(N) || !by4(a.offset) || !by4(b.offset) || !by4(out.offset)) return false;
  if (!by4(a.strides[rank - 2]) || !by4(b.strides[rank - 2])) return false;
  for (let d = 0; d < rank - 2; d++) {
    if (a.shape[d] !== 1 && !by4(a.strides[d])) return false;
    if (b.shape[d] !== 1 && !by4(b.strides[d])) return false;
  }
  return true;
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
  const picked = tile ?? pickTile(M, N, batch);
  const fast = vec4Able(a, b, out, K, N) ? VEC4[picked.name] : undefined;
  const t = fast ?? picked;
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
      key: fast
        ? `matmul:${t.name}`
        : `matmul:${t.name}:${aKFast ? "k" : "m"}${bNFast ? "n" : "k"}`,
      wgsl: () => (fast ? vec4Shader(t) : shader(t, aKFast, bNFast)),
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
