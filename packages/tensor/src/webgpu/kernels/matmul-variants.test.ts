// Every f32 matmul kernel variant (MATMUL_VARIANTS) against a host f64 matmul: M, N and K not
// multiples of the tile, a padded row stride, storage offsets and a broadcast batch (A with K of
// unit stride, B with N of unit stride), K smaller than BK, split-K; transposed views of both
// (the other load orders) on the variants whose load code differs (see TRANSPOSED_ON). Then the
// variant options' errors. Skipped (with the reason) when no WebGPU adapter exists. Compiling
// the unrolled kernels dominates on lavapipe (seconds each, cold; Mesa's shader cache keeps them).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { View } from "../../backend.js";
import { ops, tensor } from "../../index.js";
import { Rng } from "../../random.js";
import {
  stridedMatmul as hostMatmulRaw,
  type StridedOperand as Operand,
  stridedSpan as span,
} from "../../testing/strided.js";

/** out = a·b in f64 (see testing/strided.ts). */
const hostMatmul = (a: Operand, av: Float32Array, b: Operand, bv: Float32Array) =>
  hostMatmulRaw(a, av, b, bv);

import { createWebGpuBackend, type WebGpuBackend, webgpuAvailable } from "../index.js";
import {
  MATMUL_VARIANTS,
  type MatmulVariantName,
  matmul,
  resolveMatmulTile,
  type Tile,
} from "./matmul.js";

// lavapipe compiles each invocation for the host's widest SIMD (8 or 16 lanes); the unrolled
// variants with 64 accumulators then spill heavily and compile 2-3x slower than at 4 lanes. The
// width changes nothing in the results, and this file runs in its own process (vitest forks), so
// it asks for 4 lanes before the driver loads. No effect on any other adapter.
process.env.LP_NATIVE_VECTOR_WIDTH ??= "128";
const probe = await webgpuAvailable();
const suite = probe.available ? describe : describe.skip;

// A [2, 133, 21] with a padded row stride (24) at offset 8, B [1, 21, 137] broadcast over the
// batch at offset 4: two row tiles and two column tiles of 128, ragged K, N not a multiple of 4.
const RAGGED: [Operand, Operand] = [
  { shape: [2, 133, 21], strides: [133 * 24, 24, 1], offset: 8 },
  { shape: [1, 21, 137], strides: [0, 137, 1], offset: 4 },
];
// K = 5 < BK, M = 70 and N = 39 ragged (the same load order as RAGGED: the same pipeline).
const SHORT_K: [Operand, Operand] = [
  { shape: [70, 5], strides: [5, 1], offset: 1 },
  { shape: [5, 39], strides: [39, 1], offset: 0 },
];
// 20×1100 · 1100×36: one tile, K ≥ 1024, so split-K (K slices a multiple of BK, then their sum).
const SPLIT_K: [Operand, Operand] = [
  { shape: [20, 1100], strides: [1100, 1], offset: 0 },
  { shape: [1100, 36], strides: [36, 1], offset: 0 },
];
// Transposed views (A's M and B's K of unit stride: the other load order of both operands) with
// K = 5 < BK and a ragged K of 21.
const TRANSPOSED: [Operand, Operand] = [
  { shape: [70, 5], strides: [1, 70], offset: 3 },
  { shape: [5, 39], strides: [1, 5], offset: 0 },
];
const TRANSPOSED_K21: [Operand, Operand] = [
  { shape: [2, 70, 21], strides: [0, 1, 70], offset: 0 },
  { shape: [2, 21, 39], strides: [21 * 39, 1, 21], offset: 2 },
];
// A whole 128² tile inside both operands, K tiles inside and past the end (K = 44), and both
// operands' rows padded to 48 with random values, so a load past K that skipped its check
// would add wrong products: the unchecked loads of the "interior" variants (B in the other
// load order, K of unit stride).
const INTERIOR: [Operand, Operand] = [
  { shape: [130, 44], strides: [48, 1], offset: 1 },
  { shape: [44, 131], strides: [1, 48], offset: 0 },
];
// The same with the other load orders (A's M and B's N of unit stride): the elements past K lie
// after the views' last elements, in the random tail each operand's buffer gets (TAIL).
const INTERIOR_OTHER_ORDER: [Operand, Operand] = [
  { shape: [130, 44], strides: [1, 136], offset: 3 },
  { shape: [44, 131], strides: [131, 1], offset: 0 },
];
/** Random elements after each operand's view (4 rows past K at the widest stride above). */
const TAIL = 4 * 136;
// Each load order is another pipeline (seconds to compile on lavapipe), and the load code of the
// vec4 layout depends only on BK (runs of 8 k, or all of a smaller BK), the loads per
// invocation and prefetching; the flat variants load exactly like the classic kernels. So the
// transposed views run on the variants that cover those: BK 8 with prefetch (large), BK 16
// without (medium).
const TRANSPOSED_ON = new Set<string>(["large", "medium"]);

suite(`webgpu matmul kernel variants (${probe.available ? probe.adapter : probe.reason})`, {
  timeout: 120_000,
}, () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => {
    gpu = await createWebGpuBackend({ name: "webgpu-matmul-variants-test" });
  });
  afterAll(() => gpu?.dispose());

  /** Runs the kernel with `tile` on a·b (output at storage offset 2); max error / max |want|. */
  async function relError([a, b]: [Operand, Operand], tile: Tile): Promise<number> {
    const rank = a.shape.length;
    const rng = new Rng(11);
    // random values past each view's last element too, so a load past K that skipped its check
    // reads a wrong product instead of a zero
    const av = Float32Array.from({ length: span(a) + TAIL }, () => rng.normal());
    const bv = Float32Array.from({ length: span(b) + TAIL }, () => rng.normal());
    const want = hostMatmul(a, av, b, bv);
    const batch = a.shape.slice(0, -2).map((d, i) => Math.max(d, b.shape[i]));
    const outShape = [...batch, a.shape[rank - 2], b.shape[rank - 1]];
    const out: Operand = {
      shape: outShape,
      strides: outShape.map((_, i) => outShape.slice(i + 1).reduce((p, d) => p * d, 1)),
      offset: 2,
    };
    const sa = gpu.alloc("f32", av.length);
    const sb = gpu.alloc("f32", bv.length);
    const so = gpu.alloc("f32", span(out));
    const view = (storage: View["storage"], o: Operand): View => ({ storage, ...o });
    let got: Float32Array;
    try {
      gpu.write(sa, av);
      gpu.write(sb, bv);
      gpu.write(so, new Float32Array(span(out)).fill(Number.NaN));
      matmul(gpu.rt, view(sa, a), view(sb, b), view(so, out), tile);
      got = (await gpu.read(view(so, out))) as Float32Array;
    } finally {
      for (const s of [sa, sb, so]) gpu.free(s);
    }
    let err = 0;
    let scale = 0;
    for (let i = 0; i < want.length; i++) {
      err = Math.max(err, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    return Number.isNaN(err) ? Number.POSITIVE_INFINITY : err / scale;
  }

  for (const name of Object.keys(MATMUL_VARIANTS) as MatmulVariantName[]) {
    it(`${name}: ragged, strided, offset and broadcast operands; K < BK; split-K`, async () => {
      const tile = MATMUL_VARIANTS[name];
      const limit = gpu.rt.device.limits.maxComputeWorkgroupStorageSize;
      const buffers = "doubleBuffer" in tile && tile.doubleBuffer ? 2 : 1;
      const bytes =
        (tile.BM + (("padA" in tile ? tile.padA : 0) ?? 0) + tile.BN) * tile.BK * 4 * buffers;
      if (bytes > limit) {
        // The device cannot run it: the kernel must say so rather than fail to compile.
        await expect(relError(RAGGED, tile)).rejects.toThrow(/bytes of workgroup memory/);
        return;
      }
      const cases: [string, [Operand, Operand]][] = [
        ["ragged", RAGGED],
        ["K < BK", SHORT_K],
        ["split-K", SPLIT_K],
      ];
      if (TRANSPOSED_ON.has(name))
        cases.push(["transposed", TRANSPOSED], ["transposed, K 21", TRANSPOSED_K21]);
      if ("interior" in tile && tile.interior)
        cases.push(["interior tiles", INTERIOR], ["interior, other order", INTERIOR_OTHER_ORDER]);
      for (const [what, operands] of cases) {
        const err = await relError(operands, tile);
        expect(err, `${name} ${what}: max error / max |out| = ${err}`).toBeLessThanOrEqual(1e-5);
      }
    });
  }

  it("matmulTiles picks the kernel per size class; bad classes and names throw", async () => {
    const rng = new Rng(7);
    const a = tensor(
      Array.from({ length: 45 * 38 }, () => rng.normal()),
      [45, 38],
      { backend: gpu },
    );
    const b = tensor(
      Array.from({ length: 38 * 29 }, () => rng.normal()),
      [38, 29],
      { backend: gpu },
    );
    const want = await ops.matmul(a, b).dataAsync(); // a 45×29 output: the small class
    const profiled = gpu.info.features.includes("timestamp-query");
    gpu.setProfile(profiled);
    gpu.setMatmulTiles({ small: "t64-4x4-bk16" });
    expect(gpu.matmulTiles).toEqual({ small: "t64-4x4-bk16" });
    const got = await ops.matmul(a, b).dataAsync();
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 4);
    if (profiled) {
      const keys = (await gpu.profile(true)).map((p) => p.key);
      expect(keys.some((k) => k.startsWith("matmul:t64-4x4-bk16:"))).toBe(true);
    }
    gpu.setProfile(false);
    gpu.setMatmulTiles({});
    expect(gpu.matmulTiles).toEqual({});
    expect(() => gpu.setMatmulTiles({ huge: "large" } as never)).toThrow(
      /matmulTiles has an unknown size class "huge"; expected large, medium, small/,
    );
    expect(() => gpu.setMatmulTiles({ large: "t128-nope" as MatmulVariantName })).toThrow(
      /unknown matmulTile "t128-nope"/,
    );
    expect(gpu.matmulTiles).toEqual({});
  });

  it("the matmulTile option and setMatmulTile select a variant; bad names and tiles throw", async () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3], { backend: gpu });
    const b = tensor([7, 8, 9, 10, 11, 12], [3, 2], { backend: gpu });
    gpu.setMatmulTile("t64-4x4-bk16");
    expect(gpu.matmulTile).toBe("t64-4x4-bk16");
    const y = ops.matmul(a, b);
    expect(Array.from(await y.dataAsync())).toEqual([58, 64, 139, 154]);
    gpu.setMatmulTile(undefined);
    expect(() => gpu.setMatmulTile("t128-nope" as MatmulVariantName)).toThrow(
      /unknown matmulTile "t128-nope"; expected a size class \(large, medium, small\) or a variant \(large, medium, t128-8x8-bk8, t64-4x4-bk16, t128-8x8-bk8-unroll/,
    );
    expect(() => resolveMatmulTile("t128-8x8-bk8-vec4", "f16")).toThrow(
      /"t128-8x8-bk8-vec4" is an f32 kernel variant; with matmulPrecision "f16"/,
    );
    expect(resolveMatmulTile("large", "f16").BK).toBe(32);
    const bad: Tile = { name: "bad", BM: 64, BN: 64, BK: 8, TM: 6, TN: 4, layout: "vec4" };
    await expect(relError(TRANSPOSED, bad)).rejects.toThrow(
      /vec4 tile "bad" needs TM, TN and padA multiples of 4 \(got TM 6, TN 4, padA 0\)/,
    );
    const flatPad: Tile = { name: "flat-pad", BM: 64, BN: 64, BK: 8, TM: 4, TN: 4, padA: 4 };
    await expect(relError(TRANSPOSED, flatPad)).rejects.toThrow(
      /padA, prefetch and interior need layout "vec4"/,
    );
    const huge: Tile = { name: "huge", BM: 256, BN: 256, BK: 64, TM: 16, TN: 16, layout: "vec4" };
    await expect(relError(TRANSPOSED, huge)).rejects.toThrow(
      /tile "huge" needs 256 invocations and 131072 bytes of workgroup memory; this device allows/,
    );
  });
});
