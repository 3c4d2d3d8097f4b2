/**
 * @athanor/tensor: tensors, autograd, memory management, optimizers and safetensors, over
 * pluggable backends (reference TypeScript, cpu WebAssembly/BLAS, WebGPU). This is the Node
 * entry; bundlers targeting browsers get `browser.ts` (no cpu backend) through the package's
 * "browser" export condition.
 */

// Registers the cpu backend (WebAssembly SIMD + threads + BLAS) when its kernels are built.
import "./cpu/index.js";

export * from "./api.js";
export {
  CpuBackend,
  type CpuBackendInfo,
  type CpuBackendOptions,
  cpuBackend,
  cpuBackendInfo,
  createCpuBackend,
  setThreads,
} from "./cpu/index.js";
