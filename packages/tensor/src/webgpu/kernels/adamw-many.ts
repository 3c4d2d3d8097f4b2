/**
 * AdamW for several parameters in one kernel (see `Backend.adamwMany`). A training step updates
 * every parameter tensor, and one dispatch each (76 for the GPT-2 bench model) costs recording
 * time; bindings cannot be indexed dynamically in WGSL, so a kernel takes a fixed number of
 * parameters (each with its gradient and two moments: four bindings), one unrolled branch per
 * parameter, and the invocations cover their elements end to end. The arithmetic is the
 * single-parameter kernel's, expression for expression (the same values, up to how a shader
 * compiler contracts them into FMAs).
 */

import type { AdamWParams, View } from "../../backend.js";
import type { GpuStorage, Runtime } from "../runtime.js";
import { bindings, entry, f32Bits, grid, MATH } from "../wgsl.js";

const WG = 256;

/** One parameter's update: contiguous f32 views of the parameter, its gradient and moments. */
export interface AdamWUpdate {
  param: View;
  grad: View;
  m: View;
  v: View;
}

/** The hyper-parameter words both AdamW kernels take (f32 bits). */
export function adamwWords(h: AdamWParams): number[] {
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  return [1 - h.lr * h.weightDecay, h.beta1, h.beta2, h.lr / bc1, Math.sqrt(bc2), h.eps].map(
    f32Bits,
  );
}

/**
 * Records the updates of `group` (at most `maxParams(rt)` of them; contiguous, distinct
 * storages) as one dispatch. `live` recomputes the hyper-parameter words at each replay of a
 * capture (they are the parameters' last words).
 */
export function adamwMany(
  rt: Runtime,
  group: readonly AdamWUpdate[],
  words: number[],
  live?: () => number[],
): void {
  const k = group.length;
  const size = (v: View) => v.shape.reduce((a, b) => a * b, 1);
  const ends: number[] = [];
  let total = 0;
  for (const u of group) {
    total += size(u.param);
    ends.push(total);
  }
  if (total === 0) return;
  // P: total, k ends, 4k offsets, then the 6 hyper-parameter words at H.
  const H = 1 + k + 4 * k;
  const names = (j: number) => [`P${j}`, `G${j}`, `M${j}`, `V${j}`];
  rt.dispatch({
    key: `adamw-many:${k}`,
    wgsl: () => {
      const branches = group.map((_, j) => {
        const [p, g, m, v] = names(j);
        const o = 1 + k + 4 * j;
        return `${j === 0 ? "" : " else "}if (gi < P[${1 + j}]) {
    let i = gi - ${j === 0 ? "0u" : `P[${j}]`};
    let a0 = ${p}[P[${o}u] + i]; let a1 = ${g}[P[${o + 1}u] + i];
    let a2 = ${m}[P[${o + 2}u] + i]; let a3 = ${v}[P[${o + 3}u] + i];
    let g = a1;
    let m = b1 * a2 + (1.0 - b1) * g;
    let v = b2 * a3 + (1.0 - b2) * g * g;
    ${p}[P[${o}u] + i] = a0 * pf(E) - pf(E + 3u) * m / (sqrt(v) / pf(E + 4u) + pf(E + 5u));
    ${m}[P[${o + 2}u] + i] = m;
    ${v}[P[${o + 3}u] + i] = v;
  }`;
      });
      return `${bindings(
        group.flatMap((_, j) =>
          names(j).map((name, r) => ({ name, type: "f32", access: r === 1 ? "r" : "rw" }) as const),
        ),
      )}
${MATH}
${entry(WG)}
  if (gi >= P[0]) { return; }
  let E = ${H}u;
  let b1 = pf(E + 1u); let b2 = pf(E + 2u);
  ${branches.join("")}
}`;
    },
    buffers: group.flatMap((u) =>
      [u.param, u.grad, u.m, u.v].map((view, r) => ({
        buffer: (view.storage as GpuStorage).buffer,
        access: r === 1 ? ("r" as const) : ("rw" as const),
      })),
    ),
    params: [
      total,
      ...ends,
      ...group.flatMap((u) => [u.param.offset, u.grad.offset, u.m.offset, u.v.offset]),
      ...words,
    ],
    groups: grid(Math.ceil(total / WG)),
    live,
  });
}

/** Parameters one kernel can take on this device (four bindings each, after the parameters'). */
export function maxParams(rt: Runtime): number {
  return Math.max(1, Math.floor((rt.device.limits.maxStorageBuffersPerShaderStage - 1) / 4));
}
