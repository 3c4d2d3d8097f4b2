import { describe, expect, it } from "vitest";
import {
  AdamW,
  clipGradNorm,
  parseSafetensors,
  SGD,
  serializeSafetensors,
  type Tensor,
  tensor,
  warmupCosine,
} from "../src/index.js";

// Expected values computed with PyTorch 1.13 (torch.optim, float64) on the same inputs.
const p0 = [0.5, -1.0, 2.0, 0.0];
const grads = [
  [0.1, -0.2, 0.3, 0.0],
  [-0.5, 0.4, 0.0, 1.0],
  [0.05, 0.05, -0.05, 2.0],
];

function run(make: (p: Tensor) => { step(): void }): number[] {
  const p = tensor(p0).requireGrad();
  const opt = make(p);
  for (const g of grads) {
    p.grad = tensor(g);
    opt.step();
  }
  return Array.from(p.data());
}

function close(got: number[], want: number[], tol = 2e-6) {
  got.forEach((v, i) => {
    expect(Math.abs(v - want[i])).toBeLessThan(tol);
  });
}

describe("optimizers match PyTorch", () => {
  it("AdamW (decoupled weight decay, bias correction)", () => {
    const got = run(
      (p) => new AdamW([p], { lr: 0.1, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.1 }),
    );
    close(got, [0.486053618736879, -0.9437407345508233, 1.7353496270064173, -0.15606243111152102]);
  });

  it("SGD with momentum, dampening and weight decay", () => {
    const got = run(
      (p) => new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }),
    );
    close(got, [0.551235806495, -1.01342021299, 1.91267103408, -0.35091900000000004]);
  });

  it("SGD Nesterov", () => {
    const got = run((p) => new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true }));
    close(got, [0.59161, -1.04912, 1.90633, -0.651]);
  });

  it("clipGradNorm scales by maxNorm / (norm + 1e-6)", () => {
    const a = tensor([3, 4]).requireGrad();
    const b = tensor([12]).requireGrad();
    a.grad = tensor([3, 4]);
    b.grad = tensor([12]);
    expect(clipGradNorm([a, b], 6.5).item()).toBeCloseTo(13, 5);
    close(Array.from(a.grad.data()), [1.4999998846153937, 1.9999998461538582]);
    close(Array.from(b.grad!.data()), [5.999999538461575]);
    expect(clipGradNorm([a, b], 100).item()).toBeCloseTo(6.5, 4); // no change below the limit
    close(Array.from(b.grad!.data()), [5.999999538461575]);
  });

  it("state saves and loads: a restored optimizer continues identically", () => {
    const make = (p: Tensor) => new AdamW([p], { lr: 0.05 });
    const p = tensor(p0).requireGrad();
    const opt = make(p);
    p.grad = tensor(grads[0]);
    opt.step();
    const saved = opt.state();
    const savedCopy = {
      ...saved,
      tensors: Object.fromEntries(Object.entries(saved.tensors).map(([k, t]) => [k, t.clone()])),
    };
    const pCopy = p.clone().detach().requireGrad();
    p.grad = tensor(grads[1]);
    opt.step();

    const opt2 = make(pCopy);
    opt2.loadState(savedCopy);
    expect(opt2.stepCount).toBe(1);
    pCopy.grad = tensor(grads[1]);
    opt2.step();
    expect(Array.from(pCopy.data())).toEqual(Array.from(p.data()));
    expect(() => new SGD([pCopy]).loadState(savedCopy)).toThrow(
      'sgd.loadState: state is for "adamw"',
    );
  });

  it("state round-trips through safetensors (tensors + JSON metadata)", () => {
    const p = tensor(p0).requireGrad();
    const opt = new AdamW([p], { lr: 0.02, weightDecay: 0.05 });
    p.grad = tensor(grads[0]);
    opt.step();
    const st = opt.state();
    const bytes = serializeSafetensors(st.tensors, {
      metadata: { optimizer: JSON.stringify({ kind: st.kind, step: st.step, hyper: st.hyper }) },
    });
    const file = parseSafetensors(bytes);
    const meta = JSON.parse(file.metadata.optimizer);
    const p2 = tensor(Array.from(p.data())).requireGrad();
    const opt2 = new AdamW([p2]);
    opt2.loadState({ ...meta, tensors: file.tensors });
    expect(opt2.lr).toBe(0.02);
    expect(opt2.weightDecay).toBe(0.05);
    for (const o of [opt, opt2]) {
      o.params[0].grad = tensor(grads[1]);
      o.step();
    }
    expect(Array.from(p2.data())).toEqual(Array.from(p.data()));
  });

  it("rejects parameters that cannot be optimised", () => {
    expect(() => new AdamW([tensor([1])])).toThrow(
      /parameter 0 \(\[1\] f32\) must be an f32 leaf tensor with requiresGrad/,
    );
  });
});

describe("warmup + cosine schedule", () => {
  it("warms up linearly then decays to min", () => {
    const lr = warmupCosine({ peak: 1, warmup: 10, total: 110, min: 0.1 });
    expect(lr(1)).toBeCloseTo(0.1);
    expect(lr(10)).toBeCloseTo(1);
    expect(lr(60)).toBeCloseTo(0.55);
    expect(lr(110)).toBeCloseTo(0.1);
    expect(lr(500)).toBeCloseTo(0.1);
  });
});
