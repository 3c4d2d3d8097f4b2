// Fused elementwise chains on the webgpu backend: the kernel count drops, results match the
// unfused backend exactly, and every hazard the fuser guards against (reading a chain output
// through another view, a freed input's buffer reused, outputs freed before emission, chains
// longer than the cap or wider than the binding limit, writes and reads in between) still
// gives the right values. Skipped (with the reason) when no WebGPU adapter exists.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noGrad, ops, type Tensor, tensor, tidy } from "../index.js";
import { Rng } from "../random.js";
import { createWebGpuBackend, type WebGpuBackend, webgpuAvailable } from "./index.js";

const probe = await webgpuAvailable();
const suite = probe.available ? describe : describe.skip;
const title = probe.available
  ? `webgpu elementwise fusion (${probe.adapter})`
  : `webgpu elementwise fusion (skipped: no WebGPU adapter: ${probe.reason})`;

function values(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

suite(title, { timeout: 120_000 }, () => {
  let fused: WebGpuBackend;
  let plain: WebGpuBackend;
  beforeAll(async () => {
    fused = await createWebGpuBackend({ fuseElementwise: true });
    plain = await createWebGpuBackend({ fuseElementwise: false });
  });
  afterAll(() => {
    fused?.dispose();
    plain?.dispose();
  });

  /** Runs `fn` on both backends; expects identical values; returns the dispatch counts. */
  async function same(
    fn: (on: WebGpuBackend) => Tensor | Tensor[],
  ): Promise<{ fused: number; plain: number }> {
    const counts = { fused: 0, plain: 0 };
    const results: Float32Array[][] = [];
    for (const [name, b] of [
      ["fused", fused],
      ["plain", plain],
    ] as const) {
      const before = b.stats().dispatches;
      const out = noGrad(() => fn(b));
      const list = Array.isArray(out) ? out : [out];
      counts[name] = b.stats().dispatches - before;
      results.push(
        await Promise.all(list.map(async (t) => Float32Array.from(await t.dataAsync()))),
      );
    }
    expect(results[0]).toEqual(results[1]);
    return counts;
  }

  it("a chain of same-shape ops runs as one kernel with the unfused results", async () => {
    const before = fused.stats().fusedOps;
    const counts = await same((b) => {
      const x = tensor(values(1000, 1), [10, 100], { backend: b });
      const y = tensor(values(1000, 2), [10, 100], { backend: b });
      const bias = tensor(values(100, 3), [100], { backend: b }); // broadcast input
      return ops.sub(ops.exp(ops.tanh(ops.add(ops.mul(x, y), bias))), x);
    });
    expect(counts.plain - counts.fused).toBe(5 - 1); // mul, add, tanh, exp, sub
    expect(fused.stats().fusedOps - before).toBeGreaterThanOrEqual(5);
  });

  it("i32 ops, comparisons and where fuse with f32 ops", async () => {
    await same((b) => {
      const a = tensor([1, -2, 3, -4, 5, 6], [6], { dtype: "i32", backend: b });
      const c = tensor([2, 2, 2, 2, 2, 2], [6], { dtype: "i32", backend: b });
      const f = tensor(values(6, 4), [6], { backend: b });
      const s = ops.mul(ops.add(a, c), c); // i32
      return ops.where(ops.gt(s, 5), ops.mul(f, 2), ops.neg(f));
    });
  });

  it("reading a chain output through a transposed or sliced view ends the chain first", async () => {
    await same((b) => {
      const x = tensor(values(64, 5), [8, 8], { backend: b });
      const z = ops.add(x, 1);
      const t = ops.mul(ops.transpose(z, 0, 1), 3); // other invocations' elements
      const s = ops.add(ops.slice(z, 0, 2, 6), 1); // another shape
      return [t, s, ops.add(z, t)];
    });
  });

  it("a freed input's buffer is not reused while a pending op reads it", async () => {
    await same((b) => {
      const x = tensor(values(256, 6), [256], { backend: b });
      const y = ops.mul(x, 2);
      x.dispose(); // y is pending and reads x
      const fresh = tensor(values(256, 7), [256], { backend: b }); // may take a pooled buffer
      return [y, ops.add(y, fresh)];
    });
  });

  it("intermediates disposed before the chain runs: the kept result is right", async () => {
    await same((b) => {
      const x = tensor(values(512, 8), [512], { backend: b });
      return tidy(() => ops.sqrt(ops.add(ops.square(ops.sin(x)), 1)));
    });
  });

  it("chains longer than the cap and wider than the bindings split correctly", async () => {
    await same((b) => {
      let t = tensor(values(300, 9), [300], { backend: b });
      for (let i = 0; i < 40; i++) t = ops.add(ops.mul(t, 0.9), i % 3);
      return t;
    });
    await same((b) => {
      const inputs = Array.from({ length: 20 }, (_, i) =>
        tensor(values(50, 10 + i), [50], { backend: b }),
      );
      return inputs.reduce((acc, t) => ops.add(acc, t));
    });
  });

  it("a write or a read in the middle sees the chain's values", async () => {
    const x = tensor(values(128, 30), [128], { backend: fused });
    const y = ops.exp(ops.mul(x, 0.5));
    const early = Float32Array.from(await y.dataAsync());
    const z = ops.add(y, 1);
    x.backend.write(x._buf.storage!, new Float32Array(128)); // after z was recorded
    const want = early.map((v) => v + 1);
    const got = await z.dataAsync();
    for (let i = 0; i < 128; i++) expect(got[i]).toBeCloseTo(want[i], 5);
  });

  it("training on the fused backend gives the unfused gradients", async () => {
    const grads: Float32Array[][] = [];
    for (const b of [fused, plain]) {
      const w = tensor(values(64, 40), [8, 8], { backend: b }).requireGrad();
      const x = tensor(values(32, 41), [4, 8], { backend: b });
      const h = ops.gelu(ops.add(ops.matmul(x, w), 0.1));
      const loss = ops.mean(ops.mul(ops.square(ops.sub(h, 0.5)), ops.sigmoid(h)));
      loss.backward();
      grads.push([Float32Array.from(await w.grad!.dataAsync())]);
    }
    expect(grads[0]).toEqual(grads[1]);
  });
});
