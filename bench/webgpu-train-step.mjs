// Training step on the webgpu backend: the GPT-2-shaped model of `train-step` (6 layers, width
// 384, 6 heads, context 256, batch 8, vocabulary 8192, pre-LayerNorm, GELU MLP 4x, tied
// embeddings), forward + backward + AdamW, tokens/s, against the same model in PyTorch eager
// fp32 (CUDA with TF32 off on a GPU machine; the CPU otherwise) in the same run.
//
//   npm run bench -- webgpu-train-step [--json] [--steps N] [--layers N] [--width N] [--heads N]
//                                     [--context N] [--batch N] [--vocab N] [--no-torch]
//                                     [--attention rows|tiled]  (the backend's attention kernels)
//                                     [--attention-variant NAME] [--matmul-tile NAME]
//                                     [--matmul-tiles large=NAME,medium=NAME] [--pool-mib N]
//                                     [--budget-mib N]  (the engine's memory budget: the buffer
//                                     pool then keeps at most poolBytes, not up to the peak)
// (variants from the device check's sweeps: one tiled-attention shape; one matmul kernel forced
// for every product; or the kernel each matmul size class runs)
//
// On a software adapter (lavapipe) the default model is cut to 2 layers, width 128, context 64,
// batch 2, vocabulary 1024, so the run takes seconds, not hours.
import { buildModel, stepFlops, TORCH_GPT2_MODEL } from "./_gpt2.mjs";
import { parseTileChoice, runTorch, TORCH_PRELUDE, webgpu } from "./_webgpu-common.mjs";

const GPT2 = { layers: 6, width: 384, heads: 6, context: 256, batch: 8, vocab: 8192 };
const SMALL = { layers: 2, width: 128, heads: 4, context: 64, batch: 2, vocab: 1024 };

function parseArgs(args) {
  const o = {
    json: false,
    steps: 5,
    torch: true,
    attention: undefined,
    attentionVariant: undefined,
    matmulTile: undefined,
    matmulTiles: undefined,
    poolMib: undefined,
    budgetMib: undefined,
    set: {},
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--json") o.json = true;
    else if (a === "--no-torch") o.torch = false;
    else if (a === "--steps") o.steps = Number(args[++i]);
    else if (a === "--attention") o.attention = args[++i];
    else if (a === "--attention-variant") o.attentionVariant = args[++i];
    else if (a === "--matmul-tile") o.matmulTile = args[++i];
    else if (a === "--pool-mib") o.poolMib = Number(args[++i]);
    else if (a === "--budget-mib") o.budgetMib = Number(args[++i]);
    else if (a === "--matmul-tiles")
      o.matmulTiles = parseTileChoice(args[++i], "webgpu-train-step");
    else if (a === "--help" || a === "-h") {
      console.log(
        "usage: npm run bench -- webgpu-train-step [--json] [--steps N] [--layers N] [--width N] [--heads N] [--context N] [--batch N] [--vocab N] [--attention rows|tiled] [--attention-variant NAME] [--matmul-tile NAME] [--matmul-tiles large=NAME,medium=NAME] [--pool-mib N] [--budget-mib N] [--no-torch]",
      );
      process.exit(0);
    } else if (a.startsWith("--") && a.slice(2) in GPT2) o.set[a.slice(2)] = Number(args[++i]);
    else throw new Error(`webgpu-train-step: unknown argument ${a}`);
  }
  return o;
}

const TORCH = `${TORCH_PRELUDE}
import torch.nn.functional as F
c = json.loads(sys.argv[1])
torch.manual_seed(0)
d, H, L, V, S, B = c["width"], c["heads"], c["layers"], c["vocab"], c["context"], c["batch"]
${TORCH_GPT2_MODEL}m = GPT().to(dev); opt = torch.optim.AdamW(m.parameters(), lr=3e-4, weight_decay=0.1)
ids = torch.randint(0, V, (B, S), device=dev); tg = torch.randint(0, V, (B, S), device=dev)
def step():
    loss = m(ids, tg); loss.backward(); opt.step(); opt.zero_grad(set_to_none=True); return loss.item()
step(); step()
times = []
for _ in range(c["steps"]):
    t0 = time.perf_counter(); step(); times.append(time.perf_counter() - t0)
times.sort()
print(json.dumps({"device": name, "torch": torch.__version__, "secPerStep": times[len(times) // 2]}))
`;

export async function main(args) {
  const o = parseArgs(args);
  const { T, gpu } = await webgpu({
    attentionKernel: o.attention,
    attentionVariant: o.attentionVariant,
    matmulTile: o.matmulTile,
    matmulTiles: o.matmulTiles,
    ...(o.poolMib === undefined ? {} : { poolBytes: o.poolMib * 1024 * 1024 }),
  });
  if (o.budgetMib !== undefined) T.setMemoryBudget(gpu, o.budgetMib * 1024 * 1024);
  const c = { ...(gpu.info.software ? SMALL : GPT2), ...o.set, steps: o.steps };
  const model = buildModel(T, c, { rng: new T.Rng(1), backend: gpu });
  const opt = new T.AdamW(model.params, { lr: 3e-4, weightDecay: 0.1 });
  const rng = new T.Rng(2);
  const n = c.batch * c.context;
  const ids = T.tensor(
    Int32Array.from({ length: n }, () => rng.int(c.vocab)),
    [c.batch, c.context],
    {
      dtype: "i32",
      backend: gpu,
    },
  );
  const tg = T.tensor(
    Int32Array.from({ length: n }, () => rng.int(c.vocab)),
    [c.batch, c.context],
    {
      dtype: "i32",
      backend: gpu,
    },
  );
  const losses = [];
  const recordTimes = []; // CPU seconds to record each step (before waiting for the GPU)
  // One step = forward, backward, AdamW, then reading the loss back (the GPU must finish).
  const step = async () => {
    T.startScope();
    try {
      const t0 = performance.now();
      const loss = T.tidy(() => model.forward(ids, tg));
      loss.backward();
      opt.step();
      opt.zeroGrad();
      const read = loss.dataAsync();
      recordTimes.push((performance.now() - t0) / 1000);
      losses.push((await read)[0]);
    } finally {
      T.endScope();
    }
  };
  await step(); // warm-up: compiles every pipeline, allocates optimizer state
  await step();
  const before = gpu.stats();
  const times = [];
  for (let i = 0; i < c.steps; i++) {
    const t0 = performance.now();
    await step();
    times.push((performance.now() - t0) / 1000);
  }
  const after = gpu.stats();
  const recorded = recordTimes.slice(-c.steps).sort((a, b) => a - b);
  // One more step with every kernel timed on the GPU (timestamp queries), when available.
  let profile = null;
  let gpuMs = null;
  if (gpu.info.features.includes("timestamp-query")) {
    gpu.setProfile(true);
    await step();
    const all = await gpu.profile(true);
    gpuMs = +all.reduce((t, p) => t + p.ms, 0).toFixed(3);
    profile = all.slice(0, 12).map((p) => ({ ...p, ms: +p.ms.toFixed(3) }));
    gpu.setProfile(false);
  }
  times.sort((a, b) => a - b);
  const sec = times[Math.floor(times.length / 2)];
  const flops = stepFlops(c);
  const athanor = {
    secPerStep: sec,
    tokensPerSec: n / sec,
    gflops: flops / sec / 1e9,
    dispatchesPerStep: (after.dispatches - before.dispatches) / c.steps,
    submitsPerStep: (after.submits - before.submits) / c.steps,
    buffersCreatedPerStep: (after.buffersCreated - before.buffersCreated) / c.steps,
    // CPU time to record a step (median), and the GPU time of its kernels (the profiled step)
    recordSecPerStep: recorded[Math.floor(recorded.length / 2)],
    gpuMsPerStep: gpuMs,
    loss: [losses[0], losses.at(-1)],
    peakBytes: T.memoryStats(gpu).peakBytes,
    profile,
  };
  opt.dispose();
  for (const p of model.params) p.dispose();
  ids.dispose();
  tg.dispose();
  let torch = o.torch ? runTorch(TORCH, [JSON.stringify(c)]) : null;
  if (torch && !torch.error) torch = { ...torch, tokensPerSec: n / torch.secPerStep };
  const ratio = torch?.tokensPerSec ? athanor.tokensPerSec / torch.tokensPerSec : null;
  if (o.json) {
    console.log(
      JSON.stringify({
        bench: "webgpu-train-step",
        adapter: gpu.info.adapter,
        config: c,
        attention: o.attention ?? "default",
        attentionVariant: o.attentionVariant ?? "default",
        matmulTile: o.matmulTile ?? "default",
        matmulTiles: o.matmulTiles ?? "default",
        poolMib: o.poolMib ?? "default",
        budgetMib: o.budgetMib ?? null,
        fuse: process.env.ATHANOR_WEBGPU_FUSE !== "0",
        bindCache: process.env.ATHANOR_WEBGPU_BINDCACHE !== "0",
        stepGflop: flops / 1e9,
        athanor,
        torch,
        ratio,
      }),
    );
  } else {
    console.log(
      `webgpu-train-step: ${c.layers} layers, width ${c.width}, ${c.heads} heads, context ${c.context}, batch ${c.batch}, vocab ${c.vocab}; ${(flops / 1e9).toFixed(1)} GFLOP per step`,
    );
    console.log(`adapter: ${gpu.info.adapter}`);
    console.log(
      `  athanor webgpu: ${athanor.tokensPerSec.toFixed(0)} tokens/s (${sec.toFixed(3)} s/step), ${athanor.gflops.toFixed(1)} GFLOP/s; ${athanor.dispatchesPerStep} kernels, ${athanor.submitsPerStep} submits and ${athanor.buffersCreatedPerStep} new GPU buffers per step; loss ${athanor.loss[0].toFixed(3)} → ${athanor.loss[1].toFixed(3)}`,
    );
    console.log(
      `  recording a step: ${(athanor.recordSecPerStep * 1000).toFixed(1)} ms of CPU time${gpuMs === null ? "" : `; its kernels: ${gpuMs.toFixed(1)} ms of GPU time`}`,
    );
    if (profile) {
      console.log("  GPU time per kernel in one step (timestamp queries):");
      for (const p of profile)
        console.log(`    ${p.ms.toFixed(2).padStart(8)} ms  ${p.calls}x  ${p.key}`);
    }
    if (torch?.error) console.log(`  pytorch: unavailable (${torch.error})`);
    else if (torch)
      console.log(
        `  pytorch ${torch.torch} eager fp32 on ${torch.device}: ${torch.tokensPerSec.toFixed(0)} tokens/s (${torch.secPerStep.toFixed(3)} s/step); ratio ${ratio.toFixed(2)}`,
      );
  }
  gpu.dispose();
}
