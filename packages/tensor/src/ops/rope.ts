/**
 * Rotary position embedding (RoPE) in the `rotate_half` convention of Llama and `transformers`:
 * each row's first and second halves are rotated as pairs (x[i], x[i + D/2]) by the angle whose
 * cos / sin the caller gives. Backends with a `rope` kernel do it in one pass over a strided
 * input (the webgpu backend); others compose it from slices, products and a concat, which
 * gives the same values.
 */

import { attach, needsGrad, noGrad, save } from "../autograd.js";
import type { Tensor } from "../tensor.js";
import { add, mul, neg, sub } from "./elementwise.js";
import { concat, slice } from "./shape.js";
import {
  broadcastShapes,
  broadcastView,
  empty,
  fmtShape,
  requireDType,
  sameBackend,
} from "./util.js";

/**
 * RoPE of x [..., D] (D even): out[..., i] = x[..., i]·cos[..., i] − x[..., i + D/2]·sin[..., i]
 * and out[..., i + D/2] = x[..., i + D/2]·cos[..., i] + x[..., i]·sin[..., i], for i < D/2.
 * `cos` and `sin` have x's shape with the last axis halved, or one that broadcasts to it (e.g.
 * [B, 1, T, D/2] for x [B, H, T, D]: one row per position, shared by the heads). They are
 * constants: gradients flow to x only (the inverse rotation of the output's gradient).
 */
export function rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const op = "rope";
  requireDType(op, x, "f32");
  requireDType(op, cos, "f32", "cos");
  requireDType(op, sin, "f32", "sin");
  const D = x.shape[x.rank - 1];
  if (x.rank === 0 || D % 2 !== 0) {
    throw new Error(`${op}: x's last axis must have an even size, got x ${fmtShape(x.shape)}`);
  }
  const half = [...x.shape.slice(0, -1), D / 2];
  for (const [what, t] of [
    ["cos", cos],
    ["sin", sin],
  ] as const) {
    const b = broadcastShapes(op, t.shape, half);
    if (b.length !== half.length || b.some((d, i) => d !== half[i])) {
      throw new Error(
        `${op}: ${what} ${fmtShape(t.shape)} does not broadcast to ${fmtShape(half)} (x ${fmtShape(x.shape)} with its last axis halved)`,
      );
    }
  }
  sameBackend(op, x, cos, sin);
  const out = rotate(x, cos, sin, false, half);
  if (needsGrad(x)) {
    const sc = save(cos, op);
    const ss = save(sin, op);
    attach(op, [x], [out], ([g]) => [rotate(g, sc.get(), ss.get(), true, half)], [sc, ss]);
  }
  return out;
}

/** The rotation (or its inverse), without recording a graph. */
function rotate(
  x: Tensor,
  cos: Tensor,
  sin: Tensor,
  inverse: boolean,
  half: readonly number[],
): Tensor {
  const op = "rope";
  const backend = x.backend;
  if (backend.rope) {
    const out = empty(x.shape, "f32", backend, op);
    backend.rope(
      x._view(op),
      broadcastView(cos, half, op),
      broadcastView(sin, half, op),
      out._view(op),
      inverse,
    );
    return out;
  }
  return noGrad(() => {
    const h = half[half.length - 1];
    const axis = x.rank - 1;
    const x1 = slice(x, axis, 0, h);
    const x2 = slice(x, axis, h, 2 * h);
    const s = inverse ? neg(sin) : sin;
    const parts = [mul(x1, cos), mul(x2, s), mul(x2, cos), mul(x1, s)];
    const lo = sub(parts[0], parts[1]);
    const hi = add(parts[2], parts[3]);
    const out = concat([lo, hi], axis);
    for (const t of [x1, x2, ...parts, lo, hi]) t.dispose();
    if (s !== sin) s.dispose();
    return out;
  });
}
