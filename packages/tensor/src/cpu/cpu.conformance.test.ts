// The cpu backend against the reference backend: every op case of the shared conformance
// suite (forward and gradients, odd shapes, non-contiguous views), once with matmul on the
// BLAS addon (when built) and once on the WebAssembly SIMD kernels, both with 2 threads so the
// worker split is exercised.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import "../index.js";
import { runBackendConformance } from "../../test/conformance.js";
import { loadBlas } from "./blas.js";
import { createCpuBackend } from "./index.js";
import { kernelsPath } from "./kernels.js";

// The kernels come from `npm run build`; build them here if a bare `vitest run` comes first.
if (!existsSync(kernelsPath())) {
  execFileSync(process.execPath, [
    fileURLToPath(new URL("../../assembly/build.mjs", import.meta.url)),
  ]);
}

runBackendConformance("cpu (WebAssembly matmul, 2 threads)", () =>
  createCpuBackend({ name: "cpu-wasm", blas: false, threads: 2 }),
);

if (loadBlas().addon) {
  runBackendConformance("cpu (BLAS matmul, 2 threads)", () =>
    createCpuBackend({ name: "cpu-blas", blas: true, threads: 2 }),
  );
}
