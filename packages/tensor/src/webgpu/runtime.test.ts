/// <reference types="@webgpu/types" />
// The webgpu runtime's recording machinery: the bind-group cache (hits across training steps,
// entries dropped with their buffers, bounded size), the persistent parameter arena (many
// dispatches with distinct parameters across batch and chunk boundaries, batches reusing the
// arena while earlier ones may still run) and the order of host writes against recorded
// kernels. The cache's bookkeeping is also tested without an adapter (it keys on identity).
// The GPU tests are skipped (with the reason) when no WebGPU adapter exists.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { View } from "../backend.js";
import { AdamW, ops, ReferenceBackend, type Tensor, tensor } from "../index.js";
import { Device } from "../memory.js";
import { Rng } from "../random.js";
import { endScope, startScope, tidy } from "../scope.js";
import { BindGroupCache } from "./bind-cache.js";
import { createWebGpuBackend, type WebGpuBackend, webgpuAvailable } from "./index.js";
import type { Dispatch, GpuStorage } from "./runtime.js";

const probe = await webgpuAvailable();

describe("BindGroupCache (identity keys, no adapter needed)", () => {
  const obj = <T>(name: string) => ({ name }) as unknown as T;
  const layout = obj<GPUBindGroupLayout>("layout");
  const params = obj<GPUBuffer>("params");
  const [a, b, c] = ["a", "b", "c"].map((n) => obj<GPUBuffer>(n));
  const group = (n: string) => obj<GPUBindGroup>(n);
  const bound = (...bs: GPUBuffer[]) => bs.map((buffer) => ({ buffer }));

  it("finds a group only for the same layout, size, parameter buffer and buffers in order", () => {
    const cache = new BindGroupCache(16);
    expect(cache.find(layout, 256, params, bound(a, b))).toBeNull();
    const ab = group("ab");
    cache.insert(layout, 256, params, bound(a, b), ab);
    expect(cache.find(layout, 256, params, bound(a, b))).toBe(ab);
    expect(cache.find(layout, 256, params, bound(b, a))).toBeNull();
    expect(cache.find(layout, 512, params, bound(a, b))).toBeNull();
    expect(cache.find(layout, 256, params, bound(a))).toBeNull();
    expect(cache.find(obj("other"), 256, params, bound(a, b))).toBeNull();
    expect(cache.hits).toBe(1);
    expect(cache.misses).toBe(5);
  });

  it("forget(buffer) drops exactly the groups that bind it", () => {
    const cache = new BindGroupCache(16);
    const ab = group("ab");
    const bc = group("bc");
    const ca = group("ca");
    cache.insert(layout, 256, params, bound(a, b), ab);
    cache.insert(layout, 256, params, bound(b, c), bc);
    cache.insert(layout, 256, params, bound(c, a), ca);
    cache.forget(b);
    expect(cache.size).toBe(1);
    expect(cache.find(layout, 256, params, bound(a, b))).toBeNull();
    expect(cache.find(layout, 256, params, bound(b, c))).toBeNull();
    expect(cache.find(layout, 256, params, bound(c, a))).toBe(ca);
    cache.forget(params);
    expect(cache.size).toBe(0);
    // the emptied trie takes new entries again
    cache.insert(layout, 256, params, bound(a, b), ab);
    expect(cache.find(layout, 256, params, bound(a, b))).toBe(ab);
  });

  it("past max entries, drops the least recently used half", () => {
    const cache = new BindGroupCache(4);
    const bufs = Array.from({ length: 5 }, (_, i) => obj<GPUBuffer>(`x${i}`));
    for (let i = 0; i < 4; i++) cache.insert(layout, 256, params, bound(bufs[i]), group(`g${i}`));
    // touch 0 and 2: 1 and 3 are now the least recently used
    cache.find(layout, 256, params, bound(bufs[0]));
    cache.find(layout, 256, params, bound(bufs[2]));
    cache.insert(layout, 256, params, bound(bufs[4]), group("g4"));
    expect(cache.size).toBe(3);
    for (const [i, kept] of [
      [0, true],
      [1, false],
      [2, true],
      [3, false],
      [4, true],
    ] as const) {
      expect(cache.find(layout, 256, params, bound(bufs[i])) !== null, `entry ${i}`).toBe(kept);
    }
  });

  it("replaces the group of an existing key in place", () => {
    const cache = new BindGroupCache(16);
    const [g1, g2] = [group("g1"), group("g2")];
    cache.insert(layout, 256, params, bound(a), g1);
    cache.insert(layout, 256, params, bound(a), g2);
    expect(cache.size).toBe(1);
    expect(cache.find(layout, 256, params, bound(a))).toBe(g2);
    cache.forget(a);
    expect(cache.size).toBe(0);
  });

  it("rejects a max below 2", () => {
    expect(() => new BindGroupCache(1)).toThrow(/max must be at least 2, got 1/);
  });
});

describe("the frontend pool's reuse order", () => {
  it('"lifo" reuses the last freed storage, "oldest" the earliest created', () => {
    for (const order of ["lifo", "oldest"] as const) {
      const dev = new Device(new ReferenceBackend());
      dev.poolOrder = order;
      const [a, b, c] = [0, 1, 2].map(() => dev.alloc("f32", 8, "test"));
      for (const s of [a, b, c]) dev.release(s);
      const first = dev.alloc("f32", 8, "test");
      const second = dev.alloc("f32", 8, "test");
      // identity, not deep equality: the three storages look alike
      expect(first).toBe(order === "lifo" ? c : a);
      expect(second).toBe(b);
    }
  });
});

const suite = probe.available ? describe : describe.skip;
const title = probe.available
  ? `webgpu runtime recording (${probe.adapter})`
  : `webgpu runtime recording (skipped: no WebGPU adapter: ${probe.reason})`;

/** P[0]: index, P[1]: value, P[2]: count of extra words; out[index] = value + Σ extra words. */
const STORE = `@group(0) @binding(0) var<storage, read> P: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(1)
fn main() {
  var v = P[1];
  for (var i = 0u; i < P[2]; i = i + 1u) { v = v + P[3u + i]; }
  out[P[0]] = v;
}`;

/** out[i] = out[i] * P[0] + inp[i] for i < P[1] (f32 bits in P[0]). */
const AXPY = `@group(0) @binding(0) var<storage, read> P: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> inp: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x >= P[1]) { return; }
  out[id.x] = out[id.x] * bitcast<f32>(P[0]) + inp[id.x];
}`;

const f32Bits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0];

suite(title, { timeout: 120_000 }, () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => {
    gpu = await createWebGpuBackend({ name: "webgpu-runtime-test" });
  });
  afterAll(() => gpu?.dispose());

  const storage = (b: WebGpuBackend, dtype: "f32" | "i32", n: number) =>
    b.alloc(dtype, n) as GpuStorage;
  const view = (s: GpuStorage, n: number): View => ({
    storage: s,
    shape: [n],
    strides: [1],
    offset: 0,
  });
  const store = (out: GpuStorage, index: number, value: number, extra = 0): Dispatch => ({
    key: "test:store",
    wgsl: () => STORE,
    buffers: [{ buffer: out.buffer, access: "rw" }],
    params: [index, value, extra, ...Array.from({ length: extra }, (_, j) => j + 1)],
    groups: [1, 1, 1],
  });

  it("hits on every bind group of a small MLP training step once warm", async () => {
    const rng = new Rng(3);
    const init = (shape: number[]) =>
      tensor(
        Float32Array.from({ length: shape[0] * shape[1] }, () => 0.3 * rng.normal()),
        shape,
        { backend: gpu },
      ).requireGrad();
    const w1 = init([16, 8]);
    const w2 = init([8, 16]);
    const x = tensor(
      Float32Array.from({ length: 4 * 16 }, () => rng.normal()),
      [4, 16],
      { backend: gpu },
    );
    const opt = new AdamW([w1, w2], { lr: 1e-2 });
    const losses: number[] = [];
    const step = async () => {
      startScope();
      try {
        const h = ops.gelu(ops.matmul(x, w1));
        const y = ops.matmul(h, w2);
        const loss = ops.mean(ops.square(ops.sub(y, x)));
        loss.backward();
        opt.step();
        opt.zeroGrad();
        losses.push((await loss.dataAsync())[0]);
      } finally {
        endScope();
      }
    };
    const cache = gpu.rt.bindGroups;
    await step();
    await step();
    const counts: { dispatches: number; hits: number; misses: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const d0 = gpu.rt.dispatches;
      const h0 = cache.hits;
      const m0 = cache.misses;
      await step();
      counts.push({
        dispatches: gpu.rt.dispatches - d0,
        hits: cache.hits - h0,
        misses: cache.misses - m0,
      });
    }
    for (const c of counts) {
      expect(c.dispatches).toBeGreaterThan(10);
      expect(c).toEqual({ dispatches: c.dispatches, hits: c.dispatches, misses: 0 });
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0]);
    opt.dispose();
    for (const t of [w1, w2, x]) t.dispose();
  });

  it("hits on every bind group of a transformer training step once warm", async () => {
    // GPT-2-shaped: embeddings, two pre-LayerNorm blocks (attention, GELU MLP) each in its
    // own scope, tied head, cross-entropy, AdamW. Freed intermediates return to the pools in
    // a different order than they were taken; the pools' "oldest first" reuse still hands
    // every step the same buffers.
    const rng = new Rng(5);
    const [V, d, H, S] = [32, 16, 2, 8];
    const param = (shape: number[], std = 0.2) =>
      tensor(
        Float32Array.from({ length: shape.reduce((p, x) => p * x, 1) }, () => std * rng.normal()),
        shape,
        { backend: gpu },
      ).requireGrad();
    const ones = (n: number) => tensor(new Float32Array(n).fill(1), [n], { backend: gpu });
    const wte = param([V, d]);
    const blocks = [0, 1].map(() => ({
      ln1: ones(d).requireGrad(),
      qkv: param([3 * d, d]),
      proj: param([d, d]),
      ln2: ones(d).requireGrad(),
      fc: param([4 * d, d]),
      fc2: param([d, 4 * d]),
    }));
    const params: Tensor[] = [wte, ...blocks.flatMap((b) => Object.values(b))];
    const ids = tensor(
      Int32Array.from({ length: S }, (_, i) => (7 * i) % V),
      [1, S],
      { dtype: "i32", backend: gpu },
    );
    const targets = tensor(
      Int32Array.from({ length: S }, (_, i) => (7 * i + 1) % V),
      [1, S],
      { dtype: "i32", backend: gpu },
    );
    const opt = new AdamW(params, { lr: 1e-2 });
    const forward = () => {
      let x = ops.embedding(wte, ids);
      for (const b of blocks) {
        x = tidy(() => {
          const h = ops.layerNorm(x, b.ln1, null);
          const qkv = ops.linear(h, b.qkv);
          const head = (i: number) =>
            ops.permute(
              ops.reshape(ops.slice(qkv, 2, i * d, (i + 1) * d), [1, S, H, d / H]),
              [0, 2, 1, 3],
            );
          // softmax(q·kᵀ)·v spelled out: attention's own kernels take long to compile on lavapipe
          const a = ops.matmul(
            ops.softmax(ops.mul(ops.matmul(head(0), ops.transpose(head(1))), 0.5), -1),
            head(2),
          );
          const y = ops.add(
            x,
            ops.linear(ops.reshape(ops.permute(a, [0, 2, 1, 3]), [1, S, d]), b.proj),
          );
          const m = ops.linear(ops.gelu(ops.linear(ops.layerNorm(y, b.ln2, null), b.fc)), b.fc2);
          return ops.add(y, m);
        });
      }
      return ops.crossEntropy(ops.matmul(x, ops.transpose(wte)), targets);
    };
    const cache = gpu.rt.bindGroups;
    const misses: number[] = [];
    const losses: number[] = [];
    for (let step = 0; step < 6; step++) {
      const m0 = cache.misses;
      startScope();
      try {
        const loss = tidy(forward);
        loss.backward();
        opt.step();
        opt.zeroGrad();
        losses.push((await loss.dataAsync())[0]);
      } finally {
        endScope();
      }
      misses.push(cache.misses - m0);
    }
    expect(misses[0]).toBeGreaterThan(20);
    expect(misses.slice(3)).toEqual([0, 0, 0]);
    expect(losses[5]).toBeLessThan(losses[0]);
    opt.dispose();
    for (const t of [...params, ids, targets]) t.dispose();
  });

  it("gives 1,000 dispatches their own parameters across batches and arena chunks", async () => {
    // batch 300: a batch's parameters (256-byte slots, 512 for the long ones) overflow the
    // 64 KiB chunk, so each batch spans two chunks; every batch after the first rewrites
    // chunks an earlier, possibly still running, batch read.
    const b = await createWebGpuBackend({ name: "webgpu-runtime-arena", batch: 300 });
    try {
      const n = 1000;
      const out = storage(b, "i32", n);
      const submits = b.rt.submits;
      const want = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const value = 7919 * i + 13;
        // every 7th dispatch carries 80 extra words (a 512-byte slot): out = value + 80·81/2
        const extra = i % 7 === 0 ? 80 : 0;
        b.rt.dispatch(store(out, i, value, extra));
        want[i] = value + (extra * (extra + 1)) / 2;
      }
      const got = await b.read(view(out, n));
      expect(b.rt.submits - submits).toBe(4);
      expect(Array.from(got)).toEqual(Array.from(want));
      b.free(out);
    } finally {
      b.dispose();
    }
  });

  it("orders parameters and writes between batches still in flight (default batch)", async () => {
    const n = 256;
    const acc = storage(gpu, "f32", n);
    const one = storage(gpu, "f32", n);
    gpu.write(acc, new Float32Array(n));
    gpu.write(one, new Float32Array(n).fill(1));
    // acc = acc·s + 1 with a different s per dispatch, 600 dispatches: many submits, no waits
    let want = 0;
    for (let i = 0; i < 600; i++) {
      const s = i % 2 === 0 ? 0.5 : 1.25;
      gpu.rt.dispatch({
        key: "test:axpy",
        wgsl: () => AXPY,
        buffers: [
          { buffer: acc.buffer, access: "rw" },
          { buffer: one.buffer, access: "r" },
        ],
        params: [f32Bits(s), n],
        groups: [Math.ceil(n / 64), 1, 1],
      });
      want = Math.fround(Math.fround(want * s) + 1);
    }
    const got = await gpu.read(view(acc, n));
    expect(Array.from(got)).toEqual(new Array(n).fill(want));
    gpu.free(acc);
    gpu.free(one);
  });

  it("pools freed buffers up to the peak of live bytes by default; poolBytes caps the pool", async () => {
    const MiB = 1024 * 1024;
    const churn = async (b: WebGpuBackend) => {
      // three 96 MiB buffers live at once (a 288 MiB peak), freed, then the same again
      const round = () => [0, 1, 2].map(() => b.alloc("f32", (96 * MiB) / 4));
      for (const s of round()) b.free(s);
      const created = b.stats().buffersCreated;
      const pooled = b.stats().pooledBytes;
      for (const s of round()) b.free(s);
      return { pooled, again: b.stats().buffersCreated - created };
    };
    const byPeak = await createWebGpuBackend({ name: "webgpu-pool-peak" });
    const capped = await createWebGpuBackend({ name: "webgpu-pool-cap", poolBytes: 256 * MiB });
    try {
      // all three kept (live + pooled = the peak), so the second round creates nothing
      expect(await churn(byPeak)).toEqual({ pooled: 288 * MiB, again: 0 });
      byPeak.trimPool();
      expect(byPeak.stats().pooledBytes).toBe(0);
      // an explicit cap keeps two (192 MiB ≤ 256 MiB), so one buffer is created again
      expect(await churn(capped)).toEqual({ pooled: 192 * MiB, again: 1 });
    } finally {
      byPeak.dispose();
      capped.dispose();
    }
  });

  it("drops the groups of destroyed buffers, never of pooled ones", async () => {
    const b = await createWebGpuBackend({ name: "webgpu-runtime-evict", poolBytes: 0 });
    try {
      const cache = b.rt.bindGroups;
      const out = storage(b, "i32", 4);
      b.rt.dispatch(store(out, 0, 5));
      b.rt.dispatch(store(out, 1, 6));
      expect(cache.size).toBe(1);
      expect(Array.from(await b.read(view(out, 2)))).toEqual([5, 6]);
      // the pool keeps nothing (poolBytes 0): free destroys the buffer and drops its group
      b.free(out);
      expect(cache.size).toBe(0);
    } finally {
      b.dispose();
    }
    // a pooled buffer keeps its groups (it comes back for the next tensor); trim drops them
    gpu.trimPool();
    const cache = gpu.rt.bindGroups;
    const before = cache.size;
    const out = storage(gpu, "i32", 4);
    gpu.rt.dispatch(store(out, 0, 1));
    expect(cache.size).toBe(before + 1);
    gpu.free(out);
    expect(cache.size).toBe(before + 1);
    const again = storage(gpu, "i32", 4);
    expect(again.buffer).toBe(out.buffer);
    const hits = cache.hits;
    gpu.rt.dispatch(store(again, 2, 9));
    expect(cache.hits).toBe(hits + 1);
    expect(Array.from(await gpu.read(view(again, 4))).slice(0, 3)).toEqual([1, 0, 9]);
    gpu.free(again);
    gpu.trimPool();
    expect(cache.size).toBe(before);
  });

  it("keeps host writes ordered against kernels, recorded or already submitted", async () => {
    const n = 64;
    const x = storage(gpu, "f32", n);
    const y = storage(gpu, "f32", n);
    const vx = view(x, n);
    const vy = view(y, n);
    gpu.write(x, new Float32Array(n).fill(2));
    gpu.unary("square", vx, vy); // recorded, reads x = 2
    gpu.write(x, new Float32Array(n).fill(3)); // staged after it
    gpu.binary("add", vy, vx, vy); // 4 + 3
    gpu.flush(); // submitted, may still run
    gpu.write(x, new Float32Array(n).fill(100)); // straight to the queue, after that submit
    gpu.binary("mul", vy, vx, vy); // 7 · 100
    expect(Array.from(await gpu.read(vy))).toEqual(new Array(n).fill(700));
    gpu.free(x);
    gpu.free(y);
  });

  it("computes the same with the cache off, creating a group per dispatch", async () => {
    const b = await createWebGpuBackend({ name: "webgpu-runtime-nocache" });
    try {
      b.rt.options.bindCache = false;
      const out = storage(b, "i32", 300);
      for (let i = 0; i < 300; i++) b.rt.dispatch(store(out, i, 3 * i));
      const got = await b.read(view(out, 300));
      expect(Array.from(got)).toEqual(Array.from({ length: 300 }, (_, i) => 3 * i));
      expect(b.rt.bindGroups.size).toBe(0);
      expect(b.rt.bindGroups.hits + b.rt.bindGroups.misses).toBe(0);
      b.free(out);
    } finally {
      b.dispose();
    }
  });

  it("rejects a dispatch whose parameters exceed an arena chunk, naming the count", () => {
    const out = storage(gpu, "i32", 1);
    const d = store(out, 0, 0);
    expect(() => gpu.rt.dispatch({ ...d, params: new Array(20000).fill(0) })).toThrow(
      /a dispatch has 20000 parameters; at most 16384 fit/,
    );
    gpu.free(out);
  });
});
