/// <reference types="@webgpu/types" />
/**
 * The `webgpu` backend: WGSL kernels through WebGPU (Dawn for Node via the optional `webgpu`
 * package; `navigator.gpu` in browsers). Creating it is asynchronous (adapter and device
 * requests), so it is not auto-registered: `setBackend(await createWebGpuBackend())`.
 */

import { type AdapterOptions, NoAdapterError, selectAdapter } from "./adapter.js";
import { WebGpuBackend, type WebGpuBackendOptions, type WebGpuInfo } from "./backend.js";

export { type AdapterOptions, NoAdapterError } from "./adapter.js";
export {
  type MatmulTileChoice,
  SUBMIT_BATCH,
  WebGpuBackend,
  type WebGpuBackendOptions,
  type WebGpuInfo,
} from "./backend.js";
export { FLASH_VARIANTS, type FlashVariantName } from "./kernels/flash.js";
export {
  MATMUL_VARIANTS,
  type MatmulVariantName,
  SPLIT_K,
  type SplitKRule,
} from "./kernels/matmul.js";

/** Features the kernels use when the adapter has them. */
const OPTIONAL_FEATURES = ["subgroups", "shader-f16", "timestamp-query"] as const;

/**
 * Finds an adapter (see {@link AdapterOptions}), requests a device with the adapter's largest
 * buffer and workgroup limits, and returns the backend. Throws {@link NoAdapterError} naming
 * what was looked for when there is no adapter.
 */
export async function createWebGpuBackend(
  options: WebGpuBackendOptions & AdapterOptions = {},
): Promise<WebGpuBackend> {
  const sel = await selectAdapter(options);
  const { adapter } = sel;
  const features = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const want = [
    "maxBufferSize",
    "maxStorageBufferBindingSize",
    "maxComputeWorkgroupStorageSize",
    "maxComputeInvocationsPerWorkgroup",
    "maxComputeWorkgroupSizeX",
    "maxStorageBuffersPerShaderStage",
  ] as const;
  const requiredLimits: Record<string, number> = {};
  for (const k of want) requiredLimits[k] = adapter.limits[k];
  const device = await adapter.requestDevice({
    requiredFeatures: features as unknown as GPUFeatureName[],
    requiredLimits,
    label: "athanor tensor",
  });
  const info: WebGpuInfo = {
    adapter: sel.description,
    source: sel.source,
    software: sel.software,
    features: [...features],
    maxBufferBytes: device.limits.maxStorageBufferBindingSize,
  };
  return new WebGpuBackend(device, info, options, [sel.gpu, adapter]);
}

/**
 * Whether a WebGPU adapter is available here, with the optional features the kernels would use
 * (subgroups, shader-f16, timestamp-query), or the reason when not (never throws). Tests use it
 * to skip with a clear message.
 */
export async function webgpuAvailable(
  options: AdapterOptions = {},
): Promise<
  { available: true; adapter: string; features: string[] } | { available: false; reason: string }
> {
  try {
    const sel = await selectAdapter(options);
    const features = OPTIONAL_FEATURES.filter((f) => sel.adapter.features.has(f));
    return { available: true, adapter: sel.description, features };
  } catch (e) {
    if (e instanceof NoAdapterError) return { available: false, reason: e.message };
    return { available: false, reason: (e as Error).message };
  }
}
