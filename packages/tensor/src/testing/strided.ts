/**
 * A host oracle for kernels that take strided operands directly (matmul, matvec): operands as
 * (shape, strides, offset) over a flat array, and an f64 batched matmul over them.
 */

/** A strided view over a flat host array. */
export interface StridedOperand {
  shape: number[];
  strides: number[];
  offset: number;
}

/** Row-major strides for `shape`, starting at `offset`. */
export function rowMajor(shape: number[], offset = 0): StridedOperand {
  return {
    shape,
    strides: shape.map((_, i) => shape.slice(i + 1).reduce((p, d) => p * d, 1)),
    offset,
  };
}

/** The logical [..., r, c] operand stored transposed (column-major in its last two axes). */
export function transposedLast2(shape: number[], offset = 0): StridedOperand {
  const n = shape.length;
  const stored = rowMajor([...shape.slice(0, -2), shape[n - 1], shape[n - 2]], offset);
  return {
    shape,
    strides: [...stored.strides.slice(0, -2), stored.strides[n - 1], stored.strides[n - 2]],
    offset,
  };
}

/** Elements a strided operand spans in its storage (offset included). */
export function stridedSpan(o: StridedOperand): number {
  return o.offset + 1 + o.shape.reduce((s, d, i) => s + (d - 1) * o.strides[i], 0);
}

/**
 * out = a·b in f64 over the last two axes, batch axes broadcast (size-1 axes stay at index 0);
 * out is contiguous [...batch, M, N]. `round` maps every input element first (e.g. to f16).
 */
export function stridedMatmul(
  a: StridedOperand,
  av: ArrayLike<number>,
  b: StridedOperand,
  bv: ArrayLike<number>,
  round: (x: number) => number = (x) => x,
): Float64Array {
  const rank = a.shape.length;
  const [M, K, N] = [a.shape[rank - 2], a.shape[rank - 1], b.shape[rank - 1]];
  const batch = a.shape.slice(0, -2).map((d, i) => Math.max(d, b.shape[i]));
  const nb = batch.reduce((p, d) => p * d, 1);
  const ar = Float64Array.from(av, round);
  const br = Float64Array.from(bv, round);
  const out = new Float64Array(nb * M * N);
  for (let p = 0; p < nb; p++) {
    let [ao, bo, q] = [a.offset, b.offset, p];
    for (let d = batch.length - 1; d >= 0; d--) {
      const i = q % batch[d];
      q = Math.floor(q / batch[d]);
      if (a.shape[d] !== 1) ao += i * a.strides[d];
      if (b.shape[d] !== 1) bo += i * b.strides[d];
    }
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++)
          s +=
            ar[ao + m * a.strides[rank - 2] + k * a.strides[rank - 1]] *
            br[bo + k * b.strides[rank - 2] + n * b.strides[rank - 1]];
        out[(p * M + m) * N + n] = s;
      }
  }
  return out;
}
