// The matmul kernel on strided views against a host triple loop: the large and medium tiles
// with ragged M and N edges, a padded row stride, storage offsets, a broadcast batch and split-K.
// Skipped (with the reason) when no WebGPU adapter exists.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { View } from "../../backend.js";
import { testing } from "../../index.js";
import { Rng } from "../../random.js";
import {
  rowMajor as contiguous,
  type StridedOperand as Operand,
  stridedSpan as span,
  stridedMatmul,
} from "../../testing/strided.js";
import { createWebGpuBackend, type WebGpuBackend, webgpuAvailable } from "../index.js";
import { matmul, SPLIT_K, type SplitKRule, splitK, TILES, type Tile } from "./matmul.js";

const probe = await webgpuAvailable();
const suite = probe.available ? describe : describe.skip;

suite(`webgpu matmul kernel on strided views (${probe.available ? probe.adapter : probe.reason})`, {
  timeout: 120_000,
}, () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => {
    gpu = await createWebGpuBackend({ name: "webgpu-matmul-test" });
  });
  afterAll(() => gpu?.dispose());

  async function check(
    a: Operand,
    b: Operand,
    outOffset: number,
    tile: Tile,
    split: SplitKRule = SPLIT_K,
  ): Promise<void> {
    const rank = a.shape.length;
    const [M, N] = [a.shape[rank - 2], b.shape[rank - 1]];
    const batch = a.shape.slice(0, -2).map((d, i) => Math.max(d, b.shape[i]));
    const out = contiguous([...batch, M, N], outOffset);
    const rng = new Rng(7);
    const av = Float32Array.from({ length: span(a) }, () => rng.normal());
    const bv = Float32Array.from({ length: span(b) }, () => rng.normal());
    const want = stridedMatmul(a, av, b, bv);
    const sa = gpu.alloc("f32", av.length);
    const sb = gpu.alloc("f32", bv.length);
    const so = gpu.alloc("f32", span(out));
    gpu.write(sa, av);
    gpu.write(sb, bv);
    const view = (storage: View["storage"], o: Operand): View => ({ storage, ...o });
    matmul(gpu.rt, view(sa, a), view(sb, b), view(so, out), tile, "f32", split);
    const got = await gpu.read(view(so, out));
    const err = testing.maxRelError(got, want);
    expect(err, `max relative error ${err}`).toBeLessThanOrEqual(1e-4);
    for (const s of [sa, sb, so]) gpu.free(s);
  }

  it("128×128 and 64×64 tiles with ragged M and N edges", async () => {
    for (const tile of [TILES.large, TILES.medium]) {
      await check(contiguous([133, 36]), contiguous([36, 140]), 0, tile);
    }
  });

  it("padded row stride, offsets and a broadcast batch", async () => {
    const a: Operand = { shape: [2, 37, 20], strides: [37 * 24, 24, 1], offset: 8 };
    const b: Operand = { shape: [1, 20, 44], strides: [0, 44, 1], offset: 4 };
    await check(a, b, 4, TILES.medium);
    await check(a, b, 0, TILES.large);
  });

  it("split-K over a long K (partial products, then their sum)", async () => {
    await check(contiguous([40, 1100]), contiguous([1100, 32]), 0, TILES.medium);
    await check(contiguous([2, 24, 1040]), contiguous([2, 1040, 36]), 0, TILES.large);
    // a rule that splits more: a 130×150 output (9 tiles of 64²) with K 1000 in 4 slices of
    // 256 (the last 232)
    const wide = { maxTiles: 16, minK: 1000 };
    expect(splitK(9, 1000, TILES.medium.BK, wide)).toEqual({ slices: 4, kchunk: 256 });
    await check(contiguous([130, 1000]), contiguous([1000, 150]), 0, TILES.medium, wide);
  });

  it("splits K by the rule: few output tiles and a long K", () => {
    // GPT-2 (width 384, 2,048 tokens) on 64² tiles: a weight gradient [384, 2048]·[2048, 384]
    // has 36 tiles; the MLP's down projection [2048, 1536]·[1536, 384] has 192
    const { BK } = TILES.medium;
    expect(splitK(36, 2048, BK)).toEqual({ slices: 8, kchunk: 256 });
    expect(splitK(192, 1536, BK)).toEqual({ slices: 6, kchunk: 256 });
    expect(splitK(192, 768, BK).slices).toBe(1); // K too short
    expect(splitK(512, 2048, BK).slices).toBe(1); // enough tiles
    expect(splitK(192, 1536, BK, { maxTiles: 128, minK: 512 }).slices).toBe(1); // a narrower rule
    expect(splitK(100, 300, BK, { maxTiles: 128, minK: 0 }).slices).toBe(2); // slices ≥ 256 of K
  });

  it("rejects a bad matmulSplitK option, naming the field", async () => {
    await expect(createWebGpuBackend({ matmulSplitK: { maxTiles: -1 } })).rejects.toThrow(
      "webgpu backend: matmulSplitK.maxTiles must be a non-negative integer, got -1",
    );
  });
});
