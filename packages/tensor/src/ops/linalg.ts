/** Matrix multiplication (batched, broadcasting) and `linear`. */

import { attach, needsGrad, save } from "../autograd.js";
import type { Tensor } from "../tensor.js";
import { add } from "./elementwise.js";
import { reshape, squeeze, sumTo, transpose, unsqueeze } from "./shape.js";
import {
  broadcastShapes,
  broadcastView,
  empty,
  fmtShape,
  requireDType,
  sameBackend,
} from "./util.js";

/** Matmul operands are f32, or f16 (weights stored in half precision): the product is f32. */
function requireFloat(op: string, t: Tensor, what: string): void {
  if (t.dtype !== "f16") requireDType(op, t, "f32", what);
}

/**
 * Matrix product with NumPy / PyTorch semantics: 1-D operands are promoted (and the added
 * axis removed), batch axes broadcast. [.., M, K] @ [.., K, N] → [.., M, N]. Either operand
 * may be f16 (read as f32, no copy); the product is always f32.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const op = "matmul";
  requireFloat(op, a, "a");
  requireFloat(op, b, "b");
  if (a.rank === 0 || b.rank === 0)
    throw new Error(`${op}: operands must have rank ≥ 1, got ${a.describe()} and ${b.describe()}`);
  if (a.rank === 1) return squeeze(matmul(unsqueeze(a, 0), b), b.rank === 1 ? -1 : -2);
  if (b.rank === 1) return squeeze(matmul(a, unsqueeze(b, 1)), -1);
  const K = a.shape[a.rank - 1];
  if (b.shape[b.rank - 2] !== K) {
    throw new Error(`${op}: inner dimensions differ: ${a.describe()} @ ${b.describe()}`);
  }
  // A batched activation times a plain matrix is one large 2-D product (and its weight
  // gradient a single product instead of a batch of them summed afterwards).
  if (b.rank === 2 && a.rank > 2) {
    const lead = a.shape.slice(0, -1);
    const out2 = matmul(reshape(a, [-1, K]), b);
    return reshape(out2, [...lead, b.shape[1]]);
  }
  const backend = sameBackend(op, a, b);
  const M = a.shape[a.rank - 2];
  const N = b.shape[b.rank - 1];
  let batch: number[];
  try {
    batch = broadcastShapes(op, a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    throw new Error(
      `${op}: batch dimensions of ${a.describe()} and ${b.describe()} cannot be broadcast`,
    );
  }
  const out = empty([...batch, M, N], "f32", backend, op);
  backend.matmul(
    broadcastView(a, [...batch, M, K], op),
    broadcastView(b, [...batch, K, N], op),
    out._view(op),
  );
  if (needsGrad(a, b)) {
    const sa = save(a, op);
    const sb = save(b, op);
    const as = a.shape;
    const bs = b.shape;
    attach(
      op,
      [a, b],
      [out],
      ([g]) => [
        a.requiresGrad ? sumTo(matmul(g, transpose(sb.get())), as) : null,
        b.requiresGrad ? sumTo(gradOfB(sa.get(), sb.get(), g), bs) : null,
      ],
      [sa, sb],
    );
  }
  return out;
}

/**
 * The gradient of b in a·b: aᵀ·g, computed in b's memory layout. A 2-D b stored column-major
 * (`linear`'s transposed weight) gets (gᵀ·a)ᵀ, the same sums in the same order, so the
 * weight's gradient arrives contiguous instead of as a transposed view that the engine would
 * copy before accumulating it.
 */
function gradOfB(a: Tensor, b: Tensor, g: Tensor): Tensor {
  if (b.rank === 2 && a.rank === 2 && b.strides[0] === 1 && b.strides[1] !== 1) {
    return transpose(matmul(transpose(g), a));
  }
  return matmul(transpose(a), g);
}

/** `x @ weightᵀ + bias` with weight [out, in] (PyTorch `nn.Linear` layout). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.rank !== 2 || x.shape[x.rank - 1] !== weight.shape[1]) {
    throw new Error(
      `linear: input ${x.describe()} does not match weight ${weight.describe()} ([out, in])`,
    );
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new Error(`linear: bias ${bias.describe()} must be ${fmtShape([weight.shape[0]])}`);
  }
  const y = matmul(x, transpose(weight));
  return bias ? add(y, bias) : y;
}
