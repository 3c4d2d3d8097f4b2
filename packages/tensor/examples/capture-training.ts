/**
 * Capture and replay on WebGPU: the same small causal transformer trained twice from the same
 * seed, once eagerly (the engine records every kernel of every step) and once with the step
 * recorded by `capture` and replayed. Prints the host time per step of each and checks that the
 * losses agree. Needs a WebGPU adapter: a GPU, or Mesa's lavapipe on a CPU-only machine (see
 * `.ci/run`).
 *
 *   npx tsx packages/tensor/examples/capture-training.ts [--steps 20]
 */
import {
  AdamW,
  capture,
  createWebGpuBackend,
  ops,
  Rng,
  type Tensor,
  tensor,
  tidy,
  type WebGpuBackend,
} from "../src/index.js";

const [VOCAB, WIDTH, HEADS, T, B] = [64, 32, 2, 16, 4];

function model(gpu: WebGpuBackend) {
  const rng = new Rng(1);
  const p = (...shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: n }, () => 0.1 * rng.normal());
    return tensor(values, shape, { backend: gpu }).requireGrad();
  };
  const w = { emb: p(VOCAB, WIDTH), qkv: p(3 * WIDTH, WIDTH), proj: p(WIDTH, WIDTH) };
  const heads = (t: Tensor) =>
    ops.permute(ops.reshape(t, [B, T, HEADS, WIDTH / HEADS]), [0, 2, 1, 3]);
  const forward = (ids: Tensor, targets: Tensor) => {
    const x = ops.embedding(w.emb, ids);
    const [q, k, v] = ops.split(ops.linear(ops.layerNorm(x), w.qkv), 3, -1);
    const a = ops.attention(heads(q), heads(k), heads(v), { causal: true });
    const h = ops.add(
      x,
      ops.linear(ops.reshape(ops.permute(a, [0, 2, 1, 3]), [B, T, WIDTH]), w.proj),
    );
    return ops.crossEntropy(ops.matmul(h, ops.transpose(w.emb, 0, 1)), targets);
  };
  return { params: Object.values(w), forward };
}

/** Token ids of step `s` and their next-token targets (a fixed cyclic pattern to learn). */
function batch(s: number): { ids: Int32Array; targets: Int32Array } {
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 3 + s) % VOCAB);
  return { ids, targets: ids.map((t) => (t + 3) % VOCAB) };
}

async function train(gpu: WebGpuBackend, steps: number, captured: boolean) {
  const m = model(gpu);
  const opt = new AdamW(m.params, { lr: 1e-2 });
  const ids = tensor(batch(0).ids, [B, T], { dtype: "i32", backend: gpu });
  const targets = tensor(batch(0).targets, [B, T], { dtype: "i32", backend: gpu });
  const step = () => {
    const loss = m.forward(ids, targets);
    loss.backward();
    opt.step();
    return loss;
  };
  // one eager step first: AdamW's moments are created by its first step
  await tidy(() => {
    const loss = step();
    opt.zeroGrad();
    return loss;
  }).itemAsync();
  let recorded: ReturnType<typeof capture<Tensor>> | null = null;
  const losses: number[] = [];
  let hostMs = 0;
  for (let s = 1; s <= steps; s++) {
    ids.write(batch(s).ids);
    targets.write(batch(s).targets);
    const t0 = performance.now();
    let loss: Tensor;
    if (captured) {
      // the first of these steps records (after its inputs are written), the others replay it
      if (recorded) loss = recorded.replay();
      else {
        recorded = capture(gpu, step);
        loss = recorded.result;
      }
    } else {
      loss = tidy(step);
      opt.zeroGrad();
    }
    const read = loss.itemAsync();
    if (s > 1) hostMs += performance.now() - t0; // step 1 compiles or records
    losses.push(await read);
    if (!captured) loss.dispose();
  }
  recorded?.dispose();
  opt.dispose();
  for (const p of [...m.params, ids, targets]) p.dispose();
  return { losses, hostMsPerStep: hostMs / (steps - 1) };
}

const i = process.argv.indexOf("--steps");
const steps = i >= 0 ? Number(process.argv[i + 1]) : 20;
const gpu = await createWebGpuBackend(); // NoAdapterError says what it looked for
console.log(`adapter: ${gpu.info.adapter}`);
const eager = await train(gpu, steps, false);
const replayed = await train(gpu, steps, true);
console.log(`eager:    ${eager.hostMsPerStep.toFixed(2)} ms of host time per step`);
console.log(`replayed: ${replayed.hostMsPerStep.toFixed(2)} ms of host time per step`);
console.log(`loss ${eager.losses[0].toFixed(4)} -> ${eager.losses.at(-1)!.toFixed(4)}`);
const same = eager.losses.every((l, k) => l === replayed.losses[k]);
console.log(`losses of the two runs ${same ? "identical" : "DIFFER"}`);
gpu.dispose();
if (!same) process.exit(1);
