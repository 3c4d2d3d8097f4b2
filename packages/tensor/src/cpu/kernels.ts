/**
 * Loading the WebAssembly SIMD kernels (build/kernels.wasm, compiled from assembly/ by
 * `npm run build:assets`) into one shared `WebAssembly.Memory`.
 */

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// The package compiles against ES2023 + Node types, which do not declare WebAssembly; these
// are the few parts of it the backend uses.
/** A `WebAssembly.Memory`. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
/** A compiled `WebAssembly.Module` (opaque; cloneable to worker threads). */
export interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
/** The runtime's WebAssembly object. */
export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The kernel exports (see assembly/index.ts). Pointers are byte addresses; sizes elements. */
export interface KernelExports {
  heapBase(): number;
  sgemmScratchBytes(): number;
  sgemmList(list: number, start: number, end: number, scratch: number): void;
  ndRun(kind: number, op: number, desc: number, r0: number, r1: number, tmp: number): void;
  attentionScratchBytes(tq: number, tk: number): number;
  [name: string]: unknown;
}

/** Names of the exports worker threads may run (index = function id in the pool protocol). */
export const POOL_FUNCTIONS = [
  "sgemmList",
  "ndRun",
  "softmaxRows",
  "softmaxBackwardRows",
  "crossEntropyRows",
  "crossEntropyBackwardRows",
  "normRows",
  "normBackwardRows",
  "adamw",
  "sgd",
  "attentionForward",
  "attentionBackward",
  "attentionProbsRange",
  "attentionScoresGradRange",
  "im2col",
  "col2im",
  "pool2d",
  "pool2dBackward",
  "indexSelectRows",
  "indexAddRows",
] as const;

export type PoolFunction = (typeof POOL_FUNCTIONS)[number];

const WASM_URL = new URL("../../build/kernels.wasm", import.meta.url);
const RELAXED_URL = new URL("../../build/kernels-relaxed.wasm", import.meta.url);

/**
 * Path of the compiled kernels this runtime will use (whether or not they exist): the relaxed
 * SIMD build (fused multiply-add matmul) when the runtime supports it and it is built, else
 * the plain SIMD build.
 */
export function kernelsPath(): string {
  const relaxed = fileURLToPath(RELAXED_URL);
  if (relaxedSimdSupported() && existsSync(relaxed)) return relaxed;
  return fileURLToPath(WASM_URL);
}

/** True if the kernels have been built and this runtime has WebAssembly SIMD and threads. */
export function kernelsAvailable(): boolean {
  return (
    existsSync(kernelsPath()) && wasmSimdSupported() && typeof SharedArrayBuffer === "function"
  );
}

let relaxed: boolean | null = null;

/** Whether this runtime validates f32x4.relaxed_madd (relaxed SIMD). */
export function relaxedSimdSupported(): boolean {
  if (relaxed === null) {
    // (module (func (result v128) 3 × (i32.const 0 i8x16.splat) f32x4.relaxed_madd))
    const bytes = new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0, 65, 0, 253,
      15, 65, 0, 253, 15, 65, 0, 253, 15, 253, 133, 2, 11,
    ]);
    relaxed = Wasm.validate(bytes);
  }
  return relaxed === true;
}

/** Whether the kernels in use are the relaxed SIMD build. */
export function usingRelaxedKernels(): boolean {
  return kernelsPath() === fileURLToPath(RELAXED_URL);
}

let simd: boolean | null = null;

/** Whether this runtime validates a module using a v128 instruction. */
export function wasmSimdSupported(): boolean {
  if (simd === null) {
    // (module (func (result v128) i32.const 0 i8x16.splat))
    const bytes = new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253,
      15, 11,
    ]);
    simd = Wasm.validate(bytes);
  }
  return simd === true;
}

let compiled: WasmModule | null = null;

/** Compiles the kernels once per process; throws a clear error when they are not built. */
export function kernelsModule(): WasmModule {
  if (compiled) return compiled;
  const path = kernelsPath();
  if (!existsSync(path)) {
    throw new Error(
      `cpu backend: WebAssembly kernels not built (${path} is missing); run \`npm run build\` ` +
        "(or `npm run build:assets -w packages/tensor`)",
    );
  }
  if (!wasmSimdSupported()) {
    throw new Error("cpu backend: this JavaScript runtime has no WebAssembly SIMD");
  }
  compiled = new Wasm.Module(readFileSync(path));
  return compiled;
}

/** Instantiates the kernels over `memory` (one instance per thread, same memory). */
export function instantiate(module: WasmModule, memory: WasmMemory): KernelExports {
  const instance = new Wasm.Instance(module, {
    env: {
      memory,
      abort: () => {
        throw new Error("cpu backend: WebAssembly kernel aborted");
      },
    },
  });
  return instance.exports as unknown as KernelExports;
}
