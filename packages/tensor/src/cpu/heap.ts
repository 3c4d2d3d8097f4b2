/**
 * The cpu backend's heap: one shared `WebAssembly.Memory` (grown on demand, up to 4 GiB) that
 * every thread's kernel instance uses, carved into 64-byte aligned blocks by a size-class free
 * list allocator. Freed blocks are reused by later allocations of the same class (training
 * loops allocate the same sizes every step); linear memory itself never shrinks.
 */

import { Wasm, type WasmMemory } from "./kernels.js";

const PAGE = 65536;
const MAX_PAGES = 65536;
const ALIGN = 64;

/** Rounds a byte count up to its size class: 64-byte granules below 512, then 8 classes per doubling. */
export function sizeClass(bytes: number): number {
  if (bytes <= 512) return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  const step = 2 ** (Math.floor(Math.log2(bytes)) - 3);
  return Math.ceil(bytes / step) * step;
}

export class Heap {
  readonly memory: WasmMemory;
  private buffer: SharedArrayBuffer;
  private top: number;
  private readonly free = new Map<number, number[]>();
  private used = 0;
  private peak = 0;

  constructor(initialBytes = 16 * 2 ** 20) {
    this.memory = new Wasm.Memory({
      initial: Math.ceil(initialBytes / PAGE),
      maximum: MAX_PAGES,
      shared: true,
    });
    this.buffer = this.memory.buffer as unknown as SharedArrayBuffer;
    this.top = 0;
  }

  /** Sets the first byte the allocator may hand out (after the kernels' static data). */
  setBase(base: number): void {
    this.top = Math.ceil(Math.max(base, ALIGN) / ALIGN) * ALIGN;
  }

  /** Bytes currently handed out (by size class) and the peak since creation. */
  stats(): { usedBytes: number; peakBytes: number; reservedBytes: number } {
    return { usedBytes: this.used, peakBytes: this.peak, reservedBytes: this.buffer.byteLength };
  }

  /** Allocates `bytes` (rounded to a size class); returns the 64-byte aligned byte address. */
  alloc(bytes: number): number {
    const cls = sizeClass(Math.max(bytes, 1));
    const list = this.free.get(cls);
    let ptr = list?.pop();
    if (ptr === undefined) {
      ptr = this.top;
      const end = ptr + cls;
      if (end > this.buffer.byteLength) this.grow(end);
      this.top = end;
    }
    this.used += cls;
    if (this.used > this.peak) this.peak = this.used;
    return ptr;
  }

  /** Returns a block from `alloc(bytes)` to its free list. */
  release(ptr: number, bytes: number): void {
    const cls = sizeClass(Math.max(bytes, 1));
    let list = this.free.get(cls);
    if (!list) {
      list = [];
      this.free.set(cls, list);
    }
    list.push(ptr);
    this.used -= cls;
  }

  /** The memory's current SharedArrayBuffer (changes after growth; old views stay valid). */
  sab(): SharedArrayBuffer {
    if (
      this.buffer.byteLength !== (this.memory.buffer as unknown as SharedArrayBuffer).byteLength
    ) {
      this.buffer = this.memory.buffer as unknown as SharedArrayBuffer;
    }
    return this.buffer;
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.sab(), ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.sab(), ptr, length);
  }

  private grow(end: number): void {
    const have = this.buffer.byteLength / PAGE;
    const need = Math.ceil(end / PAGE);
    if (need > MAX_PAGES) {
      throw new Error(
        `cpu backend: out of memory: ${(end / 2 ** 30).toFixed(2)} GiB needed, WebAssembly memory ` +
          "is limited to 4 GiB",
      );
    }
    // Grow geometrically (at least 25%) so repeated growth stays cheap.
    const pages = Math.min(MAX_PAGES, Math.max(need, Math.ceil(have * 1.25)));
    this.memory.grow(pages - have);
    this.buffer = this.memory.buffer as unknown as SharedArrayBuffer;
  }
}
