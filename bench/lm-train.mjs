// lm-train: training tokens/s of the ~10M-parameter Llama-shaped model of issue 6 (8 layers,
// width 256, 8 heads, 4 KV heads, SwiGLU 768, vocabulary 8192) through the lm training API
// (Trainer: forward, causal-LM loss, backward, gradient clipping, AdamW), against the same
// model and step in plain PyTorch on the CPU (bench/lm_torch.py) in the same run. Also the
// memory a step adds at its peak over what lives between steps (parameters, gradients of the
// last step freed, AdamW state): activations and temporaries, from the backend's tracker.
//
//   npm run bench -- lm-train [--json] [--threads 2] [--batch 8] [--context 128] [--steps 3] [--no-torch]
//                             [--backend cpu|webgpu]   (webgpu: PyTorch on CUDA, fp32, TF32 off)
//                             [--capture-steps]  (webgpu: the Trainer's captureSteps; the step is
//                                                 recorded in a second warm-up step, then replayed)
import { bestTorch, fmt, llamaConfig, SHAPE, useBackend } from "./_lm-common.mjs";

function parseArgs(args) {
  const o = {
    json: false,
    threads: 2,
    torchThreads: [1, 2],
    batch: 8,
    context: 128,
    steps: 3,
    torch: true,
    backend: "cpu",
    captureSteps: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--json") o.json = true;
    else if (a === "--no-torch") o.torch = false;
    else if (a === "--torch-threads") o.torchThreads = args[++i].split(",").map(Number);
    else if (a === "--backend") o.backend = args[++i];
    else if (a === "--capture-steps") o.captureSteps = true;
    else if (["--threads", "--batch", "--context", "--steps"].includes(a))
      o[a.slice(2)] = Number(args[++i]);
    else if (a === "--help" || a === "-h") {
      console.log(
        "usage: npm run bench -- lm-train [--json] [--threads N] [--torch-threads 1,2] [--batch 8] [--context 128] [--steps 3] [--no-torch] [--backend cpu|webgpu] [--capture-steps]",
      );
      process.exit(0);
    } else throw new Error(`lm-train: unknown argument ${a}`);
  }
  return o;
}

export async function main(args) {
  const o = parseArgs(args);
  const T = await import("@athanor/tensor");
  const lm = await import("@athanor/lm");
  if (o.backend === "cpu") T.setThreads(o.threads); // (the device bundle carries no cpu kernels)
  const { backend, torchConfig } = await useBackend(T, o.backend);
  const config = lm.parseModelConfig(llamaConfig(SHAPE, o.context), "bench config");
  const model = lm.createModel(config, { seed: 0 });
  let params = 0;
  for (const p of model.parameters().values()) params += p.size;
  const trainer = new lm.Trainer(model, {
    lr: 3e-4,
    totalSteps: o.steps + 2,
    weightDecay: 0.1,
    captureSteps: o.captureSteps,
  });
  const rng = new T.Rng(1);
  const seqs = Array.from({ length: o.batch }, () =>
    Array.from({ length: o.context }, () => rng.int(SHAPE.vocab)),
  );
  const batch = lm.lmBatch(seqs, { padId: 0 });
  await trainer.trainStepAsync([batch]); // warm-up (allocates the optimizer state)
  if (o.captureSteps) await trainer.trainStepAsync([batch]); // records the step
  const dev = T.getBackend();
  const live = T.memoryStats(dev).liveBytes;
  T.resetPeak(dev);
  const ms = [];
  for (let i = 0; i < o.steps; i++) ms.push((await trainer.trainStepAsync([batch])).ms);
  const sec = ms.reduce((a, b) => a + b, 0) / ms.length / 1000;
  const ours = {
    secPerStep: sec,
    tokensPerSec: (o.batch * o.context) / sec,
    stepPeakMiB: (T.memoryStats(dev).peakBytes - live) / 2 ** 20,
    liveMiB: live / 2 ** 20,
    // recorded steps keep their working memory in the recording, outside the tracker above
    heldMiB: (dev.stats?.().heldBytes ?? 0) / 2 ** 20,
  };
  const torch = o.torch
    ? bestTorch(
        "train",
        { ...SHAPE, batch: o.batch, context: o.context, steps: o.steps, ...torchConfig },
        o.torchThreads,
        (r) => r.tokensPerSec,
      )
    : { skipped: "--no-torch" };

  console.log(
    `lm-train: Llama-shaped, ${(params / 1e6).toFixed(2)}M parameters, batch ${o.batch} x ${o.context} tokens, AdamW, athanor on ${backend === "cpu" ? `cpu, ${o.threads} threads` : backend}${o.captureSteps ? ", recorded steps" : ""}, mean of ${o.steps} steps`,
  );
  console.log("            s/step  tokens/s");
  console.log(
    `athanor  ${fmt(ours.secPerStep, 3).padStart(8)}  ${fmt(ours.tokensPerSec).padStart(8)}`,
  );
  console.log(
    `athanor memory: ${fmt(ours.liveMiB)} MiB between steps, a step adds ${fmt(ours.stepPeakMiB)} MiB at its peak${o.captureSteps ? `; the recorded step keeps ${fmt(ours.heldMiB)} MiB` : ""}`,
  );
  if (torch.skipped) console.log(`PyTorch skipped: ${torch.skipped}`);
  else {
    console.log(
      `pytorch  ${fmt(torch.secPerStep, 3).padStart(8)}  ${fmt(torch.tokensPerSec).padStart(8)}  (best of threads ${torch.byThreads.map((x) => `${x.threads}: ${fmt(x.value)}`).join(", ")})`,
    );
    console.log(
      `ratio (athanor / pytorch tokens/s): ${fmt(ours.tokensPerSec / torch.tokensPerSec, 2)}`,
    );
  }
  if (o.json)
    console.log(
      JSON.stringify({
        bench: "lm-train",
        backend,
        captureSteps: o.captureSteps,
        params,
        threads: o.threads,
        batch: o.batch,
        context: o.context,
        tokensPerSec: ours.tokensPerSec,
        secPerStep: ours.secPerStep,
        liveMiB: ours.liveMiB,
        stepPeakMiB: ours.stepPeakMiB,
        heldMiB: ours.heldMiB,
        torch: torch.skipped ? { skipped: torch.skipped } : torch,
        ratio: torch.skipped ? null : ours.tokensPerSec / torch.tokensPerSec,
      }),
    );
}
