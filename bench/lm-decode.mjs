// lm-decode: greedy decoding with a KV cache for the ~10M-parameter Llama-shaped model of
// issue 6 (8 layers, width 256, 8 heads, 4 KV heads, SwiGLU 768, vocabulary 8192; random
// init): 32-token prompt, 128 new tokens, at batch 1 and 16. Decode tokens/s, prefill
// tokens/s and per-token latency against position, against the same model with a KV cache
// in plain PyTorch on the CPU (bench/lm_torch.py) in the same run.
//
//   npm run bench -- lm-decode [--json] [--threads 2] [--batches 1,16] [--prompt 32] [--new 128] [--no-torch]
//                              [--backend cpu|webgpu]   (webgpu: PyTorch on CUDA, fp32, TF32 off)
//                              [--dtype f32|f16]   (f16: weight matrices stored as f16; on CUDA
//                                                   the PyTorch peer then runs in float16)
//                              [--kv-dtype f32|f16] (the KV cache's storage)
//                              [--capture-decode]  (webgpu: decode steps recorded once and
//                                                   replayed for the rest: generate's captureDecode)
import { bestTorch, fmt, llamaConfig, SHAPE, useBackend } from "./_lm-common.mjs";

function parseArgs(args) {
  const o = {
    json: false,
    threads: 2,
    torchThreads: [1, 2],
    batches: [1, 16],
    prompt: 32,
    new: 128,
    torch: true,
    backend: "cpu",
    dtype: "f32",
    kvDtype: "f32",
    captureDecode: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--json") o.json = true;
    else if (a === "--no-torch") o.torch = false;
    else if (a === "--threads") o.threads = Number(args[++i]);
    else if (a === "--torch-threads") o.torchThreads = args[++i].split(",").map(Number);
    else if (a === "--batches") o.batches = args[++i].split(",").map(Number);
    else if (a === "--prompt") o.prompt = Number(args[++i]);
    else if (a === "--new") o.new = Number(args[++i]);
    else if (a === "--backend") o.backend = args[++i];
    else if (a === "--dtype") o.dtype = args[++i];
    else if (a === "--kv-dtype") o.kvDtype = args[++i];
    else if (a === "--capture-decode") o.captureDecode = true;
    else if (a === "--help" || a === "-h") {
      console.log(
        "usage: npm run bench -- lm-decode [--json] [--threads N] [--torch-threads 1,2] [--batches 1,16] [--prompt 32] [--new 128] [--no-torch] [--backend cpu|webgpu] [--dtype f32|f16] [--kv-dtype f32|f16] [--capture-decode]",
      );
      process.exit(0);
    } else throw new Error(`lm-decode: unknown argument ${a}`);
  }
  for (const [flag, v] of [
    ["--dtype", o.dtype],
    ["--kv-dtype", o.kvDtype],
  ])
    if (v !== "f32" && v !== "f16")
      throw new Error(`lm-decode: ${flag} must be f32 or f16, got ${v}`);
  return o;
}

/** Mean step latency (ms) over windows of positions: [[position, ms], ...]. */
function latencyByPosition(stepMs, prompt, buckets = 4) {
  const n = stepMs.length;
  const out = [];
  for (let k = 0; k < buckets; k++) {
    const a = Math.floor((k * n) / buckets);
    const b = Math.floor(((k + 1) * n) / buckets);
    const xs = stepMs.slice(a, b);
    out.push([prompt + 1 + Math.floor((a + b) / 2), xs.reduce((s, x) => s + x, 0) / xs.length]);
  }
  return out;
}

export async function main(args) {
  const o = parseArgs(args);
  const T = await import("@athanor/tensor");
  const lm = await import("@athanor/lm");
  if (o.backend === "cpu") T.setThreads(o.threads); // (the device bundle carries no cpu kernels)
  const { backend, torchConfig } = await useBackend(T, o.backend);
  // The cpu backend decodes synchronously; a GPU reads each step's logits asynchronously.
  const gen = backend === "cpu" ? async (...a) => lm.generate(...a) : lm.generateAsync;
  const config = lm.parseModelConfig(llamaConfig(SHAPE, o.prompt + o.new + 8), "bench config");
  const model = lm.createModel(config, { seed: 0 });
  if (o.dtype === "f16") model.castWeights("f16");
  // The PyTorch peer in half precision on CUDA (its fp16 inference); on the CPU it stays fp32.
  if (o.dtype === "f16" && torchConfig.device === "cuda") torchConfig.dtype = "float16";
  let params = 0;
  for (const p of model.parameters().values()) params += p.size;
  const rng = new T.Rng(1);
  const rows = [];
  for (const batch of o.batches) {
    const prompts = Array.from({ length: batch }, () =>
      Array.from({ length: o.prompt }, () => rng.int(SHAPE.vocab)),
    );
    const opts = {
      maxNewTokens: o.new,
      eosTokenIds: [],
      cacheDType: o.kvDtype,
      captureDecode: o.captureDecode,
    };
    await gen(model, prompts, { ...opts, maxNewTokens: 4 }); // warm-up
    const { stats } = await gen(model, prompts, opts);
    const steps = stats.stepMs.length;
    const ours = {
      prefillTokensPerSec: (batch * o.prompt) / (stats.prefillMs / 1000),
      decodeTokensPerSec: (batch * steps) / (stats.decodeMs / 1000),
      latency: latencyByPosition(stats.stepMs, o.prompt),
    };
    const torch = o.torch
      ? bestTorch(
          "decode",
          { ...SHAPE, batch, prompt: o.prompt, new: o.new, ...torchConfig },
          o.torchThreads,
          (r) => r.decodeTokensPerSec,
        )
      : { skipped: "--no-torch" };
    if (!torch.skipped) torch.latency = latencyByPosition(torch.stepMs, o.prompt);
    rows.push({ batch, ours, torch });
  }

  console.log(
    `lm-decode: Llama-shaped, ${(params / 1e6).toFixed(2)}M parameters, ${o.dtype} weights, ${o.kvDtype} KV cache${o.captureDecode ? ", recorded decode steps" : ""}${torchConfig.dtype ? `, PyTorch ${torchConfig.dtype}` : ""}, prompt ${o.prompt}, ${o.new} new tokens, greedy, athanor on ${backend === "cpu" ? `cpu, ${o.threads} threads` : backend}, PyTorch best of ${o.torchThreads.join(" / ")} threads`,
  );
  console.log(
    "batch  athanor decode tok/s  torch decode tok/s  ratio  athanor prefill tok/s  torch prefill tok/s",
  );
  for (const r of rows) {
    const ratio = r.torch.skipped
      ? "—"
      : fmt(r.ours.decodeTokensPerSec / r.torch.decodeTokensPerSec, 2);
    console.log(
      `${String(r.batch).padStart(5)}  ${fmt(r.ours.decodeTokensPerSec).padStart(20)}  ${fmt(r.torch.decodeTokensPerSec).padStart(18)}  ${ratio.padStart(5)}  ${fmt(r.ours.prefillTokensPerSec).padStart(21)}  ${fmt(r.torch.prefillTokensPerSec).padStart(19)}`,
    );
  }
  for (const r of rows) {
    console.log(`\nper-token latency against position, batch ${r.batch} (ms per decode step)`);
    console.log("position  athanor  torch");
    r.ours.latency.forEach(([pos, ms], i) => {
      const t = r.torch.latency?.[i]?.[1];
      console.log(
        `${String(pos).padStart(8)}  ${fmt(ms, 2).padStart(7)}  ${fmt(t, 2).padStart(5)}`,
      );
    });
  }
  for (const r of rows) {
    if (r.torch.skipped) console.log(`\nPyTorch skipped: ${r.torch.skipped}`);
    else
      console.log(
        `\nPyTorch decode tok/s at batch ${r.batch} by threads: ${r.torch.byThreads.map((x) => `${x.threads}: ${fmt(x.value)}`).join(", ")}`,
      );
  }
  if (o.json) {
    console.log(
      JSON.stringify({
        bench: "lm-decode",
        backend,
        dtype: o.dtype,
        kvDtype: o.kvDtype,
        captureDecode: o.captureDecode,
        torchDtype: torchConfig.dtype ?? "float32",
        params,
        threads: o.threads,
        prompt: o.prompt,
        new: o.new,
        results: rows.map((r) => ({
          batch: r.batch,
          decodeTokensPerSec: r.ours.decodeTokensPerSec,
          prefillTokensPerSec: r.ours.prefillTokensPerSec,
          latencyMsByPosition: r.ours.latency,
          torch: r.torch.skipped
            ? { skipped: r.torch.skipped }
            : {
                threads: r.torch.threads,
                byThreads: r.torch.byThreads,
                decodeTokensPerSec: r.torch.decodeTokensPerSec,
                prefillTokensPerSec: r.torch.prefillTokensPerSec,
                latencyMsByPosition: r.torch.latency,
              },
          ratio: r.torch.skipped ? null : r.ours.decodeTokensPerSec / r.torch.decodeTokensPerSec,
        })),
      }),
    );
  }
}
