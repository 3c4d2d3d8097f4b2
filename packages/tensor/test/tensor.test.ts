import { describe, expect, it } from "vitest";
import {
  arange,
  fromHalf,
  full,
  getBackend,
  manualSeed,
  ones,
  ops,
  randint,
  randn,
  Tensor,
  tensor,
  uniform,
  zeros,
} from "../src/index.js";

describe("Tensor basics", () => {
  it("creates from nested arrays and reads back", () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.strides).toEqual([3, 1]);
    expect(t.dtype).toBe("f32");
    expect(t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(tensor(5).item()).toBe(5);
    expect(tensor(Int32Array.from([1, 2])).dtype).toBe("i32");
  });

  it("reads asynchronously", async () => {
    expect(Array.from(await tensor([1, 2, 3]).dataAsync())).toEqual([1, 2, 3]);
    expect(await tensor([[1], [2]]).toArrayAsync()).toEqual([[1], [2]]);
  });

  it("creation helpers", () => {
    expect(zeros([2]).toArray()).toEqual([0, 0]);
    expect(ones([1, 2]).toArray()).toEqual([[1, 1]]);
    expect(full([2], 7, { dtype: "i32" }).toArray()).toEqual([7, 7]);
    expect(arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(arange(4).dtype).toBe("i32");
    expect(arange(0, 1, 0.25).toArray()).toEqual([0, 0.25, 0.5, 0.75]);
  });

  it("seeded random is reproducible and has the right moments", () => {
    manualSeed(42);
    const a = Array.from(randn([1000]).data());
    manualSeed(42);
    const b = randn([1000]).data();
    expect(a).toEqual(Array.from(b));
    const mean = a.reduce((p, v) => p + v, 0) / a.length;
    const sd = Math.sqrt(a.reduce((p, v) => p + (v - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(sd - 1)).toBeLessThan(0.1);
    const u = uniform([500], 2, 3).data();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...u)).toBeLessThan(3);
    const r = randint([200], 0, 3).data();
    expect(new Set(r)).toEqual(new Set([0, 1, 2]));
  });
});

describe("write: new values in place", () => {
  it("takes host values, truncates them for i32, and copies another tensor", () => {
    const x = zeros([2, 2]);
    const view = ops.reshape(x, [4]); // shares the buffer
    x.write([1, 2, 3, 4]);
    expect(Array.from(view.data())).toEqual([1, 2, 3, 4]);
    x.write(new Float32Array([5, 6, 7, 8]));
    expect(Array.from(x.data())).toEqual([5, 6, 7, 8]);
    const ids = zeros([3], { dtype: "i32" });
    ids.write([1.9, -2.5, 3]);
    expect(Array.from(ids.data())).toEqual([1, -2, 3]);
    x.write(
      tensor([
        [9, 8],
        [7, 6],
      ]),
    );
    expect(x.toArray()).toEqual([
      [9, 8],
      [7, 6],
    ]);
    ids.write(tensor([4.7, 5, 6])); // converted to i32 like a cast
    expect(Array.from(ids.data())).toEqual([4, 5, 6]);
  });

  it("says what was wrong", () => {
    const x = zeros([2, 3]);
    expect(() => x.write([1, 2])).toThrow("write: 2 values for [2, 3] f32 (6 elements)");
    expect(() => ops.transpose(x, 0, 1).write([1, 2, 3, 4, 5, 6])).toThrow(/strided view/);
    expect(() => x.write(zeros([3, 2]))).toThrow(/must have the shape and backend of \[2, 3\]/);
    x.dispose();
    expect(() => x.write([1, 2, 3, 4, 5, 6])).toThrow(/disposed/);
  });
});

describe("views are free and correct", () => {
  const base = () =>
    tensor(
      Float32Array.from({ length: 24 }, (_, i) => i),
      [2, 3, 4],
    );

  it("reshape of contiguous shares the buffer", () => {
    const t = base();
    const r = t.reshape([6, -1]);
    expect(r.shape).toEqual([6, 4]);
    expect(r._buf).toBe(t._buf);
  });

  it("transpose / permute / slice / expand share the buffer and read right", () => {
    const t = base();
    const p = t.permute([2, 0, 1]);
    expect(p._buf).toBe(t._buf);
    expect(p.shape).toEqual([4, 2, 3]);
    expect((p.toArray() as number[][][])[1][1][2]).toBe(1 * 12 + 2 * 4 + 1);
    const s = t.slice(2, 1, 4, 2);
    expect(s._buf).toBe(t._buf);
    expect(s.toArray()).toEqual([
      [
        [1, 3],
        [5, 7],
        [9, 11],
      ],
      [
        [13, 15],
        [17, 19],
        [21, 23],
      ],
    ]);
    const e = tensor([[1], [2]]).expand([2, 3]);
    expect(e.strides).toEqual([1, 0]);
    expect(e.toArray()).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
  });

  it("reshape of a transposed tensor copies only when it must", () => {
    const t = base();
    const tt = t.transpose(0, 1); // [3, 2, 4]
    const merged = tt.reshape([3, 8]); // dims 1,2 of tt are not mergeable → copy
    expect(merged.isContiguous()).toBe(true);
    expect((merged.toArray() as number[][])[1]).toEqual([4, 5, 6, 7, 16, 17, 18, 19]);
    const split = tt.reshape([3, 2, 2, 2]); // splitting the last dim is a view
    expect(split._buf).toBe(t._buf);
    expect(split.contiguous().data()).toEqual(tt.contiguous().reshape([3, 2, 2, 2]).data());
  });

  it("squeeze / unsqueeze / flatten / concat / split / stack", () => {
    const t = base();
    expect(t.unsqueeze(1).shape).toEqual([2, 1, 3, 4]);
    expect(t.unsqueeze(-1).shape).toEqual([2, 3, 4, 1]);
    expect(t.unsqueeze(1).squeeze().shape).toEqual([2, 3, 4]);
    expect(t.flatten(1).shape).toEqual([2, 12]);
    const [a, b] = ops.split(t, [1, 2], 1);
    expect(a.shape).toEqual([2, 1, 4]);
    expect(ops.concat([a, b], 1).data()).toEqual(t.data());
    expect(ops.stack([a, a], 0).shape).toEqual([2, 2, 1, 4]);
  });

  it("broadcasting binary ops", () => {
    const r = ops.add(tensor([[1], [2]]), tensor([10, 20, 30]));
    expect(r.toArray()).toEqual([
      [11, 21, 31],
      [12, 22, 32],
    ]);
    expect(
      ops.div(tensor(Int32Array.from([7, -7])), tensor(Int32Array.from([2, 2]))).toArray(),
    ).toEqual([3, -3]);
    expect(ops.add(tensor(Int32Array.from([1])), 0.5).toArray()).toEqual([1.5]);
  });

  it("bf16 / f16 storage formats convert on load and store", () => {
    const t = tensor([1.5, -2.25, 1e-3]);
    const bf = t.dataIn("bf16") as Uint16Array;
    expect(Array.from(bf)).toEqual([0x3fc0, 0xc010, 0x3a83]);
    expect(Array.from(fromHalf(bf, [3], "bf16").data())).toEqual([1.5, -2.25, 0.00099945068359375]);
    const h = t.dataIn("f16") as Uint16Array;
    expect(Array.from(h)).toEqual([0x3e00, 0xc080, 0x1419]);
    expect(Array.from(fromHalf(h, [3], "f16").data())).toEqual([1.5, -2.25, 0.0010004043579101562]);
    expect(
      Array.from(fromHalf(Uint16Array.from([0x7c00, 0xfc00, 0x0001]), [3], "f16").data()),
    ).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** -24]);
  });

  it("i32 and f32 cast", () => {
    expect(tensor([1.7, -1.7]).cast("i32").toArray()).toEqual([1, -1]);
    expect(tensor(Int32Array.from([3])).cast("f32").dtype).toBe("f32");
  });
});

describe("clear errors", () => {
  it("shape mismatch names the op and shapes", () => {
    expect(() => ops.add(zeros([2, 3]), zeros([4]))).toThrow(
      "add: shapes [2, 3] and [4] cannot be broadcast together",
    );
    expect(() => ops.matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(
      /matmul: inner dimensions differ: \[2, 3\] f32 @ \[4, 5\] f32/,
    );
    expect(() => zeros([2, 3]).reshape([4])).toThrow(/reshape: cannot reshape \[2, 3\] f32/);
    expect(() => ops.layerNorm(zeros([2, 3]), zeros([4]))).toThrow(
      /layerNorm: weight \[4\] f32 must be \[3\]/,
    );
  });

  it("dtype mismatch", () => {
    expect(() => ops.matmul(zeros([2, 2], { dtype: "i32" }), zeros([2, 2]))).toThrow(
      "matmul: a must be f32, got [2, 2] i32",
    );
    expect(() => ops.crossEntropy(zeros([2, 3]), zeros([2]))).toThrow(
      "crossEntropy: targets must be i32, got [2] f32",
    );
    expect(() => ops.embedding(zeros([4, 2]), tensor(Int32Array.from([5])))).toThrow(
      "indexSelect: index 5 at position 0 is out of range [0, 4)",
    );
  });

  it("use of a disposed tensor names the op", () => {
    const t = zeros([2, 2]);
    t.name = "w";
    t.dispose();
    expect(() => ops.exp(t)).toThrow("exp: use of a disposed tensor w [2, 2] f32");
    expect(() => t.data()).toThrow("data: use of a disposed tensor");
    const v = zeros([3]);
    const view = v.slice(0, 1);
    v.dispose();
    expect(view.toArray()).toEqual([0, 0]); // views keep the buffer alive
  });

  it("cross-entropy target out of range", () => {
    expect(() => ops.crossEntropy(zeros([2, 3]), tensor(Int32Array.from([0, 3])))).toThrow(
      "crossEntropy: target 3 at position 1 is out of range [0, 3)",
    );
  });

  it("non-scalar backward needs a grad", () => {
    const x = zeros([2]).requireGrad();
    expect(() => ops.mul(x, 2).backward()).toThrow(/grad must be given for non-scalar root/);
  });
});

describe("ops against hand-computed values", () => {
  it("softmax, logSoftmax, crossEntropy", () => {
    const x = tensor([[1, 2, 3]]);
    const s = ops.softmax(x).data();
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const z = e[0] + e[1] + e[2];
    e.forEach((v, i) => {
      expect(s[i]).toBeCloseTo(v / z, 6);
    });
    const ce = ops.crossEntropy(
      tensor([
        [1, 2, 3],
        [0, 0, 0],
      ]),
      tensor(Int32Array.from([2, -100])),
    );
    expect(ce.item()).toBeCloseTo(Math.log(z) - 3, 5);
  });

  it("gelu variants match the formulas", () => {
    const x = 0.7;
    const tanhForm = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    expect(ops.gelu(tensor([x])).item()).toBeCloseTo(tanhForm, 6);
    expect(ops.gelu(tensor([x]), "none").item()).toBeCloseTo(0.5306254434, 6); // 0.7·Φ(0.7)
  });

  it("attention equals softmax(q kᵀ / √d + causal) v", () => {
    manualSeed(3);
    const q = randn([1, 1, 3, 4]);
    const k = randn([1, 1, 5, 4]);
    const v = randn([1, 1, 5, 2]);
    const got = ops.attention(q, k, v, { causal: true }).data();
    const scores = ops.div(ops.matmul(q, k.transpose()), 2);
    const maskVals = new Float32Array(15);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 5; j++) if (j > i + 2) maskVals[i * 5 + j] = -Infinity;
    const want = ops.matmul(ops.softmax(ops.add(scores, tensor(maskVals, [3, 5]))), v).data();
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
  });

  it("conv2d equals a direct convolution", () => {
    manualSeed(5);
    const x = randn([1, 2, 4, 4]);
    const w = randn([3, 2, 3, 3]);
    const y = ops.conv2d(x, w, null, { padding: 1 }).toArray() as number[][][][];
    const xs = x.toArray() as number[][][][];
    const ws = w.toArray() as number[][][][];
    let direct = 0;
    for (let c = 0; c < 2; c++)
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++) {
          const h = 1 + i - 1;
          const ww = 2 + j - 1;
          direct += xs[0][c][h][ww] * ws[1][c][i][j];
        }
    expect(y[0][1][1][2]).toBeCloseTo(direct, 5);
  });

  it("the backend is the reference one unless another registers", () => {
    expect(getBackend().name).toBeTypeOf("string");
    expect(zeros([1])).toBeInstanceOf(Tensor);
  });
});
