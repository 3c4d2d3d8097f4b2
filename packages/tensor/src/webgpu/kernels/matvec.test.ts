// The few-row matmul kernels (decoding) against a host loop: both layouts (a transposed weight
// with unit K stride, and a row-major one), M from 1 to 4, ragged N, long K, strided rows,
// offsets and a broadcast batch. Skipped (with the reason) when no WebGPU adapter exists.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { View } from "../../backend.js";
import { ops, tensor, testing } from "../../index.js";
import { Rng } from "../../random.js";
import {
  type StridedOperand as Operand,
  rowMajor,
  stridedSpan as span,
  stridedMatmul,
} from "../../testing/strided.js";
import { createWebGpuBackend, type WebGpuBackend, webgpuAvailable } from "../index.js";
import { matvec, matvecApplies } from "./matvec.js";

const probe = await webgpuAvailable();
const suite = probe.available ? describe : describe.skip;

/** [..., K, N] as the transpose of a row-major [..., N, K] (unit stride along K). */
const transposed = (batch: number[], K: number, N: number, offset = 0): Operand => {
  const w = rowMajor([...batch, N, K], offset);
  const r = w.shape.length;
  return {
    shape: [...batch, K, N],
    strides: [...w.strides.slice(0, r - 2), 1, K],
    offset,
  };
};

suite(`webgpu matvec kernels (${probe.available ? probe.adapter : probe.reason})`, {
  timeout: 120_000,
}, () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => {
    gpu = await createWebGpuBackend({ name: "webgpu-matvec-test" });
  });
  afterAll(() => gpu?.dispose());

  async function check(a: Operand, b: Operand, outOffset = 0): Promise<void> {
    const rank = a.shape.length;
    const [M, N] = [a.shape[rank - 2], b.shape[rank - 1]];
    const batch = a.shape.slice(0, -2).map((d, i) => Math.max(d, b.shape[i]));
    const out = rowMajor([...batch, M, N], outOffset);
    const rng = new Rng(11);
    const av = Float32Array.from({ length: span(a) }, () => rng.normal());
    const bv = Float32Array.from({ length: span(b) }, () => rng.normal());
    const want = stridedMatmul(a, av, b, bv);
    const [sa, sb, so] = [av.length, bv.length, span(out)].map((n) => gpu.alloc("f32", n));
    gpu.write(sa, av);
    gpu.write(sb, bv);
    const view = (storage: View["storage"], o: Operand): View => ({ storage, ...o });
    expect(matvecApplies(view(sa, a), view(so, out))).toBe(true);
    matvec(gpu.rt, view(sa, a), view(sb, b), view(so, out));
    const got = await gpu.read(view(so, out));
    const err = testing.maxRelError(got, want);
    expect(err, `max relative error ${err}`).toBeLessThanOrEqual(1e-5);
    for (const s of [sa, sb, so]) gpu.free(s);
  }

  it("x·Wᵀ (unit K stride): one to four rows, ragged N, long and short K", async () => {
    for (const [M, K, N] of [
      [1, 256, 768],
      [3, 37, 13],
      [4, 1000, 65],
      [1, 1, 9],
    ])
      await check(rowMajor([M, K]), transposed([], K, N));
  });

  it("row-major b, strided rows of a, offsets, a broadcast batch", async () => {
    await check(rowMajor([2, 70]), rowMajor([70, 130]), 3);
    const a: Operand = { shape: [3, 1, 40], strides: [48, 48, 1], offset: 5 };
    await check(a, { shape: [3, 40, 24], strides: [0, 24, 1], offset: 2 });
    await check(a, { ...transposed([3], 40, 24, 1), strides: [0, 1, 40] });
  });

  it("the backend uses it for decode-shaped products and gets matmul's results", async () => {
    const rng = new Rng(3);
    const vals = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const x = vals(2 * 64);
    const w = vals(96 * 64);
    const y = ops.matmul(
      tensor(x, [2, 64], { backend: gpu }),
      ops.transpose(tensor(w, [96, 64], { backend: gpu }), 0, 1),
    );
    const want = ops.matmul(tensor(x, [2, 64]), ops.transpose(tensor(w, [96, 64]), 0, 1));
    const err = testing.maxRelError(await y.dataAsync(), want.data());
    expect(err).toBeLessThanOrEqual(1e-5);
    if (!gpu.info.features.includes("timestamp-query")) return; // kernel names need profiling
    gpu.setProfile(true);
    ops.matmul(tensor(x, [2, 64], { backend: gpu }), tensor(w, [64, 96], { backend: gpu }));
    ops.matmul(tensor(w, [96, 64], { backend: gpu }), tensor(x, [64, 2], { backend: gpu }));
    const keys = (await gpu.profile(true)).map((p) => p.key);
    gpu.setProfile(false);
    expect(keys).toContain("matvec:nfast"); // 2 rows
    expect(keys.some((k) => k.startsWith("matmul:"))).toBe(true); // 96 rows: the tiles
  });
});
