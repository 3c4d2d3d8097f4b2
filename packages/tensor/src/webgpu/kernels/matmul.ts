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

import type { DType, View } from "../../backend.js";
import type { GpuStorage, Runtime } from "../runtime.js";
import { bindings, entry, grid, halfTag, load, MAX_GROUPS, wgslType } from "../wgsl.js";

/**
 * A matmul tile: a workgroup computes a BM×BN block of the output, K in steps of BK through
 * workgroup memory, and each of its (BM/TM)·(BN/TN) invocations a TM×TN block in registers. The
 * optional fields select kernel variants (see {@link MATMUL_VARIANTS}); without them the tile
 * runs the classic kernel (flat tiles: what the small class and the f16 tiles use).
 */
export interface Tile {
  name: string;
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  TN: number;
  /**
   * Workgroup-memory layout. "flat" (default): `array<f32>` tiles, A k-major, read one f32 at a
   * time. "vec4": k-major `array<array<vec4<f32>, BM/4>, BK>` tiles (the same for B), filled
   * one whole vec4 per load (4 rows of A / columns of B at one k: no component stores) and read
   * as vec4s, with the k loop unrolled; needs TM and TN multiples of 4.
   */
  layout?: "flat" | "vec4";
  /**
   * Which outputs an invocation owns. "block" (default): rows ty·TM…ty·TM+TM−1 (columns alike).
   * "strided": interleaved, so that neighbouring invocations read neighbouring workgroup-memory
   * words: flat layout rows ty + i·(BM/TM); vec4 layout 4-row groups ty + g·(BM/TM), i.e. rows
   * 4·ty + 4·g·(BM/TM) + 0…3.
   */
  map?: "block" | "strided";
  /** Unroll the k loop over the workgroup tile (flat layout; the vec4 layout always does). */
  unroll?: boolean;
  /** f32 words of padding after each k row of the A tile (vec4 layout; a multiple of 4). */
  padA?: number;
  /**
   * Load the next K tile from global memory into registers while the current one is being
   * multiplied (vec4 layout): one tile of workgroup memory, two barriers per K tile.
   */
  prefetch?: boolean;
  /**
   * Two tiles of workgroup memory, used in turn (vec4 layout with `prefetch`): the tile loaded
   * for the next K step goes into the other buffer, so one barrier per K tile instead of two.
   */
  doubleBuffer?: boolean;
  /**
   * A second copy of the global loads without bound checks, taken for K tiles that lie wholly
   * inside both operands (vec4 layout; the test is uniform across the workgroup, so no
   * invocation diverges): all but the edge tiles of a large product.
   */
  interior?: boolean;
}

/** The matmul size classes (see {@link pickTile}). */
export type TileClass = "large" | "medium" | "small";

/** Compute precision of the matmul kernels: f32, or f16 inputs with f32 accumulation. */
export type MatmulPrecision = "f32" | "f16";

/** The 128² tile with 8×8 outputs per invocation. */
const T128 = { BM: 128, BN: 128, TM: 8, TN: 8 };
/** The shipped 64² tile: 4×4 outputs per invocation, K tiles of 16, vec4 tiles, padded A. */
const T64 = { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4, layout: "vec4", padA: 4 } as const;
/** vec4 workgroup tiles and interleaved 4-row groups. */
const VEC4_STRIDED = { layout: "vec4", map: "strided" } as const;
/** {@link VEC4_STRIDED} with 4 words of padding per k row of A. */
const VEC4_STRIDED_PAD = { ...VEC4_STRIDED, padA: 4 } as const;

/**
 * The f32 size classes' kernels, chosen by the device check's sweeps of {@link MATMUL_VARIANTS}
 * on an H200 (2026-11-26, docs/BENCHMARKS.md "webgpu-matmul"): the 128² tile with vec4
 * workgroup tiles, interleaved 4-row groups, register prefetch into two workgroup tiles used in
 * turn, and unchecked loads for K tiles inside both operands (41.3 TFLOP/s at 4096 in the
 * sweep, 0.82x cuBLAS fp32 in the matmul part of the same run; 1.15x the kernel it replaced,
 * `t128-8x8-bk8-vec4-strided-pad-prefetch`); and the 64² tile with vec4 tiles (1.27x the
 * classic 64² kernel at 2048). The 128² tile's two buffers take exactly WebGPU's default 16 KiB
 * of workgroup memory, the 64² tile 8.3 KiB. The 32² tile (2×2 per invocation) has no vec4
 * form and stays classic.
 */
export const TILES: Record<TileClass, Tile> = {
  large: {
    name: "large",
    ...T128,
    BK: 8,
    ...VEC4_STRIDED,
    prefetch: true,
    doubleBuffer: true,
    interior: true,
  },
  medium: { name: "medium", ...T64 },
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
 * Named f32 kernel variants for tuning on a GPU (the `matmulTile` and `matmulTiles` backend
 * options take these names as well as the size classes; `npm run bench -- webgpu-matmul
 * --variant NAME` times one, the device check's "tiles" part all of them). Each tested one
 * hypothesis about why the classic 128² kernel stayed near 0.4x of cuBLAS on an H200, mostly as
 * one change on top of the variant before it. The sweep's figures (H200, Dawn's defaults,
 * GFLOP/s at 2048 / 4096 relative to the classic 128² kernel in the same run; docs/BENCHMARKS.md
 * "webgpu-matmul") follow each:
 *
 * - `large`, `medium`: the shipped size classes ({@link TILES}).
 * - `t128-8x8-bk8`, `t64-4x4-bk16`: the classic kernels (flat `array<f32>` tiles, scalar
 *   workgroup reads, block ownership), the classes' kernels until the first sweep (1.00; 0.85 /
 *   0.87).
 * - `t128-8x8-bk8-unroll`: the k loop unrolled in WGSL (1.15 / 1.17).
 * - `t128-8x8-bk8-strided`: interleaved ownership (rows ty + 16·i), conflict-free scalar reads
 *   of B (1.06 / 1.08).
 * - `t128-8x8-bk8-vec4`: vec4 tiles read as vec4s (4 instead of 16 workgroup loads per k step),
 *   filled by whole-vec4 stores, k loop unrolled; block ownership (1.19 / 1.24).
 * - `t128-8x8-bk8-vec4-strided`: each invocation's 8 rows (columns) as two groups of 4 spaced 64
 *   apart: a warp's vec4 reads of B are consecutive (1.34 / 1.36).
 * - `t128-8x8-bk8-vec4-strided-pad`: + 4 words of padding per k row of A, so the k-major stores
 *   of a row-major A spread over the banks (1.39 / 1.33).
 * - `t128-8x8-bk16-vec4-strided-pad`: K tiles of 16, half the barriers per K (1.42 / 1.45; 16.5
 *   KiB of workgroup memory, above WebGPU's default 16 KiB: it needs an adapter that allows
 *   more, and the backend requests the adapter's maximum).
 * - `t128-8x8-bk8-vec4-strided-pad-prefetch`: register prefetch at BK 8, the next K tile's
 *   global loads issued into named registers before the current tile's FMAs (the `large`
 *   kernel from the first sweep until the interior loads: 1.42 / 1.46).
 * - `t128-8x8-bk16-vec4-strided-pad-prefetch`: prefetch at BK 16 (1.40 / 1.51).
 * - `t128x64-8x8-bk8-vec4-strided-pad`: 128×64 outputs by 128 invocations (1.35 / 1.30). As a
 *   class's kernel it would also move the class boundaries of {@link pickTile}.
 * - `t128-8x8-bk8-vec4-strided-db`, `t128-8x8-bk8-vec4-strided-pad-db`: prefetch into two
 *   workgroup tiles used in turn, one barrier per K tile instead of two (1.51 / 1.45 and 1.52 /
 *   1.45).
 * - `t128-8x8-bk16-vec4-strided-pad-prefetch-interior`, `t128-8x8-bk8-vec4-strided-pad-db-interior`:
 *   + unchecked loads for K tiles inside both operands (`interior`; 1.59 / 1.59 at BK 16; the
 *   second 32.1 / 41.2 TFLOP/s in a run without the classic kernel). `large` is the second
 *   without the padding, so that it fits WebGPU's default 16 KiB.
 * - `t64-4x4-bk16-vec4-strided-pad`, `t64-4x4-bk16-vec4-pad-prefetch`,
 *   `t64-4x4-bk16-vec4-strided-pad-prefetch`, `t64-4x4-bk16-vec4-pad-interior`,
 *   `t64-4x4-bk16-vec4-pad-prefetch-interior`: the 128² kernel's changes applied to `medium`
 *   (which the GPT-2 step's products mostly run). None was more than 3% faster than `medium`
 *   at 2048 or 4096 in any of four sweeps: within the run-to-run spread.
 *
 * Tried and dropped (two sweeps, GFLOP/s at 2048 / 4096; the BK 16 interior kernel made 31.8 /
 * 40.0 in the second): 256×128 and 128×256 output tiles with 16×8 / 8×16 per invocation (21.4-28.3
 * / 28.8-30.5; 128 accumulators per invocation), 128² by 128 invocations of 16×8 (19.1-22.5 /
 * 25.6-25.9), BK 16 with two buffers (21.4-24.6 / 24.4-25.1) and BK 32 (14.1-20.9 / 19.8-23.1).
 *
 * To make a winner the default, give its fields to the size class in {@link TILES} (keeping the
 * class's name, which the pipeline keys use).
 */
export const MATMUL_VARIANTS = {
  large: TILES.large,
  medium: TILES.medium,
  "t128-8x8-bk8": { name: "t128-8x8-bk8", ...T128, BK: 8 },
  "t64-4x4-bk16": { name: "t64-4x4-bk16", BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 },
  "t128-8x8-bk8-unroll": { name: "t128-8x8-bk8-unroll", ...T128, BK: 8, unroll: true },
  "t128-8x8-bk8-strided": { name: "t128-8x8-bk8-strided", ...T128, BK: 8, map: "strided" },
  "t128-8x8-bk8-vec4": { name: "t128-8x8-bk8-vec4", ...T128, BK: 8, layout: "vec4" },
  "t128-8x8-bk8-vec4-strided": {
    name: "t128-8x8-bk8-vec4-strided",
    ...T128,
    BK: 8,
    ...VEC4_STRIDED,
  },
  "t128-8x8-bk8-vec4-strided-pad": {
    name: "t128-8x8-bk8-vec4-strided-pad",
    ...T128,
    BK: 8,
    ...VEC4_STRIDED_PAD,
  },
  "t128-8x8-bk16-vec4-strided-pad": {
    name: "t128-8x8-bk16-vec4-strided-pad",
    ...T128,
    BK: 16,
    ...VEC4_STRIDED_PAD,
  },
  "t128-8x8-bk16-vec4-strided-pad-prefetch": {
    name: "t128-8x8-bk16-vec4-strided-pad-prefetch",
    ...T128,
    BK: 16,
    ...VEC4_STRIDED_PAD,
    prefetch: true,
  },
  "t128-8x8-bk8-vec4-strided-db": {
    name: "t128-8x8-bk8-vec4-strided-db",
    ...T128,
    BK: 8,
    ...VEC4_STRIDED,
    prefetch: true,
    doubleBuffer: true,
  },
  "t128-8x8-bk8-vec4-strided-pad-db": {
    name: "t128-8x8-bk8-vec4-strided-pad-db",
    ...T128,
    BK: 8,
    ...VEC4_STRIDED_PAD,
    prefetch: true,
    doubleBuffer: true,
  },
  "t64-4x4-bk16-vec4-strided-pad": {
    name: "t64-4x4-bk16-vec4-strided-pad",
    ...T64,
    map: "strided",
  },
  "t64-4x4-bk16-vec4-pad-prefetch": {
    name: "t64-4x4-bk16-vec4-pad-prefetch",
    ...T64,
    prefetch: true,
  },
  "t64-4x4-bk16-vec4-strided-pad-prefetch": {
    name: "t64-4x4-bk16-vec4-strided-pad-prefetch",
    ...T64,
    map: "strided",
    prefetch: true,
  },
  "t128x64-8x8-bk8-vec4-strided-pad": {
    name: "t128x64-8x8-bk8-vec4-strided-pad",
    ...T128,
    BN: 64,
    BK: 8,
    ...VEC4_STRIDED_PAD,
  },
  "t128-8x8-bk16-vec4-strided-pad-prefetch-interior": {
    name: "t128-8x8-bk16-vec4-strided-pad-prefetch-interior",
    ...T128,
    BK: 16,
    ...VEC4_STRIDED_PAD,
    prefetch: true,
    interior: true,
  },
  "t128-8x8-bk8-vec4-strided-pad-prefetch": {
    name: "t128-8x8-bk8-vec4-strided-pad-prefetch",
    ...T128,
    BK: 8,
    ...VEC4_STRIDED_PAD,
    prefetch: true,
  },
  "t128-8x8-bk8-vec4-strided-pad-db-interior": {
    name: "t128-8x8-bk8-vec4-strided-pad-db-interior",
    ...T128,
    BK: 8,
    ...VEC4_STRIDED_PAD,
    prefetch: true,
    doubleBuffer: true,
    interior: true,
  },
  "t64-4x4-bk16-vec4-pad-interior": {
    name: "t64-4x4-bk16-vec4-pad-interior",
    ...T64,
    interior: true,
  },
  "t64-4x4-bk16-vec4-pad-prefetch-interior": {
    name: "t64-4x4-bk16-vec4-pad-prefetch-interior",
    ...T64,
    prefetch: true,
    interior: true,
  },
} as const satisfies Record<string, Tile>;

/** The name of a matmul kernel variant (a key of {@link MATMUL_VARIANTS}). */
export type MatmulVariantName = keyof typeof MATMUL_VARIANTS;

/**
 * The tile the `matmulTile` option names for a precision: a size class ("large", "medium",
 * "small": that precision's tile) or a variant of {@link MATMUL_VARIANTS} (f32 only). Throws
 * naming the valid choices otherwise.
 */
export function resolveMatmulTile(name: string, precision: MatmulPrecision): Tile {
  const classes = matmulTiles(precision);
  if (Object.hasOwn(classes, name)) return classes[name as TileClass];
  if (Object.hasOwn(MATMUL_VARIANTS, name)) {
    if (precision !== "f32") {
      throw new Error(
        `webgpu backend: matmulTile "${name}" is an f32 kernel variant; with matmulPrecision ` +
          `"${precision}" use a size class (large, medium, small)`,
      );
    }
    return MATMUL_VARIANTS[name as MatmulVariantName];
  }
  throw new Error(
    `webgpu backend: unknown matmulTile ${JSON.stringify(name)}; expected a size class ` +
      `(large, medium, small) or a variant (${Object.keys(MATMUL_VARIANTS).join(", ")})`,
  );
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
  const variant =
    t.layout !== undefined ||
    t.map !== undefined ||
    t.unroll ||
    t.prefetch ||
    t.doubleBuffer ||
    t.interior;
  if (precision === "f16" && (variant || t.padA)) {
    throw new Error(
      `webgpu matmul: tile "${t.name}" is an f32 kernel variant; the f16 kernels take the plain tiles of F16_TILES`,
    );
  }
  const vec4 = t.layout === "vec4";
  const padA = t.padA ?? 0;
  if (!vec4 && (padA !== 0 || t.prefetch || t.interior)) {
    throw new Error(
      `webgpu matmul: tile "${t.name}": padA, prefetch and interior need layout "vec4" (got layout ${JSON.stringify(t.layout ?? "flat")})`,
    );
  }
  if (t.doubleBuffer && !(vec4 && t.prefetch)) {
    throw new Error(
      `webgpu matmul: tile "${t.name}": doubleBuffer needs layout "vec4" with prefetch`,
    );
  }
  if (vec4 && (TM % 4 !== 0 || TN % 4 !== 0 || padA % 4 !== 0 || padA < 0)) {
    throw new Error(
      `webgpu matmul: vec4 tile "${t.name}" needs TM, TN and padA multiples of 4 (got TM ${TM}, TN ${TN}, padA ${padA})`,
    );
  }
  // Elements each load fills: f16 vectors, whole vec4s in the vec4 layout, else scalars.
  const [VA, VB] = precision === "f16" ? [vecWidth(TM), vecWidth(TN)] : vec4 ? [4, 4] : [1, 1];
  const bytes =
    (vec4 ? (BM + padA + BN) * BK * 4 : (BM + BN) * BK * (precision === "f16" ? 2 : 4)) *
    (t.doubleBuffer ? 2 : 1);
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
        (precision === "f16" ? ` times the f16 vector widths (${VA}, ${VB})` : "") +
        (vec4 ? " times 4 (whole vec4 loads)" : ""),
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

/**
 * WGSL: batch index `p` (a var; the last batch axis fastest) over `rank` batch axes → the
 * operands' offsets: their sizes are P[at..], a's strides P[at + rank..], b's P[at + 2·rank..]
 * (a broadcast axis has stride 0). Adds to the vars `a` and `b`; consumes `p`.
 */
export function batchWalk(rank: string, at: number, a: string, b: string): string {
  return `  {
    var d = ${rank};
    loop {
      if (d == 0u) { break; }
      d = d - 1u;
      let size = P[${at}u + d];
      let i = p % size;
      p = p / size;
      ${a} = ${a} + i * P[${at}u + ${rank} + d];
      ${b} = ${b} + i * P[${at}u + 2u * ${rank} + d];
    }
  }`;
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
${batchWalk("brank", 14, "ab", "bb")}
  let tx = lid % ${TX}u;
  let ty = lid / ${TX}u;
  let rowBase = wid.y * ${BM}u;
  let colBase = wid.x * ${BN}u;`;
}

/**
 * The TM×TN accumulators and their guarded stores: accumulator (i, j) goes to row m0 + row(i),
 * column n0 + col(j) (default: the TM×TN block at (m0, n0)).
 */
function accumulators(
  TM: number,
  TN: number,
  row: (i: number) => number = (i) => i,
  col: (j: number) => number = (j) => j,
): { decl: string; stores: string } {
  const decl: string[] = [];
  for (let i = 0; i < TM; i++) for (let j = 0; j < TN; j++) decl.push(`  var c${i}_${j} = 0.0;`);
  const stores: string[] = [];
  for (let i = 0; i < TM; i++)
    for (let j = 0; j < TN; j++) {
      const [r, c] = [row(i), col(j)];
      stores.push(
        `  if (m0 + ${r}u < M && n0 + ${c}u < N) { O[ob + (m0 + ${r}u) * N + n0 + ${c}u] = c${i}_${j}; }`,
      );
    }
  return { decl: decl.join("\n"), stores: stores.join("\n") };
}

/**
 * Storage dtypes of the operands: f32, or f16 (packed pairs, widened to f32 as they are loaded
 * into the workgroup tiles); the output is f32.
 */
export interface OperandTypes {
  a: DType;
  b: DType;
}

function operands(ty: OperandTypes): string {
  return bindings([
    { name: "A", type: wgslType(ty.a), access: "r" },
    { name: "B", type: wgslType(ty.b), access: "r" },
    { name: "O", type: "f32", access: "rw" },
  ]);
}

function shader(t: Tile, aKFast: boolean, bNFast: boolean, ty: OperandTypes): string {
  const { BM, BN, BK, TM, TN } = t;
  const TX = BN / TN;
  const threads = (BM / TM) * (BN / TN);
  const aLoads = (BM * BK) / threads;
  const bLoads = (BN * BK) / threads;
  const TY = BM / TM;
  const strided = t.map === "strided";
  const lines: string[] = [];
  // Invocation (tx, ty) owns the TM×TN block at rows ty·TM.., columns tx·TN.. (measured on an
  // H200: faster than interleaved ownership, which avoids bank conflicts but costs locality).
  // The "strided" variant owns rows ty + i·TY, columns tx + j·TX instead.
  const aAt = (i: number) => (strided ? `ty + ${i * TY}u` : `ty * ${TM}u + ${i}u`);
  const bAt = (j: number) => (strided ? `tx + ${j * TX}u` : `tx * ${TN}u + ${j}u`);
  for (let i = 0; i < TM; i++) lines.push(`  let a${i} = As[kk * ${BM}u + ${aAt(i)}];`);
  for (let j = 0; j < TN; j++) lines.push(`  let b${j} = Bs[kk * ${BN}u + ${bAt(j)}];`);
  for (let i = 0; i < TM; i++)
    for (let j = 0; j < TN; j++) lines.push(`  c${i}_${j} = fma(a${i}, b${j}, c${i}_${j});`);
  const { decl, stores } = strided
    ? accumulators(
        TM,
        TN,
        (i) => i * TY,
        (j) => j * TX,
      )
    : accumulators(TM, TN);
  // The k loop over the tile, or (variant "unroll") BK copies of its body with kk a constant.
  const inner = t.unroll
    ? Array.from(
        { length: BK },
        (_, kk) => `    {\n      const kk = ${kk}u;\n${lines.join("\n")}\n    }`,
      ).join("\n")
    : `    for (var kk = 0u; kk < ${BK}u; kk = kk + 1u) {
${lines.join("\n")}
    }`;
  // A tile element e → (m, k): k varies fastest when A's K axis has unit stride.
  const aIdx = aKFast
    ? `let mm = e / ${BK}u; let kk2 = e % ${BK}u;`
    : `let kk2 = e / ${BM}u; let mm = e % ${BM}u;`;
  const bIdx = bNFast
    ? `let kk2 = e / ${BN}u; let nn = e % ${BN}u;`
    : `let nn = e / ${BK}u; let kk2 = e % ${BK}u;`;
  return `${operands(ty)}
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
      if (gm < M && gk < kend) { v = ${load("A", ty.a, "ab + gm * ars + gk * acs")}; }
      As[kk2 * ${BM}u + mm] = v;
    }
    for (var l = 0u; l < ${bLoads}u; l = l + 1u) {
      let e = lid + l * ${threads}u;
      ${bIdx}
      let gn = colBase + nn; let gk = k0 + kk2;
      var v = 0.0;
      if (gn < N && gk < kend) { v = ${load("B", ty.b, "bb + gk * brs + gn * bcs")}; }
      Bs[kk2 * ${BN}u + nn] = v;
    }
    workgroupBarrier();
${inner}
    workgroupBarrier();
  }
  let m0 = rowBase + ty${strided ? "" : ` * ${TM}u`};
  let n0 = colBase + tx${strided ? "" : ` * ${TN}u`};
${stores}
}`;
}

/** The index of buffer `buf` of a double-buffered workgroup tile ("" for a single tile). */
const tileBuffer = (buf?: number): string => (buf === undefined ? "" : `[${buf}]`);

/**
 * One operand's global → workgroup loads for the vec4 layout, unrolled: unit u of the tile (u =
 * lid + l·threads) fills one vec4, 4 consecutive rows of A (columns of B) at one k, into the
 * named register `${reg}${l}`; `store` moves the registers into the tile as whole vec4s (no
 * component stores into workgroup memory). With K of unit stride, runs of 8 consecutive k vary
 * fastest across invocations (one 32-byte sector per row per run), else consecutive vectors.
 * A unit's place in the tile and its global base address are loop-invariant (`setup`).
 */
function vec4Loads(
  o: { src: "A" | "B"; dtype: DType; dst: "As" | "Bs"; reg: string; span: number; bound: string },
  addr: { base: string; origin: string; stride: string; kstride: string },
  kFast: boolean,
  BK: number,
  threads: number,
): {
  setup: string;
  fetch: (k0: string) => string;
  fetchInterior: (k0: string) => string;
  store: (buf?: number) => string;
} {
  const per = o.span / 4; // vec4s per k row of the tile
  const units = (per * BK) / threads;
  const G = BK % 8 === 0 ? 8 : BK;
  const r = o.reg;
  const setup: string[] = [];
  const fetch: string[] = [];
  const interior: string[] = [];
  const store: string[] = [];
  const lanes = ["x", "y", "z", "w"];
  // Lane i of a unit: element g + i·stride of the operand.
  const element = (i: number) =>
    load(
      o.src,
      o.dtype,
      i === 0 ? "g" : i === 1 ? `g + ${addr.stride}` : `g + ${i}u * ${addr.stride}`,
    );
  for (let l = 0; l < units; l++) {
    const u = l === 0 ? "lid" : `(lid + ${l * threads}u)`;
    const [kk, q] = !kFast
      ? [`${u} / ${per}u`, `${u} % ${per}u`]
      : G === BK
        ? [`${u} % ${BK}u`, `${u} / ${BK}u`]
        : [`${u} % ${G}u + ${u} / ${G * per}u * ${G}u`, `${u} / ${G}u % ${per}u`];
    setup.push(
      `  let ${r}k${l} = ${kk}; let ${r}q${l} = ${q};`,
      `  let ${r}g${l} = ${addr.origin} + ${r}q${l} * 4u;`,
      `  let ${r}o${l} = ${addr.base} + ${r}g${l} * ${addr.stride} + ${r}k${l} * ${addr.kstride};`,
      `  var ${r}${l} = vec4<f32>(0.0);`,
    );
    const reads = lanes.map(
      (c, i) =>
        `if (${r}g${l}${i === 0 ? "" : ` + ${i}u`} < ${o.bound}) { v.${c} = ${element(i)}; }`,
    );
    fetch.push(`      {
        var v = vec4<f32>(0.0);
        if (K0 + ${r}k${l} < kend) {
          let g = ${r}o${l} + K0 * ${addr.kstride};
          ${reads.join("\n          ")}
        }
        ${r}${l} = v;
      }`);
    interior.push(`      {
        let g = ${r}o${l} + K0 * ${addr.kstride};
        ${r}${l} = vec4<f32>(${lanes.map((_, i) => element(i)).join(", ")});
      }`);
    store.push(`    ${o.dst}BUF[${r}k${l}][${r}q${l}] = ${r}${l};`);
  }
  return {
    setup: setup.join("\n"),
    fetch: (k0) => fetch.join("\n").replaceAll("K0", k0),
    fetchInterior: (k0) => interior.join("\n").replaceAll("K0", k0),
    // into the tile, or into buffer `buf` of a double-buffered tile
    store: (buf) => store.join("\n").replaceAll("BUF", tileBuffer(buf)),
  };
}

/**
 * The vec4-layout f32 kernel (tiles with `layout: "vec4"`, see {@link MATMUL_VARIANTS}): k-major
 * vec4 tiles `As[k][m / 4]`, `Bs[k][n / 4]`, each invocation reading TM/4 + TN/4 vec4s per k
 * step (at loop-invariant indices, so Dawn's robustness clamps can be hoisted), the k loop
 * unrolled, optional padding of A's rows, optional register prefetch of the next K tile and
 * optional double buffering of the workgroup tiles.
 */
function shaderVec4(t: Tile, aKFast: boolean, bNFast: boolean, ty: OperandTypes): string {
  const { BM, BN, BK, TM, TN } = t;
  const TX = BN / TN;
  const TY = BM / TM;
  const threads = TX * TY;
  const strided = t.map === "strided";
  const [GA, GB] = [TM / 4, TN / 4];
  const A4 = (BM + (t.padA ?? 0)) / 4;
  const lanes = ["x", "y", "z", "w"];
  // The vec4 (within a k row) of the invocation's g-th group of 4 rows / columns.
  const idx: string[] = [];
  for (let g = 0; g < GA; g++)
    idx.push(`  let ia${g} = ${strided ? `ty + ${g * TY}u` : `ty * ${GA}u + ${g}u`};`);
  for (let h = 0; h < GB; h++)
    idx.push(`  let ib${h} = ${strided ? `tx + ${h * TX}u` : `tx * ${GB}u + ${h}u`};`);
  // The FMAs of one K tile, reading the tile (or buffer `buf` of a double-buffered one).
  const steps = (buf?: number): string => {
    const at = tileBuffer(buf);
    const out: string[] = [];
    for (let kk = 0; kk < BK; kk++) {
      const lines: string[] = [];
      for (let g = 0; g < GA; g++) lines.push(`      let a${g} = As${at}[${kk}][ia${g}];`);
      for (let h = 0; h < GB; h++) lines.push(`      let b${h} = Bs${at}[${kk}][ib${h}];`);
      for (let i = 0; i < TM; i++)
        for (let j = 0; j < TN; j++) {
          const a = `a${i >> 2}.${lanes[i & 3]}`;
          const b = `b${j >> 2}.${lanes[j & 3]}`;
          lines.push(`      c${i}_${j} = fma(${a}, ${b}, c${i}_${j});`);
        }
      out.push(`    {\n${lines.join("\n")}\n    }`);
    }
    return out.join("\n");
  };
  // Accumulator (i, j): row m0 + row(i), column n0 + col(j).
  const row = (i: number) => (strided ? (i >> 2) * 4 * TY + (i & 3) : i);
  const col = (j: number) => (strided ? (j >> 2) * 4 * TX + (j & 3) : j);
  const { decl, stores } = accumulators(TM, TN, row, col);
  const a = vec4Loads(
    { src: "A", dtype: ty.a, dst: "As", reg: "ra", span: BM, bound: "M" },
    { base: "ab", origin: "rowBase", stride: "ars", kstride: "acs" },
    aKFast,
    BK,
    threads,
  );
  const b = vec4Loads(
    { src: "B", dtype: ty.b, dst: "Bs", reg: "rb", span: BN, bound: "N" },
    { base: "bb", origin: "colBase", stride: "bcs", kstride: "brs" },
    !bNFast,
    BK,
    threads,
  );
  // Both operands' loads of the K tile at `k`: checked, or (variant "interior") unchecked when
  // the tile lies wholly inside both operands.
  const fetch = (k: string): string =>
    t.interior
      ? `    if (inside && ${k} + ${BK}u <= kend) {
${a.fetchInterior(k)}
${b.fetchInterior(k)}
    } else {
${a.fetch(k)}
${b.fetch(k)}
    }`
      : `${a.fetch(k)}
${b.fetch(k)}`;
  // Double-buffered: K tiles alternate between the two buffers, the loop body covering two of
  // them so that every index into workgroup memory stays a constant. Storing into one buffer
  // while others may still read the other is safe: everyone has passed the barrier after the
  // last reads of the buffer being stored into.
  const half = (buf: number) => `    if (k0 >= kend) { break; }
${a.store(buf)}
${b.store(buf)}
    workgroupBarrier();
    {
      let kn = k0 + ${BK}u;
      if (kn < kend) {
${fetch("kn")}
      }
    }
${steps(buf)}
    k0 = k0 + ${BK}u;`;
  const loop = t.doubleBuffer
    ? `${fetch("kbeg")}
  var k0 = kbeg;
  loop {
${half(0)}
${half(1)}
  }`
    : t.prefetch
      ? `${fetch("kbeg")}
  for (var k0 = kbeg; k0 < kend; k0 = k0 + ${BK}u) {
${a.store()}
${b.store()}
    workgroupBarrier();
    let kn = k0 + ${BK}u;
    if (kn < kend) {
${fetch("kn")}
    }
${steps()}
    workgroupBarrier();
  }`
      : `  for (var k0 = kbeg; k0 < kend; k0 = k0 + ${BK}u) {
${fetch("k0")}
${a.store()}
${b.store()}
    workgroupBarrier();
${steps()}
    workgroupBarrier();
  }`;
  const tile = (inner: string) => (t.doubleBuffer ? `array<${inner}, 2>` : inner);
  return `${operands(ty)}
// k-major vec4 tiles: As[k][m / 4] (row padding: ${A4 - BM / 4} vec4), Bs[k][n / 4]
var<workgroup> As: ${tile(`array<array<vec4<f32>, ${A4}>, ${BK}>`)};
var<workgroup> Bs: ${tile(`array<array<vec4<f32>, ${BN / 4}>, ${BK}>`)};
@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
${prologue(BM, BN, TX)}
${decl}
${idx.join("\n")}
${a.setup}
${b.setup}
${t.interior ? `  let inside = rowBase + ${BM}u <= M && colBase + ${BN}u <= N;` : ""}
${loop}
  let m0 = rowBase + ty * ${strided ? 4 : TM}u;
  let n0 = colBase + tx * ${strided ? 4 : TN}u;
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
  o: { src: "A" | "B"; dtype: DType; dst: "As" | "Bs"; span: number; bound: string; base: string },
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
      `if (${idx.g}${c === 0 ? "" : ` + ${c}u`} < ${o.bound}) { v${lane(w, c)} = ${load(o.src, o.dtype, at)}; }`,
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

function shaderF16(t: Tile, aKFast: boolean, bNFast: boolean, ty: OperandTypes): string {
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
    { src: "A", dtype: ty.a, dst: "As", span: BM, bound: "M", base: "ab" },
    { g: "gm", origin: "rowBase", stride: "ars", kstride: "acs" },
    VA,
    aKFast,
    BK,
    (BM * BK) / VA / threads,
    threads,
  );
  const bLoad = f16Load(
    { src: "B", dtype: ty.b, dst: "Bs", span: BN, bound: "N", base: "bb" },
    { g: "gn", origin: "colBase", stride: "bcs", kstride: "brs" },
    VB,
    !bNFast,
    BK,
    (BN * BK) / VB / threads,
    threads,
  );
  return `enable f16;
${operands(ty)}
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
 * When a product is split along K (see {@link splitK}): its output has fewer than `maxTiles`
 * workgroup tiles, too few to keep a big GPU busy, and K is at least `minK`.
 */
export interface SplitKRule {
  maxTiles: number;
  minK: number;
}

/**
 * The shipped rule: products with few output tiles and a long K (weight gradients, [d,
 * tokens]·[tokens, d'], and a GPT-2 block's [tokens, 4d]·[4d, d]). On an H200 (2026-11-26,
 * docs/BENCHMARKS.md "webgpu-matmul --gpt2") the GPT-2 step's products took 24.2 ms with
 * `{ 512, 1024 }` against 29.5 ms with the earlier `{ 128, 512 }`, and the replayed step 16.7
 * against 19.4-23.6 ms; `{ 1024, 768 }` gave the same step time as `{ 512, 1024 }`.
 */
export const SPLIT_K: SplitKRule = { maxTiles: 512, minK: 1024 };

/** Checks a split-K rule (the backend's `matmulSplitK` option); throws naming the bad field. */
export function checkSplitK(rule: Partial<SplitKRule>): SplitKRule {
  const out = { ...SPLIT_K, ...rule };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isInteger(v) || v < 0)
      throw new Error(
        `webgpu backend: matmulSplitK.${k} must be a non-negative integer, got ${JSON.stringify(v)}`,
      );
  }
  return out;
}

/**
 * How many slices of K a product runs in (1: no split), and the K each covers (a multiple of
 * the tile's BK). Slices of at least 256 of K, at most 16, enough for about 2·maxTiles tiles.
 */
export function splitK(
  tiles: number,
  K: number,
  BK: number,
  rule: SplitKRule = SPLIT_K,
): { slices: number; kchunk: number } {
  if (tiles >= rule.maxTiles || K < rule.minK) return { slices: 1, kchunk: K };
  const want = Math.min(16, Math.ceil(K / 256), Math.ceil((2 * rule.maxTiles) / tiles));
  if (want <= 1) return { slices: 1, kchunk: K };
  const kchunk = Math.ceil(K / want / BK) * BK;
  return { slices: Math.ceil(K / kchunk), kchunk };
}

/**
 * out = a·b over the last two axes, batch axes broadcast. `tile` is one tile to force, or the
 * tiles of the size classes that {@link pickTile} chooses among (default: the precision's
 * {@link matmulTiles}); `precision` "f16" needs the device feature "shader-f16" (see
 * {@link checkMatmulPrecision}); `split` says when K is split ({@link splitK}).
 */
export function matmul(
  rt: Runtime,
  a: View,
  b: View,
  out: View,
  tile?: Tile | Record<TileClass, Tile>,
  precision: MatmulPrecision = "f32",
  split: SplitKRule = SPLIT_K,
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
  const t =
    tile !== undefined && "BM" in tile
      ? tile
      : pickTile(M, N, batch, tile ?? matmulTiles(precision));
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
  const { slices, kchunk } = splitK(gx * gy * batch, K, t.BK, split);
  const partial = slices > 1 ? rt.acquire(batch * slices * M * N * 4) : null;
  const target = partial ?? (out.storage as GpuStorage).buffer;
  const z = batch * slices;
  // The pipeline key names the precision: f32 kernels are "matmul:<tile>:<layout>", f16 ones
  // "matmul-f16:<tile>:<layout>" (the split-K sum is f32 for both); f16 storage of an operand
  // appends the operand dtypes (":f16f32").
  const layout = `${aKFast ? "k" : "m"}${bNFast ? "n" : "k"}`;
  const ty: OperandTypes = { a: a.storage.dtype, b: b.storage.dtype };
  for (let z0 = 0; z0 < z; z0 += MAX_GROUPS) {
    rt.dispatch({
      key: `${f16 ? "matmul-f16" : "matmul"}:${t.name}:${layout}${halfTag(ty.a, ty.b)}`,
      wgsl: () =>
        f16
          ? shaderF16(t, aKFast, bNFast, ty)
          : t.layout === "vec4"
            ? shaderVec4(t, aKFast, bNFast, ty)
            : shader(t, aKFast, bNFast, ty),
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
