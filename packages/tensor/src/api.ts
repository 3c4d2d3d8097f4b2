/**
 * The platform-neutral API of @athanor/tensor (tensors, autograd, memory, optimizers,
 * safetensors, the reference and webgpu backends): everything both entry points export.
 * `index.ts` (Node) adds the cpu backend (WebAssembly threads + BLAS, Node APIs);
 * `browser.ts` is this alone, so a browser bundle pulls in no Node module.
 */

import "./engine.js";

export {
  ActivationStore,
  type ActivationStoreOptions,
  type SavedActivation,
} from "./activations.js";
export {
  type BackwardOptions,
  backward,
  isGradEnabled,
  noGrad,
  type SavedTensorHooks,
  withGradEnabled,
  withSavedTensorHooks,
} from "./autograd.js";
export type {
  AdamWParams,
  AttentionArgs,
  Backend,
  BinaryOp,
  CapturedWork,
  Conv2dGeometry,
  DType,
  HostArray,
  ReduceOp,
  SgdParams,
  Storage,
  StorageFormat,
  UnaryOp,
  View,
} from "./backend.js";
export { contiguousStrides, isContiguous, shapeSize } from "./backend.js";
export { type Capture, capture } from "./capture.js";
export { checkpoint } from "./checkpoint.js";
export {
  arange,
  type CreateOptions,
  fromArray,
  fromHalf,
  full,
  ones,
  onesLike,
  type RandomOptions,
  randint,
  randn,
  tensor,
  uniform,
  zeros,
  zerosLike,
} from "./creation.js";
export { type CustomOpContext, customOp } from "./custom.js";
export { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./dtype.js";
export {
  MemoryBudgetError,
  type MemoryStats,
  memoryStats,
  resetPeak,
  setMemoryBudget,
} from "./memory.js";
export * as ops from "./ops/index.js";
export * from "./optim/index.js";
export { manualSeed, Rng } from "./random.js";
export { ReferenceBackend, type ReferenceOptions } from "./reference/backend.js";
export {
  backendByName,
  getBackend,
  listBackends,
  registerBackend,
  setBackend,
} from "./registry.js";
export {
  loadSafetensors,
  type ParseOptions,
  parseSafetensors,
  type SafetensorsFile,
  saveSafetensors,
  serializeSafetensors,
  serializeSafetensorsAsync,
} from "./safetensors.js";
export { endScope, keep, startScope, tidy } from "./scope.js";
export { type NestedArray, Tensor } from "./tensor.js";
export * as testing from "./testing/index.js";
export {
  createWebGpuBackend,
  FLASH_VARIANTS,
  type FlashVariantName,
  MATMUL_VARIANTS,
  type MatmulTileChoice,
  type MatmulVariantName,
  NoAdapterError,
  type WebGpuBackend,
  type WebGpuBackendOptions,
  webgpuAvailable,
} from "./webgpu/index.js";
