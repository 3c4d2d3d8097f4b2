/**
 * Rotary position embeddings as `transformers` computes them (float32 inverse frequencies,
 * default / linear / llama3 scaling), with cos / sin tables grown on demand.
 */

import { type Backend, customOp, ops, type Tensor, tensor } from "@athanor/tensor";
import type { RopeScaling } from "./config.js";

const f = Math.fround;

/** Inverse frequencies [headDim / 2] (float32, like `_compute_default_rope_parameters`). */
export function ropeInverseFrequencies(
  headDim: number,
  theta: number,
  scaling: RopeScaling,
): Float32Array {
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = f(1 / f(theta ** f((2 * i) / headDim)));
  if (scaling.type === "linear") {
    for (let i = 0; i < half; i++) inv[i] = f(inv[i] / scaling.factor);
  } else if (scaling.type === "llama3") {
    const { factor, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositions: old } = scaling;
    const lowWavelen = old / lo;
    const highWavelen = old / hi;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowWavelen) inv[i] = f(inv[i] / factor);
      else if (wavelen >= highWavelen) {
        const smooth = (old / wavelen - lo) / (hi - lo);
        inv[i] = f((1 - smooth) * (inv[i] / factor) + smooth * inv[i]);
      }
    }
  }
  return inv;
}

/** cos / sin of position · inverse frequency, per position, grown as longer positions appear. */
export class RopeTables {
  private cos = new Float32Array(0);
  private sin = new Float32Array(0);
  private filled = 0;
  readonly half: number;

  constructor(readonly invFreq: Float32Array) {
    this.half = invFreq.length;
  }

  private grow(n: number): void {
    if (n <= this.filled) return;
    const rows = Math.max(n, this.filled * 2, 64);
    const h = this.half;
    const cos = new Float32Array(rows * h);
    const sin = new Float32Array(rows * h);
    cos.set(this.cos);
    sin.set(this.sin);
    for (let p = this.filled; p < rows; p++) {
      for (let i = 0; i < h; i++) {
        const a = f(p * this.invFreq[i]);
        cos[p * h + i] = Math.cos(a);
        sin[p * h + i] = Math.sin(a);
      }
    }
    this.cos = cos;
    this.sin = sin;
    this.filled = rows;
  }

  /** Host cos / sin rows [B·T, headDim / 2] for positions [B·T] (row-major [B, T]). */
  rows(positions: Int32Array): { cos: Float32Array; sin: Float32Array } {
    let max = 0;
    for (const p of positions) max = Math.max(max, p);
    this.grow(max + 1);
    const h = this.half;
    const cos = new Float32Array(positions.length * h);
    const sin = new Float32Array(positions.length * h);
    for (let i = 0; i < positions.length; i++) {
      const p = positions[i];
      cos.set(this.cos.subarray(p * h, p * h + h), i * h);
      sin.set(this.sin.subarray(p * h, p * h + h), i * h);
    }
    return { cos, sin };
  }
}

/** Host rotation of x [B, H, T, D] (values in logical order); `sign` −1 is the inverse. */
function rotate(
  x: Float32Array,
  shape: readonly number[],
  cos: Float32Array,
  sin: Float32Array,
  sign: number,
): Float32Array {
  const [B, H, T, D] = shape;
  const h = D / 2;
  const out = new Float32Array(x.length);
  for (let b = 0; b < B; b++)
    for (let hd = 0; hd < H; hd++)
      for (let t = 0; t < T; t++) {
        const base = ((b * H + hd) * T + t) * D;
        const r = (b * T + t) * h;
        for (let i = 0; i < h; i++) {
          const c = cos[r + i];
          const s = sign * sin[r + i];
          const x1 = x[base + i];
          const x2 = x[base + h + i];
          out[base + i] = x1 * c - x2 * s;
          out[base + h + i] = x2 * c + x1 * s;
        }
      }
  return out;
}

/** Up to this many elements RoPE runs as one host step (decode); above, as parallel kernels. */
const FUSED_MAX = 1 << 16;

/**
 * The cos / sin rows of one forward pass's positions: host arrays for the host step, and the
 * same as tensors [B, 1, T, D/2] (made once per pass and shared by every layer's q and k, so a
 * GPU pass uploads them once, not twice per layer and projection).
 */
export interface RopeRows {
  /** Host rows, or null when only the tensors exist (a step decoder's). */
  cos: Float32Array | null;
  sin: Float32Array | null;
  cosT: Tensor;
  sinT: Tensor;
}

/** {@link RopeRows} for positions [B·T] (row-major [B, T]) on `backend`. */
export function ropeRows(
  tables: RopeTables,
  positions: Int32Array,
  B: number,
  T: number,
  backend: Backend,
): RopeRows {
  const { cos, sin } = tables.rows(positions);
  const shape = [B, 1, T, tables.half];
  return {
    cos,
    sin,
    cosT: tensor(cos, shape, { backend }),
    sinT: tensor(sin, shape, { backend }),
  };
}

/**
 * Applies RoPE (`rotate_half` convention) to x [B, H, T, D] at the positions of `rows`. Small
 * inputs (decoding) take one host step on backends with synchronous reads (its backward is the
 * inverse rotation), saving kernel launches there; others run `ops.rope` (one kernel on the
 * webgpu backend). Both give the same values.
 */
export function applyRope(x: Tensor, rows: RopeRows, fused = x.size <= FUSED_MAX): Tensor {
  const { cos, sin } = rows;
  if (!fused || !x.backend.readSync || !cos || !sin) return ops.rope(x, rows.cosT, rows.sinT);
  const op = customOp({
    name: "rope",
    forward: (_ctx, t) => tensor(rotate(t.data() as Float32Array, t.shape, cos, sin, 1), t.shape),
    backward: (_ctx, g) => [
      tensor(rotate(g.data() as Float32Array, g.shape, cos, sin, -1), g.shape),
    ],
  });
  return op(x) as Tensor;
}
