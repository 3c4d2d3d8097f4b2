// Entry point of the GPU-machine check (bundled by bench/webgpu-device-check.sh): op parity of
// the webgpu backend against the reference backend (every case of the conformance suite, forward
// and backward, with the default options: subgroup reductions and elementwise fusion on), then
// the benchmarks, each with PyTorch in the same run where there is a peer. Prints one JSON line
// per part. `--parts a,b,...` picks parts (default: all but the diagnostic "tiles" and
// "attention"); `--parity-only` is `--parts parity`.
//
//   parity        every op case against the reference backend
//   matmul        webgpu-matmul f32 at 1024, 2048, 4096 (PyTorch fp32, TF32 off)
//   matmul-f16    the same with f16 inputs, f32 accumulation (needs shader-f16; skipped without)
//   reduce        webgpu-reduce: row kernels and reductions, subgroups vs shared memory
//   record        webgpu-record: CPU µs per recorded kernel, bind-group cache on vs off
//   train         webgpu-train-step (GPT-2 shape, PyTorch eager fp32 in the same run)
//   ablations     the train step with fusion off, then with the bind-group cache off
//   tiles         matmul tile sweep at 4096 (each size class forced)
//   attention     attention kernels A/B (rows vs tiled) at [8, 6, 256, 64]
import * as T from "@athanor/tensor";
import { main as matmul } from "./webgpu-matmul.mjs";
import { main as record } from "./webgpu-record.mjs";
import { main as reduce } from "./webgpu-reduce.mjs";
import { main as trainStep } from "./webgpu-train-step.mjs";

const args = process.argv.slice(2);
const ALL = ["parity", "matmul", "matmul-f16", "reduce", "record", "train", "ablations"];
const partsArg = args.indexOf("--parts");
const parts = new Set(
  args.includes("--parity-only") ? ["parity"] : partsArg >= 0 ? args[partsArg + 1].split(",") : ALL,
);

const gpu = await T.createWebGpuBackend();
console.log(JSON.stringify({ part: "adapter", ...gpu.info }));
const failures = [];
let passed = 0;
const t0 = performance.now();
for (const c of parts.has("parity") ? T.testing.opCases() : []) {
  try {
    const f = await T.testing.compareCase(c, gpu);
    if (f.length) failures.push({ case: c.name, failures: f });
    else passed++;
  } catch (e) {
    failures.push({ case: c.name, error: String(e?.message ?? e) });
  }
}
if (parts.has("parity"))
  console.log(
    JSON.stringify({
      part: "parity",
      passed,
      failed: failures.length,
      failures,
      seconds: (performance.now() - t0) / 1000,
    }),
  );
const hasF16 = gpu.info.features.includes("shader-f16");
gpu.dispose();

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

if (parts.has("tiles")) {
  const sweep = {};
  for (const tile of ["large", "medium", "small"]) {
    const g = await T.createWebGpuBackend({ matmulTile: tile });
    const a = T.randn([4096, 4096], { backend: g });
    const b = T.randn([4096, 4096], { backend: g });
    T.tidy(() => T.ops.matmul(a, b));
    await g.sync();
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) T.tidy(() => T.ops.matmul(a, b));
    await g.sync();
    sweep[tile] = (5 * 2 * 4096 ** 3) / ((performance.now() - t0) / 1000) / 1e9;
    g.dispose();
  }
  console.log(JSON.stringify({ part: "tile-sweep-4096-gflops", ...sweep }));
}
if (parts.has("matmul")) await matmul(["--json", "--sizes", "1024,2048,4096", "--reps", "7"]);
if (parts.has("matmul-f16")) {
  if (hasF16)
    await matmul(["--json", "--sizes", "1024,2048,4096", "--reps", "7", "--precision", "f16"]);
  else console.log(JSON.stringify({ part: "matmul-f16", skipped: "no shader-f16 on this device" }));
}
if (parts.has("reduce")) await reduce(["--json"]);
if (parts.has("record")) await record(["--json"]);
if (parts.has("attention")) {
  const ab = {};
  for (const kind of ["rows", "tiled"]) {
    const g = await T.createWebGpuBackend({ attentionKernel: kind });
    const mk = () => T.randn([8, 6, 256, 64], { backend: g }).requireGrad();
    const [q, k, v] = [mk(), mk(), mk()];
    const run = () =>
      T.tidy(() => {
        T.ops.sum(T.ops.attention(q, k, v, { causal: true })).backward();
        for (const x of [q, k, v]) x.zeroGrad();
      });
    run();
    await g.sync();
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) run();
    await g.sync();
    ab[kind] = (performance.now() - t0) / 10;
    g.dispose();
  }
  console.log(JSON.stringify({ part: "attention-fwd-bwd-ms-8x6x256x64", ...ab }));
}
if (parts.has("train")) await trainStep(["--json", "--steps", "5"]);
if (parts.has("ablations")) {
  console.log(JSON.stringify({ part: "ablation", fuse: false }));
  await withEnv({ ATHANOR_WEBGPU_FUSE: "0" }, () =>
    trainStep(["--json", "--steps", "5", "--no-torch"]),
  );
  console.log(JSON.stringify({ part: "ablation", bindCache: false }));
  await withEnv({ ATHANOR_WEBGPU_BINDCACHE: "0" }, () =>
    trainStep(["--json", "--steps", "5", "--no-torch"]),
  );
}
