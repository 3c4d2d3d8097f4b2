/**
 * Concatenation in one kernel: out [outer, total, inner] (contiguous) from up to
 * {@link maxConcatSources} contiguous sources [outer, len_k, inner], each placed at `start_k`
 * along the axis. One invocation per output element picks its source by position, so a concat
 * of k tensors is one dispatch instead of k copies (autograd's `split` backward concatenates
 * q, k and v's gradients in every attention layer).
 */

import type { View } from "../../backend.js";
import type { GpuStorage, Runtime } from "../runtime.js";
import { bindings, entry, grid, wgslType } from "../wgsl.js";

const WG = 256;

/** One source: a contiguous view and where it starts along the concatenated axis. */
export interface ConcatSource {
  view: View;
  start: number;
}

/** Sources one kernel takes: every storage binding but the parameters' and the output's. */
export function maxConcatSources(rt: Runtime): number {
  return Math.max(1, Math.min(8, rt.device.limits.maxStorageBuffersPerShaderStage - 2));
}

/**
 * Writes the part of `out` (contiguous, f32 or i32; `axis` of it has `total` positions) that
 * `sources` cover; the rest of `out` is left as it is.
 */
export function concatKernel(
  rt: Runtime,
  sources: readonly ConcatSource[],
  axis: number,
  out: View,
): void {
  let size = 1;
  for (const d of out.shape) size *= d;
  if (size === 0 || sources.length === 0) return;
  let inner = 1;
  for (const d of out.shape.slice(axis + 1)) inner *= d;
  const total = out.shape[axis];
  const t = wgslType(out.storage.dtype);
  const n = sources.length;
  // source k's words: P[4 + 3k] start, P[5 + 3k] length along the axis, P[6 + 3k] offset
  const pick = sources
    .map(
      (_, k) => `if (a >= P[${4 + 3 * k}u] && a < P[${4 + 3 * k}u] + P[${5 + 3 * k}u]) {
    O[P[3] + gi] = S${k}[P[${6 + 3 * k}u] + (o * P[${5 + 3 * k}u] + a - P[${4 + 3 * k}u]) * inner + i];
  }`,
    )
    .join(" else ");
  rt.dispatch({
    key: `concat:${n}:${t}`,
    wgsl: () => `${bindings([
      ...sources.map((_, k) => ({ name: `S${k}`, type: t, access: "r" as const })),
      { name: "O", type: t, access: "rw" as const },
    ])}
${entry(WG)}
  if (gi >= P[0]) { return; }
  let inner = P[1];
  let i = gi % inner;
  let a = (gi / inner) % P[2];
  let o = gi / (inner * P[2]);
  ${pick}
}`,
    buffers: [
      ...sources.map((s) => ({
        buffer: (s.view.storage as GpuStorage).buffer,
        access: "r" as const,
      })),
      { buffer: (out.storage as GpuStorage).buffer, access: "rw" as const },
    ],
    params: [
      size,
      inner,
      total,
      out.offset,
      ...sources.flatMap((s) => [s.start, s.view.shape[axis], s.view.offset]),
    ],
    groups: grid(Math.ceil(size / WG)),
  });
}
