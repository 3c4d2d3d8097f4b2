// Entry point of the GPU-machine check (bundled by bench/webgpu-device-check.sh): op parity of
// the webgpu backend against the reference backend (every case of the conformance suite, forward
// and backward, with the default options: subgroup reductions and elementwise fusion on), then
// the benchmarks, each with PyTorch in the same run where there is a peer. Prints one JSON line
// per part. Parts run in the order below, the headline figures first, so a run cut short
// still has them; `--parts a,b,...` picks parts (in this order); `--parity-only` is `--parts parity`.
//
//   parity        every op case against the reference backend
//   matmul        webgpu-matmul f32 at 1024, 2048, 4096 (PyTorch fp32, TF32 off)
//   train         webgpu-train-step (GPT-2 shape, eager and captured, PyTorch eager fp32 in
//                 the same run)
//   tiles         every matmul kernel variant (MATMUL_VARIANTS) at 2048 and 4096 with Dawn's
//                 default robustness, each checked against host dot products and the
//                 shipped kernel's output (bench/_webgpu-tiles.mjs; under 90 s on an H200 by
//                 estimate, capped there). Options: --tile-sizes 2048,4096 --tile-reps 5
//                 --tile-variants a,b --tile-robustness default|both --tile-budget-s 90
//   attention     every tiled-attention variant (FLASH_VARIANTS) and the row kernels, causal
//                 forward + backward at [8, 6, 256, 64], median of 5, each checked against the
//                 default variant (bench/_webgpu-attention.mjs; 10 to 30 s on an H200 by estimate).
//                 Options: --attention-shape B,H,T,D --attention-reps 5 --attention-variants a,b
//   tuned         the sweeps' winners adopted in the same run: webgpu-matmul (1024, 2048, 4096)
//                 and webgpu-train-step, each with PyTorch, with each size class running the
//                 fastest correct variant of its output tile (128² at the largest sweep size,
//                 64² at the next; Dawn's defaults) and the fastest attention kernel
//                 (bestTiles in _webgpu-tiles.mjs, bestAttention in _webgpu-attention.mjs).
//                 Option: --tuned-sizes
//   splitk        the train step's matmuls alone (webgpu-matmul --gpt2: each product of the
//                 step against PyTorch on the same views, and the step's total), as shipped
//                 (SPLIT_K {512, 1024}) and with the earlier rule {128, 512}; then the train step
//                 replayed (GPU-bound) at {1024, 768} and {2048, 768}, against the train part's
//                 captured run. Most of the step's products have 192 to 768 tiles of 64², K 384
//                 to 2,048; an H200 has 132 SMs
//   submit        the train step (eager and replayed) submitting every 16, 32 (the default,
//                 SUBMIT_BATCH) or 64 kernels, then the fastest with PyTorch in the run
//   latency       where a decode step's time goes: readback and sync round trips, CPU time to
//                 record a decode step of the lm-decode model, the wait after it, kernels per
//                 step and their GPU time; the same for a replayed step (a step decoder)
//                 (bench/_webgpu-latency.mjs)
//   attention-decode  one query per sequence against caches of 256, 1,024 and 4,096 positions
//                 ([8, 8, 1, 64], causal, forward): the tiled kernels forced against the row
//                 kernels, which decode steps use by default (bench/_webgpu-attention.mjs)
//   decode        lm-decode (10M Llama shape, batch 1 and 16) with f32 weights, then f32 and f16
//                 weights with recorded decode steps (--capture-decode) (PyTorch fp32 / float16
//                 on CUDA as the peers)
//   lm-train      lm-train (10M Llama shape, batch 8 x 128, lm's Trainer), eager and with
//                 recorded steps (--capture-steps), PyTorch on CUDA in the same runs
//   storage       webgpu-matmul with the right operand stored as f16, at 1024, 2048, 4096
//   ablations     the train step with the buffer pool capped at poolBytes (a memory budget),
//                 with fusion off, with the bind-group cache off, then submitting every 128
//                 kernels (the default until 2026-11-26) instead of 32
//   matmul-f16    webgpu-matmul with f16 inputs, f32 accumulation (needs shader-f16; skipped without)
//   reduce        webgpu-reduce: row kernels and reductions, subgroups vs shared memory, rows of
//                 4096 and 32768
//   record        webgpu-record: CPU µs per recorded kernel, bind-group cache on vs off; then
//                 with Dawn's validation skipped (enable-dawn-features=skip_validation), and
//                 the eager train step with it (PyTorch-free; the train part's eager run is
//                 the baseline)

import * as lm from "@athanor/lm";
import * as T from "@athanor/tensor";
import {
  attentionSweep,
  attentionTable,
  bestAttention,
  decodeAttention,
} from "./_webgpu-attention.mjs";
import { latencyProbe } from "./_webgpu-latency.mjs";
import { bestTiles, fastestAt, sweepTable, tileSweep } from "./_webgpu-tiles.mjs";
import { main as decode } from "./lm-decode.mjs";
import { main as lmTrain } from "./lm-train.mjs";
import { main as matmul } from "./webgpu-matmul.mjs";
import { main as record } from "./webgpu-record.mjs";
import { main as reduce } from "./webgpu-reduce.mjs";
import { main as trainStep } from "./webgpu-train-step.mjs";

const args = process.argv.slice(2);
const ORDER = [
  "parity",
  "matmul",
  "train",
  "tiles",
  "attention",
  "tuned",
  "splitk",
  "submit",
  "latency",
  "attention-decode",
  "decode",
  "lm-train",
  "storage",
  "ablations",
  "matmul-f16",
  "reduce",
  "record",
];
const partsArg = args.indexOf("--parts");
const asked = args.includes("--parity-only")
  ? ["parity"]
  : partsArg >= 0
    ? args[partsArg + 1].split(",")
    : ORDER;
const unknown = asked.filter((p) => !ORDER.includes(p));
if (unknown.length)
  throw new Error(`unknown part(s) ${unknown.join(", ")}; parts: ${ORDER.join(", ")}`);
const parts = ORDER.filter((p) => asked.includes(p));

/** The value after a flag, or `fallback`. */
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};

/** Runs a benchmark part with some environment variables set (read at backend creation). */
async function withEnv(env, fn) {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** What the sweeps of this run found (read by the "tuned" part). */
const found = { tiles: null, attention: null };

const gpu = await T.createWebGpuBackend();
console.log(JSON.stringify({ part: "adapter", ...gpu.info }));
const hasF16 = gpu.info.features.includes("shader-f16");

const RUN = {
  parity: async () => {
    const failures = [];
    let passed = 0;
    const t0 = performance.now();
    for (const c of T.testing.opCases()) {
      try {
        const f = await T.testing.compareCase(c, gpu);
        if (f.length) failures.push({ case: c.name, failures: f });
        else passed++;
      } catch (e) {
        failures.push({ case: c.name, error: String(e?.message ?? e) });
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      JSON.stringify({ part: "parity", passed, failed: failures.length, failures, seconds }),
    );
  },
  matmul: () => matmul(["--json", "--sizes", "1024,2048,4096", "--reps", "7"]),
  train: () => trainStep(["--json", "--steps", "5"]),
  latency: async () => console.log(JSON.stringify(await latencyProbe(T, lm))),
  "attention-decode": async () => console.log(JSON.stringify(await decodeAttention(T))),
  decode: async () => {
    // f16 weights and KV cache made no measurable difference on the H200 (2026-11-26); recorded
    // decode steps (generate's captureDecode) are new: f32 eager, f32 recorded, f16 weights and
    // KV cache recorded
    for (const [dtype, recorded] of [
      ["f32", false],
      ["f32", true],
      ["f16", true],
    ])
      await decode([
        ...["--json", "--backend", "webgpu", "--torch-threads", "1"],
        ...["--dtype", dtype, "--kv-dtype", dtype, ...(recorded ? ["--capture-decode"] : [])],
      ]);
  },
  "lm-train": async () => {
    // the 10M Llama through lm's Trainer, eager and with recorded steps (captureSteps)
    for (const recorded of [false, true])
      await lmTrain([
        ...["--json", "--backend", "webgpu", "--torch-threads", "1", "--steps", "5"],
        ...(recorded ? ["--capture-steps"] : []),
      ]);
  },
  storage: () =>
    matmul([
      "--json",
      "--sizes",
      "1024,2048,4096",
      "--reps",
      "7",
      "--storage",
      "f16",
      "--no-torch",
    ]),
  ablations: async () => {
    const eager = (...extra) =>
      trainStep(["--json", "--steps", "5", "--mode", "eager", "--no-torch", ...extra]);
    // the buffer pool capped at poolBytes (as before it kept up to the peak): a budget does that
    console.log(JSON.stringify({ part: "ablation", poolUpToPeak: false }));
    await eager("--budget-mib", "65536");
    console.log(JSON.stringify({ part: "ablation", fuse: false }));
    await withEnv({ ATHANOR_WEBGPU_FUSE: "0" }, () => eager());
    console.log(JSON.stringify({ part: "ablation", bindCache: false }));
    await withEnv({ ATHANOR_WEBGPU_BINDCACHE: "0" }, () => eager());
    // the eager step submits every 32 kernels (SUBMIT_BATCH); 128 was the default before
    console.log(JSON.stringify({ part: "ablation", submitBatch: 128 }));
    await eager("--submit-batch", "128");
  },
  tiles: async () => {
    // every matmul kernel variant at 2048 and 4096 with Dawn's default robustness (the H200
    // sweep of 2026-11-26 found turning it off changed little; `--tile-robustness both` times
    // both again) (bench/_webgpu-tiles.mjs)
    const sweep = await tileSweep(T, {
      sizes: opt("--tile-sizes", "2048,4096").split(",").map(Number),
      reps: Number(opt("--tile-reps", "5")),
      variants: opt("--tile-variants", null)?.split(","),
      robustness: opt("--tile-robustness", "default"),
      budgetS: Number(opt("--tile-budget-s", "90")),
    });
    console.error(sweepTable(sweep)); // readable, on stderr; stdout keeps one JSON line per part
    console.log(JSON.stringify(sweep));
    found.tiles = sweep;
  },
  attention: async () => {
    // every tiled-attention variant and the row kernels, causal fwd + bwd (bench/_webgpu-attention.mjs)
    const sweep = await attentionSweep(T, {
      shape: opt("--attention-shape", "8,6,256,64").split(",").map(Number),
      reps: Number(opt("--attention-reps", "5")),
      kinds: opt("--attention-variants", null)?.split(","),
    });
    console.error(attentionTable(sweep));
    console.log(JSON.stringify(sweep));
    found.attention = sweep;
  },
  tuned: async () => {
    if (!found.tiles && !found.attention) {
      console.log(JSON.stringify({ part: "tuned", skipped: "needs the tiles or attention part" }));
      return;
    }
    const tiles = found.tiles ? bestTiles(found.tiles, T.MATMUL_VARIANTS) : {};
    const attention = found.attention ? bestAttention(found.attention) : {};
    console.log(JSON.stringify({ part: "tuned", matmulTiles: tiles, ...attention }));
    const tileArgs = Object.keys(tiles).length
      ? [
          "--matmul-tiles",
          Object.entries(tiles)
            .map(([c, v]) => `${c}=${v}`)
            .join(","),
        ]
      : [];
    const sizes = opt("--tuned-sizes", "1024,2048,4096");
    await matmul(["--json", "--sizes", sizes, "--reps", "7", ...tileArgs]);
    // the fastest variant at the largest sweep size whatever its shape, against PyTorch
    const top = found.tiles && Math.max(...found.tiles.sizes);
    const fastest = found.tiles && fastestAt(found.tiles, top);
    if (fastest && fastest !== (tiles.large ?? "large"))
      await matmul(["--json", "--sizes", String(top), "--reps", "7", "--variant", fastest]);
    const attentionArgs = attention.attentionKernel
      ? ["--attention", attention.attentionKernel]
      : attention.attentionVariant
        ? ["--attention-variant", attention.attentionVariant]
        : [];
    await trainStep(["--json", "--steps", "5", ...tileArgs, ...attentionArgs]);
  },
  splitk: async () => {
    // the step's products alone, against cuBLAS on the same views, as shipped and split less
    await matmul(["--json", "--gpt2", "--reps", "7"]);
    await matmul(["--json", "--gpt2", "--reps", "7", "--split-k", "128,512"]);
    for (const rule of ["1024,768", "2048,768"])
      await trainStep([
        "--json",
        "--steps",
        "5",
        "--mode",
        "captured",
        "--no-torch",
        "--split-k",
        rule,
      ]);
  },
  submit: async () => {
    // the eager and replayed step submitting every 16, 32 or 64 kernels; then the fastest of
    // them with PyTorch in the run
    const base = ["--json", "--steps", "5"];
    let best = null;
    for (const batch of [16, 32, 64]) {
      const r = await trainStep([...base, "--no-torch", "--submit-batch", String(batch)]);
      const score = r.athanor.tokensPerSec + r.captured.tokensPerSec;
      if (!best || score > best.score) best = { batch, score };
    }
    console.log(JSON.stringify({ part: "submit", best: best.batch }));
    await trainStep([...base, "--submit-batch", String(best.batch)]);
  },
  "matmul-f16": async () => {
    if (hasF16)
      await matmul(["--json", "--sizes", "1024,2048,4096", "--reps", "7", "--precision", "f16"]);
    else
      console.log(JSON.stringify({ part: "matmul-f16", skipped: "no shader-f16 on this device" }));
  },
  // [4096, 1024] rows finish inside one 65.5 µs timestamp tick on an H200 (the 2026-11-26 run
  // took 150 s for all three widths at 15 repetitions): the wide rows, fewer repetitions
  reduce: () => reduce(["--json", "--cols", "4096,32768", "--reps", "7"]),
  record: async () => {
    await record(["--json"]);
    const skip = ["--dawn-option", "enable-dawn-features=skip_validation"];
    await record(["--json", "--cache", "on", ...skip]);
    await trainStep(["--json", "--steps", "5", "--mode", "eager", "--no-torch", ...skip]);
  },
};

for (const part of parts) {
  const t0 = performance.now();
  try {
    await RUN[part]();
  } catch (e) {
    // one failing part must not cost the others their figures
    console.log(JSON.stringify({ part, error: String(e?.stack ?? e) }));
  }
  console.error(`[${part}: ${((performance.now() - t0) / 1000).toFixed(1)} s]`);
  if (part === "parity") gpu.dispose();
}
if (!parts.includes("parity")) gpu.dispose();
