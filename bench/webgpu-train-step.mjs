// Training step on the webgpu backend: the GPT-2-shaped model of `train-step` (6 layers, width
// 384, 6 heads, context 256, batch 8, vocabulary 8192, pre-LayerNorm, GELU MLP 4x, tied
// embeddings), forward + backward + AdamW, tokens/s, against the same model in PyTorch eager
// fp32 (CUDA with TF32 off on a GPU machine; the CPU otherwise) in the same run; on CUDA also
// against the PyTorch step replayed from a CUDA graph (`capturedVsGraph`: athanor's captured
// mode against it).
//
//   npm run bench -- webgpu-train-step [--json] [--steps N] [--layers N] [--width N] [--heads N]
//                                     [--context N] [--batch N] [--vocab N] [--no-torch]
//                                     [--attention rows|tiled]  (the backend's attention kernels)
//                                     [--attention-variant NAME] [--matmul-tile NAME]
//                                     [--matmul-tiles large=NAME,medium=NAME] [--pool-mib N]
//                                     [--budget-mib N]  (the engine's memory budget: the buffer
//                                     pool then keeps at most poolBytes, not up to the peak)
//                                     [--split-k MAXTILES,MINK]  (the backend's matmulSplitK:
//                                     split K when an output has fewer tiles and K is longer)
//                                     [--dawn-option OPT]...  (repeatable: the backend's
//                                     dawnOptions, e.g. enable-dawn-features=skip_validation)
//                                     [--submit-batch N]  (kernels per submit, the backend's
//                                     `batch`, default 32: smaller starts the GPU sooner)
//                                     [--mode eager|captured|both]  (default both: every step
//                                     recorded by the engine, and the whole step recorded once
//                                     with `capture` and replayed)
// (variants from the device check's sweeps: one tiled-attention shape; one matmul kernel forced
// for every product; or the kernel each matmul size class runs)
//
// On a software adapter (lavapipe) the default model is cut to 2 layers, width 128, context 64,
// batch 2, vocabulary 1024, so the run takes seconds, not hours.
import { buildModel, randomTokens, stepFlops, TORCH_GPT2_MODEL } from "./_gpt2.mjs";
import {
  parseSplitK,
  parseTileChoice,
  runTorch,
  TORCH_PRELUDE,
  webgpu,
} from "./_webgpu-common.mjs";

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
    splitK: undefined,
    dawnOptions: [],
    submitBatch: undefined,
    mode: "both",
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
    else if (a === "--dawn-option") o.dawnOptions.push(args[++i]);
    else if (a === "--submit-batch") {
      o.submitBatch = Number(args[++i]);
      if (!Number.isInteger(o.submitBatch) || o.submitBatch < 1)
        throw new Error(
          `webgpu-train-step: --submit-batch takes a positive integer, got ${args[i]}`,
        );
    } else if (a === "--split-k") o.splitK = parseSplitK(args[++i], "webgpu-train-step");
    else if (a === "--mode") {
      o.mode = args[++i];
      if (!["eager", "captured", "both"].includes(o.mode))
        throw new Error(`webgpu-train-step: --mode takes eager, captured or both, got ${o.mode}`);
    } else if (a === "--matmul-tiles")
      o.matmulTiles = parseTileChoice(args[++i], "webgpu-train-step");
    else if (a === "--help" || a === "-h") {
      console.log(
        "usage: npm run bench -- webgpu-train-step [--json] [--steps N] [--layers N] [--width N] [--heads N] [--context N] [--batch N] [--vocab N] [--attention rows|tiled] [--attention-variant NAME] [--matmul-tile NAME] [--matmul-tiles large=NAME,medium=NAME] [--pool-mib N] [--budget-mib N] [--split-k MAXTILES,MINK] [--dawn-option OPT]... [--submit-batch N] [--mode eager|captured|both] [--no-torch]",
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
out = {"device": name, "torch": torch.__version__, "secPerStep": times[len(times) // 2]}
# On CUDA, also the whole step captured in a CUDA graph (the peer of athanor's captured mode):
# forward, backward and a capturable AdamW recorded once, then replayed (PyTorch's documented
# whole-network capture; the gradients are the graph's own buffers, rewritten every replay).
if dev == "cuda":
    try:
        gopt = torch.optim.AdamW(m.parameters(), lr=3e-4, weight_decay=0.1, capturable=True)
        side = torch.cuda.Stream(); side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                gopt.zero_grad(set_to_none=True); m(ids, tg).backward(); gopt.step()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph(); gopt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            static_loss = m(ids, tg); static_loss.backward(); gopt.step()
        def gstep():
            graph.replay(); return static_loss.item()
        gstep(); gstep()
        gt = []
        for _ in range(c["steps"]):
            t0 = time.perf_counter(); gstep(); gt.append(time.perf_counter() - t0)
        gt.sort()
        out["graphSecPerStep"] = gt[len(gt) // 2]
    except Exception as e:
        out["graphError"] = f"{type(e).__name__}: {e}"
print(json.dumps(out))
`;

/**
 * Times training steps in one mode: "eager" (forward, backward, AdamW and a loss read, the
 * engine recording every kernel each step) or "captured" (the whole step recorded once with
 * `capture` and replayed every step; AdamW's step count advances with each replay). Same seeds
 * in both modes, so the losses should agree.
 */
async function measure(T, gpu, c, mode) {
  const model = buildModel(T, c, { rng: new T.Rng(1), backend: gpu });
  const opt = new T.AdamW(model.params, { lr: 3e-4, weightDecay: 0.1 });
  const rng = new T.Rng(2);
  const n = c.batch * c.context;
  const ids = randomTokens(T, c, rng, gpu);
  const tg = randomTokens(T, c, rng, gpu);
  const losses = [];
  const recordTimes = []; // CPU seconds to record each step (before waiting for the GPU)
  let graph = null;
  // One step = forward, backward, AdamW, then reading the loss back (the GPU must finish).
  const eager = async () => {
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
  // The first step is eager (it creates AdamW's moments); the second is captured, forward,
  // backward and AdamW; every later one replays it.
  const replayed = async () => {
    if (losses.length === 0) return eager();
    const t0 = performance.now();
    let loss;
    if (graph) loss = graph.replay();
    else {
      graph = T.capture(gpu, () => {
        const l = model.forward(ids, tg);
        l.backward();
        opt.step();
        return l;
      });
      loss = graph.result;
    }
    const read = loss.dataAsync();
    recordTimes.push((performance.now() - t0) / 1000);
    losses.push((await read)[0]);
  };
  const step = mode === "captured" ? replayed : eager;
  await step(); // warm-up: compiles every pipeline, allocates optimizer state (and captures)
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
  const figures = {
    secPerStep: sec,
    tokensPerSec: n / sec,
    gflops: stepFlops(c) / sec / 1e9,
    dispatchesPerStep: (after.dispatches - before.dispatches) / c.steps,
    submitsPerStep: (after.submits - before.submits) / c.steps,
    buffersCreatedPerStep: (after.buffersCreated - before.buffersCreated) / c.steps,
    // CPU time to record (or replay) a step (median), and the GPU time of its kernels
    recordSecPerStep: recorded[Math.floor(recorded.length / 2)],
    gpuMsPerStep: gpuMs,
    loss: [losses[0], losses.at(-1)],
    losses,
    peakBytes: T.memoryStats(gpu).peakBytes,
    profile,
  };
  graph?.dispose();
  opt.dispose();
  for (const p of model.params) p.dispose();
  ids.dispose();
  tg.dispose();
  return figures;
}

export async function main(args) {
  const o = parseArgs(args);
  const { T, gpu } = await webgpu({
    attentionKernel: o.attention,
    attentionVariant: o.attentionVariant,
    matmulTile: o.matmulTile,
    matmulTiles: o.matmulTiles,
    matmulSplitK: o.splitK,
    dawnOptions: o.dawnOptions,
    ...(o.submitBatch === undefined ? {} : { batch: o.submitBatch }),
    ...(o.poolMib === undefined ? {} : { poolBytes: o.poolMib * 1024 * 1024 }),
  });
  if (o.budgetMib !== undefined) T.setMemoryBudget(gpu, o.budgetMib * 1024 * 1024);
  const c = { ...(gpu.info.software ? SMALL : GPT2), ...o.set, steps: o.steps };
  const n = c.batch * c.context;
  const flops = stepFlops(c);
  const modes = o.mode === "both" ? ["eager", "captured"] : [o.mode];
  const runs = {};
  for (const mode of modes) runs[mode] = await measure(T, gpu, c, mode);
  const athanor = runs.eager ?? null;
  const captured = runs.captured ?? null;
  const lossDiff =
    athanor && captured
      ? Math.max(...athanor.losses.map((l, i) => Math.abs(l - captured.losses[i])))
      : null;
  let torch = o.torch ? runTorch(TORCH, [JSON.stringify(c)]) : null;
  if (torch && !torch.error) {
    torch = { ...torch, tokensPerSec: n / torch.secPerStep };
    if (torch.graphSecPerStep) torch.graphTokensPerSec = n / torch.graphSecPerStep;
  }
  const vsTorch = (f) => (f && torch?.tokensPerSec ? f.tokensPerSec / torch.tokensPerSec : null);
  const ratio = vsTorch(athanor);
  const capturedRatio = vsTorch(captured);
  // replayed steps against PyTorch's replayed CUDA graph (CUDA only): like against like
  const capturedVsGraph =
    captured && torch?.graphTokensPerSec ? captured.tokensPerSec / torch.graphTokensPerSec : null;
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
        splitK: o.splitK ?? "default",
        dawnOptions: o.dawnOptions,
        submitBatch: o.submitBatch ?? "default",
        fuse: process.env.ATHANOR_WEBGPU_FUSE !== "0",
        bindCache: process.env.ATHANOR_WEBGPU_BINDCACHE !== "0",
        stepGflop: flops / 1e9,
        athanor,
        captured,
        lossDiff,
        torch,
        ratio,
        capturedRatio,
        capturedVsGraph,
      }),
    );
  } else {
    console.log(
      `webgpu-train-step: ${c.layers} layers, width ${c.width}, ${c.heads} heads, context ${c.context}, batch ${c.batch}, vocab ${c.vocab}; ${(flops / 1e9).toFixed(1)} GFLOP per step`,
    );
    console.log(`adapter: ${gpu.info.adapter}`);
    const show = (label, f, r) => {
      console.log(
        `  athanor webgpu, ${label}: ${f.tokensPerSec.toFixed(0)} tokens/s (${f.secPerStep.toFixed(3)} s/step), ${f.gflops.toFixed(1)} GFLOP/s; ${f.dispatchesPerStep} kernels, ${f.submitsPerStep} submits and ${f.buffersCreatedPerStep} new GPU buffers per step; loss ${f.loss[0].toFixed(3)} → ${f.loss[1].toFixed(3)}${r === null ? "" : `; ${r.toFixed(2)}x pytorch`}`,
      );
      console.log(
        `    host time to ${label === "eager" ? "record" : "replay"} a step: ${(f.recordSecPerStep * 1000).toFixed(1)} ms${f.gpuMsPerStep === null ? "" : `; its kernels: ${f.gpuMsPerStep.toFixed(1)} ms of GPU time`}`,
      );
      if (f.profile) {
        console.log("    GPU time per kernel in one step (timestamp queries):");
        for (const p of f.profile)
          console.log(`      ${p.ms.toFixed(2).padStart(8)} ms  ${p.calls}x  ${p.key}`);
      }
    };
    if (athanor) show("eager", athanor, ratio);
    if (captured) show("captured", captured, capturedRatio);
    if (lossDiff !== null)
      console.log(
        `  losses, eager against captured: largest difference ${lossDiff.toExponential(2)}`,
      );
    if (torch?.error) console.log(`  pytorch: unavailable (${torch.error})`);
    else if (torch)
      console.log(
        `  pytorch ${torch.torch} eager fp32 on ${torch.device}: ${torch.tokensPerSec.toFixed(0)} tokens/s (${torch.secPerStep.toFixed(3)} s/step)`,
      );
    if (torch?.graphTokensPerSec)
      console.log(
        `  pytorch, the step in a CUDA graph: ${torch.graphTokensPerSec.toFixed(0)} tokens/s (${torch.graphSecPerStep.toFixed(3)} s/step)${capturedVsGraph === null ? "" : `; athanor captured ${capturedVsGraph.toFixed(2)}x`}`,
      );
    else if (torch?.graphError) console.log(`  pytorch CUDA graph: failed (${torch.graphError})`);
  }
  gpu.dispose();
  return { athanor, captured, torch, ratio, capturedRatio };
}
