/// <reference types="@webgpu/types" />
/**
 * The GPU runtime under the webgpu backend: a pooling buffer allocator, one command encoder
 * that kernels are recorded into and submitted in batches, a parameter arena (each dispatch's
 * small integer / float parameters live in one mapped-at-creation storage buffer per batch),
 * a pipeline cache and asynchronous readback.
 */

import type { DType, Storage } from "../backend.js";

// GPUBufferUsage / GPUMapMode values (constants of the WebGPU spec; globals differ by host).
const MAP_READ = 1;
const COPY_SRC = 4;
const COPY_DST = 8;
const STORAGE = 128;

/** A backend storage: one pooled GPU buffer. */
export interface GpuStorage extends Storage {
  readonly buffer: GPUBuffer;
  /** Bytes of `buffer` (its size class; ≥ 4·size). */
  readonly capacity: number;
  freed: boolean;
}

/** Binding access of a kernel's buffer: read-only or read-write storage. */
export type Access = "r" | "rw";

/** Everything a dispatch needs: a pipeline key + WGSL source builder, buffers, groups. */
export interface Dispatch {
  /** Unique key of the WGSL source (the cache key of the pipeline). */
  key: string;
  /** Builds the WGSL source (called once per key). Binding 0 is the parameter array `P`. */
  wgsl: () => string;
  /** Buffers bound at 1, 2, …, with their access. */
  buffers: { buffer: GPUBuffer; access: Access }[];
  /** Parameters (u32 words; floats as their bits) bound as `P` at binding 0. */
  params: ArrayLike<number>;
  /** Workgroup counts. */
  groups: [number, number, number];
}

const PARAM_CHUNK = 256 * 1024;

/** Size class of a byte count: powers of two up to 64 MiB, then multiples of 16 MiB. */
export function sizeClass(bytes: number): number {
  const b = Math.max(bytes, 16);
  if (b <= 64 * 1024 * 1024) return 2 ** Math.ceil(Math.log2(b));
  const step = 16 * 1024 * 1024;
  return Math.ceil(b / step) * step;
}

export interface RuntimeOptions {
  /** Maximum bytes of freed buffers kept for reuse (default 256 MiB). */
  poolBytes: number;
  /** Dispatches recorded before a submit happens on its own (default 128). */
  batch: number;
  /**
   * Per-kernel GPU time through timestamp queries (each dispatch in its own pass; slower).
   * Needs the adapter's "timestamp-query" feature; read with `Runtime.profile()`.
   */
  profile: boolean;
}

/** GPU time per kernel key, from timestamp queries. */
export interface KernelProfile {
  key: string;
  calls: number;
  /** Total GPU milliseconds. */
  ms: number;
}

export class Runtime {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private recorded = 0;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly pool = new Map<number, GPUBuffer[]>();
  private readonly destroyAfterSubmit: GPUBuffer[] = [];
  private chunks: { buffer: GPUBuffer; words: Uint32Array }[] = [];
  private chunkUsed = PARAM_CHUNK;
  private readonly paramAlign: number;
  private lost: string | null = null;
  private querySet: GPUQuerySet | null = null;
  private queryKeys: string[] = [];
  private readonly profileTotals = new Map<string, { calls: number; ms: number }>();
  private readonly profilePending: Promise<void>[] = [];
  private error: string | null = null;
  /** Bytes held by live storages and temporaries (allocated, not freed). */
  liveBytes = 0;
  /** Bytes of freed buffers kept for reuse. */
  pooledBytes = 0;
  /** Number of command-buffer submits so far. */
  submits = 0;
  /** Number of dispatches recorded so far. */
  dispatches = 0;
  /** Returns the pool cap in bytes right now (the backend ties it to the engine's budget). */
  poolCap: () => number;

  constructor(
    readonly device: GPUDevice,
    readonly options: RuntimeOptions,
  ) {
    this.paramAlign = Math.max(256, device.limits.minStorageBufferOffsetAlignment);
    this.poolCap = () => options.poolBytes;
    void device.lost.then((info) => {
      this.lost = `${info.reason}: ${info.message}`;
    });
    // Validation errors (a bad shader, a binding over a limit) surface at the next call.
    device.addEventListener("uncapturederror", (ev) => {
      const msg = (ev as GPUUncapturedErrorEvent).error.message;
      if (!this.error) this.error = msg;
    });
  }

  private check(): void {
    if (this.lost) throw new Error(`webgpu: the device was lost (${this.lost})`);
    if (this.error) {
      const msg = this.error;
      this.error = null;
      throw new Error(`webgpu: a kernel failed validation: ${msg}`);
    }
  }

  // ---- buffers -------------------------------------------------------------------------

  /** A pooled GPU buffer of at least `bytes`. */
  acquire(bytes: number): GPUBuffer {
    this.check();
    const cls = sizeClass(bytes);
    const max = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > max) {
      throw new Error(
        `webgpu: a buffer of ${bytes} bytes exceeds this adapter's maxStorageBufferBindingSize (${max})`,
      );
    }
    const size = Math.min(cls, Math.ceil(max / 4) * 4);
    const list = this.pool.get(size);
    const pooled = list?.pop();
    this.liveBytes += size;
    if (pooled) {
      this.pooledBytes -= size;
      return pooled;
    }
    return this.device.createBuffer({ size, usage: STORAGE | COPY_SRC | COPY_DST });
  }

  /** Returns a buffer from {@link acquire}: pooled, or destroyed once recorded work is submitted. */
  release(buffer: GPUBuffer): void {
    const size = buffer.size;
    this.liveBytes -= size;
    if (this.pooledBytes + size <= this.poolCap()) {
      let list = this.pool.get(size);
      if (!list) {
        list = [];
        this.pool.set(size, list);
      }
      list.push(buffer);
      this.pooledBytes += size;
    } else if (this.encoder) this.destroyAfterSubmit.push(buffer);
    else buffer.destroy();
  }

  /** Destroys pooled buffers until at most `keepBytes` remain. */
  trim(keepBytes = 0): void {
    for (const [size, list] of this.pool) {
      while (list.length > 0 && this.pooledBytes > keepBytes) {
        const b = list.pop()!;
        this.pooledBytes -= size;
        if (this.encoder) this.destroyAfterSubmit.push(b);
        else b.destroy();
      }
      if (list.length === 0) this.pool.delete(size);
    }
  }

  newStorage(backend: string, dtype: DType, size: number): GpuStorage {
    const buffer = this.acquire(size * 4);
    return { backend, dtype, size, buffer, capacity: buffer.size, freed: false };
  }

  // ---- recording -----------------------------------------------------------------------

  private ensureEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  private layout(accesses: Access[]): GPUBindGroupLayout {
    const key = accesses.join("");
    let l = this.layouts.get(key);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: 4, buffer: { type: "read-only-storage" } },
        ...accesses.map((a, i) => ({
          binding: i + 1,
          visibility: 4,
          buffer: { type: a === "r" ? ("read-only-storage" as const) : ("storage" as const) },
        })),
      ];
      l = this.device.createBindGroupLayout({ entries });
      this.layouts.set(key, l);
    }
    return l;
  }

  private pipeline(d: Dispatch): GPUComputePipeline {
    const key = `${d.buffers.map((b) => b.access).join("")}|${d.key}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const code = d.wgsl();
      const module = this.device.createShaderModule({ code, label: d.key });
      const layout = this.device.createPipelineLayout({
        bindGroupLayouts: [this.layout(d.buffers.map((b) => b.access))],
      });
      p = this.device.createComputePipeline({
        layout,
        compute: { module, entryPoint: "main" },
        label: d.key,
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Copies `params` into the arena; returns its buffer and byte offset. */
  private paramSlot(params: ArrayLike<number>): {
    buffer: GPUBuffer;
    offset: number;
    size: number;
  } {
    const bytes = Math.max(4, params.length * 4);
    let off = Math.ceil(this.chunkUsed / this.paramAlign) * this.paramAlign;
    if (off + bytes > PARAM_CHUNK || this.chunks.length === 0) {
      const buffer = this.device.createBuffer({
        size: PARAM_CHUNK,
        usage: STORAGE,
        mappedAtCreation: true,
      });
      this.chunks.push({ buffer, words: new Uint32Array(buffer.getMappedRange()) });
      off = 0;
    }
    const chunk = this.chunks[this.chunks.length - 1];
    const base = off / 4;
    for (let i = 0; i < params.length; i++) chunk.words[base + i] = params[i] >>> 0;
    this.chunkUsed = off + bytes;
    return { buffer: chunk.buffer, offset: off, size: bytes };
  }

  /** Records one compute dispatch (submitted with the batch). */
  dispatch(d: Dispatch): void {
    this.check();
    if (d.groups[0] === 0 || d.groups[1] === 0 || d.groups[2] === 0) return;
    const pipeline = this.pipeline(d);
    const slot = this.paramSlot(d.params);
    const bindGroup = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: slot.buffer, offset: slot.offset, size: slot.size } },
        ...d.buffers.map((b, i) => ({ binding: i + 1, resource: { buffer: b.buffer } })),
      ],
    });
    const enc = this.ensureEncoder();
    if (this.options.profile && this.device.features.has("timestamp-query")) {
      if (!this.querySet)
        this.querySet = this.device.createQuerySet({
          type: "timestamp",
          count: 2 * this.options.batch,
        });
      const i = this.queryKeys.length;
      this.queryKeys.push(d.key);
      this.endPass();
      this.pass = enc.beginComputePass({
        timestampWrites: {
          querySet: this.querySet,
          beginningOfPassWriteIndex: 2 * i,
          endOfPassWriteIndex: 2 * i + 1,
        },
      });
    }
    if (!this.pass) this.pass = enc.beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(d.groups[0], d.groups[1], d.groups[2]);
    this.dispatches++;
    if (++this.recorded >= this.options.batch) this.flush();
  }

  /** Records a buffer-to-buffer copy (byte offsets and size multiples of 4). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.check();
    if (bytes === 0) return;
    this.endPass();
    this.ensureEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Writes host bytes into a buffer, ordered after everything recorded so far. */
  write(dst: GPUBuffer, dstOffset: number, data: ArrayBufferView): void {
    this.check();
    if (data.byteLength === 0) return;
    if (!this.encoder) {
      this.device.queue.writeBuffer(dst, dstOffset, data.buffer, data.byteOffset, data.byteLength);
      return;
    }
    // Recorded-but-unsubmitted kernels must see the old contents: stage and copy in order.
    const staging = this.device.createBuffer({
      size: Math.ceil(data.byteLength / 4) * 4,
      usage: COPY_SRC,
      mappedAtCreation: true,
    });
    new Uint8Array(staging.getMappedRange()).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    staging.unmap();
    this.copy(staging, 0, dst, dstOffset, data.byteLength);
    this.destroyAfterSubmit.push(staging);
  }

  /** Submits everything recorded. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    const timing = this.resolveProfile(this.encoder);
    const cmd = this.encoder.finish();
    this.encoder = null;
    this.recorded = 0;
    for (const c of this.chunks) c.buffer.unmap();
    this.device.queue.submit([cmd]);
    this.submits++;
    // Destroying after submit is safe: the implementation keeps buffers alive until the
    // submitted work that uses them completes.
    for (const c of this.chunks) c.buffer.destroy();
    this.chunks = [];
    this.chunkUsed = PARAM_CHUNK;
    for (const b of this.destroyAfterSubmit.splice(0)) b.destroy();
    if (timing) this.profilePending.push(timing());
  }

  /** Records the timestamp resolve; returns what to run after the submit. */
  private resolveProfile(enc: GPUCommandEncoder): (() => Promise<void>) | null {
    const qs = this.querySet;
    const keys = this.queryKeys;
    if (!qs || keys.length === 0) return null;
    this.querySet = null;
    this.queryKeys = [];
    const bytes = keys.length * 16;
    const resolved = this.device.createBuffer({ size: bytes, usage: 0x200 | COPY_SRC });
    const staging = this.device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
    enc.resolveQuerySet(qs, 0, 2 * keys.length, resolved, 0);
    enc.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
    return async () => {
      await staging.mapAsync(1);
      const t = new BigUint64Array(staging.getMappedRange());
      keys.forEach((k, i) => {
        const e = this.profileTotals.get(k) ?? { calls: 0, ms: 0 };
        e.calls++;
        e.ms += Number(t[2 * i + 1] - t[2 * i]) / 1e6;
        this.profileTotals.set(k, e);
      });
      staging.unmap();
      staging.destroy();
      resolved.destroy();
      qs.destroy();
    };
  }

  /** Per-kernel GPU time since the last reset (profile option), slowest first. */
  async profile(reset = false): Promise<KernelProfile[]> {
    this.flush();
    await Promise.all(this.profilePending.splice(0));
    const out = [...this.profileTotals].map(([key, v]) => ({ key, ...v }));
    if (reset) this.profileTotals.clear();
    return out.sort((a, b) => b.ms - a.ms);
  }

  /** Copies `bytes` from `src` at `offset` to the host (flushes the batch). */
  async readBytes(src: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    if (bytes === 0) return new ArrayBuffer(0);
    const staging = this.device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
    this.copy(src, offset, staging, 0, bytes);
    this.flush();
    await staging.mapAsync(1);
    this.check();
    const out = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    return out;
  }

  /** Waits for all submitted work. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
  }

  destroy(): void {
    this.endPass();
    this.encoder = null;
    this.trim(0);
    this.device.destroy();
  }
}
