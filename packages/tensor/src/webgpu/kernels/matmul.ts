/**
 * Batched matmul: tiled through workgroup shared memory with register blocking (each
 * invocation accumulates a TM×TN block in registers, fully unrolled). Three size classes pick
 * the tile; operands are strided (transposes and broadcast batches arrive as views), and the
 * global→shared loads are laid out so that consecutive invocations read consecutive addresses
 * along whichever axis of the operand has unit stride.
 *
 * Two compute precisions over the same f32 storage:
 * - "f32" (default): f32 tiles, f32 FMAs.
 * - "f16" (needs the device feature "shader-f16"): A/B tiles are rounded to f16 on their way
 *   into workgroup memory (stored as f16 vectors), widened back when read, and accumulated in
 *   f32. A product of two f16 values is exact in f32 (11 + 11 significant bits ≤ 24), so each
 *   output is the f32 sum of the exact products of the f16-rounded inputs: the numerics of
 *   cuBLAS's fp16-input / fp32-accumulate path (PyTorch `torch.matmul` on half tensors with
 *   `allow_fp16_reduced_precision_reduction = False`), up to summation order. Inputs beyond the
 *   f16 range (|x| > 65504) overflow to ±inf. Half the bytes per tile element let the f16 tiles
 *   go deeper in K for the same workgroup memory (see {@link F16_TILES}).
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

/** The matmul size classes (see {@link pickTile}). */
export type TileClass = "large" | "medium" | "small";

/** Compute precision of the matmul kernels: f32, or f16 inputs with f32 accumulation. */
export type MatmulPrecision = "f32" | "f16";

export const TILES: Record<TileClass, Tile> = {
  large: { name: "large", BM: 128, BN: 128, BK: 8, TM: 8, TN: 8 },
  medium: { name: "medium", BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 },
  small: { name: "small", BM: 32, BN: 32, BK: 16, TM: 2, TN: 2 },
};

/**
 * Tiles of the f16 kernels: the f32 classes' output blocks and register blocking (so
 * {@link pickTile} picks the same class for a shape), with K tiles of 32. Workgroup memory is
 * (BM + BN)·BK·2 bytes: 16 KiB for the large tile (exactly WebGPU's default
 * `maxComputeWorkgroupStorageSize`, so every adapter can run it), 8 KiB medium, 4 KiB small;
 * the f32 tiles use 8 / 8 / 4 KiB at BK 8 / 16 / 16. A deeper tile means fewer barriers per K
 * (a quarter of f32's at 128², half at 64² and 32²) and longer runs of FMAs between them.
 */
export const F16_TILES: Record<TileClass, Tile> = {
  large: { name: "large", BM: 128, BN: 128, BK: 32, TM: 8, TN: 8 },
  medium: { name: "medium", BM: 64, BN: 64, BK: 32, TM: 4, TN: 4 },
  small: { name: "small", BM: 32, BN: 32, BK: 32, TM: 2, TN: 2 },
};

/** The tile classes of a precision. */
export function matmulTiles(precision: MatmulPrecision): Record<TileClass, Tile> {
  return precision === "f16" ? F16_TILES : TILES;
}

/**
 * Validates a matmul precision for a device: "f16" needs the "shader-f16" feature enabled on
 * it. Throws naming the adapter, the feature and what to do otherwise.
 */
export function checkMatmulPrecision(
  precision: unknown,
  device: { features: { has(feature: string): boolean } },
  adapter: string,
): MatmulPrecision {
  if (precision !== "f32" && precision !== "f16") {
    throw new Error(
      `webgpu backend: matmulPrecision must be "f32" or "f16", got ${JSON.stringify(precision)}`,
    );
  }
  if (precision === "f16" && !device.features.has("shader-f16")) {
    throw new Error(
      `webgpu backend: matmulPrecision "f16" needs the WebGPU feature "shader-f16", which the ` +
        `device on adapter "${adapter}" does not have (the adapter does not offer it, or the ` +
        `device was requested without it); use matmulPrecision "f32"`,
    );
  }
  return precision;
}

/**
 * The size class for an M×N output: the largest tile that still gives the GPU enough
 * workgroups to fill it (a 1024² product has only 64 tiles of 128², too few for a big GPU).
 */
export function pickTile(M: number, N: number, batch: number, tiles = TILES): Tile {
  const count = (t: Tile) => Math.ceil(M / t.BM) * Math.ceil(N / t.BN) * batch;
  if (count(tiles.large) >= 200) return tiles.large;
  if (count(tiles.medium) >= 100) return tiles.medium;
  return tiles.small;
}

/** Vector width of an f16 tile read: TM (or TN) consecutive values as vec4s, vec2s or scalars. */
const vecWidth = (n: number): 1 | 2 | 4 => (n % 4 === 0 ? 4 : n % 2 === 0 ? 2 : 1);
const vecType = (w: number, scalar: string) => (w === 1 ? scalar : `vec${w}<${scalar}>`);
const lane = (w: number, c: number) => (w === 1 ? "" : `.${"xyzw"[c]}`);

/** Throws unless `t` tiles evenly for `precision` and fits the device's workgroup limits. */
function checkTile(rt: Runtime, t: Tile, precision: MatmulPrecision): void {
  const { BM, BN, BK, TM, TN } = t;
  const threads = (BM / TM) * (BN / TN);
  const [VA, VB] = precision === "f16" ? [vecWidth(TM), vecWidth(TN)] : [1, 1];
  const bytes = (BM + BN) * BK * (precision === "f16" ? 2 : 4);
  const limits = rt.device.limits;
  const bad =
    !Number.isInteger(threads) ||
    [BM, BN, BK, TM, TN].some((d) => !Number.isInteger(d) || d < 1) ||
    BM % TM !== 0 ||
    BN % TN !== 0 ||
    ((BM * BK) / VA) % threads !== 0 ||
    ((BN * BK) / VB) % threads !== 0;
  if (bad) {
    throw new Error(
      `webgpu matmul: tile ${JSON.stringify(t)} does not divide evenly: need BM % TM = BN % TN = 0 ` +
        `and BM·BK, BN·BK multiples of the ${threads} invocations` +
        (precision === "f16" ? ` times the f16 vector widths (${VA}, ${VB})` : ""),
    );
  }
  if (
    threads > limits.maxComputeInvocationsPerWorkgroup ||
    bytes > limits.maxComputeWorkgroupStorageSize
  ) {
    throw new Error(
      `webgpu matmul: ${precision} tile "${t.name}" needs ${threads} invocations and ${bytes} bytes ` +
        `of workgroup memory; this device allows ${limits.maxComputeInvocationsPerWorkgroup} and ` +
        `${limits.maxComputeWorkgroupStorageSize}`,
    );
  }
}

/** Batch offsets, the K slice and the invocation's place in the tile (shared by both kernels). */
function prologue(BM: number, BN: number, TX: number): string {
  return `  let M = P[0]; let N = P[1]; let K = P[2];
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
  let colBase = wid.x * ${BN}u;`;
}

/** The TM×TN accumulators and their guarded stores. */
function accumulators(TM: number, TN: number): { decl: string; stores: string } {
  const decl: string[] = [];
  for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) decl.push(`  var c${i}_${j} = 0.0;`);
  const stores: string[] = [];
  for (let i = 0; i < TM; i++)
    for (let j = 0; j < TN; j++)
      stores.push(
        `  if (m0 + ${i}u < M && n0 + ${j}u < N) { O[ob + (m0 + ${i}u) * N + n0 + ${j}u] = c${i}_${j}; }`,
      );
  return { decl: decl.join("\n"), stores: stores.join("\n") };
}

const OPERANDS = bindings([
  { name: "A", type: "f32", access: "r" },
  { name: "B", type: "f32", access: "r" },
  { name: "O", type: "f32", access: "rw" },
]);

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
  const { decl, stores } = accumulators(TM, TN);
  // A tile element e → (m, k): k varies fastest when A's K axis has unit stride.
  const aIdx = aKFast
    ? `let mm = e / ${BK}u; let kk2 = e % ${BK}u;`
    : `let kk2 = e / ${BM}u; let mm = e % ${BM}u;`;
  const bIdx = bNFast
    ? `let kk2 = e / ${BN}u; let nn = e % ${BN}u;`
    : `let nn = e / ${BK}u; let kk2 = e % ${BK}u;`;
  return `${OPERANDS}
var<workgroup> As: array<f32, ${BM * BK}>;
var<workgroup> Bs: array<f32, ${BN * BK}>;
@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
${prologue(BM, BN, TX)}
${decl}
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
${stores}
}`;
}

/**
 * One operand's global → shared load for the f16 kernel: each load fills one f16 vector of
 * `w` consecutive rows of A (columns of B) at one k, rounding the f32 values on the way.
 * Consecutive invocations take consecutive k when K has unit stride (`kFast`), else consecutive
 * vectors, whose `w` reads are then adjacent in memory.
 */
function f16Load(
  o: { src: "A" | "B"; dst: "As" | "Bs"; span: number; bound: string; base: string },
  idx: { g: string; origin: string; stride: string; kstride: string },
  w: number,
  kFast: boolean,
  BK: number,
  loads: number,
  threads: number,
): string {
  const per = o.span / w; // vectors per k row of the shared tile
  const reads: string[] = [];
  for (let c = 0; c < w; c++) {
    const at = c === 0 ? "g" : c === 1 ? `g + ${idx.stride}` : `g + ${c}u * ${idx.stride}`;
    reads.push(
      `if (${idx.g}${c === 0 ? "" : ` + ${c}u`} < ${o.bound}) { v${lane(w, c)} = ${o.src}[${at}]; }`,
    );
  }
  // With K unit-stride, runs of G = 8 consecutive k (one 32-byte sector of f32 per row) vary
  // fastest, then the vector, then the next run of k: a 32-wide subgroup stores into 4 distinct
  // vectors per k row rather than 32 rows of one column (a 32-way bank conflict at BK 32); the
  // f32 large tile's BK of 8 gives it the same access pattern.
  const G = BK % 8 === 0 ? 8 : BK;
  const order = !kFast
    ? `let q = e % ${per}u; let kk2 = e / ${per}u;`
    : G === BK
      ? `let kk2 = e % ${BK}u; let q = e / ${BK}u;`
      : `let kk2 = e % ${G}u + e / ${G * per}u * ${G}u; let q = e / ${G}u % ${per}u;`;
  return `    for (var l = 0u; l < ${loads}u; l = l + 1u) {
      let e = lid + l * ${threads}u;
      ${order}
      let ${idx.g} = ${idx.origin} + q * ${w}u; let gk = k0 + kk2;
      var v = ${vecType(w, "f32")}(0.0);
      if (gk < kend) {
        let g = ${o.base} + ${idx.g} * ${idx.stride} + gk * ${idx.kstride};
        ${reads.join("\n        ")}
      }
      ${o.dst}[kk2 * ${per}u + q] = ${vecType(w, "f16")}(v);
    }`;
}

function shaderF16(t: Tile, aKFast: boolean, bNFast: boolean): string {
  const { BM, BN, BK, TM, TN } = t;
  const TX = BN / TN;
  const threads = (BM / TM) * (BN / TN);
  const [VA, VB] = [vecWidth(TM), vecWidth(TN)];
  const lines: string[] = [];
  // Invocation (tx, ty) owns the TM×TN block at rows ty·TM.., columns tx·TN.., as in the f32
  // kernel; its TM (TN) values per k are TM/VA (TN/VB) vector reads, widened to f32 (exact).
  const at = (per: number, owner: string, n: number, q: number) =>
    `kk * ${per}u + ${n === 1 ? owner : `${owner} * ${n}u`}${q === 0 ? "" : ` + ${q}u`}`;
  for (let q = 0; q < TM / VA; q++)
    lines.push(`      let a${q} = ${vecType(VA, "f32")}(As[${at(BM / VA, "ty", TM / VA, q)}]);`);
  for (let q = 0; q < TN / VB; q++)
    lines.push(`      let b${q} = ${vecType(VB, "f32")}(Bs[${at(BN / VB, "tx", TN / VB, q)}]);`);
  for (let i = 0; i < TM; i++)
    for (let j = 0; j < TN; j++) {
      const a = `a${Math.floor(i / VA)}${lane(VA, i % VA)}`;
      const b = `b${Math.floor(j / VB)}${lane(VB, j % VB)}`;
      lines.push(`      c${i}_${j} = fma(${a}, ${b}, c${i}_${j});`);
    }
  const { decl, stores } = accumulators(TM, TN);
  const aLoad = f16Load(
    { src: "A", dst: "As", span: BM, bound: "M", base: "ab" },
    { g: "gm", origin: "rowBase", stride: "ars", kstride: "acs" },
    VA,
    aKFast,
    BK,
    (BM * BK) / VA / threads,
    threads,
  );
  const bLoad = f16Load(
    { src: "B", dst: "Bs", span: BN, bound: "N", base: "bb" },
    { g: "gn", origin: "colBase", stride: "bcs", kstride: "brs" },
    VB,
    !bNFast,
    BK,
    (BN * BK) / VB / threads,
    threads,
  );
  return `enable f16;
${OPERANDS}
// k-major tiles of f16 vectors: As[k][m / ${VA}], Bs[k][n / ${VB}]
var<workgroup> As: array<${vecType(VA, "f16")}, ${(BM * BK) / VA}>;
var<workgroup> Bs: array<${vecType(VB, "f16")}, ${(BN * BK) / VB}>;
@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
${prologue(BM, BN, TX)}
${decl}
  for (var k0 = kbeg; k0 < kend; k0 = k0 + ${BK}u) {
${aLoad}
${bLoad}
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk = kk + 1u) {
${lines.join("\n")}
    }
    workgroupBarrier();
  }
  let m0 = rowBase + ty * ${TM}u;
  let n0 = colBase + tx * ${TN}u;
${stores}
}`;
}

/**
 * out = a·b over the last two axes, batch axes broadcast. `tile` forces a tile (default: the
 * size class of {@link pickTile} among the precision's tiles); `precision` "f16" needs the
 * device feature "shader-f16" (see {@link checkMatmulPrecision}).
 */
export function matmul(
  rt: Runtime,
  a: View,
  b: View,
  out: View,
  tile?: Tile,
  precision: MatmulPrecision = "f32",
): void {
  const rank = a.shape.length;
  const M = a.shape[rank - 2];
  const K = a.shape[rank - 1];
  const N = b.shape[rank - 1];
  const batchShape = out.shape.slice(0, rank - 2);
  let batch = 1;
  for (const d of batchShape) batch *= d;
  if (batch === 0 || M === 0 || N === 0) return;
  const f16 = precision === "f16";
  const t = tile ?? pickTile(M, N, batch, matmulTiles(precision));
  if (tile || f16) checkTile(rt, t, precision);
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
  // The pipeline key names the precision: f32 kernels are "matmul:<tile>:<layout>", f16 ones
  // "matmul-f16:<tile>:<layout>" (the split-K sum is f32 for both).
  const layout = `${aKFast ? "k" : "m"}${bNFast ? "n" : "k"}`;
  for (let z0 = 0; z0 < z; z0 += MAX_GROUPS) {
    rt.dispatch({
      key: `${f16 ? "matmul-f16" : "matmul"}:${t.name}:${layout}`,
      wgsl: () => (f16 ? shaderF16(t, aKFast, bNFast) : shader(t, aKFast, bNFast)),
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
