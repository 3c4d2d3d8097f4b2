import { describe, expect, it } from "vitest";
import {
  AdamW,
  backendByName,
  clipGradNorm,
  endScope,
  getBackend,
  listBackends,
  manualSeed,
  ops,
  ReferenceBackend,
  Rng,
  randn,
  registerBackend,
  SGD,
  setBackend,
  startScope,
  tensor,
  tidy,
  warmupCosine,
} from "../src/index.js";

describe("end to end", () => {
  it("a tiny causal transformer block learns to copy the previous token", () => {
    const prev = getBackend();
    setBackend("reference");
    manualSeed(1);
    const V = 5;
    const d = 8;
    const T = 6;
    const emb = randn([V, d], { std: 0.5 }).requireGrad();
    const pos = randn([T, d], { std: 0.5 }).requireGrad();
    const wq = randn([d, d], { std: 0.3 }).requireGrad();
    const wk = randn([d, d], { std: 0.3 }).requireGrad();
    const wv = randn([d, d], { std: 0.3 }).requireGrad();
    const lnW = tensor(new Float32Array(d).fill(1)).requireGrad();
    const params = [emb, pos, wq, wk, wv, lnW];
    const opt = new AdamW(params, { lr: 0.05, weightDecay: 0 });
    const schedule = warmupCosine({ peak: 0.05, warmup: 10, total: 150, min: 0.005 });
    const rng = new Rng(2);
    const batch = () => {
      const ids = Int32Array.from({ length: 4 * T }, () => rng.int(V));
      const tg = Int32Array.from(ids, (_, i) => (i % T === 0 ? -100 : ids[i - 1]));
      return { ids: tensor(ids, [4, T]), tg: tensor(tg, [4, T]) };
    };
    const lossOf = (ids: ReturnType<typeof batch>["ids"], tg: ReturnType<typeof batch>["tg"]) => {
      const x = ops.rmsNorm(ops.add(ops.embedding(emb, ids), pos), lnW);
      const heads = (w: typeof wq) => ops.unsqueeze(ops.matmul(x, w), 1);
      const a = ops.squeeze(ops.attention(heads(wq), heads(wk), heads(wv), { causal: true }), 1);
      return ops.crossEntropy(ops.matmul(ops.add(a, x), ops.transpose(emb)), tg);
    };
    let first = 0;
    let last = 0;
    for (let step = 1; step <= 150; step++) {
      tidy(() => {
        const { ids, tg } = batch();
        const loss = lossOf(ids, tg);
        loss.backward();
        clipGradNorm(params, 1);
        opt.lr = schedule(step);
        opt.step();
        opt.zeroGrad();
        if (step === 1) first = loss.item();
        last = loss.item();
      });
    }
    setBackend(prev);
    expect(first).toBeGreaterThan(1.2);
    expect(last).toBeLessThan(0.3);
  });

  it("SGD fits a linear regression", () => {
    manualSeed(4);
    const x = randn([64, 3]);
    const trueW = tensor([[2], [-1], [0.5]]);
    const y = ops.matmul(x, trueW);
    const w = tensor([[0], [0], [0]]).requireGrad();
    const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
    for (let i = 0; i < 200; i++) {
      tidy(() => {
        ops.mean(ops.square(ops.sub(ops.matmul(x, w), y))).backward();
        opt.step();
        opt.zeroGrad();
      });
    }
    Array.from(w.data()).forEach((v, i) => {
      expect(v).toBeCloseTo([2, -1, 0.5][i], 3);
    });
  });
});

describe("backend registry and scopes", () => {
  it("registers, lists and switches backends", () => {
    const prev = getBackend();
    registerBackend("ref-test", () => new ReferenceBackend({ name: "ref-test" }), { priority: -5 });
    expect(listBackends()).toContain("ref-test");
    expect(listBackends().indexOf("ref-test")).toBeGreaterThan(listBackends().indexOf("reference"));
    const b = setBackend("ref-test");
    expect(b).toBe(backendByName("ref-test"));
    expect(tensor([1]).backend.name).toBe("ref-test");
    expect(() => ops.add(tensor([1]), tensor([1], undefined, { backend: prev }))).toThrow(
      /add: tensors are on different backends \("ref-test" and "/,
    );
    expect(() => setBackend("nope")).toThrow(/unknown backend "nope"; registered: /);
    setBackend(prev);
  });

  it("startScope / endScope for async code, and tidy rejects promises", async () => {
    startScope();
    const a = tensor([1]);
    await Promise.resolve();
    const b = tensor([2]);
    endScope(b);
    expect(a.disposed).toBe(true);
    expect(b.disposed).toBe(false);
    expect(() => tidy(() => Promise.resolve(1))).toThrow(/tidy: the function returned a Promise/);
    expect(() => endScope()).toThrow("endScope: no scope is open");
  });
});
