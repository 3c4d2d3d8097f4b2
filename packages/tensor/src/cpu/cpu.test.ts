// The cpu backend at sizes the shared conformance cases do not reach: kernels split across
// worker threads, matmul tiles with ragged edges and transposed / broadcast operands, on both
// matmul paths; plus thread control, BLAS switching and clean shutdown.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  type Backend,
  contiguousStrides,
  type HostArray,
  shapeSize,
  type View,
} from "../backend.js";
import { roundToF16 } from "../dtype.js";
import { Rng } from "../random.js";
import { ReferenceBackend } from "../reference/backend.js";
import { maxRelError } from "../testing/conformance.js";
import { CpuBackend } from "./backend.js";
import { loadBlas } from "./blas.js";
import { kernelsPath, relaxedSimdSupported } from "./kernels.js";

// The kernels come from `npm run build`; build them here if a bare `vitest run` comes first.
if (!existsSync(kernelsPath())) {
  execFileSync(process.execPath, [
    fileURLToPath(new URL("../../assembly/build.mjs", import.meta.url)),
  ]);
}

const ref = new ReferenceBackend();
const hasBlas = loadBlas().addon !== null;

function randomData(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
}

/** A contiguous view of `data` on `b`, optionally re-viewed with `perm` (a transposed view). */
function put(b: Backend, data: HostArray, shape: number[], perm?: number[]): View {
  const s = b.alloc(data instanceof Int32Array ? "i32" : "f32", data.length);
  b.write(s, data);
  const v: View = { storage: s, shape, strides: contiguousStrides(shape), offset: 0 };
  if (!perm) return v;
  return { ...v, shape: perm.map((p) => shape[p]), strides: perm.map((p) => v.strides[p]) };
}

function out(b: Backend, shape: number[], dtype: "f32" | "i32" = "f32"): View {
  const s = b.alloc(dtype, Math.max(shapeSize(shape), 1));
  return { storage: s, shape, strides: contiguousStrides(shape), offset: 0 };
}

function read(b: Backend, v: View): HostArray {
  return b.readSync!(v);
}

/** Runs `fn` on the cpu backend and the reference with the same inputs; returns both outputs. */
function both(
  cpu: Backend,
  inputs: { data: HostArray; shape: number[]; perm?: number[] }[],
  outs: number[][],
  fn: (b: Backend, ins: View[], outs: View[]) => void,
): { got: HostArray[]; want: HostArray[] } {
  const run = (b: Backend) => {
    const ins = inputs.map((i) => put(b, i.data, i.shape, i.perm));
    const os = outs.map((s) => out(b, s));
    fn(b, ins, os);
    return os.map((o) => read(b, o));
  };
  return { got: run(cpu), want: run(ref) };
}

function expectClose(r: { got: HostArray[]; want: HostArray[] }, tol = 2e-5): void {
  r.want.forEach((w, i) => {
    const err = maxRelError(r.got[i], w);
    expect(err, `output ${i}: error ${err}`).toBeLessThanOrEqual(tol);
  });
}

for (const path of ["wasm", "blas"] as const) {
  if (path === "blas" && !hasBlas) continue;
  describe(`cpu backend at scale (${path} matmul, 2 threads)`, () => {
    // A small attention chunk (3 heads of the test below) makes GQA groups span chunks.
    const cpu = new CpuBackend({
      name: `cpu-${path}`,
      blas: path === "blas",
      threads: 2,
      attentionChunkBytes: 3 * 2 * 4 * 37 * 45,
    });
    afterAll(() => cpu.dispose());

    it("reports its paths", () => {
      const info = cpu.info();
      expect(info.wasmSimd).toBe(true);
      expect(info.threads).toBe(2);
      if (path === "blas") expect(info.blas).toMatch(/OpenBLAS|Accelerate/);
      else expect(info.blas).toBeNull();
    });

    const shapes: [number, number, number][] = [
      [67, 131, 257],
      [1, 300, 513],
      [300, 1, 5],
      [129, 260, 9],
    ];
    for (const [M, K, N] of shapes) {
      it(`matmul ${M}x${K} @ ${K}x${N}`, () => {
        const r = both(
          cpu,
          [
            { data: randomData(M * K, 1), shape: [M, K] },
            { data: randomData(K * N, 2), shape: [K, N] },
          ],
          [[M, N]],
          (b, [a, bb], [o]) => b.matmul(a, bb, o),
        );
        expectClose(r, 1e-5);
      });
    }

    it("matmul with transposed operands larger than one cache block (Aᵀ·B as in a weight gradient)", () => {
      // A = xᵀ with M = 300 > MC: full column-major A panels at the end of a packed block.
      const r = both(
        cpu,
        [
          { data: randomData(260 * 300, 50), shape: [260, 300], perm: [1, 0] },
          { data: randomData(260 * 140, 51), shape: [260, 140] },
          { data: randomData(140 * 260, 52), shape: [140, 260], perm: [1, 0] },
        ],
        [
          [300, 140],
          [300, 140],
        ],
        (b, [a, bb, bt], [o1, o2]) => {
          b.matmul(a, bb, o1);
          b.matmul(a, bt, o2);
        },
      );
      expectClose(r, 1e-5);
    });

    it("batched matmul with transposed and broadcast operands", () => {
      // a: [3, 45, 70] from a [3, 70, 45] tensor transposed; b: [70, 33] broadcast over batch.
      const r = both(
        cpu,
        [
          { data: randomData(3 * 70 * 45, 3), shape: [3, 70, 45], perm: [0, 2, 1] },
          { data: randomData(33 * 70, 4), shape: [33, 70], perm: [1, 0] },
        ],
        [[3, 45, 33]],
        (b, [a, bb], [o]) =>
          b.matmul(a, { ...bb, shape: [3, 70, 33], strides: [0, ...bb.strides] }, o),
      );
      expectClose(r, 1e-5);
    });

    // Under ~4 MFLOP the forward runs the fused kernel on the calling thread (a decoding step,
    // Tq = 1); above, this matmul path's per-head products.
    for (const [B, Hq, Hkv, Tq, Tk, D] of [
      [2, 4, 2, 37, 45, 16],
      [2, 4, 2, 1, 45, 16],
      [2, 4, 2, 70, 90, 64],
    ]) {
      it(`fused attention forward and backward (GQA, causal, mask) on this matmul path, Tq ${Tq} Tk ${Tk} D ${D}`, () => {
        const mask = Float32Array.from({ length: B * Tk }, (_, i) =>
          i % 11 === 3 ? -Infinity : 0,
        );
        const r = both(
          cpu,
          [
            { data: randomData(B * Hq * Tq * D, 22), shape: [B, Hq, Tq, D] },
            { data: randomData(B * Hkv * Tk * D, 23), shape: [B, Hkv, Tk, D] },
            { data: randomData(B * Hkv * Tk * D, 24), shape: [B, Hkv, Tk, D] },
            { data: mask, shape: [B, Tk] },
            { data: randomData(B * Hq * Tq * D, 25), shape: [B, Hq, Tq, D] },
          ],
          [
            [B, Hq, Tq, D],
            [B, Hq, Tq],
            [B, Hq, Tq, D],
            [B, Hkv, Tk, D],
            [B, Hkv, Tk, D],
          ],
          (b, [q, k, v, m, dout], [o, lse, dq, dk, dv]) => {
            const args = {
              q,
              k,
              v,
              mask: { ...m, shape: [B, Hq, Tq, Tk], strides: [Tk, 0, 0, 1] },
              causal: true,
              scale: 0.25,
            };
            b.attention(args, o, lse);
            b.attentionBackward(args, o, lse, dout, dq, dk, dv);
          },
        );
        expectClose(r, 2e-5);
      });
    }

    it("one-row products (M = 1) against either unit-stride layout of B, batched and ragged", () => {
      for (const [K, N] of [
        [256, 768],
        [37, 21],
        [3, 1],
        [1, 19],
      ]) {
        const r = both(
          cpu,
          [
            { data: randomData(K, 7), shape: [1, K] },
            { data: randomData(N * K, 8), shape: [N, K], perm: [1, 0] },
            { data: randomData(K * N, 9), shape: [K, N] },
            { data: randomData(3 * K, 10), shape: [3, 1, K] },
          ],
          [
            [1, N],
            [1, N],
            [3, 1, N],
          ],
          (b, [x, wt, w, xs], [o1, o2, o3]) => {
            b.matmul(x, wt, o1);
            b.matmul(x, w, o2);
            b.matmul(xs, { ...wt, shape: [3, K, N], strides: [0, ...wt.strides] }, o3);
          },
        );
        expectClose(r, 1e-5);
      }
    });

    it("many small matmuls split by batch (attention-shaped)", () => {
      const r = both(
        cpu,
        [
          { data: randomData(12 * 40 * 16, 5), shape: [12, 40, 16] },
          { data: randomData(12 * 40 * 16, 6), shape: [12, 40, 16], perm: [0, 2, 1] },
        ],
        [[12, 40, 40]],
        (b, [a, bb], [o]) => b.matmul(a, bb, o),
      );
      expectClose(r, 1e-5);
    });
  });
}

describe("cpu backend kernels split across threads", () => {
  const cpu = new CpuBackend({ threads: 2, blas: false, name: "cpu-threads" });
  afterAll(() => cpu.dispose());
  const N = 300 * 257;

  it("every unary op and its gradient", () => {
    const ops = [
      "neg",
      "abs",
      "sign",
      "exp",
      "sqrt",
      "rsqrt",
      "square",
      "reciprocal",
      "sin",
      "cos",
      "tanh",
      "sigmoid",
      "relu",
      "gelu_tanh",
      "gelu_erf",
      "silu",
      "log",
    ] as const;
    for (const op of ops) {
      const positive = ["sqrt", "rsqrt", "log", "reciprocal"].includes(op);
      const x = randomData(N, 7, positive ? 0.1 : -6, positive ? 4 : 6);
      const dy = randomData(N, 8);
      const r = both(
        cpu,
        [
          { data: x, shape: [300, 257] },
          { data: dy, shape: [300, 257] },
        ],
        [
          [300, 257],
          [300, 257],
        ],
        (b, [xv, dyv], [y, dx]) => {
          b.unary(op, xv, y);
          b.unaryBackward(op, xv, y, dyv, dx);
        },
      );
      const tol = op === "reciprocal" || op === "rsqrt" ? 5e-6 : 2e-6;
      r.want.forEach((w, i) => {
        const err = maxRelError(r.got[i], w);
        expect(err, `${op} output ${i}: error ${err}`).toBeLessThan(tol);
      });
    }
  });

  it("binary ops with broadcast, strided and i32 operands", () => {
    const a = randomData(N, 9);
    const bias = randomData(257, 10, 0.5, 2);
    for (const op of ["add", "sub", "mul", "div", "max", "min", "pow", "lt", "ge"] as const) {
      const r = both(
        cpu,
        [
          { data: op === "pow" ? randomData(N, 9, 0.1, 2) : a, shape: [300, 257] },
          { data: bias, shape: [257] },
        ],
        [[300, 257]],
        (b, [x, y], [o]) => b.binary(op, x, { ...y, shape: [300, 257], strides: [0, 1] }, o),
      );
      expectClose(r, 2e-6);
    }
    // A transposed operand (non-unit inner stride on both sides).
    const t = both(
      cpu,
      [
        { data: a, shape: [257, 300], perm: [1, 0] },
        { data: randomData(N, 11), shape: [300, 257] },
      ],
      [[300, 257]],
      (b, [x, y], [o]) => b.binary("mul", x, y, o),
    );
    expectClose(t, 1e-7);
    const ints = Int32Array.from({ length: N }, (_, i) => (i % 23) - 11);
    const ir = both(
      cpu,
      [
        { data: ints, shape: [N] },
        { data: Int32Array.from(ints, (v) => v * 3 + 1), shape: [N] },
      ],
      [],
      (b, [x, y]) => {
        const o = out(b, [N], "i32");
        b.binary("mul", x, y, o);
        expect(Array.from(read(b, o).subarray(0, 5))).toEqual([
          -11 * -32,
          -10 * -29,
          -9 * -26,
          -8 * -23,
          -7 * -20,
        ]);
      },
    );
    expect(ir.got).toEqual([]);
  });

  it("reductions over leading, trailing and all axes", () => {
    const x = randomData(N, 12);
    for (const [axes, shape] of [
      [[0], [1, 257]],
      [[1], [300, 1]],
      [
        [0, 1],
        [1, 1],
      ],
    ] as [number[], number[]][]) {
      for (const op of ["sum", "max", "min"] as const) {
        const r = both(cpu, [{ data: x, shape: [300, 257] }], [shape], (b, [v], [o]) =>
          b.reduce(op, v, axes, o),
        );
        expectClose(r, 2e-5);
      }
    }
  });

  it("copy, where and fill over large strided views", () => {
    const r = both(
      cpu,
      [
        { data: randomData(N, 13), shape: [257, 300], perm: [1, 0] },
        { data: Float32Array.from({ length: N }, (_, i) => i % 3), shape: [300, 257] },
      ],
      [
        [300, 257],
        [300, 257],
      ],
      (b, [x, c], [o1, o2]) => {
        b.copy(x, o1);
        b.where(c, x, o1, o2);
      },
    );
    expectClose(r, 0);
  });

  it("softmax, log-softmax and their gradients over long rows", () => {
    const r = both(
      cpu,
      [
        { data: randomData(N, 14, -8, 8), shape: [300, 257] },
        { data: randomData(N, 15), shape: [300, 257] },
      ],
      [
        [300, 257],
        [300, 257],
        [300, 257],
        [300, 257],
      ],
      (b, [x, dy], [s, ls, ds, dls]) => {
        b.softmax(x, s);
        b.logSoftmax(x, ls);
        b.softmaxBackward(s, dy, ds);
        b.logSoftmaxBackward(ls, dy, dls);
      },
    );
    expectClose(r, 2e-6);
  });

  it("layer norm and RMS norm with gradients (per-thread weight-gradient partials)", () => {
    const R = 256;
    const D = 384;
    const r = both(
      cpu,
      [
        { data: randomData(R * D, 16, -3, 3), shape: [R, D] },
        { data: randomData(D, 17), shape: [D] },
        { data: randomData(D, 18), shape: [D] },
        { data: randomData(R * D, 19), shape: [R, D] },
      ],
      [[R, D], [R], [R], [R, D], [D], [D], [R, D], [R], [R, D], [D]],
      (b, [x, w, bias, dy], [y, mean, rstd, dx, dw, db, y2, rstd2, dx2, dw2]) => {
        b.layerNorm(x, w, bias, 1e-5, y, mean, rstd);
        b.layerNormBackward(x, w, mean, rstd, dy, dx, dw, db);
        b.rmsNorm(x, w, 1e-6, y2, rstd2);
        b.rmsNormBackward(x, w, rstd2, dy, dx2, dw2);
      },
    );
    expectClose(r, 2e-5);
  });

  it("cross-entropy with ignored rows", () => {
    const R = 200;
    const C = 501;
    const targets = Int32Array.from({ length: R }, (_, i) => (i % 7 === 0 ? -100 : (i * 37) % C));
    const r = both(
      cpu,
      [
        { data: randomData(R * C, 20, -5, 5), shape: [R, C] },
        { data: targets, shape: [R] },
        { data: randomData(R, 21), shape: [R] },
      ],
      [[R], [R], [R, C]],
      (b, [l, t, g], [loss, lse, dl]) => {
        b.crossEntropy(l, t, -100, loss, lse);
        b.crossEntropyBackward(l, t, lse, g, -100, dl);
      },
    );
    expectClose(r, 2e-6);
  });

  it("embedding-sized gather and scatter-add with duplicate ids, on axes 0 and 1", () => {
    const ids = Int32Array.from({ length: 300 }, (_, i) => (i * 7919) % 50);
    for (const axis of [0, 1]) {
      const xShape = axis === 0 ? [50, 384] : [4, 50, 96];
      const srcShape = axis === 0 ? [300, 384] : [4, 300, 96];
      const r = both(
        cpu,
        [
          { data: randomData(shapeSize(xShape), 40), shape: xShape },
          { data: ids, shape: [300] },
          { data: randomData(shapeSize(srcShape), 41), shape: srcShape },
          { data: randomData(shapeSize(xShape), 42), shape: xShape },
        ],
        [srcShape, xShape],
        (b, [x, i, src, acc], [gathered, added]) => {
          b.indexSelect(x, axis, i, gathered);
          b.copy(acc, added);
          b.indexAdd(src, axis, i, added);
        },
      );
      expectClose(r, 1e-6);
    }
  });

  it("scatter-add into f16 storage rounds each sum once (a half KV cache)", () => {
    // eighths plus 1e-3: the f32 sums are exact in f64 too, and need rounding to f16
    const eighths = (n: number, seed: number) =>
      Float32Array.from(randomData(n, seed), (v) => Math.round(v * 64) / 8 + 1e-3);
    const run = (b: Backend) => {
      const o = b.alloc("f16", 5 * 3);
      b.write(o, eighths(15, 43));
      const view: View = { storage: o, shape: [5, 3], strides: [3, 1], offset: 0 };
      b.indexAdd(
        put(b, eighths(12, 44), [4, 3]),
        0,
        put(b, Int32Array.from([4, 0, 4, 1]), [4]),
        view,
      );
      return Array.from(read(b, view));
    };
    const got = run(cpu);
    expect(got).toEqual(run(ref));
    expect(got).toEqual(Array.from(roundToF16(Float32Array.from(got)))); // halves
  });

  it("im2col, col2im and pooling over many planes", () => {
    const g = {
      kernelH: 3,
      kernelW: 3,
      strideH: 2,
      strideW: 1,
      padH: 1,
      padW: 1,
      dilationH: 1,
      dilationW: 2,
    };
    const [N2, C, H, W] = [2, 8, 19, 17];
    const OH = Math.floor((H + 2 - 2 - 1) / 2) + 1;
    const OW = Math.floor((W + 2 - 4 - 1) / 1) + 1;
    const r = both(
      cpu,
      [
        { data: randomData(N2 * C * H * W, 26), shape: [N2, C, H, W] },
        { data: randomData(N2 * C * 9 * OH * OW, 27), shape: [N2, C * 9, OH * OW] },
        { data: randomData(N2 * C * OH * OW, 28), shape: [N2, C, OH, OW] },
      ],
      [
        [N2, C * 9, OH * OW],
        [N2, C, H, W],
        [N2, C, OH, OW],
        [N2, C, H, W],
      ],
      (b, [x, cols, dy], [c, dx, avg, davg]) => {
        b.im2col(x, g, c);
        b.col2im(cols, g, dx);
        b.pool2d("avg", x, g, avg, null);
        b.pool2dBackward("avg", dy, g, null, davg);
      },
    );
    expectClose(r, 1e-6);
  });

  it("AdamW and SGD updates", () => {
    const n = 100_003;
    const r = both(
      cpu,
      [
        { data: randomData(n, 29), shape: [n] },
        { data: randomData(n, 30), shape: [n] },
        { data: randomData(n, 31, -0.1, 0.1), shape: [n] },
        { data: randomData(n, 32, 0, 0.1), shape: [n] },
        { data: randomData(n, 33), shape: [n] },
      ],
      [[n], [n], [n], [n]],
      (b, [p, g, m, v, buf], outs) => {
        b.adamw(p, g, m, v, {
          lr: 1e-3,
          beta1: 0.9,
          beta2: 0.999,
          eps: 1e-8,
          weightDecay: 0.01,
          step: 3,
        });
        b.sgd(p, g, buf, {
          lr: 0.1,
          momentum: 0.9,
          dampening: 0,
          weightDecay: 1e-4,
          nesterov: true,
          firstStep: false,
        });
        [p, m, v, buf].forEach((x, i) => {
          b.copy(x, outs[i]);
        });
      },
    );
    expectClose(r, 1e-6);
  });
});

describe("cpu backend control", () => {
  it("setThreads validates and changes the split", () => {
    const cpu = new CpuBackend({ threads: 1, blas: false, name: "cpu-ctl" });
    expect(() => cpu.setThreads(0)).toThrow(/positive|integer/);
    cpu.setThreads(2);
    expect(cpu.info().threads).toBe(2);
    cpu.dispose();
    expect(() => cpu.alloc("f32", 4)).toThrow(/disposed/);
  });

  it("rejects storage of another cpu backend instance", () => {
    const a = new CpuBackend({ threads: 1, name: "cpu" });
    const b = new CpuBackend({ threads: 1, name: "cpu" });
    const s = a.alloc("f32", 4);
    const v = { storage: s, shape: [4], strides: [1], offset: 0 };
    expect(() => b.unary("exp", v, v)).toThrow(/another backend instance/);
    a.dispose();
    b.dispose();
  });

  it("ATHANOR_BLAS=0 turns BLAS off", () => {
    const old = process.env.ATHANOR_BLAS;
    process.env.ATHANOR_BLAS = "0";
    try {
      const cpu = new CpuBackend({ name: "cpu-env" });
      expect(cpu.info().blas).toBeNull();
      expect(cpu.info().blasUnavailable).toMatch(/ATHANOR_BLAS/);
      cpu.dispose();
    } finally {
      if (old === undefined) delete process.env.ATHANOR_BLAS;
      else process.env.ATHANOR_BLAS = old;
    }
  });

  it("uses the relaxed SIMD (FMA) build where the runtime has relaxed SIMD", () => {
    const entry = fileURLToPath(new URL("./index.ts", import.meta.url));
    const code = `
      const { createCpuBackend } = await import(${JSON.stringify(entry)});
      const b = createCpuBackend({ threads: 2, blas: false });
      const [M, K, N] = [67, 131, 257];
      const A = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i));
      const B = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i * 0.7));
      const view = (d, r, c) => {
        const s = b.alloc("f32", r * c);
        if (d) b.write(s, d);
        return { storage: s, shape: [r, c], strides: [c, 1], offset: 0 };
      };
      const o = view(null, M, N);
      b.matmul(view(A, M, K), view(B, K, N), o);
      const got = b.readSync(o);
      let err = 0;
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A[i * K + k] * B[k * N + j];
        err = Math.max(err, Math.abs(s - got[i * N + j]));
      }
      console.log(JSON.stringify({ relaxed: b.info().relaxedSimd, err }));
    `;
    const r = spawnSync(
      process.execPath,
      ["--experimental-wasm-relaxed-simd", "--import", "tsx", "--input-type=module", "-e", code],
      { encoding: "utf8", timeout: 30_000 },
    );
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout.trim());
    expect(out.relaxed).toBe(true);
    expect(out.err).toBeLessThan(1e-4);
    // In this process it follows the runtime (off by default in Node 20, on in Node 22+).
    const here = new CpuBackend({ threads: 1, name: "cpu-here" });
    expect(here.info().relaxedSimd).toBe(relaxedSimdSupported());
    here.dispose();
  });

  it("an idle pool does not keep the process alive", () => {
    const entry = fileURLToPath(new URL("./index.ts", import.meta.url));
    const code = `
      const { createCpuBackend } = await import(${JSON.stringify(entry)});
      const b = createCpuBackend({ threads: 2, blas: false });
      const s = b.alloc("f32", 1 << 18);
      const v = { storage: s, shape: [1 << 18], strides: [1], offset: 0 };
      b.fill(v, 2);
      b.unary("exp", v, v);
      console.log(b.readSync(v)[0].toFixed(4));
    `;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(Math.exp(2).toFixed(4));
    expect(r.status).toBe(0);
  });
});
