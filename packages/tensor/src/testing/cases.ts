/**
 * The op cases shared by the gradient checks and the backend conformance suite: every op with
 * odd shapes (1, primes) and non-contiguous inputs (transposed, strided slices, broadcast).
 */

import type { Backend } from "../backend.js";
import { tensor } from "../creation.js";
import * as ops from "../ops/index.js";
import { Rng } from "../random.js";
import type { Tensor } from "../tensor.js";

/** How to build one input. */
export interface InputSpec {
  shape: number[];
  /** Integer input in [lo, hi) (i32, never differentiated). */
  int?: [number, number];
  /** Values in [lo, hi) instead of standard normal. */
  range?: [number, number];
  /** Values distinct (avoids ties for max / pooling). */
  distinct?: boolean;
  /** No gradient for this f32 input. */
  noGrad?: boolean;
  /** A view applied to the created (leaf) tensor before the op, e.g. a transpose. */
  view?: (t: Tensor) => Tensor;
  /** Fixed values (overrides random). */
  values?: number[];
}

export interface OpCase {
  name: string;
  inputs: InputSpec[];
  fn: (...xs: Tensor[]) => Tensor;
  /** False for ops without a backward (comparisons, argmax, i32 math). */
  grad?: boolean;
  /** Conformance tolerance (max |a − b| / max(1, max |b|)); default 1e-4. */
  tol?: number;
  /** Gradcheck relative tolerance override. */
  rtol?: number;
}

/** Creates the inputs of a case on `backend` (same values for the same seed on any backend). */
export function makeInputs(
  c: OpCase,
  backend: Backend,
  seed = 1,
): { leaves: Tensor[]; args: Tensor[] } {
  const rng = new Rng(seed);
  const leaves = c.inputs.map((s) => {
    const n = s.shape.reduce((p, d) => p * d, 1);
    if (s.int) {
      const [lo, hi] = s.int;
      const v = s.values
        ? Int32Array.from(s.values)
        : Int32Array.from({ length: n }, () => lo + rng.int(hi - lo));
      return tensor(v, s.shape, { backend, dtype: "i32" });
    }
    let v: Float32Array;
    if (s.values) v = Float32Array.from(s.values);
    else if (s.distinct) {
      const perm = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      v = Float32Array.from(perm, (p) => (p - n / 2) * 0.37 + 0.01);
    } else if (s.range) {
      const [lo, hi] = s.range;
      v = Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
    } else v = Float32Array.from({ length: n }, () => rng.normal());
    const t = tensor(v, s.shape, { backend });
    if (c.grad !== false && !s.noGrad) t.requireGrad();
    return t;
  });
  const args = leaves.map((t, i) => c.inputs[i].view?.(t) ?? t);
  return { leaves, args };
}

const T = (t: Tensor) => ops.transpose(t, -2, -1);
const every2 = (axis: number) => (t: Tensor) => ops.slice(t, axis, 0, undefined, 2);

/** Every op case. */
export function opCases(): OpCase[] {
  const unary = [
    "neg",
    "abs",
    "exp",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "silu",
    "square",
  ] as const;
  const cases: OpCase[] = [];
  for (const op of unary) {
    cases.push({
      name: `${op} [3,5]ᵀ`,
      inputs: [{ shape: [5, 3], view: T, distinct: op === "abs" || op === "relu" }],
      fn: (x) => ops.unaryOp(op, x),
    });
  }
  cases.push(
    { name: "log [7]", inputs: [{ shape: [7], range: [0.5, 3] }], fn: ops.log },
    { name: "sqrt [7]", inputs: [{ shape: [7], range: [0.5, 3] }], fn: ops.sqrt },
    { name: "rsqrt [7]", inputs: [{ shape: [7], range: [0.5, 3] }], fn: ops.rsqrt },
    { name: "reciprocal [7]", inputs: [{ shape: [7], range: [0.5, 3] }], fn: ops.reciprocal },
    {
      name: "gelu tanh [2,13]",
      inputs: [{ shape: [2, 13], range: [-4, 4] }],
      fn: (x) => ops.gelu(x, "tanh"),
    },
    {
      name: "gelu erf [2,13]",
      inputs: [{ shape: [2, 13], range: [-4, 4] }],
      fn: (x) => ops.gelu(x, "none"),
    },
    {
      name: "add broadcast [2,3,5]+[5]",
      inputs: [{ shape: [2, 3, 5] }, { shape: [5] }],
      fn: ops.add,
    },
    {
      name: "sub broadcast [3,1]-[1,4]",
      inputs: [{ shape: [3, 1] }, { shape: [1, 4] }],
      fn: ops.sub,
    },
    {
      name: "mul strided [3,7:2]*[3,4]",
      inputs: [{ shape: [3, 7], view: every2(1) }, { shape: [3, 4] }],
      fn: ops.mul,
    },
    {
      name: "div [4,3]/[3]",
      inputs: [{ shape: [4, 3] }, { shape: [3], range: [0.5, 2] }],
      fn: ops.div,
    },
    {
      name: "pow [5]^[5]",
      inputs: [
        { shape: [5], range: [0.5, 2] },
        { shape: [5], range: [-1, 2] },
      ],
      fn: ops.pow,
    },
    {
      name: "maximum [6] [6]",
      inputs: [
        { shape: [6], distinct: true },
        { shape: [6], range: [-0.5, 0.5] },
      ],
      fn: ops.maximum,
    },
    {
      name: "minimum [2,3] [3]",
      inputs: [
        { shape: [2, 3], distinct: true },
        { shape: [3], range: [-0.5, 0.5] },
      ],
      fn: ops.minimum,
    },
    { name: "mul scalar", inputs: [{ shape: [3, 2] }], fn: (x) => ops.mul(ops.add(x, 2), -0.5) },
    { name: "sign (zero gradient)", inputs: [{ shape: [2, 3], distinct: true }], fn: ops.sign },
    { name: "clamp", inputs: [{ shape: [9], distinct: true }], fn: (x) => ops.clamp(x, -0.5, 0.6) },
    {
      name: "clone of a slice",
      inputs: [{ shape: [4, 6], view: (t) => ops.slice(t, 0, 1, 3) }],
      fn: (x) => ops.mul(ops.clone(x), x),
    },
    { name: "compare gt", inputs: [{ shape: [4, 3] }, { shape: [3] }], fn: ops.gt, grad: false },
    {
      name: "i32 add/mul",
      inputs: [
        { shape: [5], int: [-5, 5] },
        { shape: [5], int: [-5, 5] },
      ],
      fn: (a, b) => ops.mul(ops.add(a, b), b),
      grad: false,
    },
    {
      name: "where",
      inputs: [{ shape: [3, 4], int: [0, 2] }, { shape: [3, 4] }, { shape: [4] }],
      fn: (c, a, b) => ops.where(c, a, b),
    },
    {
      name: "maskedFill",
      inputs: [{ shape: [3, 4] }, { shape: [1, 4], int: [0, 2] }],
      fn: (x, m) => ops.maskedFill(x, m, -2),
    },
    { name: "sum all", inputs: [{ shape: [3, 5] }], fn: (x) => ops.sum(x) },
    {
      name: "sum axes [0,2] of [2,3,5]ᵀ",
      inputs: [{ shape: [2, 5, 3], view: T }],
      fn: (x) => ops.sum(x, [0, 2]),
    },
    { name: "mean axis 1 keepdim", inputs: [{ shape: [3, 7] }], fn: (x) => ops.mean(x, 1, true) },
    { name: "max axis -1", inputs: [{ shape: [4, 5], distinct: true }], fn: (x) => ops.max(x, -1) },
    { name: "min axis 0", inputs: [{ shape: [4, 5], distinct: true }], fn: (x) => ops.min(x, 0) },
    {
      name: "argmax",
      inputs: [{ shape: [3, 7], distinct: true }],
      fn: (x) => ops.argmax(x, 1),
      grad: false,
    },
    { name: "logsumexp", inputs: [{ shape: [3, 6] }], fn: (x) => ops.logsumexp(x, 1) },
    { name: "variance", inputs: [{ shape: [3, 6] }], fn: (x) => ops.variance(x, 1) },
    { name: "matmul [1,7]@[7,1]", inputs: [{ shape: [1, 7] }, { shape: [7, 1] }], fn: ops.matmul },
    { name: "matmul [5,3]@[3,7]", inputs: [{ shape: [5, 3] }, { shape: [3, 7] }], fn: ops.matmul },
    {
      name: "matmul transposed operands",
      inputs: [
        { shape: [3, 5], view: T },
        { shape: [7, 3], view: T },
      ],
      fn: ops.matmul,
    },
    {
      name: "matmul batch broadcast [2,1,3,4]@[3,4,5]",
      inputs: [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 5] }],
      fn: ops.matmul,
    },
    {
      name: "matmul [2,3,4]@[4,5] (folded)",
      inputs: [{ shape: [2, 3, 4] }, { shape: [4, 5] }],
      fn: ops.matmul,
    },
    { name: "matmul vector", inputs: [{ shape: [4] }, { shape: [4, 3] }], fn: ops.matmul },
    {
      name: "linear",
      inputs: [{ shape: [2, 3, 5] }, { shape: [4, 5] }, { shape: [4] }],
      fn: (x, w, b) => ops.linear(x, w, b),
    },
    // f16 storage: casts round to nearest even; matmul and indexSelect read f16 operands
    // directly (odd sizes and offsets split the packed pairs of the WebGPU backend).
    {
      name: "f16 round trip [3,7]",
      inputs: [{ shape: [3, 7], range: [-3, 3] }],
      fn: (x) => x.half().float(),
      grad: false,
      tol: 0,
    },
    {
      name: "f16 of a transposed slice, made contiguous",
      inputs: [{ shape: [5, 6], view: (t) => T(ops.slice(t, 0, 1)) }],
      fn: (x) => x.half().contiguous().float(),
      grad: false,
    },
    {
      name: "f16 concat at odd offsets",
      inputs: [{ shape: [3, 3] }, { shape: [3, 2] }],
      fn: (a, b) => ops.concat([a.half(), b.half()], 1).float(),
      grad: false,
    },
    {
      name: "f16 + f32 computes in f32",
      inputs: [{ shape: [2, 5] }, { shape: [5], noGrad: true }],
      fn: (a, b) => ops.add(ops.tanh(a), b.half()),
    },
    {
      name: "linear, f16 weight (matvec rows)",
      inputs: [{ shape: [1, 2, 19] }, { shape: [11, 19], noGrad: true }],
      fn: (x, w) => ops.linear(x, w.half()),
    },
    {
      name: "matmul f32 @ f16 [9,13]@[13,37]",
      inputs: [{ shape: [9, 13] }, { shape: [13, 37], noGrad: true }],
      fn: (x, w) => ops.matmul(x, w.half()),
    },
    {
      name: "matmul f16ᵀ @ f32 batched",
      inputs: [{ shape: [2, 7, 5], noGrad: true }, { shape: [2, 7, 3] }],
      fn: (a, b) => ops.matmul(T(a.half()), b),
    },
    {
      name: "embedding, f16 table",
      inputs: [
        { shape: [7, 5], noGrad: true },
        { shape: [2, 3], int: [0, 7] },
      ],
      fn: (table, ids) => ops.add(ops.embedding(table.half(), ids), 0.5),
      grad: false,
    },
    { name: "softmax last [3,7]", inputs: [{ shape: [3, 7] }], fn: (x) => ops.softmax(x) },
    { name: "softmax axis 0 [5,3]", inputs: [{ shape: [5, 3] }], fn: (x) => ops.softmax(x, 0) },
    {
      name: "logSoftmax [2,3,5]ᵀ",
      inputs: [{ shape: [2, 5, 3], view: T }],
      fn: (x) => ops.logSoftmax(x),
    },
    {
      name: "crossEntropy mean with ignoreIndex",
      inputs: [{ shape: [5, 7] }, { shape: [5], int: [0, 7], values: [3, -100, 0, 6, 2] }],
      fn: (x, t) => ops.crossEntropy(x, t),
    },
    {
      name: "crossEntropy none [2,3,5]",
      inputs: [{ shape: [2, 3, 5] }, { shape: [2, 3], int: [0, 5] }],
      fn: (x, t) => ops.crossEntropy(x, t, { reduction: "none" }),
    },
    {
      name: "layerNorm [3,7]",
      inputs: [{ shape: [3, 7] }, { shape: [7] }, { shape: [7] }],
      fn: (x, w, b) => ops.layerNorm(x, w, b),
    },
    {
      name: "layerNorm no affine, strided",
      inputs: [{ shape: [4, 10], view: every2(1) }],
      fn: (x) => ops.layerNorm(x),
    },
    {
      name: "rmsNorm [2,3,5]",
      inputs: [{ shape: [2, 3, 5] }, { shape: [5] }],
      fn: (x, w) => ops.rmsNorm(x, w),
    },
    {
      name: "rope, x permuted (from [B,T,H,D]), cos / sin shared by the heads",
      inputs: [
        { shape: [2, 5, 3, 6], view: (t) => ops.permute(t, [0, 2, 1, 3]) },
        { shape: [2, 1, 5, 3], noGrad: true },
        { shape: [2, 1, 5, 3], noGrad: true },
      ],
      fn: (x, c, s) => ops.rope(x, c, s),
    },
    {
      name: "rope [3,8], one cos / sin row per x row",
      inputs: [{ shape: [3, 8] }, { shape: [3, 4], noGrad: true }, { shape: [3, 4], noGrad: true }],
      fn: (x, c, s) => ops.rope(x, c, s),
    },
    {
      name: "embedding",
      inputs: [{ shape: [7, 3] }, { shape: [2, 4], int: [0, 7], values: [1, 3, 3, 0, 6, 1, 2, 2] }],
      fn: (w, ids) => ops.embedding(w, ids),
    },
    {
      name: "indexSelect axis 1",
      inputs: [{ shape: [3, 5, 2] }, { shape: [4], int: [0, 5], values: [4, 0, 4, 2] }],
      fn: (x, i) => ops.indexSelect(x, 1, i),
    },
    {
      name: "indexAdd axis 0",
      inputs: [
        { shape: [5, 3] },
        { shape: [4], int: [0, 5], values: [1, 1, 4, 0] },
        { shape: [4, 3] },
      ],
      fn: (x, i, s) => ops.indexAdd(x, 0, i, s),
    },
    {
      name: "concat axis 1",
      inputs: [{ shape: [2, 3] }, { shape: [2, 5], view: every2(1) }, { shape: [2, 1] }],
      fn: (a, b, c) => ops.concat([a, b, c], 1),
    },
    {
      name: "split + stack",
      inputs: [{ shape: [6, 2] }],
      fn: (x) =>
        ops.stack(
          ops.split(x, [1, 2, 3], 0).map((p) => ops.sum(p, 0)),
          0,
        ),
    },
    {
      name: "reshape of transposed",
      inputs: [{ shape: [3, 4], view: T }],
      fn: (x) => ops.mul(ops.reshape(x, [2, 6]), ops.reshape(x, [2, 6])),
    },
    {
      name: "expand",
      inputs: [{ shape: [3, 1] }],
      fn: (x) => ops.mul(ops.expand(x, [2, 3, 4]), 3),
    },
    {
      name: "permute",
      inputs: [{ shape: [2, 3, 4] }],
      fn: (x) => ops.exp(ops.permute(x, [2, 0, 1])),
    },
    {
      name: "conv2d stride 2 pad 1 bias",
      inputs: [{ shape: [2, 3, 7, 5] }, { shape: [4, 3, 3, 3] }, { shape: [4] }],
      fn: (x, w, b) => ops.conv2d(x, w, b, { stride: 2, padding: 1 }),
    },
    {
      name: "conv2d groups 2 dilation 2",
      inputs: [{ shape: [1, 4, 6, 6] }, { shape: [2, 2, 2, 2] }],
      fn: (x, w) => ops.conv2d(x, w, null, { groups: 2, dilation: 2 }),
    },
    {
      name: "maxPool2d 2",
      inputs: [{ shape: [2, 2, 5, 4], distinct: true }],
      fn: (x) => ops.maxPool2d(x, 2),
    },
    {
      name: "maxPool2d 3 stride 2 pad 1",
      inputs: [{ shape: [1, 2, 7, 6], distinct: true }],
      fn: (x) => ops.maxPool2d(x, 3, { stride: 2, padding: 1 }),
    },
    {
      name: "avgPool2d 2 stride 1",
      inputs: [{ shape: [1, 3, 5, 5] }],
      fn: (x) => ops.avgPool2d(x, 2, { stride: 1 }),
    },
    {
      name: "attention causal",
      inputs: [{ shape: [1, 2, 5, 3] }, { shape: [1, 2, 5, 3] }, { shape: [1, 2, 5, 3] }],
      fn: (q, k, v) => ops.attention(q, k, v, { causal: true }),
    },
    {
      name: "attention GQA, Tq≠Tk, causal, padding mask",
      inputs: [
        { shape: [2, 4, 3, 4] },
        { shape: [2, 2, 7, 4] },
        { shape: [2, 2, 7, 5] },
        {
          shape: [2, 1, 1, 7],
          noGrad: true,
          values: [0, 0, 0, 0, 0, 0, 0, -1e9, 0, 0, 0, 0, 0, 0],
        },
      ],
      fn: (q, k, v, m) => ops.attention(q, k, v, { causal: true, mask: m }),
    },
    {
      name: "attention non-contiguous q (from [B,T,H,D])",
      inputs: [
        { shape: [1, 3, 2, 4], view: (t) => ops.permute(t, [0, 2, 1, 3]) },
        { shape: [1, 2, 3, 4] },
        { shape: [1, 2, 3, 4] },
      ],
      fn: (q, k, v) => ops.attention(q, k, v, { scale: 0.7 }),
    },
    {
      name: "attention, f16 keys / values (a KV cache's prefix), GQA, causal, mask",
      inputs: [
        { shape: [2, 4, 3, 4] },
        { shape: [2, 2, 9, 4] },
        { shape: [2, 2, 9, 5] },
        {
          shape: [2, 1, 1, 7],
          values: [0, 0, 0, 0, 0, 0, 0, -1e9, 0, 0, 0, 0, 0, 0],
        },
      ],
      fn: (q, k, v, m) =>
        ops.attention(q, ops.slice(k.half(), 2, 0, 7), ops.slice(v.half(), 2, 0, 7), {
          causal: true,
          mask: m,
        }),
      grad: false,
    },
    {
      name: "attention decode step, f16 keys / values",
      inputs: [{ shape: [1, 4, 1, 8] }, { shape: [1, 2, 10, 8] }, { shape: [1, 2, 10, 8] }],
      fn: (q, k, v) =>
        ops.attention(q, ops.slice(k.half(), 2, 0, 5), ops.slice(v.half(), 2, 0, 5), {
          causal: true,
        }),
      grad: false,
    },
  );
  return cases;
}
