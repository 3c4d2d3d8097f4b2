// The cpu backend against the reference backend: every op case of the shared conformance
// suite (forward and gradients, odd shapes, non-contiguous views), once with matmul on the
// BLAS addon (when built) and once on the WebAssembly SIMD kernels, both with 2 threads so the
// worker split is exercised.
import "../index.js";
import { runBackendConformance } from "../../test/conformance.js";
import { loadBlas } from "./blas.js";
import { createCpuBackend } from "./index.js";

runBackendConformance("cpu (WebAssembly matmul, 2 threads)", () =>
  createCpuBackend({ name: "cpu-wasm", blas: false, threads: 2 }),
);

if (loadBlas().addon) {
  runBackendConformance("cpu (BLAS matmul, 2 threads)", () =>
    createCpuBackend({ name: "cpu-blas", blas: true, threads: 2 }),
  );
}
