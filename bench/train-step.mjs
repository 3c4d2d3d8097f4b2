// Training-step benchmark: a GPT-2-shaped model (6 layers, width 384, 6 heads, context 256,
// batch 8, vocabulary 8192, pre-LayerNorm, GELU MLP 4x, tied embeddings): forward, backward
// and AdamW, in tokens/s with 1 and 2 threads, achieved GFLOP/s against the same run's matmul
// GFLOP/s, peak memory against the bytes the step needs, and the same model in plain PyTorch
// on the CPU (Debian's python3-torch, /usr/bin/python3) in the same run.
//
//   npm run bench -- train-step [--json] [--steps N] [--threads 1,2] [--layers 6] [--backend cpu] [--no-torch]
//
// `--backend webgpu` runs `webgpu-train-step` instead (its options; eager and captured steps,
// PyTorch on the GPU as the peer).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { buildModel, stepFlops, TORCH_GPT2_MODEL } from "./_gpt2.mjs";
import { forwardToWebgpu } from "./_webgpu-common.mjs";

const DEFAULTS = { layers: 6, width: 384, heads: 6, context: 256, batch: 8, vocab: 8192 };

function parseArgs(args) {
  const o = { json: false, steps: 3, threads: [1, 2], torch: true, backend: null, ...DEFAULTS };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--json") o.json = true;
    else if (a === "--no-torch") o.torch = false;
    else if (a === "--steps") o.steps = Number(args[++i]);
    else if (a === "--backend") o.backend = args[++i];
    else if (a === "--threads") o.threads = args[++i].split(",").map(Number);
    else if (a === "--help" || a === "-h") {
      console.log(
        "usage: npm run bench -- train-step [--json] [--steps N] [--threads 1,2] [--layers N] [--width N] [--batch N] [--context N] [--vocab N] [--backend NAME] [--no-torch]",
      );
      process.exit(0);
    } else if (a.startsWith("--") && a.slice(2) in DEFAULTS) o[a.slice(2)] = Number(args[++i]);
    else throw new Error(`train-step: unknown argument ${a}`);
  }
  if (o.width % o.heads !== 0)
    throw new Error(`train-step: width ${o.width} is not divisible by ${o.heads} heads`);
  return o;
}

function batchData(T, c, rng, backend) {
  const n = c.batch * c.context;
  const ids = new Int32Array(n);
  const tg = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    ids[i] = rng.int(c.vocab);
    tg[i] = rng.int(c.vocab);
  }
  return {
    ids: T.tensor(ids, [c.batch, c.context], { dtype: "i32", backend }),
    targets: T.tensor(tg, [c.batch, c.context], { dtype: "i32", backend }),
  };
}

function matmulGflops(T, backend, n = 1024, reps = 3) {
  const a = T.randn([n, n], { backend });
  const b = T.randn([n, n], { backend });
  T.tidy(() => T.ops.matmul(a, b)); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) T.tidy(() => T.ops.matmul(a, b).data().length);
  const s = (performance.now() - t0) / 1000 / reps;
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / s / 1e9;
}

function runAthanor(T, c, threads) {
  const backend = T.getBackend();
  if (backend.setThreads) backend.setThreads(threads);
  const rng = new T.Rng(1);
  const model = buildModel(T, c, { rng });
  const opt = new T.AdamW(model.params, { lr: 3e-4, weightDecay: 0.1 });
  const data = batchData(T, c, rng, backend);
  const paramBytes = model.params.reduce((s, t) => s + t.size * 4, 0);
  const baseLive = T.memoryStats(backend).liveBytes; // params + data
  let activationBytes = 0;
  let loss0 = 0;
  let lossN = 0;
  const step = (measure) => {
    T.tidy(() => {
      const liveBefore = T.memoryStats(backend).liveBytes;
      const loss = T.tidy(() => model.forward(data.ids, data.targets));
      if (measure) activationBytes = T.memoryStats(backend).liveBytes - liveBefore;
      loss.backward();
      opt.step();
      opt.zeroGrad();
      const v = loss.item();
      if (!loss0) loss0 = v;
      lossN = v;
    });
  };
  step(true); // warm-up (also allocates optimizer state)
  T.resetPeak(backend);
  const times = [];
  for (let i = 0; i < c.steps; i++) {
    const t0 = performance.now();
    step(false);
    times.push((performance.now() - t0) / 1000);
  }
  const stats = T.memoryStats(backend);
  const sec = times.reduce((a, b) => a + b, 0) / times.length;
  const mm = matmulGflops(T, backend);
  const flops = stepFlops(c);
  opt.dispose();
  for (const p of model.params) p.dispose();
  data.ids.dispose();
  data.targets.dispose();
  const needed = paramBytes * 4 + activationBytes; // params + grads + AdamW m, v + saved activations
  return {
    threads,
    secPerStep: sec,
    tokensPerSec: (c.batch * c.context) / sec,
    gflops: flops / sec / 1e9,
    matmulGflops: mm,
    peakBytes: stats.peakBytes,
    neededBytes: needed,
    paramBytes,
    activationBytes,
    baseBytes: baseLive,
    loss: [loss0, lossN],
  };
}

const TORCH_SCRIPT = `
import json, math, os, sys, time, torch
import torch.nn.functional as F
c = json.loads(sys.argv[1]); threads = int(sys.argv[2])
torch.set_num_threads(threads); torch.manual_seed(0)
d, H, L, V, S, B = c["width"], c["heads"], c["layers"], c["vocab"], c["context"], c["batch"]
${TORCH_GPT2_MODEL}m = GPT(); opt = torch.optim.AdamW(m.parameters(), lr=3e-4, weight_decay=0.1)
ids = torch.randint(0, V, (B, S)); tg = torch.randint(0, V, (B, S))
def step():
    loss = m(ids, tg); loss.backward(); opt.step(); opt.zero_grad(set_to_none=True); return loss.item()
step()
times = []
for _ in range(c["steps"]):
    t0 = time.perf_counter(); step(); times.append(time.perf_counter() - t0)
a = torch.randn(1024, 1024); b = torch.randn(1024, 1024); a @ b
t0 = time.perf_counter()
for _ in range(3): a @ b
mm = 2 * 1024 ** 3 / ((time.perf_counter() - t0) / 3) / 1e9
print(json.dumps({"secPerStep": sum(times) / len(times), "matmulGflops": mm, "torch": torch.__version__, "blas": os.path.basename(os.path.dirname(os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")))}))
`;

function runTorch(c, threads) {
  const py = "/usr/bin/python3";
  if (!existsSync(py)) return { error: "no /usr/bin/python3" };
  const r = spawnSync(py, ["-c", TORCH_SCRIPT, JSON.stringify(c), String(threads)], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0)
    return { error: (r.stderr || "").trim().split("\n").slice(-1)[0] || `exit ${r.status}` };
  const out = JSON.parse(r.stdout.trim().split("\n").pop());
  return {
    ...out,
    threads,
    tokensPerSec: (c.batch * c.context) / out.secPerStep,
    gflops: stepFlops(c) / out.secPerStep / 1e9,
  };
}

const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export async function main(args) {
  if (await forwardToWebgpu(args, "webgpu-train-step")) return;
  const c = parseArgs(args);
  const T = await import("@athanor/tensor");
  const backend = c.backend ? T.setBackend(c.backend) : T.getBackend();
  const info = backend.info ? backend.info() : null;
  const path = info
    ? `${backend.name} (wasm SIMD${info.blas ? `, matmul on ${info.blas}` : ", matmul in WebAssembly"})`
    : backend.name;
  if (!c.json) {
    console.log(
      `train-step: GPT-2-shaped, ${c.layers} layers, width ${c.width}, ${c.heads} heads, context ${c.context}, batch ${c.batch}, vocab ${c.vocab}`,
    );
    console.log(
      `backend: ${path}; ${(stepFlops(c) / 1e9).toFixed(1)} GFLOP per step; ${c.steps} timed steps after 1 warm-up`,
    );
  }
  const rows = [];
  for (const threads of c.threads) {
    const a = runAthanor(T, c, threads);
    const t = c.torch ? runTorch(c, threads) : null;
    rows.push({ threads, athanor: a, torch: t });
    if (!c.json) {
      console.log(`\nthreads ${threads}`);
      console.log(
        `  athanor: ${a.tokensPerSec.toFixed(0)} tokens/s (${a.secPerStep.toFixed(2)} s/step), ${a.gflops.toFixed(1)} GFLOP/s = ${((100 * a.gflops) / a.matmulGflops).toFixed(0)}% of its 1024² matmul (${a.matmulGflops.toFixed(1)} GFLOP/s); loss ${a.loss[0].toFixed(3)} → ${a.loss[1].toFixed(3)}`,
      );
      console.log(
        `  memory:  peak ${mib(a.peakBytes)} vs needed ${mib(a.neededBytes)} (params ${mib(a.paramBytes)} ×4 for grads + AdamW m,v; saved activations ${mib(a.activationBytes)}): ${(a.peakBytes / a.neededBytes).toFixed(2)}x`,
      );
      if (t?.error) console.log(`  pytorch: unavailable (${t.error})`);
      else if (t) {
        console.log(
          `  pytorch ${t.torch} (${t.blas}): ${t.tokensPerSec.toFixed(0)} tokens/s (${t.secPerStep.toFixed(2)} s/step), ${t.gflops.toFixed(1)} GFLOP/s, matmul ${t.matmulGflops.toFixed(1)} GFLOP/s`,
        );
        console.log(
          `  ratio athanor / pytorch tokens/s: ${(a.tokensPerSec / t.tokensPerSec).toFixed(2)}`,
        );
      }
    }
  }
  if (c.json)
    console.log(
      JSON.stringify({
        bench: "train-step",
        config: c,
        backend: path,
        stepGflop: stepFlops(c) / 1e9,
        rows,
      }),
    );
  backend.dispose?.();
}
