import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ActivationStore,
  type Backend,
  checkpoint,
  customOp,
  getBackend,
  keep,
  MemoryBudgetError,
  manualSeed,
  memoryStats,
  noGrad,
  ops,
  ReferenceBackend,
  randn,
  resetPeak,
  setBackend,
  setMemoryBudget,
  type Tensor,
  tensor,
  tidy,
} from "../src/index.js";
import { gradcheck, gradcheckBackend } from "../src/testing/index.js";

let prev: Backend;
let mem: Backend;
beforeEach(() => {
  prev = getBackend();
  mem = setBackend(new ReferenceBackend({ name: `mem-${Math.random()}` }));
  manualSeed(11);
});
afterEach(() => {
  setBackend(prev);
});

const live = () => memoryStats(mem).liveBytes;

describe("autograd", () => {
  it("accumulates gradients over backward calls and uses every path", () => {
    const x = tensor([1, 2, 3]).requireGrad();
    const y = ops.sum(ops.add(ops.mul(x, x), x)); // d/dx = 2x + 1
    y.backward();
    expect(Array.from(x.grad!.data())).toEqual([3, 5, 7]);
    ops.sum(ops.mul(x, 2)).backward();
    expect(Array.from(x.grad!.data())).toEqual([5, 7, 9]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
  });

  it("noGrad records nothing", () => {
    const x = tensor([1]).requireGrad();
    const y = noGrad(() => ops.mul(x, 3));
    expect(y.requiresGrad).toBe(false);
    expect(y.isLeaf).toBe(true);
  });

  it("frees saved tensors after backward; a second backward says so", () => {
    const x = tensor([1, 2]).requireGrad();
    const y = ops.sum(ops.exp(x));
    y.backward();
    expect(() => y.backward()).toThrow(/graph was already freed.*retainGraph/);
    const z = ops.sum(ops.exp(x));
    z.backward(undefined, { retainGraph: true });
    z.backward();
    expect(x.grad!.data()[0]).toBeCloseTo(3 * Math.E, 5);
  });

  it("custom ops run their own backward, and gradcheck catches a wrong one", () => {
    const cube = (wrong: boolean) =>
      customOp({
        name: "cube",
        forward: (ctx, x) => {
          ctx.save(x);
          return ops.mul(ops.mul(x, x), x);
        },
        backward: (ctx, g) => {
          const [x] = ctx.saved;
          return [ops.mul(g, ops.mul(ops.mul(x, x), wrong ? 2 : 3))];
        },
      });
    const x = tensor([0.5, -1.5, 2], undefined, { backend: gradcheckBackend() }).requireGrad();
    const good = gradcheck((t) => cube(false)(t) as Tensor, [x]);
    expect(good.ok).toBe(true);
    const bad = gradcheck((t) => cube(true)(t) as Tensor, [x]);
    expect(bad.ok).toBe(false);
    expect(bad.message).toMatch(/analytic .* vs numeric/);
  });

  it("checkpoint gives the same gradients while saving only the inputs", () => {
    const w1 = randn([8, 8]).requireGrad();
    const w2 = randn([8, 8]).requireGrad();
    const x = randn([4, 8]).requireGrad();
    const block = (h: Tensor) => ops.tanh(ops.matmul(ops.gelu(ops.matmul(h, w1)), w2));
    const plain = tidy(() => {
      const l = ops.sum(block(block(x)));
      l.backward();
      return [w1.grad!.data(), w2.grad!.data(), x.grad!.data()];
    });
    for (const t of [w1, w2, x]) t.zeroGrad();
    const base = live();
    let ckptPeakSaved = 0;
    tidy(() => {
      const l = tidy(() => ops.sum(checkpoint(block, checkpoint(block, x))));
      ckptPeakSaved = live() - base;
      l.backward();
    });
    expect(Array.from(w1.grad!.data())).toEqual(Array.from(plain[0]));
    expect(Array.from(w2.grad!.data())).toEqual(Array.from(plain[1]));
    expect(Array.from(x.grad!.data())).toEqual(Array.from(plain[2]));
    for (const t of [w1, w2, x]) t.zeroGrad();
    let plainSaved = 0;
    tidy(() => {
      const l = tidy(() => ops.sum(block(block(x))));
      plainSaved = live() - base;
      l.backward();
    });
    expect(ckptPeakSaved).toBeLessThan(plainSaved);
  });
});

describe("memory", () => {
  it("tidy frees intermediates and keeps the result", () => {
    const x = randn([16, 16]);
    const before = live();
    const y = tidy(() => ops.exp(ops.add(ops.mul(x, 2), 1)));
    expect(live() - before).toBe(16 * 16 * 4);
    y.dispose();
    expect(live()).toBe(before);
  });

  it("tidy returns nested structures and honours keep", () => {
    const x = randn([4]);
    const before = live();
    let kept: Tensor | null = null;
    const r = tidy(() => {
      kept = keep(ops.mul(x, 3));
      return { a: [ops.exp(x)], b: ops.neg(x) };
    });
    expect(r.a[0].disposed).toBe(false);
    expect(r.b.disposed).toBe(false);
    expect(live() - before).toBe(3 * 16);
    r.a[0].dispose();
    r.b.dispose();
    kept!.dispose();
    expect(live()).toBe(before);
  });

  it("the graph frees its saved tensors when its outputs are disposed without backward", () => {
    const w = randn([32, 32]).requireGrad();
    const before = live();
    const out = tidy(() => ops.tanh(ops.matmul(ops.relu(ops.matmul(randn([8, 32]), w)), w)));
    expect(live()).toBeGreaterThan(before + out.size * 4); // saved activations are held
    out.dispose();
    expect(live()).toBe(before);
  });

  it("backward inside tidy leaves only the gradients", () => {
    const w = randn([16, 16]).requireGrad();
    const before = live();
    tidy(() => ops.sum(ops.tanh(ops.matmul(randn([4, 16]), w))).backward());
    expect(live() - before).toBe(16 * 16 * 4);
    w.zeroGrad();
    expect(live()).toBe(before);
  });

  it("backward frees each intermediate gradient as soon as it is used", () => {
    const x = randn([128, 128]).requireGrad();
    const bytes = 128 * 128 * 4;
    const loss = tidy(() => {
      let h = x;
      for (let i = 0; i < 10; i++) h = ops.tanh(h);
      return ops.sum(h);
    });
    const before = live();
    resetPeak(mem);
    loss.backward();
    // x.grad plus at most a couple of gradients in flight (not one per layer).
    expect(memoryStats(mem).peakBytes - before).toBeLessThanOrEqual(3 * bytes + 64);
    loss.dispose();
    x.dispose();
  });

  it("tracks peak bytes and enforces a budget with a clear error", () => {
    const stats0 = memoryStats(mem);
    const a = randn([256]);
    expect(memoryStats(mem).peakBytes).toBeGreaterThanOrEqual(stats0.liveBytes + 1024);
    setMemoryBudget(mem, live() + 2048);
    const b = randn([256]);
    expect(() => randn([1024])).toThrow(MemoryBudgetError);
    expect(() => ops.exp(randn([64, 64]))).toThrow(
      /tensor: allocating 16.0 KiB \(4096 × f32\) would exceed the mem-.* memory budget of 3.0 KiB/,
    );
    setMemoryBudget(mem, null);
    a.dispose();
    b.dispose();
  });

  it("moves a tensor to the host tier and back (f32 exact, bf16 rounded)", () => {
    const x = randn([100]);
    const values = Array.from(x.data());
    const before = live();
    x.toHost();
    expect(x.onDevice).toBe(false);
    expect(live()).toBe(before - 400);
    expect(memoryStats(mem).hostBytes).toBe(400);
    x.toDevice();
    expect(Array.from(x.data())).toEqual(values);
    x.toHost("bf16");
    expect(memoryStats(mem).hostBytes).toBe(200);
    const y = ops.mul(x, 1); // use reloads it
    expect(x.onDevice).toBe(true);
    y.data().forEach((v, i) => {
      expect(Math.abs(v - values[i])).toBeLessThanOrEqual(Math.abs(values[i]) / 128);
    });
  });
});

describe("named saved activations (ActivationStore)", () => {
  const model = () => {
    const w1 = randn([6, 6], { std: 0.5 }).requireGrad();
    const w2 = randn([6, 3], { std: 0.5 }).requireGrad();
    return { w1, w2, params: [w1, w2] };
  };

  it("names saved tensors by scope, offloads them, and backward reloads them", () => {
    const { w1, w2, params } = model();
    const x = randn([4, 6]);
    const ref = tidy(() => {
      ops.sum(ops.matmul(ops.gelu(ops.matmul(x, w1)), w2)).backward();
      return params.map((p) => Array.from(p.grad!.data()));
    });
    for (const p of params) p.zeroGrad();

    const store = new ActivationStore();
    const loss = tidy(() => {
      const h = store.capture("block0", () => ops.gelu(ops.matmul(x, w1)));
      return ops.sum(store.capture("head", () => ops.matmul(h, w2)));
    });
    expect(store.names()).toEqual([
      "block0/matmul#0",
      "block0/matmul#1",
      "block0/gelu_tanh#0",
      "block0/gelu_tanh#1",
      "head/matmul#0",
      "head/matmul#1",
    ]);
    const h = store.get("head/matmul#0");
    expect(h.shape).toEqual([4, 6]);
    const deviceBefore = live();
    const hostBytes = store.offload("f32");
    expect(hostBytes).toBeGreaterThan(0);
    expect(live()).toBeLessThan(deviceBefore);
    loss.backward(); // a later backward pass, reloading in backward order
    params.forEach((p, i) => {
      expect(Array.from(p.grad!.data())).toEqual(ref[i]);
    });
    expect(store.names()).toEqual([]); // released with the graph
    loss.dispose();
  });

  it("deviceDType f16 stores computed activations as f16; backward uses the rounded values", () => {
    const { w1, w2, params } = model();
    const x = randn([4, 6]);
    const run = (store: ActivationStore) => {
      for (const p of params) p.zeroGrad();
      tidy(() => {
        const h = store.capture("block0", () => ops.gelu(ops.matmul(x, w1)));
        ops.sum(ops.square(store.capture("head", () => ops.matmul(h, w2)))).backward();
      });
      return params.map((p) => Float32Array.from(p.grad!.data()));
    };
    const exact = run(new ActivationStore());
    const store = new ActivationStore({ deviceDType: "f16", keepAfterBackward: true });
    const half = run(store);
    // Parameters (w1, w2) are saved as they are; the input and the activations as f16.
    const dtypes = Object.fromEntries(store.entries().map((e) => [e.name, e.tensor.dtype]));
    expect(dtypes).toEqual({
      "block0/matmul#0": "f16", // x
      "block0/matmul#1": "f32", // w1
      "block0/gelu_tanh#0": "f16", // x·w1
      "block0/gelu_tanh#1": "f16", // gelu(x·w1)
      "head/matmul#0": "f16", // h
      "head/matmul#1": "f32", // w2
    });
    half.forEach((g, i) => {
      let err = 0;
      let scale = 0;
      for (let j = 0; j < g.length; j++) {
        err = Math.max(err, Math.abs(g[j] - exact[i][j]));
        scale = Math.max(scale, Math.abs(exact[i][j]));
      }
      expect(err / scale).toBeGreaterThan(0); // the rounding shows
      expect(err / scale).toBeLessThan(5e-3); // and stays at f16's scale
    });
    store.clear();
  });

  it("keepAfterBackward keeps activations for reuse until clear()", () => {
    const { w1 } = model();
    const store = new ActivationStore({ keepAfterBackward: true });
    const before = live();
    tidy(() => {
      const y = store.capture("layer", () => ops.tanh(ops.matmul(randn([2, 6]), w1)));
      ops.sum(y).backward();
    });
    expect(store.names().length).toBe(4);
    expect(store.get("layer/tanh#1").shape).toEqual([2, 6]);
    store.clear();
    w1.zeroGrad();
    expect(live()).toBe(before);
  });
});
