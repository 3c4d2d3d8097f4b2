// f16 storage on the webgpu backend, beyond the shared op cases: casts bit for bit against the
// host's round-to-nearest-even (ties, subnormals, overflow, NaN, signed zero), writes that
// start or end inside a packed word, the memory tracker's 2 bytes per element, the host tier,
// f16 operands on every kind of matmul kernel (flat and vec4 tiles, f16 compute, matvec with and
// without whole-word loads, split-K), and f16 keys / values on every attention kernel, against
// the reference backend; saved activations kept as f16. Skipped (with the reason) without a
// WebGPU adapter.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { f16ToF32, f32ToF16 } from "../dtype.js";
import {
  ActivationStore,
  memoryStats,
  ops,
  ReferenceBackend,
  type Tensor,
  tensor,
  testing,
} from "../index.js";
import { Rng } from "../random.js";
import { selectAdapter } from "./adapter.js";
import {
  createWebGpuBackend,
  type WebGpuBackend,
  type WebGpuBackendOptions,
  webgpuAvailable,
} from "./index.js";
import type { MatmulVariantName } from "./kernels/matmul.js";

const probe = await webgpuAvailable();
const suite = probe.available ? describe : describe.skip;
const title = probe.available
  ? `webgpu f16 storage (${probe.adapter})`
  : `webgpu f16 storage (skipped: no WebGPU adapter: ${probe.reason})`;
const hasF16Compute = probe.available
  ? (await selectAdapter()).adapter.features.has("shader-f16")
  : false;
const ref = new ReferenceBackend();

function randomValues(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** What the host's f16 rounding makes of `values`. */
const hostHalf = (values: ArrayLike<number>) => f16ToF32(f32ToF16(values));

suite(title, { timeout: 120_000 }, () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => {
    gpu = await createWebGpuBackend({ name: "webgpu-half-test" });
  });
  afterAll(() => gpu?.dispose());

  it("casts to f16 bit for bit like the host: ties to even, subnormals, overflow, NaN, -0", async () => {
    const values = [
      1 + 2 ** -11, // tie between 1 and 1 + 2^-10: to even (1)
      1 + 3 * 2 ** -11, // tie: to even (1 + 2^-9)
      1 + 2 ** -11 + 2 ** -20, // just above the tie: up
      65504, // largest f16
      65519.99, // rounds down to 65504
      65520, // tie at the top: to even, which is inf
      -1e6,
      2 ** -24, // smallest subnormal
      2 ** -25, // tie between 0 and 2^-24: to even (0)
      3 * 2 ** -25, // tie between 2^-24 and 2^-23: to even (2^-23)
      2 ** -14 - 2 ** -25, // just below the smallest normal
      1e-10, // underflows to 0
      -0,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
      -Math.PI,
    ];
    const x = tensor(Float32Array.from(values), [values.length], { backend: gpu });
    const got = await x.half().float().dataAsync();
    const want = hostHalf(Float32Array.from(values));
    for (let i = 0; i < values.length; i++) {
      if (Number.isNaN(want[i])) expect(Number.isNaN(got[i]), `value ${i}`).toBe(true);
      else expect(Object.is(got[i], want[i]), `${values[i]}: ${got[i]} vs ${want[i]}`).toBe(true);
    }
    expect(got[5]).toBe(Number.POSITIVE_INFINITY);
    expect(Object.is(got[12], -0)).toBe(true);
  });

  it("matches the host's rounding on 100,000 random values of every magnitude", async () => {
    const rng = new Rng(7);
    const v = Float32Array.from({ length: 100_000 }, () => rng.normal() * 2 ** (rng.int(50) - 30));
    const got = await tensor(v, [v.length], { backend: gpu }).half().dataAsync();
    expect(got).toEqual(hostHalf(v));
  });

  it("writes and reads f16 storage at odd offsets without touching the neighbouring halves", async () => {
    const s = gpu.alloc("f16", 9);
    const view = (offset: number, n: number) => ({
      storage: s,
      shape: [n],
      strides: [1],
      offset,
    });
    gpu.write(s, Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]));
    gpu.write(s, Float32Array.from([10.5, 11.5, 12.5]), 3); // odd start, even end
    gpu.write(s, Float32Array.from([20.25, 21.25]), 6); // even start, odd end
    gpu.write(s, Float32Array.from([30.125]), 8); // the last, unpaired half
    expect(Array.from(await gpu.read(view(0, 9)))).toEqual([
      0, 1, 2, 10.5, 11.5, 12.5, 20.25, 21.25, 30.125,
    ]);
    expect(Array.from(await gpu.read(view(3, 3)))).toEqual([10.5, 11.5, 12.5]);
    expect(Array.from(await gpu.read({ ...view(1, 4), strides: [2] }))).toEqual([
      1, 10.5, 12.5, 21.25,
    ]);
    gpu.free(s);
  });

  it("scatter-adds into f16 storage (a half KV cache): sums in f32, rounded once, neighbours kept", async () => {
    const contiguous = (storage: ReturnType<typeof gpu.alloc>, shape: number[]) => ({
      storage,
      shape,
      strides: shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1)),
      offset: 0,
    });
    /** out [rows, cols] f16 += src at `ids` along `axis`, on the GPU and on the host. */
    const check = async (rows: number, cols: number, axis: 0 | 1, ids: number[], seed: number) => {
      const init = hostHalf(randomValues(rows * cols, seed));
      const srcShape = axis === 0 ? [ids.length, cols] : [rows, ids.length];
      const srcValues = randomValues(srcShape[0] * srcShape[1], seed + 1);
      const out = gpu.alloc("f16", rows * cols);
      gpu.write(out, init);
      const src = tensor(srcValues, srcShape, { backend: gpu });
      const index = tensor(Int32Array.from(ids), [ids.length], { backend: gpu, dtype: "i32" });
      gpu.indexAdd(src._view("test"), axis, index._view("test"), contiguous(out, [rows, cols]));
      // the host: each element's additions in position order in f32, then one rounding
      const sums = Float32Array.from(init);
      ids.forEach((id, l) => {
        const n = axis === 0 ? cols : rows;
        for (let e = 0; e < n; e++) {
          const [r, c] = axis === 0 ? [id, e] : [e, id];
          const s = axis === 0 ? srcValues[l * cols + e] : srcValues[e * ids.length + l];
          sums[r * cols + c] = Math.fround(sums[r * cols + c] + s);
        }
      });
      // (elements no id reaches keep their initial values: sums holds them unchanged)
      const got = await gpu.read(contiguous(out, [rows * cols]));
      expect(Array.from(got)).toEqual(Array.from(hostHalf(sums)));
      gpu.free(out);
      src.dispose();
      index.dispose();
    };
    await check(5, 3, 0, [4, 0, 4, 1], 11); // repeated positions: the ordered sum
    await check(5, 3, 0, [3], 12); // one position: a cache write
    await check(2, 7, 1, [6, 1, 2], 13); // odd rows: written halves share words with kept ones
  });

  it("counts 2 bytes per element against the memory budget and keeps f16 on the host tier", async () => {
    const before = memoryStats(gpu).liveBytes;
    const values = randomValues(1001, 3);
    const h = tensor(values, [7, 143], { backend: gpu, dtype: "f16" });
    expect(h.dtype).toBe("f16");
    expect(memoryStats(gpu).liveBytes - before).toBe(2002);
    await h.toHostAsync();
    expect(memoryStats(gpu).hostBytes).toBeGreaterThanOrEqual(2002);
    h.toDevice();
    expect(await h.dataAsync()).toEqual(hostHalf(values));
    h.dispose();
  });

  it("reports ops that do not take f16 with the conversion to make", () => {
    const h = tensor(randomValues(6, 4), [2, 3], { backend: gpu }).half();
    expect(() => ops.softmax(h)).toThrow(/softmax: input must be f32, got .* f16.*\.float\(\)/);
    expect(() => h.requireGrad()).toThrow(/only f32 tensors can require grad/);
  });

  // [3, 133, 21] activations times f16 weights: ragged tiles and K, and the two weight layouts
  // (`linear`: K of unit stride; `matmul` by [21, 137]: N of unit stride), at an odd offset.
  async function checkProducts(backend: WebGpuBackend, tol = 1e-4): Promise<void> {
    const run = (b: typeof gpu | ReferenceBackend) => {
      const x = tensor(randomValues(3 * 133 * 21, 11), [3, 133, 21], { backend: b });
      const w = tensor(randomValues(138 * 21, 12), [138, 21], { backend: b }).half();
      const wt = tensor(randomValues(21 * 138, 13), [21, 138], { backend: b }).half();
      const odd = ops.slice(w, 0, 1); // offset 21: starts inside a packed word
      const tall = tensor(randomValues(1100 * 40, 14), [1100, 40], { backend: b }).half();
      const wide = tensor(randomValues(20 * 1100, 15), [20, 1100], { backend: b });
      const decode = ops.slice(x, 1, 0, 1); // one row per sequence: the matvec kernels
      // f16 rows on word boundaries (even row stride and offset): the matvec kernel reads whole
      // words; K = 22, and K = 21 in rows of 24 (the last word's second half is padding).
      const even = tensor(randomValues(40 * 24, 16), [40, 24], { backend: b }).half();
      const xe = tensor(randomValues(3 * 24, 17), [3, 1, 24], { backend: b });
      const out: Tensor[] = [
        ops.linear(x, odd),
        ops.matmul(x, ops.slice(wt, 1, 1)),
        ops.matmul(wide, tall), // split-K
        ops.linear(decode, odd),
        ops.matmul(decode, ops.slice(wt, 1, 1)),
        ops.matmul(ops.transpose(w, 0, 1).half(), ops.transpose(wt, 0, 1)), // both f16
        ops.linear(ops.slice(xe, 2, 0, 22), ops.contiguous(ops.slice(even, 1, 0, 22))),
        ops.linear(ops.slice(xe, 2, 0, 21), ops.slice(even, 1, 0, 21)),
      ];
      return Promise.all(out.map((t) => t.dataAsync()));
    };
    const [got, want] = await Promise.all([run(backend), run(ref)]);
    got.forEach((g, i) => {
      const err = testing.maxRelError(g, want[i]);
      expect(err, `product ${i}: max relative error ${err}`).toBeLessThanOrEqual(tol);
    });
  }

  it("multiplies by f16 operands on the default kernels", async () => {
    await checkProducts(gpu);
  });

  // the classic (flat) 64² kernel, and the 128² vec4 + prefetch kernel forced for every size
  const variants: MatmulVariantName[] = ["t64-4x4-bk16", "large"];
  for (const v of variants) {
    it(`multiplies by f16 operands on the ${v} tiles`, async () => {
      const forced = await createWebGpuBackend({ name: `webgpu-half-${v}`, matmulTile: v });
      try {
        await checkProducts(forced);
      } finally {
        forced.dispose();
      }
    });
  }

  // A KV cache in f16: a decode step and a 5-token chunk over 70 cached positions (more than
  // one key block), GQA, on the row kernel, the default tiled one (vec4 layout) and an f32-layout
  // tiled variant.
  const kernels: { name: string; options: WebGpuBackendOptions }[] = [
    { name: "rows", options: { attentionKernel: "rows" } },
    { name: "tiled", options: {} },
    { name: "tiled r64-l4", options: { attentionVariant: "r64-l4" } },
  ];
  for (const k of kernels) {
    it(`attends over f16 keys / values on the ${k.name} attention kernel`, async () => {
      const backend = await createWebGpuBackend({ name: `webgpu-half-${k.name}`, ...k.options });
      const run = (b: WebGpuBackend | ReferenceBackend) => {
        const t = (shape: number[], seed: number) =>
          tensor(
            randomValues(
              shape.reduce((p, d) => p * d),
              seed,
            ),
            shape,
            { backend: b },
          );
        const kc = ops.slice(t([2, 2, 80, 16], 21).half(), 2, 0, 70);
        const vc = ops.slice(t([2, 2, 80, 16], 22).half(), 2, 0, 70);
        const out = [1, 5].map((Tq) =>
          ops.attention(t([2, 4, Tq, 16], 23 + Tq), kc, vc, { causal: true }),
        );
        return Promise.all(out.map((o) => o.dataAsync()));
      };
      try {
        const [got, want] = await Promise.all([run(backend), run(ref)]);
        got.forEach((g, i) => {
          const err = testing.maxRelError(g, want[i]);
          expect(err, `output ${i}: max relative error ${err}`).toBeLessThanOrEqual(1e-4);
        });
      } finally {
        backend.dispose();
      }
    });
  }

  it("keeps saved activations as f16 (ActivationStore deviceDType): half their bytes", async () => {
    const t = (shape: number[], seed: number) =>
      tensor(randomValues(shape[0] * shape[1], seed), shape, { backend: gpu });
    const x = t([64, 32], 31);
    const w1 = t([32, 64], 32).requireGrad();
    const w2 = t([64, 16], 33).requireGrad();
    const run = async (store: ActivationStore) => {
      w1.zeroGrad();
      w2.zeroGrad();
      const loss = store.capture("mlp", () =>
        ops.sum(ops.square(ops.matmul(ops.gelu(ops.matmul(x, w1)), w2))),
      );
      const bytes = store.deviceBytes();
      loss.backward();
      loss.dispose();
      return { bytes, grads: await Promise.all([w1, w2].map((w) => w.grad!.dataAsync())) };
    };
    const exact = await run(new ActivationStore());
    const half = await run(new ActivationStore({ deviceDType: "f16" }));
    // Saved: x, w1, x·w1, gelu(x·w1) (by gelu and by the second matmul: one copy), w2, and the
    // product and its square (by square). Parameters stay f32; the rest is f16.
    const rest = 64 * 32 + 2 * 64 * 64 + 2 * 64 * 16;
    const params = 32 * 64 + 64 * 16;
    expect(exact.bytes).toBe(4 * (rest + params));
    expect(half.bytes).toBe(2 * rest + 4 * params);
    half.grads.forEach((g, i) => {
      const err = testing.maxRelError(g, exact.grads[i]);
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(5e-3);
    });
  });

  it("refuses gradients through f16 keys / values, saying why", () => {
    const q = tensor(randomValues(16, 5), [1, 1, 2, 8], { backend: gpu }).requireGrad();
    const kv = tensor(randomValues(24, 6), [1, 1, 3, 8], { backend: gpu }).half();
    expect(() => ops.attention(q, kv, kv)).toThrow(
      /f16 keys \/ values .* take no gradient; run under noGrad\(\) or use f32 to train/,
    );
  });

  it.skipIf(!hasF16Compute)("multiplies f16 storage with f16 compute (shader-f16)", async () => {
    const f16 = await createWebGpuBackend({ name: "webgpu-half-compute", matmulPrecision: "f16" });
    try {
      // The activations are rounded to f16 too: error of order 2^-11 relative.
      await checkProducts(f16, 4e-3);
    } finally {
      f16.dispose();
    }
  });
});
