/** Shape helpers for the cpu kernels: merging axes so strided loops run as few, long rows. */

/**
 * Drops size-1 axes and merges neighbouring axes that are contiguous with each other in every
 * operand, so e.g. a contiguous [8, 64, 384] tensor becomes one row of 196608 elements and a
 * bias broadcast over [B, T, D] becomes [B·T, D] with strides [0, 1]. Always returns rank ≥ 1.
 */
export function collapse(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d];
    if (size === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, j) => outStrides[j][last] === s[d] * size)) {
      outShape[last] *= size;
      for (let j = 0; j < strides.length; j++) outStrides[j][last] = strides[j][d];
      continue;
    }
    outShape.push(size);
    for (let j = 0; j < strides.length; j++) outStrides[j].push(strides[j][d]);
  }
  if (outShape.length === 0) {
    outShape.push(1);
    for (const s of outStrides) s.push(1);
  }
  return { shape: outShape, strides: outStrides };
}

/** Splits [0, n) into at most `parts` contiguous ranges of near-equal size (multiples of `align`). */
export function splitRange(n: number, parts: number, align = 1): [number, number][] {
  const out: [number, number][] = [];
  if (n <= 0) return out;
  const chunk = Math.ceil(n / parts / align) * align;
  for (let s = 0; s < n; s += chunk) out.push([s, Math.min(n, s + chunk)]);
  return out;
}

/** Product of a shape's axes. */
export function prod(shape: readonly number[], from = 0, to = shape.length): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i];
  return n;
}
