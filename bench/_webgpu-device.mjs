// Entry point of the GPU-machine check (bundled by bench/webgpu-device-check.sh): op parity of
// the webgpu backend against the reference backend (every case of the conformance suite, forward
// and backward), then the webgpu-matmul and webgpu-train-step benchmarks with PyTorch in the
// same run. Prints one JSON line per part.
import * as T from "@athanor/tensor";
import { main as matmul } from "./webgpu-matmul.mjs";
import { main as trainStep } from "./webgpu-train-step.mjs";

const gpu = await T.createWebGpuBackend();
console.log(JSON.stringify({ part: "adapter", ...gpu.info }));
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
console.log(
  JSON.stringify({
    part: "parity",
    passed,
    failed: failures.length,
    failures,
    seconds: (performance.now() - t0) / 1000,
  }),
);
gpu.dispose();
const args = process.argv.slice(2);
// matmul tile sweep at 4096 (each size class's tile forced)
if (!args.includes("--parity-only")) {
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
if (!args.includes("--parity-only")) {
  await matmul(["--json", "--sizes", "1024,2048,4096", "--reps", "7"]);
  // attention kernels A/B at the GPT-2 shapes: forward + backward, GPU-synchronised
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
  await trainStep(["--json", "--steps", "5"]);
  await trainStep(["--json", "--steps", "5", "--attention", "tiled", "--no-torch"]);
}
