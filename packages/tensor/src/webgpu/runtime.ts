/// <reference types="@webgpu/types" />
/**
 * The GPU runtime under the webgpu backend: a pooling buffer allocator, one command encoder
 * that kernels are recorded into and submitted in batches, a persistent parameter arena (each
 * dispatch's small integer / float parameters are packed on the host and written with one
 * `queue.writeBuffer` per arena chunk right before the batch's submit), a pipeline cache, a
 * bind-group cache (the parameters are bound at a dynamic offset, so one bind group serves
 * every dispatch of a kernel on the same buffers), asynchronous readback, and recordings of
 * work for replay (`beginCapture` / `endCapture` / `replay`: ./recording.ts).
 */

import type { DType, Storage } from "../backend.js";
import { takeOldest } from "../oldest.js";
import { BindGroupCache } from "./bind-cache.js";
import { Recording } from "./recording.js";

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
  /**
   * Buffers bound at 1, 2, …, with their access: buffers of {@link Runtime.acquire} (bind
   * groups are cached by buffer identity and dropped when the runtime destroys the buffer).
   */
  buffers: { buffer: GPUBuffer; access: Access }[];
  /**
   * Parameters (u32 words; floats as their bits) bound as `P` at binding 0. `P` may be longer
   * than `params` (its binding is rounded up to 256 bytes): read only the words passed.
   */
  params: ArrayLike<number>;
  /** Workgroup counts. */
  groups: [number, number, number];
  /**
   * For values that change between replays of a capture (an optimizer's step-dependent
   * scalars): recomputes the trailing words of `params` at each replay.
   */
  live?: () => ArrayLike<number>;
}

/** Bytes of one parameter-arena chunk (a batch of 128 small dispatches needs 32 KiB). */
const PARAM_CHUNK = 64 * 1024;
/** Bind groups the cache keeps; past this, the least recently used half is dropped. */
export const BIND_CACHE_MAX = 4096;

/** A compiled kernel: its pipeline and bind-group layout, per access pattern. */
interface Kernel {
  /** The access pattern (see `Runtime.kernel`). */
  code: number;
  layout: GPUBindGroupLayout;
  pipeline: GPUComputePipeline;
}

/** A persistent parameter buffer and its host copy, rewritten by every batch that uses it. */
export interface ParamChunk {
  buffer: GPUBuffer;
  words: Uint32Array;
  /** Bytes the current batch has packed. */
  used: number;
}

/** Where a dispatch's parameters live: a chunk, a dynamic offset and the binding size. */
interface ParamSlot {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

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
  /** Dispatches recorded before a submit happens on its own (the backend's default: 32). */
  batch: number;
  /**
   * Per-kernel GPU time through timestamp queries (each dispatch in its own pass; slower).
   * Needs the adapter's "timestamp-query" feature; read with `Runtime.profile()`.
   */
  profile: boolean;
  /**
   * Reuse bind groups across dispatches on the same buffers (default true; the environment
   * variable ATHANOR_WEBGPU_BINDCACHE=0 turns it off). Off, every dispatch creates its own.
   */
  bindCache?: boolean;
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
  /** Pipelines by kernel key, then by the access pattern of the bound buffers. */
  private readonly kernels = new Map<string, Kernel[]>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  private readonly pool = new Map<number, GPUBuffer[]>();
  /** Creation order of the pooled buffers (reuse takes the oldest: ../oldest.ts). */
  private readonly born = new WeakMap<GPUBuffer, number>();
  private created = 0;
  /** GPU buffers created so far (allocations the pool could not serve). */
  get buffersCreated(): number {
    return this.created;
  }
  private readonly destroyAfterSubmit: GPUBuffer[] = [];
  /** Persistent parameter chunks, filled from chunk 0 by each batch. */
  private readonly chunks: ParamChunk[] = [];
  /** Chunk the current batch writes into, and its bytes used. */
  private chunk = 0;
  private chunkUsed = 0;
  private readonly paramAlign: number;
  /** The pipeline set last in the open pass (setPipeline is skipped when it repeats). */
  private passPipeline: GPUComputePipeline | null = null;
  private readonly dynamicOffset = new Uint32Array(1);
  /** Bind groups by the identity of what they bind (see {@link RuntimeOptions.bindCache}). */
  readonly bindGroups = new BindGroupCache(BIND_CACHE_MAX);
  private lost: string | null = null;
  private querySet: GPUQuerySet | null = null;
  private queryKeys: string[] = [];
  private readonly profileTotals = new Map<string, { calls: number; ms: number }>();
  private readonly profilePending: Promise<void>[] = [];
  private error: string | null = null;
  /** The recording being captured, if any. */
  private capture: Recording | null = null;
  /** Recordings that ended and are not disposed (they keep the buffers they bind). */
  private readonly recordings = new Set<Recording>();
  /** Bytes of released buffers that recordings keep. */
  heldBytes = 0;
  /** Bytes held by live storages and temporaries (allocated, not freed). */
  liveBytes = 0;
  /** Bytes of freed buffers kept for reuse. */
  pooledBytes = 0;
  /** The most `liveBytes` has been. */
  peakLiveBytes = 0;
  /** Number of command-buffer submits so far. */
  submits = 0;
  /** Number of dispatches recorded so far. */
  dispatches = 0;
  /**
   * Called before anything is recorded or submitted: the backend emits its pending fused
   * elementwise ops here (webgpu/fusion.ts), so they keep their place in the stream.
   */
  beforeRecord: (() => void) | null = null;
  /** Returns the pool cap in bytes right now (the backend ties it to the engine's budget). */
  poolCap: () => number;

  constructor(
    readonly device: GPUDevice,
    readonly options: RuntimeOptions,
  ) {
    this.paramAlign = Math.max(256, device.limits.minStorageBufferOffsetAlignment);
    this.poolCap = () => options.poolBytes;
    options.bindCache ??=
      typeof process === "undefined" || process.env?.ATHANOR_WEBGPU_BINDCACHE !== "0";
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
    const pooled = list && takeOldest(list, this.born);
    this.liveBytes += size;
    if (this.liveBytes > this.peakLiveBytes) this.peakLiveBytes = this.liveBytes;
    if (pooled) {
      this.pooledBytes -= size;
      return pooled;
    }
    const buffer = this.device.createBuffer({ size, usage: STORAGE | COPY_SRC | COPY_DST });
    this.born.set(buffer, ++this.created);
    return buffer;
  }

  /**
   * Returns a buffer from {@link acquire}: pooled, or destroyed once recorded work is submitted.
   * A buffer that a recording binds is kept for it instead (see {@link beginCapture}).
   */
  release(buffer: GPUBuffer): void {
    this.liveBytes -= buffer.size;
    let keeper: Recording | null = null;
    for (const r of this.recordings) {
      if (r.binds(buffer)) {
        r.lost++;
        keeper ??= r;
      }
    }
    this.keepOrPool(buffer, keeper);
  }

  /** A released buffer: kept by `keeper` or by the open capture when they bind it, else pooled. */
  private keepOrPool(buffer: GPUBuffer, keeper: Recording | null): void {
    if (this.capture?.binds(buffer)) {
      // reused by the rest of the capture as usual; kept by the recording when it ends
      this.toPool(buffer, true);
    } else if (keeper) {
      keeper.held.push(buffer);
      this.heldBytes += buffer.size;
    } else this.toPool(buffer);
  }

  /** True when a released `buffer` would be kept for a recording (or the open capture). */
  keeps(buffer: GPUBuffer): boolean {
    if (this.capture) return true;
    for (const r of this.recordings) if (r.binds(buffer)) return true;
    return false;
  }

  /** Pools a released buffer, or destroys it when the pool is full (`force`: pool regardless). */
  private toPool(buffer: GPUBuffer, force = false): void {
    const size = buffer.size;
    if (force || this.pooledBytes + size <= this.poolCap()) {
      let list = this.pool.get(size);
      if (!list) {
        list = [];
        this.pool.set(size, list);
      }
      list.push(buffer);
      this.pooledBytes += size;
    } else this.destroyBuffer(buffer);
  }

  /** Destroys a buffer of {@link acquire} (after the submit when work is recorded). */
  private destroyBuffer(buffer: GPUBuffer): void {
    this.bindGroups.forget(buffer);
    if (this.encoder) this.destroyAfterSubmit.push(buffer);
    else buffer.destroy();
  }

  /** Destroys pooled buffers until at most `keepBytes` remain. */
  trim(keepBytes = 0): void {
    for (const [size, list] of this.pool) {
      const kept: GPUBuffer[] = [];
      while (list.length > 0 && this.pooledBytes > keepBytes) {
        const b = list.pop()!;
        if (this.capture?.binds(b))
          kept.push(b); // the capture still uses it
        else {
          this.pooledBytes -= size;
          this.destroyBuffer(b);
        }
      }
      list.push(...kept);
      if (list.length === 0) this.pool.delete(size);
    }
  }

  newStorage(backend: string, dtype: DType, size: number): GpuStorage {
    // f16: two elements per 32-bit word (a trailing odd element takes a whole word)
    const buffer = this.acquire(dtype === "f16" ? Math.ceil(size / 2) * 4 : size * 4);
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
      this.passPipeline = null;
    }
  }

  /** The bind-group layout of an access pattern: `P` at a dynamic offset, then the buffers. */
  private layout(accesses: Access[]): GPUBindGroupLayout {
    const key = accesses.join("");
    let l = this.layouts.get(key);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [
        {
          binding: 0,
          visibility: 4,
          buffer: { type: "read-only-storage", hasDynamicOffset: true },
        },
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

  /** The pipeline of a dispatch: by its key, then by its buffers' access pattern. */
  private kernel(d: Dispatch): Kernel {
    // The access pattern as a number: a leading 1, then one bit per buffer (1 = read-write).
    let code = 1;
    for (const b of d.buffers) code = code * 2 + (b.access === "rw" ? 1 : 0);
    let list = this.kernels.get(d.key);
    if (list) {
      for (const k of list) if (k.code === code) return k;
    } else {
      list = [];
      this.kernels.set(d.key, list);
    }
    const layout = this.layout(d.buffers.map((b) => b.access));
    const module = this.device.createShaderModule({ code: d.wgsl(), label: d.key });
    const pipeline = this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: "main" },
      label: d.key,
    });
    const k: Kernel = { code, layout, pipeline };
    list.push(k);
    return k;
  }

  /**
   * Packs `params` into the current batch's arena slot and returns it: the chunk, the byte
   * offset (the dynamic offset) and the binding size (a multiple of the offset alignment, so
   * dispatches with parameter lists of similar length share bind groups).
   */
  private paramSlot(params: ArrayLike<number>): ParamSlot {
    const bytes = Math.max(4, params.length * 4);
    const size = Math.ceil(bytes / this.paramAlign) * this.paramAlign;
    if (size > PARAM_CHUNK) {
      throw new Error(
        `webgpu: a dispatch has ${params.length} parameters; at most ${PARAM_CHUNK / 4} fit`,
      );
    }
    if (this.chunkUsed + size > PARAM_CHUNK) {
      this.chunk++;
      this.chunkUsed = 0;
    }
    let chunk = this.chunks[this.chunk];
    if (!chunk) {
      const buffer = this.device.createBuffer({
        size: PARAM_CHUNK,
        usage: STORAGE | COPY_DST,
        label: "athanor params",
      });
      chunk = { buffer, words: new Uint32Array(PARAM_CHUNK / 4), used: 0 };
      this.chunks.push(chunk);
    }
    const offset = this.chunkUsed;
    const words = chunk.words;
    const base = offset / 4;
    for (let i = 0; i < params.length; i++) words[base + i] = params[i] >>> 0;
    this.chunkUsed = offset + size;
    chunk.used = this.chunkUsed;
    return { buffer: chunk.buffer, offset, size };
  }

  /** The bind group of a dispatch: cached by identity, or new (bindCache off). */
  private bindGroup(k: Kernel, slot: ParamSlot, buffers: Dispatch["buffers"]): GPUBindGroup {
    const cache = this.options.bindCache !== false;
    if (cache) {
      const hit = this.bindGroups.find(k.layout, slot.size, slot.buffer, buffers);
      if (hit) return hit;
    }
    const group = this.newBindGroup(k.layout, slot, buffers);
    if (cache) this.bindGroups.insert(k.layout, slot.size, slot.buffer, buffers, group);
    return group;
  }

  private newBindGroup(
    layout: GPUBindGroupLayout,
    slot: Omit<ParamSlot, "offset">,
    buffers: Dispatch["buffers"],
  ): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: slot.buffer, offset: 0, size: slot.size } },
    ];
    for (let i = 0; i < buffers.length; i++) {
      entries.push({ binding: i + 1, resource: { buffer: buffers[i].buffer } });
    }
    return this.device.createBindGroup({ layout, entries });
  }

  /** Records one compute dispatch (submitted with the batch). */
  dispatch(d: Dispatch): void {
    this.beforeRecord?.();
    this.check();
    if (d.groups[0] === 0 || d.groups[1] === 0 || d.groups[2] === 0) return;
    const k = this.kernel(d);
    const slot = this.paramSlot(d.params);
    const bindGroup = this.bindGroup(k, slot, d.buffers);
    if (this.capture) {
      this.capture.dispatch({
        key: d.key,
        pipeline: k.pipeline,
        layout: k.layout,
        buffers: d.buffers.map((b) => ({ buffer: b.buffer, access: b.access })),
        words: Uint32Array.from(d.params, (v) => v >>> 0),
        size: slot.size,
        groups: [d.groups[0], d.groups[1], d.groups[2]],
        live: d.live ?? null,
      });
    }
    this.encode(d.key, k.pipeline, bindGroup, slot.offset, d.groups);
  }

  /** Encodes a dispatch whose pipeline and bind group are ready. */
  private encode(
    key: string,
    pipeline: GPUComputePipeline,
    bindGroup: GPUBindGroup,
    paramOffset: number,
    groups: readonly [number, number, number],
  ): void {
    const enc = this.ensureEncoder();
    if (this.options.profile && this.device.features.has("timestamp-query")) {
      if (!this.querySet)
        this.querySet = this.device.createQuerySet({
          type: "timestamp",
          count: 2 * this.options.batch,
        });
      const i = this.queryKeys.length;
      this.queryKeys.push(key);
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
    if (this.passPipeline !== pipeline) {
      this.pass.setPipeline(pipeline);
      this.passPipeline = pipeline;
    }
    this.dynamicOffset[0] = paramOffset;
    this.pass.setBindGroup(0, bindGroup, this.dynamicOffset, 0, 1);
    this.pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    this.dispatches++;
    if (++this.recorded >= this.options.batch) this.flush();
  }

  /** Records a buffer-to-buffer copy (byte offsets and size multiples of 4). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.beforeRecord?.();
    this.check();
    if (bytes === 0) return;
    this.capture?.copy(src, srcOffset, dst, dstOffset, bytes);
    this.encodeCopy(src, srcOffset, dst, dstOffset, bytes);
  }

  private encodeCopy(
    src: GPUBuffer,
    srcOffset: number,
    dst: GPUBuffer,
    dstOffset: number,
    bytes: number,
  ): void {
    this.endPass();
    this.ensureEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Writes host bytes into a buffer, ordered after everything recorded so far. */
  write(dst: GPUBuffer, dstOffset: number, data: ArrayBufferView): void {
    this.beforeRecord?.();
    this.check();
    if (data.byteLength === 0) return;
    if (!this.encoder && !this.capture) {
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
    // A capture replays the write as this copy, so the recording keeps the staged bytes.
    if (this.capture) this.capture.owned.push(staging);
    else this.destroyAfterSubmit.push(staging);
  }

  /** Submits everything recorded. */
  flush(): void {
    this.beforeRecord?.();
    if (!this.encoder) return;
    this.endPass();
    const timing = this.resolveProfile(this.encoder);
    const cmd = this.encoder.finish();
    this.encoder = null;
    this.recorded = 0;
    // The batch's parameters go in right before its submit. A queue write is ordered after
    // every earlier submit and before this one, so reusing the chunks never changes what an
    // earlier batch, possibly still running, reads.
    for (let i = 0; i <= this.chunk && i < this.chunks.length; i++) {
      const c = this.chunks[i];
      if (c.used > 0) this.device.queue.writeBuffer(c.buffer, 0, c.words.buffer, 0, c.used);
      c.used = 0;
    }
    this.chunk = 0;
    this.chunkUsed = 0;
    this.device.queue.submit([cmd]);
    this.submits++;
    // Destroying after submit is safe: the implementation keeps buffers alive until the
    // submitted work that uses them completes.
    for (const b of this.destroyAfterSubmit.splice(0)) b.destroy();
    if (timing) this.profilePending.push(timing());
  }

  // ---- capture and replay (./recording.ts) ---------------------------------------------

  /** True while a capture is open. */
  get capturing(): boolean {
    return this.capture !== null;
  }

  /**
   * Starts a capture: everything encoded from now on (dispatches, copies, host writes) is also
   * recorded for {@link replay}; the work itself runs as usual. Captures do not nest.
   */
  beginCapture(): void {
    if (this.capture)
      throw new Error("webgpu capture: a capture is already open (they do not nest)");
    this.beforeRecord?.(); // pending fused ops run before the capture, not in it
    this.check();
    this.capture = new Recording();
  }

  /** Registers `fn` to run before each replay of the open capture (nothing when none is open). */
  onReplay(fn: () => void): void {
    this.capture?.onReplay.push(fn);
  }

  /**
   * Ends the capture: pending fused ops are emitted into it, the pooled buffers it binds go
   * into its keeping, and its parameters are copied to buffers of its own.
   */
  endCapture(): Recording {
    const rec = this.capture;
    if (!rec) throw new Error("webgpu capture: no capture is open");
    try {
      this.beforeRecord?.();
    } finally {
      this.capture = null;
    }
    for (const [size, list] of this.pool) {
      const free: GPUBuffer[] = [];
      for (const b of list) {
        if (!rec.buffers.has(b)) free.push(b);
        else {
          rec.held.push(b);
          this.pooledBytes -= size;
          this.heldBytes += size;
        }
      }
      if (free.length > 0) this.pool.set(size, free);
      else this.pool.delete(size);
    }
    this.packParams(rec);
    rec.state = "ready";
    this.recordings.add(rec);
    return rec;
  }

  /** Gives a recording's dispatches parameter chunks and bind groups of their own. */
  private packParams(rec: Recording): void {
    const groups = new BindGroupCache(Number.MAX_SAFE_INTEGER);
    const chunks: ParamChunk[] = [];
    for (const s of rec.steps) {
      if (s.kind !== "dispatch") continue;
      let chunk = chunks[chunks.length - 1];
      if (!chunk || chunk.used + s.size > PARAM_CHUNK) {
        const buffer = this.device.createBuffer({
          size: PARAM_CHUNK,
          usage: STORAGE | COPY_DST,
          label: "athanor recorded params",
        });
        chunk = { buffer, words: new Uint32Array(PARAM_CHUNK / 4), used: 0 };
        chunks.push(chunk);
        rec.owned.push(buffer);
      }
      s.chunk = chunks.length - 1;
      s.offset = chunk.used;
      chunk.words.set(s.words, s.offset / 4);
      chunk.used += s.size;
      const slot = { buffer: chunk.buffer, size: s.size };
      let group = groups.find(s.layout, s.size, chunk.buffer, s.buffers);
      if (!group) {
        group = this.newBindGroup(s.layout, slot, s.buffers);
        groups.insert(s.layout, s.size, chunk.buffer, s.buffers, group);
      }
      s.group = group;
      if (s.live) rec.live.push(s);
    }
    for (const c of chunks) this.device.queue.writeBuffer(c.buffer, 0, c.words.buffer, 0, c.used);
    rec.chunks.push(...chunks);
  }

  /**
   * Rewrites the parameters of a recording's live dispatches (`Dispatch.live`) in its chunks.
   * The work recorded so far is submitted first: a queue write is ordered after every earlier
   * submit, so an earlier replay still reads its own values.
   */
  private refreshLive(rec: Recording): void {
    if (rec.live.length === 0) return;
    this.flush();
    // per chunk, the word range the live parameters span: only that goes up
    const spans = new Map<number, [number, number]>();
    for (const s of rec.live) {
      const tail = s.live!();
      if (tail.length > s.words.length) {
        throw new Error(
          `webgpu replay: kernel ${s.key} recomputed ${tail.length} parameter words; it has ${s.words.length}`,
        );
      }
      const words = rec.chunks[s.chunk].words;
      const end = s.offset / 4 + s.words.length;
      const base = end - tail.length;
      for (let i = 0; i < tail.length; i++) words[base + i] = tail[i] >>> 0;
      const span = spans.get(s.chunk);
      spans.set(s.chunk, span ? [Math.min(span[0], base), Math.max(span[1], end)] : [base, end]);
    }
    for (const [i, [lo, hi]] of spans) {
      const c = rec.chunks[i];
      this.device.queue.writeBuffer(c.buffer, lo * 4, c.words.buffer, lo * 4, (hi - lo) * 4);
    }
  }

  /**
   * Encodes a recording's steps again, after everything recorded so far (batched and submitted
   * like any other work). Throws if a buffer it uses was released since the capture. `prepare`
   * runs once the replay is known to go ahead, before live parameters are recomputed.
   */
  replay(rec: Recording, prepare?: () => void): void {
    if (rec.state !== "ready") {
      throw new Error(
        rec.state === "disposed"
          ? "webgpu replay: the recording was disposed"
          : "webgpu replay: the recording's capture is still open",
      );
    }
    if (this.capture) throw new Error("webgpu replay: cannot replay inside a capture");
    if (rec.lost > 0) {
      throw new Error(
        `webgpu replay: ${rec.lost} buffer(s) the recorded work uses were released after the ` +
          "capture (a tensor it reads or writes was disposed or moved to the host tier); capture again",
      );
    }
    this.beforeRecord?.();
    this.check();
    prepare?.();
    for (const f of rec.onReplay) f();
    this.refreshLive(rec);
    for (const s of rec.steps) {
      if (s.kind === "copy") this.encodeCopy(s.src, s.srcOffset, s.dst, s.dstOffset, s.bytes);
      else this.encode(s.key, s.pipeline, s.group!, s.offset, s.groups);
    }
  }

  /** Frees a recording: the buffers it kept go back to the pool, its own are destroyed. */
  disposeRecording(rec: Recording): void {
    if (rec.state === "disposed") return;
    if (rec === this.capture) this.capture = null;
    rec.state = "disposed";
    this.recordings.delete(rec);
    for (const b of rec.held.splice(0)) {
      this.heldBytes -= b.size;
      let keeper: Recording | null = null;
      for (const r of this.recordings) if (r.binds(b)) keeper ??= r;
      this.keepOrPool(b, keeper);
    }
    for (const b of rec.owned.splice(0)) {
      if (this.encoder) this.destroyAfterSubmit.push(b);
      else b.destroy();
    }
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
    return (await this.readRanges([{ buffer: src, offset, bytes }]))[0];
  }

  /**
   * Copies several byte ranges to the host with one staging buffer, one submit and one map
   * (flushes the batch). Ranges are recorded before this returns its promise, so work recorded
   * afterwards does not affect what is read.
   */
  async readRanges(
    ranges: readonly { buffer: GPUBuffer; offset: number; bytes: number }[],
  ): Promise<ArrayBuffer[]> {
    if (this.capture) {
      throw new Error(
        "webgpu capture: the captured function reads GPU data back; a replay cannot rerun host " +
          "code, so read the results after the capture (or a replay) instead",
      );
    }
    const starts: number[] = [];
    let total = 0;
    for (const r of ranges) {
      starts.push(total);
      total += Math.ceil(r.bytes / 4) * 4;
    }
    if (total === 0) return ranges.map(() => new ArrayBuffer(0));
    const staging = this.device.createBuffer({ size: total, usage: MAP_READ | COPY_DST });
    ranges.forEach((r, i) => {
      this.copy(r.buffer, r.offset, staging, starts[i], r.bytes);
    });
    this.flush();
    await staging.mapAsync(1);
    this.check();
    const mapped = staging.getMappedRange();
    const out = ranges.map((r, i) => mapped.slice(starts[i], starts[i] + r.bytes));
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
    for (const r of [...this.recordings]) this.disposeRecording(r);
    this.capture = null;
    this.endPass();
    this.encoder = null;
    this.trim(0);
    this.bindGroups.clear();
    for (const c of this.chunks.splice(0)) c.buffer.destroy();
    this.device.destroy();
  }
}
