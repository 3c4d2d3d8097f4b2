// Capture and replay on the webgpu backend (../capture.ts, ./recording.ts): training steps
// replayed from one capture match the eager steps exactly; new inputs written between replays
// are used; device-side index checks fire in replays; memory a recording uses is never handed
// to another tensor; and each misuse (a read, host random numbers, a freed input, nesting, a
// backend that cannot record) throws saying what was wrong. Skipped without a WebGPU adapter.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Capture, capture } from "../capture.js";
import {
  AdamW,
  memoryStats,
  ops,
  ReferenceBackend,
  randn,
  SGD,
  setMemoryBudget,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from "../index.js";
import { Rng } from "../random.js";
import { createWebGpuBackend, type WebGpuBackend, webgpuAvailable } from "./index.js";

const probe = await webgpuAvailable();
const suite = probe.available ? describe : describe.skip;
const title = probe.available
  ? `webgpu capture and replay (${probe.adapter})`
  : `webgpu capture and replay (skipped: no WebGPU adapter: ${probe.reason})`;

const VOCAB = 24;
const WIDTH = 16;
const HEADS = 2;
const T = 6;
const B = 2;

const values = (n: number, seed: number, scale = 0.2) => {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => scale * rng.normal());
};

/** Token ids and next-token targets of step `s` (deterministic). */
const batch = (s: number) => ({
  ids: Int32Array.from({ length: B * T }, (_, i) => (i * 5 + s * 3) % VOCAB),
  targets: Int32Array.from({ length: B * T }, (_, i) => (i * 7 + s) % VOCAB),
});

/** A one-block causal transformer: embedding, layer norm, attention, GELU MLP, tied head. */
function tinyModel(backend: WebGpuBackend) {
  const p = (shape: number[], seed: number, fill?: number) =>
    tensor(
      fill === undefined
        ? values(
            shape.reduce((a, b) => a * b, 1),
            seed,
          )
        : new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill),
      shape,
      { backend },
    ).requireGrad();
  const params = {
    emb: p([VOCAB, WIDTH], 1),
    ln: p([WIDTH], 0, 1),
    lnB: p([WIDTH], 0, 0),
    qkv: p([3 * WIDTH, WIDTH], 2),
    proj: p([WIDTH, WIDTH], 3),
    up: p([4 * WIDTH, WIDTH], 4),
    upB: p([4 * WIDTH], 0, 0),
    down: p([WIDTH, 4 * WIDTH], 5),
  };
  const forward = (ids: Tensor, targets: Tensor) => {
    const x = ops.embedding(params.emb, ids); // [B, T, W]
    const h = ops.layerNorm(x, params.ln, params.lnB);
    const heads = (t: Tensor) =>
      ops.permute(ops.reshape(t, [B, T, HEADS, WIDTH / HEADS]), [0, 2, 1, 3]);
    const [q, k, v] = ops.split(ops.linear(h, params.qkv), [WIDTH, WIDTH, WIDTH], -1);
    const a = ops.attention(heads(q), heads(k), heads(v), { causal: true });
    const merged = ops.reshape(ops.permute(a, [0, 2, 1, 3]), [B, T, WIDTH]);
    const x2 = ops.add(x, ops.linear(merged, params.proj));
    const m = ops.linear(ops.gelu(ops.linear(x2, params.up, params.upB)), params.down);
    const logits = ops.matmul(ops.add(x2, m), ops.transpose(params.emb, 0, 1));
    return ops.crossEntropy(logits, targets);
  };
  return { params: Object.values(params), forward };
}

suite(title, { timeout: 120_000 }, () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => {
    gpu = await createWebGpuBackend({ name: "webgpu-capture-test" });
  });
  afterAll(() => gpu?.dispose());

  /**
   * Trains `steps` steps (new inputs and a new learning rate each step): eagerly, replaying a
   * captured forward + backward (AdamW eager), or replaying a captured whole step (forward,
   * backward and AdamW; the first step eager, as AdamW's moments must exist).
   */
  async function train(
    steps: number,
    mode: "eager" | "forward" | "full",
    optimizer: "adamw" | "sgd" = "adamw",
  ) {
    const model = tinyModel(gpu);
    const opt =
      optimizer === "adamw"
        ? new AdamW(model.params, { lr: 0.01, weightDecay: 0.1 })
        : new SGD(model.params, { lr: 0.01, momentum: 0.9, weightDecay: 0.1, nesterov: true });
    const ids = tensor(batch(0).ids, [B, T], { dtype: "i32", backend: gpu });
    const targets = tensor(batch(0).targets, [B, T], { dtype: "i32", backend: gpu });
    const losses: number[] = [];
    let step: Capture<Tensor> | null = null;
    const kernels: number[] = [];
    for (let s = 0; s < steps; s++) {
      ids.write(batch(s).ids);
      targets.write(batch(s).targets);
      opt.lr = 0.01 * (1 - s / 10);
      const before = gpu.stats().dispatches;
      let loss: Tensor;
      if (mode === "eager" || (mode === "full" && s === 0)) {
        loss = tidy(() => model.forward(ids, targets));
        loss.backward();
        opt.step();
        opt.zeroGrad();
      } else if (step) {
        loss = step.replay();
        if (mode === "forward") opt.step();
      } else {
        step = capture(gpu, () => {
          const l = model.forward(ids, targets);
          l.backward();
          if (mode === "full") opt.step();
          return l;
        });
        loss = step.result;
        if (mode === "forward") opt.step();
      }
      kernels.push(gpu.stats().dispatches - before);
      losses.push(await loss.itemAsync());
      if (!step || loss !== step.result) loss.dispose();
    }
    const weights = await model.params[0].dataAsync();
    const captureKernels = step?.kernels ?? null;
    step?.dispose();
    opt.dispose();
    for (const p of model.params) p.dispose();
    ids.dispose();
    targets.dispose();
    return { losses, weights, kernels, captureKernels, stepCount: opt.stepCount };
  }

  it("replays training steps exactly as the eager steps ran them", async () => {
    const eager = await train(5, "eager");
    const replayed = await train(5, "forward");
    expect(replayed.losses).toEqual(eager.losses); // same kernels, same order: bit for bit
    expect(Array.from(replayed.weights)).toEqual(Array.from(eager.weights));
    expect(new Set(replayed.losses).size).toBe(5); // the inputs changed every step
    // a replay issues exactly the captured kernels; AdamW adds its own
    expect(replayed.captureKernels).toBeGreaterThan(20);
    const adamw = eager.kernels[1] - replayed.captureKernels!;
    expect(adamw).toBeGreaterThan(0);
    expect(replayed.kernels.slice(1)).toEqual(Array(4).fill(eager.kernels[1]));
  });

  it("replays whole steps with AdamW: its step count and learning rate advance", async () => {
    const eager = await train(6, "eager");
    const replayed = await train(6, "full");
    expect(replayed.losses).toEqual(eager.losses);
    expect(Array.from(replayed.weights)).toEqual(Array.from(eager.weights));
    expect(replayed.stepCount).toBe(6);
    expect(replayed.captureKernels).toBe(eager.kernels[1]);
  });

  it("replays whole steps with SGD (momentum, nesterov): the learning rate advances", async () => {
    const eager = await train(6, "eager", "sgd");
    const replayed = await train(6, "full", "sgd");
    expect(replayed.losses).toEqual(eager.losses);
    expect(Array.from(replayed.weights)).toEqual(Array.from(eager.weights));
    expect(replayed.stepCount).toBe(6);
    expect(new Set(replayed.losses).size).toBe(6);
  });

  it("refuses optimizer steps it cannot replay", async () => {
    const w = tensor([1, 2], [2], { backend: gpu }).requireGrad();
    const loss = () => ops.sum(ops.square(w));
    const adam = new AdamW([w], { lr: 0.1 });
    expect(() =>
      capture(gpu, () => {
        loss().backward();
        adam.step();
      }),
    ).toThrow(/AdamW: its moments are created by its first step.*take one step before capture/);
    w.zeroGrad();
    const sgd = new SGD([w], { lr: 0.1, momentum: 0.9 });
    expect(() =>
      capture(gpu, () => {
        loss().backward();
        sgd.step();
      }),
    ).toThrow(/SGD: its first step with momentum .*take one step before capture/);
    w.zeroGrad();
    adam.dispose();
    sgd.dispose();
    w.dispose();
  });

  it("keeps every buffer a recording uses away from other tensors until it is disposed", async () => {
    const x = tensor(values(64, 7), [64], { backend: gpu });
    const held0 = gpu.rt.heldBytes;
    const step = capture(gpu, () => {
      // temporaries freed inside the capture; their buffers would normally be pooled
      const t = ops.mul(ops.exp(x), 2);
      return ops.sum(ops.add(t, ops.tanh(t)));
    });
    const want = await step.result.dataAsync();
    expect(gpu.rt.heldBytes).toBeGreaterThan(held0);
    // new tensors of every size the capture used, filled with a marker
    const others = [64, 1].flatMap((n) =>
      Array.from({ length: 6 }, () => tensor(new Float32Array(n).fill(-5), [n], { backend: gpu })),
    );
    step.replay();
    step.replay();
    expect(Array.from(await step.result.dataAsync())).toEqual(Array.from(want));
    for (const o of others) expect(new Set(await o.dataAsync())).toEqual(new Set([-5]));
    step.dispose();
    expect(gpu.rt.heldBytes).toBe(held0);
    expect(step.result.disposed).toBe(true);
    expect(() => step.replay()).toThrow(/replay after dispose/);
    for (const o of others) o.dispose();
    x.dispose();
  });

  it("counts the buffers recordings keep against the memory budget until they are disposed", async () => {
    const x = tensor(values(4096, 5), [4096], { backend: gpu });
    const step = capture(gpu, () => ops.sum(ops.exp(ops.mul(x, 2)))); // two 16 KiB temporaries
    const { retainedBytes, liveBytes } = memoryStats(gpu);
    expect(retainedBytes).toBe(gpu.rt.heldBytes);
    expect(retainedBytes).toBeGreaterThanOrEqual(2 * 4096 * 4);
    // room for one more 16 KiB tensor only if the kept buffers did not count
    setMemoryBudget(gpu, liveBytes + 4096 * 4 + 1024);
    try {
      expect(() => zeros([4096], { backend: gpu })).toThrow(
        /memory budget .*kept by captured work until its captures are disposed/,
      );
      step.dispose();
      expect(memoryStats(gpu).retainedBytes).toBe(0);
      zeros([4096], { backend: gpu }).dispose();
    } finally {
      setMemoryBudget(gpu, null);
      step.dispose();
      x.dispose();
    }
  });

  it("owns only the result tensors it created: an input returned stays the caller's", async () => {
    const x = tensor([1, 2], [2], { backend: gpu });
    const step = capture(gpu, () => ({ x, y: ops.mul(x, 3) }));
    step.dispose();
    expect(step.result.y.disposed).toBe(true);
    expect(x.disposed).toBe(false);
    expect(Array.from(await x.dataAsync())).toEqual([1, 2]);
    x.dispose();
  });

  it("replays host data written inside the capture as it was (constants)", async () => {
    const x = tensor([1, 2, 3], [3], { backend: gpu });
    const step = capture(gpu, () => ops.mul(x, tensor([10, 20, 30], [3], { backend: gpu })));
    expect(Array.from(await step.result.dataAsync())).toEqual([10, 40, 90]);
    x.write([2, 2, 2]);
    expect(Array.from(await step.replay().dataAsync())).toEqual([20, 40, 60]);
    step.dispose();
    x.dispose();
  });

  it("reports an out-of-range index written between replays at the next read", async () => {
    const table = tensor(values(5 * 3, 9), [5, 3], { backend: gpu });
    const ids = tensor([0, 4, 2], [3], { dtype: "i32", backend: gpu });
    const step = capture(gpu, () => ops.sum(ops.embedding(table, ids)));
    await step.result.dataAsync();
    ids.write([1, 7, 2]);
    await expect(step.replay().dataAsync()).rejects.toThrow(/index 7 .*device-side check/s);
    ids.write([1, 3, 2]);
    await expect(step.replay().dataAsync()).resolves.toBeDefined(); // the fault was cleared
    step.dispose();
    table.dispose();
    ids.dispose();
  });

  it("refuses a replay once a tensor the recording uses was disposed", async () => {
    const x = tensor(values(8, 3), [8], { backend: gpu });
    const step = capture(gpu, () => ops.mul(x, x));
    x.dispose();
    expect(() => step.replay()).toThrow(/released after the capture.*capture again/);
    step.dispose();
  });

  it("refuses reads, host random numbers and nested captures inside a capture", async () => {
    const x = tensor([1, 2], [2], { backend: gpu });
    expect(() => capture(gpu, () => ops.mul(x, 2).dataAsync())).toThrow(
      /dataAsync: reading tensor data inside capture/,
    );
    expect(() => capture(gpu, () => ops.add(x, randn([2], { backend: gpu })))).toThrow(
      /randn: host random numbers drawn inside capture/,
    );
    expect(() => capture(gpu, () => capture(gpu, () => ops.mul(x, 2)))).toThrow(
      /already running.*do not nest/,
    );
    // a failed capture leaves nothing open: the next one works
    const step = capture(gpu, () => ops.mul(x, 3));
    expect(Array.from(await step.replay().dataAsync())).toEqual([3, 6]);
    step.dispose();
    x.dispose();
  });

  it("names the backend when it cannot record", () => {
    const ref = new ReferenceBackend();
    expect(() => capture(ref, () => zeros([2], { backend: ref }))).toThrow(
      /reference backend cannot record work for replay/,
    );
  });
});
