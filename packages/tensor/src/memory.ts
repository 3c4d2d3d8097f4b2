/**
 * Memory: reference-counted device buffers, a per-backend tracker of live and peak bytes, a
 * reuse pool with a byte budget, and the host tier.
 *
 * A `DataBuffer` is the unit of memory: one backend storage shared by a tensor and all its
 * views (and by the autograd graph when the tensor was saved for backward). It is freed when
 * the last reference is released. A buffer can move to the host tier (device storage freed,
 * values kept in a host array, optionally as bf16/f16) and back.
 */

import type { Backend, DType, HostArray, Storage, StorageFormat } from "./backend.js";
import { decode, encode } from "./dtype.js";
import { takeOldest } from "./oldest.js";

/** Thrown when an allocation would exceed a device's byte budget. */
export class MemoryBudgetError extends Error {
  override name = "MemoryBudgetError";
}

/** Live / peak statistics of one backend's device memory, in bytes. */
export interface MemoryStats {
  backend: string;
  /** Bytes held by live buffers. */
  liveBytes: number;
  /** Highest `liveBytes` since the last `resetPeak`. */
  peakBytes: number;
  /** Bytes of freed storages kept for reuse. */
  pooledBytes: number;
  /** Live buffer count. */
  liveBuffers: number;
  /**
   * Bytes of freed storages the backend keeps for captured work (`capture`): counted against
   * the budget until the captures are disposed.
   */
  retainedBytes: number;
  /** Bytes currently on the host tier. */
  hostBytes: number;
  /** Byte budget for live + pooled + retained bytes (null = unlimited). */
  budget: number | null;
}

/** Per-backend allocator: tracking, pooling and budget. */
export class Device {
  liveBytes = 0;
  peakBytes = 0;
  pooledBytes = 0;
  liveBuffers = 0;
  hostBytes = 0;
  budget: number | null = null;
  /** Maximum pooled bytes (default 256 MiB; pooled storages are dropped first under budget). */
  poolLimit = 256 * 1024 * 1024;
  /**
   * Which pooled storage an allocation reuses: "lifo" (the most recently freed, warm in CPU
   * caches) or "oldest" (the earliest created). With "oldest" a loop that allocates and frees
   * in the same sequence every iteration gets the same storages every iteration (the webgpu
   * backend caches bind groups by buffer identity); "lifo" permutes them between iterations.
   */
  poolOrder: "lifo" | "oldest" = "lifo";
  private readonly pool = new Map<string, Storage[]>();
  /** Creation order of the storages this device allocated (for poolOrder "oldest"). */
  private readonly born = new WeakMap<Storage, number>();
  private created = 0;

  constructor(readonly backend: Backend) {}

  /** Device bytes of `size` elements of `dtype` on this backend. */
  bytes(dtype: DType, size: number): number {
    return size * (this.backend.bytesPerElement?.(dtype) ?? 4);
  }

  alloc(dtype: DType, size: number, what: string): Storage {
    const bytes = this.bytes(dtype, size);
    const key = `${dtype}:${size}`;
    const list = this.pool.get(key);
    let storage = list && (this.poolOrder === "lifo" ? list.pop() : takeOldest(list, this.born));
    if (storage) this.pooledBytes -= bytes;
    else {
      const retained = this.budget === null ? 0 : this.retainedBytes();
      if (
        this.budget !== null &&
        this.liveBytes + retained + this.pooledBytes + bytes > this.budget
      ) {
        this.trimPool(0);
      }
      if (this.budget !== null && this.liveBytes + retained + bytes > this.budget) {
        const kept =
          retained > 0
            ? `, ${fmt(retained)} kept by captured work until its captures are disposed`
            : "";
        throw new MemoryBudgetError(
          `${what}: allocating ${fmt(bytes)} (${size} × ${dtype}) would exceed the ` +
            `${this.backend.name} memory budget of ${fmt(this.budget)} ` +
            `(${fmt(this.liveBytes)} live in ${this.liveBuffers} buffers${kept})`,
        );
      }
      storage = this.backend.alloc(dtype, size);
      // Ages only matter to "oldest" (set before the first allocation; unaged storages count
      // as oldest), so the cpu backends' allocations skip the bookkeeping.
      if (this.poolOrder === "oldest") this.born.set(storage, ++this.created);
    }
    this.liveBytes += bytes;
    this.liveBuffers++;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
    return storage;
  }

  /**
   * Returns a storage; it is pooled for reuse unless `pool` is false, the pool is full, or the
   * backend retains it (a capture uses it: see capture.ts, `Backend.retains`).
   */
  release(storage: Storage, pool = true): void {
    const bytes = this.bytes(storage.dtype, storage.size);
    this.liveBytes -= bytes;
    this.liveBuffers--;
    if (!pool || this.backend.retains?.(storage)) {
      this.backend.free(storage);
      return;
    }
    const limit =
      this.budget === null
        ? this.poolLimit
        : Math.min(this.poolLimit, this.budget - this.liveBytes - this.retainedBytes());
    if (storage.size > 0 && this.pooledBytes + bytes <= limit) {
      const key = `${storage.dtype}:${storage.size}`;
      let list = this.pool.get(key);
      if (!list) {
        list = [];
        this.pool.set(key, list);
      }
      list.push(storage);
      this.pooledBytes += bytes;
    } else this.backend.free(storage);
  }

  /** Frees pooled storages until at most `keepBytes` remain pooled. */
  trimPool(keepBytes = 0): void {
    for (const [key, list] of this.pool) {
      while (list.length > 0 && this.pooledBytes > keepBytes) {
        const s = list.pop()!;
        this.pooledBytes -= this.bytes(s.dtype, s.size);
        this.backend.free(s);
      }
      if (list.length === 0) this.pool.delete(key);
    }
  }

  /** Bytes of freed storages the backend keeps for captured work (`Backend.retainedBytes`). */
  retainedBytes(): number {
    return this.backend.retainedBytes?.() ?? 0;
  }

  stats(): MemoryStats {
    return {
      backend: this.backend.name,
      liveBytes: this.liveBytes,
      peakBytes: this.peakBytes,
      pooledBytes: this.pooledBytes,
      liveBuffers: this.liveBuffers,
      retainedBytes: this.retainedBytes(),
      hostBytes: this.hostBytes,
      budget: this.budget,
    };
  }
}

const devices = new Map<Backend, Device>();

/** The allocator of a backend. */
export function deviceOf(backend: Backend): Device {
  let d = devices.get(backend);
  if (!d) {
    d = new Device(backend);
    devices.set(backend, d);
  }
  return d;
}

function fmt(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(2)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** Host-tier copy of a buffer. */
interface HostCopy {
  data: HostArray | Uint16Array;
  format: StorageFormat;
}

/** One backend storage shared by a tensor, its views and the autograd graph. Refcounted. */
export class DataBuffer {
  storage: Storage | null;
  host: HostCopy | null = null;
  refs = 0;
  freed = false;

  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly size: number,
    what: string,
  ) {
    this.storage = deviceOf(backend).alloc(dtype, size, what);
  }

  get onDevice(): boolean {
    return this.storage !== null;
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs > 0 || this.freed) return;
    this.freed = true;
    const dev = deviceOf(this.backend);
    if (this.storage) dev.release(this.storage);
    if (this.host) dev.hostBytes -= this.host.data.byteLength;
    this.storage = null;
    this.host = null;
  }

  /**
   * Moves the values to the host tier (optionally as bf16/f16 for f32 buffers) and frees the
   * device storage. Requires a backend with synchronous reads; see `toHostAsync`.
   */
  toHost(format?: StorageFormat): void {
    if (!this.storage) return;
    const b = this.backend;
    if (!b.readSync)
      throw new Error(`toHost: backend "${b.name}" has no synchronous read; use toHostAsync`);
    const values = b.readSync({
      storage: this.storage,
      shape: [this.size],
      strides: [1],
      offset: 0,
    });
    this.stash(values, format);
  }

  async toHostAsync(format?: StorageFormat): Promise<void> {
    if (!this.storage) return;
    const values = await this.backend.read({
      storage: this.storage,
      shape: [this.size],
      strides: [1],
      offset: 0,
    });
    this.stash(values, format);
  }

  private stash(values: HostArray, format: StorageFormat | undefined): void {
    // f16 buffers keep their format (lossless); f32 ones may be narrowed on request.
    const fmtOut: StorageFormat =
      this.dtype === "f32" ? (format ?? "f32") : this.dtype === "i32" ? "i32" : "f16";
    const data = encode(values, fmtOut);
    const dev = deviceOf(this.backend);
    dev.release(this.storage!, false); // really free device memory: that is the point
    dev.liveBuffers++; // the buffer is still alive (on the host); release() counted it out
    this.storage = null;
    this.host = { data, format: fmtOut };
    dev.hostBytes += data.byteLength;
  }

  /** Moves the values back to device memory. */
  toDevice(what = "toDevice"): void {
    if (this.storage || !this.host) return;
    const dev = deviceOf(this.backend);
    dev.liveBuffers--;
    this.storage = dev.alloc(this.dtype, this.size, what);
    this.backend.write(this.storage, decode(this.host.data, this.host.format));
    dev.hostBytes -= this.host.data.byteLength;
    this.host = null;
  }

  /** Bytes of the host copy, or of device storage when on device. */
  get bytes(): number {
    return this.host
      ? this.host.data.byteLength
      : deviceOf(this.backend).bytes(this.dtype, this.size);
  }
}

/** Memory statistics of a backend. */
export function memoryStats(backend: Backend): MemoryStats {
  return deviceOf(backend).stats();
}

/** Sets (or clears, with null) a backend's byte budget. */
export function setMemoryBudget(backend: Backend, bytes: number | null): void {
  const dev = deviceOf(backend);
  dev.budget = bytes;
  if (bytes !== null) dev.trimPool(Math.max(0, bytes - dev.liveBytes));
}

/** Resets the peak to the current live bytes. */
export function resetPeak(backend: Backend): void {
  const dev = deviceOf(backend);
  dev.peakBytes = dev.liveBytes;
}
