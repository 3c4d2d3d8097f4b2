// Frontend ops that used to need synchronous reads, on the webgpu backend: index range checks
// run on the device and fail the next read with the host check's message; gradient clipping
// stays on the device. Skipped (with the reason) when no WebGPU adapter exists.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clipGradNorm, ops, tensor } from "../index.js";
import { createWebGpuBackend, type WebGpuBackend, webgpuAvailable } from "./index.js";

const probe = await webgpuAvailable();
const suite = probe.available ? describe : describe.skip;
const title = probe.available
  ? `webgpu device-side checks (${probe.adapter})`
  : `webgpu device-side checks (skipped: no WebGPU adapter: ${probe.reason})`;

suite(title, { timeout: 120_000 }, () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => {
    gpu = await createWebGpuBackend();
  });
  afterAll(() => gpu?.dispose());

  it("indexSelect with an index out of range fails the next read, then reads work again", async () => {
    const table = tensor([1, 2, 3, 4, 5, 6], [3, 2], { backend: gpu });
    const ids = tensor([0, 2, 7, 1], [4], { dtype: "i32", backend: gpu });
    const out = ops.indexSelect(table, 0, ids);
    await expect(out.dataAsync()).rejects.toThrow(
      "indexSelect: index 7 at position 2 is out of range [0, 3) (found by a device-side check",
    );
    const good = ops.indexSelect(table, 0, tensor([2, 0], [2], { dtype: "i32", backend: gpu }));
    expect(Array.from(await good.dataAsync())).toEqual([5, 6, 1, 2]);
  });

  it("the first failing op is the one reported; sync() reports it too", async () => {
    const table = tensor([1, 2, 3, 4], [4], { backend: gpu });
    ops.indexSelect(table, 0, tensor([-1], [1], { dtype: "i32", backend: gpu }));
    ops.indexSelect(table, 0, tensor([9], [1], { dtype: "i32", backend: gpu }));
    await expect(gpu.sync()).rejects.toThrow("index -1 at position 0 is out of range [0, 4)");
    await expect(gpu.sync()).resolves.toBeUndefined();
  });

  it("crossEntropy checks targets on the device and lets ignoreIndex through", async () => {
    const logits = tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [2, 3], { backend: gpu });
    const ok = ops.crossEntropy(logits, tensor([2, -100], [2], { dtype: "i32", backend: gpu }));
    expect(Number.isFinite(await ok.itemAsync())).toBe(true);
    const bad = ops.crossEntropy(logits, tensor([1, 3], [2], { dtype: "i32", backend: gpu }));
    await expect(bad.itemAsync()).rejects.toThrow(
      "crossEntropy: target 3 at position 1 is out of range [0, 3) (ignoreIndex -100)",
    );
  });

  it("clipGradNorm scales on the device and returns the norm as a tensor", async () => {
    const a = tensor([3, 4], [2], { backend: gpu }).requireGrad();
    const b = tensor([12], [1], { backend: gpu }).requireGrad();
    a.grad = tensor([3, 4], [2], { backend: gpu });
    b.grad = tensor([12], [1], { backend: gpu });
    const norm = clipGradNorm([a, b], 6.5);
    expect(await norm.itemAsync()).toBeCloseTo(13, 5);
    const ga = await a.grad.dataAsync();
    expect(ga[0]).toBeCloseTo(1.5, 5);
    expect(ga[1]).toBeCloseTo(2, 5);
    expect((await b.grad!.dataAsync())[0]).toBeCloseTo(6, 5);
  });
});
