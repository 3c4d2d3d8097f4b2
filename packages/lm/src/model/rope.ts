/**
 * Rotary position embeddings as `transformers` computes them (float32 inverse frequencies,
 * default / linear / llama3 scaling), with cos / sin tables grown on demand.
 */

import { ops, type Tensor, tensor } from "@athanor/tensor";
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
  private rows = 0;
  readonly half: number;

  constructor(readonly invFreq: Float32Array) {
    this.half = invFreq.length;
  }

  private grow(n: number): void {
    if (n <= this.rows) return;
    const rows = Math.max(n, this.rows * 2, 64);
    const h = this.half;
    const cos = new Float32Array(rows * h);
    const sin = new Float32Array(rows * h);
    cos.set(this.cos);
    sin.set(this.sin);
    for (let p = this.rows; p < rows; p++) {
      for (let i = 0; i < h; i++) {
        const a = f(p * this.invFreq[i]);
        cos[p * h + i] = Math.cos(a);
        sin[p * h + i] = Math.sin(a);
      }
    }
    this.cos = cos;
    this.sin = sin;
    this.rows = rows;
  }

  /** cos and sin [B, 1, T, headDim / 2] for positions [B·T] (row-major [B, T]). */
  gather(positions: Int32Array, B: number, T: number): [Tensor, Tensor] {
    let max = 0;
    for (const p of positions) max = Math.max(max, p);
    this.grow(max + 1);
    const h = this.half;
    const cos = new Float32Array(B * T * h);
    const sin = new Float32Array(B * T * h);
    for (let i = 0; i < positions.length; i++) {
      const p = positions[i];
      cos.set(this.cos.subarray(p * h, p * h + h), i * h);
      sin.set(this.sin.subarray(p * h, p * h + h), i * h);
    }
    return [tensor(cos, [B, 1, T, h]), tensor(sin, [B, 1, T, h])];
  }
}

/** Applies RoPE (`rotate_half` convention) to x [B, H, T, D] with cos / sin [B, 1, T, D/2]. */
export function applyRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const D = x.shape[3];
  const h = D / 2;
  const x1 = ops.slice(x, 3, 0, h);
  const x2 = ops.slice(x, 3, h, D);
  return ops.concat(
    [ops.sub(ops.mul(x1, cos), ops.mul(x2, sin)), ops.add(ops.mul(x2, cos), ops.mul(x1, sin))],
    3,
  );
}
