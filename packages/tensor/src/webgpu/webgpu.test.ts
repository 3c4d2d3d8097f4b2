// The webgpu backend beyond the shared op cases: every matmul size class with odd and
// transposed shapes, attention with a KV cache and wide heads, command batching and the
// ordering of writes against recorded kernels, the buffer pool, the host tier, optimizer
// kernels, a few training steps against the reference backend, and the no-adapter error.
// Skipped (with the reason) when no WebGPU adapter exists; CI installs lavapipe so they run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend, View } from "../backend.js";
import { AdamW, ops, ReferenceBackend, SGD, type Tensor, tensor, testing } from "../index.js";
import { Rng } from "../random.js";
import { endScope, startScope } from "../scope.js";
import { NoAdapterError, selectAdapter } from "./adapter.js";
import { createWebGpuBackend, type WebGpuBackend, webgpuAvailable } from "./index.js";
import { ORDERED_INDEX_ADD_MAX } from "./kernels/gather.js";
import { matmul as matmulKernel, TILES } from "./kernels/matmul.js";

const probe = await webgpuAvailable();
const ref = new ReferenceBackend();

function randomValues(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-4) => {
  const err = testing.maxRelError(got, want);
  expect(err, `max relative error ${err}`).toBeLessThanOrEqual(tol);
};

describe("no adapter", () => {
  it("throws NoAdapterError naming what it looked for", async () => {
    const g = globalThis as { navigator?: unknown };
    const saved = Object.getOwnPropertyDescriptor(g, "navigator");
    Object.defineProperty(g, "navigator", {
      value: { gpu: { requestAdapter: async () => null } },
      configurable: true,
    });
    try {
      const err = await selectAdapter().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoAdapterError);
      const msg = (err as Error).message;
      expect(msg).toContain("no adapter found");
      expect(msg).toContain(
        'navigator.gpu.requestAdapter({ powerPreference: "high-performance" })',
      );
      expect(msg).toContain("forceFallbackAdapter");
      expect(msg).toContain("lavapipe");
    } finally {
      if (saved) Object.defineProperty(g, "navigator", saved);
      else delete g.navigator;
    }
  });
});

const suite = probe.available ? describe : describe.skip;
const title = probe.available
  ? `webgpu backend (${probe.adapter})`
  : `webgpu backend (skipped: no WebGPU adapter: ${probe.reason})`;

// lavapipe compiles the larger kernels slowly on a loaded machine: generous timeouts
suite(title, { timeout: 120_000 }, () => {
  let gpu: WebGpuBackend;
  let rows: WebGpuBackend;
  beforeAll(async () => {
    gpu = await createWebGpuBackend({ name: "webgpu-test" });
    rows = await createWebGpuBackend({ name: "webgpu-rows", attentionKernel: "rows" });
  });
  afterAll(() => {
    gpu?.dispose();
    rows?.dispose();
  });

  /** Runs `fn` on both backends with the same inputs and compares every returned tensor. */
  async function parity(
    shapes: number[][],
    fn: (...xs: Tensor[]) => Tensor | Tensor[],
    tol = 1e-4,
    backend: Backend = gpu,
  ): Promise<void> {
    const run = async (b: Backend) => {
      startScope();
      try {
        const xs = shapes.map((s, i) =>
          tensor(
            randomValues(
              s.reduce((p, d) => p * d, 1),
              i + 1,
            ),
            s,
            { backend: b },
          ).requireGrad(),
        );
        const out = fn(...xs);
        const outs = Array.isArray(out) ? out : [out];
        ops
          .sum(outs.map((o, k) => ops.sum(ops.mul(o, k + 1))).reduce((a, c) => ops.add(a, c)))
          .backward();
        const read = [...outs, ...xs.map((x) => x.grad!)];
        return await Promise.all(read.map((t) => t.dataAsync()));
      } finally {
        endScope();
      }
    };
    const got = await run(backend);
    const want = await run(ref);
    want.forEach((w, i) => {
      close(got[i], w, tol);
    });
  }

  it("matmul: every size class, odd and transposed shapes, broadcast batch, split-K", async () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[37, 53], [53, 29], false, false],
      [[2, 67, 45], [2, 45, 71], true, false],
      [[3, 1, 50, 33], [1, 4, 33, 65], false, true],
      [[257, 130], [130, 263], true, true],
      // few output tiles, long K: split-K partial products, then their sum
      [[40, 1100], [1100, 30], true, false],
      [[2, 33, 1030], [2, 1030, 20], false, false],
    ];
    for (const [sa, sb, ta, tb] of cases) {
      await parity(
        [
          ta ? [...sa.slice(0, -2), sa.at(-1)!, sa.at(-2)!] : sa,
          tb ? [...sb.slice(0, -2), sb.at(-1)!, sb.at(-2)!] : sb,
        ],
        (a, b) => ops.matmul(ta ? ops.transpose(a, -2, -1) : a, tb ? ops.transpose(b, -2, -1) : b),
      );
    }
  });

  it("runs with Dawn options (validation skipped) beside a default backend", async () => {
    // another set of dawnOptions makes another Dawn instance; the first one's devices live on
    const fast = await createWebGpuBackend({
      name: "webgpu-skip-validation",
      dawnOptions: ["enable-dawn-features=skip_validation"],
    });
    try {
      await parity(
        [
          [9, 13],
          [13, 7],
        ],
        (a, b) => ops.gelu(ops.matmul(a, b)),
        1e-4,
        fast,
      );
      await parity([[5, 6]], (x) => ops.softmax(x, -1)); // the default backend still works
    } finally {
      fast.dispose();
    }
  });

  it("concat: one kernel for contiguous sources; strided ones, i32 and many sources", async () => {
    const make = (b: Backend, shape: number[], seed: number) =>
      tensor(
        randomValues(
          shape.reduce((p, d) => p * d, 1),
          seed,
        ),
        shape,
        { backend: b },
      );
    // three contiguous [2, n, 3] pieces along axis 1 (split's backward in attention): one kernel
    const pieces = (b: Backend) => [
      make(b, [2, 4, 3], 1),
      make(b, [2, 1, 3], 2),
      make(b, [2, 5, 3], 3),
    ];
    const before = gpu.stats().dispatches;
    const got = ops.concat(pieces(gpu), 1);
    expect(gpu.stats().dispatches - before).toBe(1);
    expect(Array.from(await got.dataAsync())).toEqual(
      Array.from(ops.concat(pieces(ref), 1).data()),
    );
    // a transposed piece (copied into its slice) between contiguous ones, along axis 0
    const mixed = (b: Backend) =>
      ops.concat(
        [make(b, [2, 3], 4), ops.transpose(make(b, [3, 4], 5), 0, 1), make(b, [1, 3], 6)],
        0,
      );
    expect(Array.from(await mixed(gpu).dataAsync())).toEqual(Array.from(mixed(ref).data()));
    // i32, and more sources than one kernel binds
    const ints = (b: Backend) =>
      ops.concat(
        Array.from({ length: 19 }, (_, k) =>
          tensor(
            Int32Array.from({ length: 2 * ((k % 3) + 1) }, (_, j) => 100 * k + j),
            [(k % 3) + 1, 2],
            {
              backend: b,
              dtype: "i32",
            },
          ),
        ),
        0,
      );
    const want = ints(ref);
    const i32 = ints(gpu);
    expect(i32.dtype).toBe("i32");
    expect(Array.from(await i32.dataAsync())).toEqual(Array.from(want.data()));
  });

  it("matmul: each tile (large, medium, small) on the same odd problem", async () => {
    const [M, K, N] = [131, 70, 141];
    const a = randomValues(M * K, 3);
    const b = randomValues(K * N, 4);
    const want = await ref.read(
      (() => {
        const out = ref.alloc("f32", M * N);
        const va = ref.alloc("f32", M * K);
        const vb = ref.alloc("f32", K * N);
        ref.write(va, a);
        ref.write(vb, b);
        ref.matmul(v(va, [M, K]), v(vb, [K, N]), v(out, [M, N]));
        return v(out, [M, N]);
      })(),
    );
    for (const tile of Object.values(TILES)) {
      const sa = gpu.alloc("f32", M * K);
      const sb = gpu.alloc("f32", K * N);
      const so = gpu.alloc("f32", M * N);
      gpu.write(sa, a);
      gpu.write(sb, b);
      matmulKernel(gpu.rt, v(sa, [M, K]), v(sb, [K, N]), v(so, [M, N]), tile);
      close(await gpu.read(v(so, [M, N])), want);
      for (const s of [sa, sb, so]) gpu.free(s);
    }
  });

  it("layerNorm / rmsNorm weight gradients over many rows (chunked column sums)", async () => {
    await parity([[3, 71, 33], [33], [33]], (x, w, b) => ops.layerNorm(x, w, b));
    await parity([[150, 19], [19]], (x, w) => ops.rmsNorm(x, w));
  });

  it("attention takes the row kernels for one query per sequence (decode), else the tiled ones", async () => {
    if (!gpu.info.features.includes("timestamp-query")) return; // kernel names come from profiling
    const kernelsFor = async (Tq: number) => {
      gpu.setProfile(true);
      const q = tensor(randomValues(2 * 4 * Tq * 32, 1), [2, 4, Tq, 32], { backend: gpu });
      const kv = tensor(randomValues(2 * 4 * 40 * 32, 2), [2, 4, 40, 32], { backend: gpu });
      await ops.attention(q, kv, kv, { causal: true }).dataAsync();
      const keys = (await gpu.profile(true)).map((p) => p.key);
      gpu.setProfile(false);
      return keys;
    };
    expect(await kernelsFor(1)).toContain("attention:fwd");
    expect((await kernelsFor(8)).some((k) => k.startsWith("flash:fwd"))).toBe(true);
  });

  it("attention backward reads a strided output gradient (merged heads) on both kernels", async () => {
    for (const b of [gpu, rows]) {
      // [B, H, T, D] → [B, T, H·D], times w: the output gradient (w, different everywhere)
      // comes back as a permuted view, which the kernels read through its strides (no copy)
      await parity(
        [
          [2, 3, 37, 16],
          [2, 3, 37, 16],
          [2, 3, 37, 24],
          [2, 37, 72],
        ],
        (q, k, v, w) =>
          ops.mul(
            ops.reshape(
              ops.permute(ops.attention(q, k, v, { causal: true }), [0, 2, 1, 3]),
              [2, 37, 72],
            ),
            w,
          ),
        1e-4,
        b,
      );
    }
  });

  it("attention (tiled and row kernels): KV-cache decode (Tq < Tk), GQA, wide heads, padding mask", async () => {
    for (const b of [gpu, rows]) {
      // one new query per head against a 37-key cache; head size 80 > one workgroup's width
      await parity(
        [
          [2, 4, 1, 80],
          [2, 2, 37, 80],
          [2, 2, 37, 80],
        ],
        (q, k, v2) => ops.attention(q, k, v2, { causal: true }),
        1e-4,
        b,
      );
      // more rows than one 64-row block, Tq < Tk, GQA
      await parity(
        [
          [1, 4, 70, 16],
          [1, 2, 75, 16],
          [1, 2, 75, 24],
        ],
        (q, k, v2) => ops.attention(q, k, v2, { causal: true }),
        1e-4,
        b,
      );
    }
    // heads wider than the tiled kernels take (128) run on the row-per-workgroup kernels
    await parity(
      [
        [1, 2, 5, 136],
        [1, 1, 7, 136],
        [1, 1, 7, 136],
      ],
      (q, k, v2) => ops.attention(q, k, v2, { causal: true }),
    );
    // three new tokens, a padding mask hiding the first two keys of batch 1
    const mask = (b: Backend) => {
      const m = new Float32Array(2 * 9).fill(0);
      m[9] = Number.NEGATIVE_INFINITY;
      m[10] = Number.NEGATIVE_INFINITY;
      return tensor(m, [2, 1, 1, 9], { backend: b });
    };
    const run = async (b: Backend) => {
      startScope();
      try {
        const q = tensor(randomValues(2 * 2 * 3 * 16, 7), [2, 2, 3, 16], { backend: b });
        const k = tensor(randomValues(2 * 2 * 9 * 16, 8), [2, 2, 9, 16], { backend: b });
        const vv = tensor(randomValues(2 * 2 * 9 * 24, 9), [2, 2, 9, 24], { backend: b });
        return await ops.attention(q, k, vv, { causal: true, mask: mask(b) }).dataAsync();
      } finally {
        endScope();
      }
    };
    const want = await run(ref);
    close(await run(gpu), want);
    close(await run(rows), want);
  });

  it("batches kernels into few submits and orders writes after recorded kernels", async () => {
    const before = gpu.stats();
    const a = gpu.alloc("f32", 4);
    const b = gpu.alloc("f32", 4);
    gpu.write(a, Float32Array.from([1, 2, 3, 4]));
    for (let i = 0; i < 20; i++) gpu.unary("neg", v(a, [4]), v(b, [4]));
    // a write recorded after kernels that read `a` must not change what they saw
    gpu.write(a, Float32Array.from([10, 20, 30, 40]));
    gpu.binary("add", v(b, [4]), v(a, [4]), v(b, [4]));
    const mid = gpu.stats();
    expect(mid.dispatches - before.dispatches).toBe(21);
    expect(mid.submits).toBe(before.submits);
    expect(Array.from(await gpu.read(v(b, [4])))).toEqual([9, 18, 27, 36]);
    expect(gpu.stats().submits).toBe(before.submits + 1);
    gpu.free(a);
    gpu.free(b);
  });

  it("pools freed buffers by size class and reuses them", () => {
    gpu.trimPool();
    const s = gpu.alloc("f32", 1000);
    const buffer = (s as unknown as { buffer: unknown }).buffer;
    gpu.free(s);
    expect(gpu.stats().pooledBytes).toBe(4096);
    const t = gpu.alloc("f32", 900); // same 4 KiB class
    expect((t as unknown as { buffer: unknown }).buffer).toBe(buffer);
    expect(gpu.stats().pooledBytes).toBe(0);
    gpu.free(t);
  });

  it("moves a tensor to the host tier and back", async () => {
    const x = tensor(Float32Array.from([1.5, -2, 3.25]), [3], { backend: gpu });
    await x.toHostAsync("bf16");
    const y = ops.mul(x, 2); // reloads on use
    expect(Array.from(await y.dataAsync())).toEqual([3, -4, 6.5]);
    x.dispose();
    y.dispose();
  });

  it("AdamW and SGD (momentum, nesterov) steps match the reference", async () => {
    for (const make of [
      (ps: Tensor[]) => new AdamW(ps, { lr: 0.01, weightDecay: 0.1 }),
      (ps: Tensor[]) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
    ]) {
      const run = async (b: Backend) => {
        const p = tensor(randomValues(37, 11), [37], { backend: b }).requireGrad();
        const opt = make([p]);
        for (let s = 0; s < 3; s++) {
          startScope();
          ops
            .sum(ops.mul(ops.square(p), tensor(randomValues(37, 20 + s), [37], { backend: b })))
            .backward();
          opt.step();
          opt.zeroGrad();
          endScope();
        }
        const out = await p.dataAsync();
        opt.dispose();
        p.dispose();
        return out;
      };
      close(await run(gpu), await run(ref));
    }
  });

  it("AdamW over many parameters: one kernel per few parameters, the per-parameter values", async () => {
    // 8 parameters of odd sizes (more than one kernel's worth), one without a gradient, and a
    // gradient that is a non-contiguous view (updated on its own)
    const sizes = [37, 1, 300, 64, 5, 129, 2, 17];
    const run = async (b: Backend, many: boolean) => {
      const ps = sizes.map((n, i) =>
        tensor(randomValues(n, 40 + i), [n], { backend: b }).requireGrad(),
      );
      const opt = new AdamW(ps, { lr: 0.01, weightDecay: 0.1 });
      const backend = b as Backend & { adamwMany?: unknown };
      const saved = backend.adamwMany;
      if (!many) backend.adamwMany = undefined;
      const before = gpu.stats().dispatches;
      try {
        for (let s = 0; s < 3; s++) {
          startScope();
          for (const [i, p] of ps.entries()) {
            if (i === 4) continue; // no gradient: left alone
            const w = tensor(randomValues(p.size, 60 + 10 * s + i), [p.size], { backend: b });
            ops.sum(ops.mul(ops.square(p), w)).backward();
          }
          ps[6].grad = ops.slice(tensor(randomValues(4, 90 + s), [4], { backend: b }), 0, 0, 4, 2);
          opt.step();
          opt.zeroGrad();
          endScope();
        }
      } finally {
        backend.adamwMany = saved;
      }
      const kernels = gpu.stats().dispatches - before;
      const out = await Promise.all(ps.map((p) => p.dataAsync()));
      opt.dispose();
      for (const p of ps) p.dispose();
      return { out, kernels };
    };
    const want = await run(ref, false);
    const single = await run(gpu, false);
    const fused = await run(gpu, true);
    sizes.forEach((_, i) => {
      close(fused.out[i], want.out[i], 1e-6);
      close(fused.out[i], single.out[i], 1e-6);
    });
    // 6 batchable updates per step go k per kernel (k = 3 with 16 storage bindings)
    const k = Math.floor((gpu.rt.device.limits.maxStorageBuffersPerShaderStage - 1) / 4);
    expect(single.kernels - fused.kernels).toBe(3 * (6 - Math.ceil(6 / k)));
  });

  it("indexAdd sums repeated indices in position order (deterministic), atomically past the bound", async () => {
    const rows = 7;
    const D = 5;
    const sum = async (L: number) => {
      const rng = new Rng(L);
      const ids = Int32Array.from({ length: L }, () => rng.int(rows));
      const src = randomValues(L * D, L + 1);
      const base = randomValues(rows * D, L + 2);
      // the sequential f32 sum, position by position
      const want = Float32Array.from(base);
      for (let l = 0; l < L; l++)
        for (let i = 0; i < D; i++)
          want[ids[l] * D + i] = Math.fround(want[ids[l] * D + i] + src[l * D + i]);
      const x = tensor(base, [rows, D], { backend: gpu });
      const got = ops.indexAdd(
        x,
        0,
        tensor(ids, [L], { dtype: "i32", backend: gpu }),
        tensor(src, [L, D], { backend: gpu }),
      );
      return { got: await got.dataAsync(), want };
    };
    const ordered = await sum(3000); // 3,000 additions spread over 7 rows
    expect(Array.from(ordered.got)).toEqual(Array.from(ordered.want));
    const atomic = await sum(ORDERED_INDEX_ADD_MAX + 1);
    close(atomic.got, atomic.want, 1e-4);
  });

  it("trains a tiny transformer block for a few steps like the reference", async () => {
    const V = 11;
    const d = 16;
    const T = 7;
    const run = async (b: Backend) => {
      const mk = (shape: number[], seed: number, scale: number) =>
        tensor(
          randomValues(
            shape.reduce((p, x) => p * x, 1),
            seed,
          ).map((x) => x * scale),
          shape,
          { backend: b },
        ).requireGrad();
      const emb = mk([V, d], 1, 0.5);
      const wqkv = mk([d, 3 * d], 2, 0.3);
      const w1 = mk([d, 4 * d], 3, 0.2);
      const w2 = mk([4 * d, d], 4, 0.2);
      const lnW = tensor(new Float32Array(d).fill(1), [d], { backend: b }).requireGrad();
      const lnB = tensor(new Float32Array(d), [d], { backend: b }).requireGrad();
      const params = [emb, wqkv, w1, w2, lnW, lnB];
      const opt = new AdamW(params, { lr: 0.02 });
      const rng = new Rng(5);
      const losses: number[] = [];
      for (let step = 0; step < 4; step++) {
        startScope();
        const ids = Int32Array.from({ length: 2 * T }, () => rng.int(V));
        const tg = Int32Array.from(ids, (_, i) => (i % T === 0 ? -100 : ids[i - 1]));
        const x = ops.embedding(emb, tensor(ids, [2, T], { backend: b, dtype: "i32" }));
        const h = ops.layerNorm(x, lnW, lnB);
        const qkv = ops.matmul(h, wqkv);
        const [q, k, vv] = ops.split(qkv, [d, d, d], -1).map((t) => ops.unsqueeze(t, 1));
        const a = ops.squeeze(ops.attention(q, k, vv, { causal: true }), 1);
        const r = ops.add(x, a);
        const m = ops.matmul(ops.gelu(ops.matmul(r, w1), "tanh"), w2);
        const logits = ops.matmul(ops.add(r, m), ops.transpose(emb));
        const loss = ops.crossEntropy(logits, tensor(tg, [2, T], { backend: b, dtype: "i32" }));
        loss.backward();
        opt.step();
        opt.zeroGrad();
        losses.push((await loss.dataAsync())[0]);
        endScope();
      }
      const final = await wqkv.dataAsync();
      opt.dispose();
      for (const p of params) p.dispose();
      return { losses, final };
    };
    const got = await run(gpu);
    const want = await run(ref);
    close(got.losses, want.losses, 1e-3);
    close(got.final, want.final, 1e-3);
  });
});

function v(storage: View["storage"], shape: number[]): View {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, d) => p * d, 1));
  return { storage, shape, strides, offset: 0 };
}
