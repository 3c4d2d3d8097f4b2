/// <reference types="@webgpu/types" />
/**
 * Adapter selection: `navigator.gpu` in browsers (and Deno), otherwise Dawn for Node through
 * the optional `webgpu` package. Fails with an error that names everything it looked for.
 */

import { nodeImport } from "../node-import.js";

/** Where to find a WebGPU adapter. */
export interface AdapterOptions {
  /** "high-performance" (default) or "low-power"; a hint, adapters may ignore it. */
  powerPreference?: GPUPowerPreference;
  /** Accept a software adapter (Mesa lavapipe "llvmpipe", SwiftShader). Default true. */
  allowSoftware?: boolean;
  /**
   * Dawn toggles / options passed to the `webgpu` package's `create()` (Node only), e.g.
   * `["enable-dawn-features=skip_validation"]`: Dawn then skips validating each command, which
   * takes part of the CPU time of recording a kernel (`webgpu-record --dawn-option`), at the
   * price of undefined behaviour instead of an error if a command were invalid.
   */
  dawnOptions?: string[];
}

/** A chosen adapter and a one-line description of it. */
export interface SelectedAdapter {
  gpu: GPU;
  adapter: GPUAdapter;
  /** e.g. "llvmpipe (vulkan, cpu)" or "NVIDIA H100 (vulkan, discrete-gpu)". */
  description: string;
  /** Where the GPU object came from: "navigator.gpu" or "webgpu (Dawn for Node)". */
  source: string;
  software: boolean;
}

/** Thrown when no WebGPU adapter can be found; the message says what was tried. */
export class NoAdapterError extends Error {
  override name = "NoAdapterError";
}

/**
 * Dawn's GPU instances, one per set of `dawnOptions`, created once per process and kept
 * referenced: if one were garbage collected while a device made from it is alive, Dawn tears
 * down under the device and the process crashes (seen with lavapipe as futex / mutex assertion
 * failures).
 */
const dawnInstances = new Map<string, GPU>();

async function loadGpu(options: AdapterOptions, tried: string[]): Promise<[GPU, string] | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return [nav.gpu, "navigator.gpu"];
  tried.push("navigator.gpu (absent)");
  if (typeof process === "undefined" || !process.versions?.node) return null;
  if (!process.env.XDG_RUNTIME_DIR) {
    // Mesa's Vulkan drivers warn (and some builds fail) without it; any private dir works.
    const { mkdtempSync } = await nodeImport<typeof import("node:fs")>("node:fs");
    const { tmpdir } = await nodeImport<typeof import("node:os")>("node:os");
    const { join } = await nodeImport<typeof import("node:path")>("node:path");
    process.env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), "athanor-xdg-"));
  }
  try {
    type Dawn = { create(opts: string[]): GPU; globals: Record<string, unknown> };
    // DAWN_NODE: path of a dawn.node to load instead of the package (machines without
    // node_modules, e.g. a GPU box the benchmarks are carried to).
    const explicit = process.env.DAWN_NODE;
    let mod: Dawn;
    if (explicit) {
      const { createRequire } = await nodeImport<typeof import("node:module")>("node:module");
      mod = createRequire(import.meta.url)(explicit) as Dawn;
    } else {
      mod = await nodeImport<Dawn>("webgpu");
    }
    for (const [k, v] of Object.entries(mod.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
    const key = JSON.stringify(options.dawnOptions ?? []);
    let gpu = dawnInstances.get(key);
    if (!gpu) {
      gpu = mod.create(options.dawnOptions ?? []);
      dawnInstances.set(key, gpu);
    }
    return [gpu, "webgpu (Dawn for Node)"];
  } catch (e) {
    const what = process.env.DAWN_NODE
      ? `DAWN_NODE=${process.env.DAWN_NODE}`
      : 'the "webgpu" npm package (Dawn for Node)';
    tried.push(`${what} could not be loaded: ${(e as Error).message}`);
    return null;
  }
}

function describe(info: GPUAdapterInfo | undefined): string {
  if (!info) return "unknown adapter";
  const name = info.description || info.device || info.vendor || "unnamed adapter";
  const extra = [info.architecture, (info as { backendType?: string }).backendType]
    .filter((s) => s)
    .join(", ");
  return extra ? `${name} (${extra})` : name;
}

/** Finds a WebGPU adapter or throws {@link NoAdapterError} naming what was looked for. */
export async function selectAdapter(options: AdapterOptions = {}): Promise<SelectedAdapter> {
  const tried: string[] = [];
  const found = await loadGpu(options, tried);
  const hint =
    "On Linux without a GPU install Mesa's lavapipe (Debian bookworm-backports: " +
    "apt-get install -t bookworm-backports mesa-vulkan-drivers) and set XDG_RUNTIME_DIR; " +
    "with a GPU, install its Vulkan driver.";
  if (!found) {
    throw new NoAdapterError(`webgpu: no WebGPU implementation found; tried ${tried.join("; ")}`);
  }
  const [gpu, source] = found;
  const powerPreference = options.powerPreference ?? "high-performance";
  let adapter = await gpu.requestAdapter({ powerPreference });
  tried.push(`${source}.requestAdapter({ powerPreference: "${powerPreference}" })`);
  if (!adapter) {
    adapter = await gpu.requestAdapter({ forceFallbackAdapter: true });
    tried.push(`${source}.requestAdapter({ forceFallbackAdapter: true })`);
  }
  if (!adapter) {
    throw new NoAdapterError(
      `webgpu: no adapter found (looked for a Vulkan/Metal/D3D12 GPU or a software ` +
        `fallback); tried ${tried.join(", ")}. ${hint}`,
    );
  }
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const description = describe(info);
  const software =
    /llvmpipe|lavapipe|swiftshader|software/i.test(description) ||
    (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true ||
    (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  if (software && options.allowSoftware === false) {
    throw new NoAdapterError(
      `webgpu: only a software adapter was found (${description}) and allowSoftware is false; ` +
        `looked for a hardware adapter via ${tried.join(", ")}`,
    );
  }
  return { gpu, adapter, description, source, software };
}
