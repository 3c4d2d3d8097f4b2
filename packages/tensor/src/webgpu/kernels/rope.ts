/**
 * Rotary position embedding in one pass (see `Backend.rope`): one invocation per (row, i < D/2)
 * pair reads x[i] and x[i + D/2] through x's strides (a head split leaves x permuted), the
 * pair's cos and sin through theirs (broadcast axes have stride 0), and writes both outputs.
 */

import type { View } from "../../backend.js";
import type { GpuStorage, Runtime } from "../runtime.js";
import { bindings, entry, grid } from "../wgsl.js";

const WG = 256;
/** Words of P before the per-axis block: total, h, lead axes, 4 offsets, 3 last-axis strides, inverse. */
const HEAD = 11;

export function rope(
  rt: Runtime,
  x: View,
  cos: View,
  sin: View,
  out: View,
  inverse: boolean,
): void {
  const rank = x.shape.length;
  const h = x.shape[rank - 1] / 2;
  let total = h;
  for (let a = 0; a < rank - 1; a++) total *= x.shape[a];
  if (total === 0) return;
  const axes: number[] = [];
  for (let a = 0; a < rank - 1; a++)
    axes.push(x.shape[a], x.strides[a], cos.strides[a], sin.strides[a]);
  rt.dispatch({
    key: "rope",
    wgsl: () => `${bindings([
      { name: "X", type: "f32", access: "r" },
      { name: "C", type: "f32", access: "r" },
      { name: "S", type: "f32", access: "r" },
      { name: "O", type: "f32", access: "rw" },
    ])}
${entry(WG)}
  if (gi >= P[0]) { return; }
  let h = P[1];
  let i = gi % h;
  var r = gi / h;
  let row = r;
  var xb = P[3];
  var cb = P[4];
  var sb = P[5];
  for (var a = P[2]; a > 0u; a = a - 1u) {
    let w = ${HEAD}u + (a - 1u) * 4u;
    let c = r % P[w];
    r = r / P[w];
    xb = xb + c * P[w + 1u];
    cb = cb + c * P[w + 2u];
    sb = sb + c * P[w + 3u];
  }
  let x1 = X[xb + i * P[7]];
  let x2 = X[xb + (i + h) * P[7]];
  let c = C[cb + i * P[8]];
  let s0 = S[sb + i * P[9]];
  let s = select(s0, -s0, P[10] != 0u);
  let o = P[6] + row * 2u * h + i;
  O[o] = x1 * c - x2 * s;
  O[o + h] = x2 * c + x1 * s;
}`,
    buffers: [
      { buffer: (x.storage as GpuStorage).buffer, access: "r" },
      { buffer: (cos.storage as GpuStorage).buffer, access: "r" },
      { buffer: (sin.storage as GpuStorage).buffer, access: "r" },
      { buffer: (out.storage as GpuStorage).buffer, access: "rw" },
    ],
    params: [
      total,
      h,
      rank - 1,
      x.offset,
      cos.offset,
      sin.offset,
      out.offset,
      x.strides[rank - 1],
      cos.strides[rank - 1],
      sin.strides[rank - 1],
      inverse ? 1 : 0,
      ...axes,
    ],
    groups: grid(Math.ceil(total / WG)),
  });
}
