/**
 * The `cpu` backend: WebAssembly SIMD kernels across worker threads over shared memory, with
 * matmul on the platform BLAS when the addon is built. Importing the package registers it
 * (priority 10, above the reference backend) when its kernels are built.
 */

import { availableParallelism } from "node:os";
import { registerBackend } from "../registry.js";
import { CpuBackend, type CpuBackendInfo, type CpuBackendOptions } from "./backend.js";
import { blasAllowedByEnv, loadBlas } from "./blas.js";
import { kernelsAvailable, kernelsPath, usingRelaxedKernels } from "./kernels.js";

export { CpuBackend, type CpuBackendInfo, type CpuBackendOptions } from "./backend.js";

let shared: CpuBackend | null = null;

/** The process-wide cpu backend (the one registered as "cpu"), created on first use. */
export function cpuBackend(): CpuBackend {
  if (!shared) shared = new CpuBackend();
  return shared;
}

/** Creates a separate cpu backend (its own memory and threads), e.g. to compare options. */
export function createCpuBackend(options: CpuBackendOptions = {}): CpuBackend {
  return new CpuBackend(options);
}

/** Sets the thread count of the process-wide cpu backend (the calling thread included). */
export function setThreads(n: number): void {
  cpuBackend().setThreads(n);
}

/** Which paths the cpu backend uses here: WebAssembly SIMD, threads, BLAS library or none. */
export function cpuBackendInfo(): CpuBackendInfo & { available: boolean } {
  if (shared) return { available: true, ...shared.info() };
  const blas = loadBlas();
  const available = kernelsAvailable();
  const on = blas.addon !== null && blasAllowedByEnv();
  const lib = on ? blas.addon!.info() : null;
  return {
    available,
    wasmSimd: available,
    relaxedSimd: available && usingRelaxedKernels(),
    threads: availableParallelism(),
    blas: lib?.library ?? null,
    blasConfig: lib?.config ?? null,
    blasUnavailable: on ? null : blasAllowedByEnv() ? blas.reason : "disabled by ATHANOR_BLAS",
    ...(available ? {} : { reason: `WebAssembly kernels not built (${kernelsPath()})` }),
  };
}

registerBackend("cpu", cpuBackend, { priority: kernelsAvailable() ? 10 : -1 });
