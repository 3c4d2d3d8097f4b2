/**
 * Turning `ForwardOptions` into what the layers need: the new tokens' positions and the
 * additive attention mask for left padding.
 */

import { type Tensor, tensor } from "@athanor/tensor";
import type { ForwardOptions } from "./causal-lm.js";

/**
 * Added to the scores of padded keys. Finite (not −∞), like `transformers`' finfo.min, so
 * a padding query whose every key is masked still gets a defined (ignored) output.
 */
export const MASKED = -1e30;

export interface PreparedInputs {
  B: number;
  T: number;
  /** Positions already in the cache. */
  past: number;
  /** Positions of the new tokens, row-major [B, T]. */
  positions: Int32Array;
  /** Additive mask [B, 1, 1, past + T] (0 or MASKED), or null when nothing is padded. */
  mask: Tensor | null;
  /** Logits for the last position only. */
  lastOnly: boolean;
}

export function prepareInputs(
  inputIds: Tensor,
  options: ForwardOptions,
  past: number,
  maxPositions: number,
): PreparedInputs {
  if (inputIds.rank !== 2 || inputIds.dtype !== "i32")
    throw new Error(`forward: inputIds must be an i32 tensor [B, T], got ${inputIds.describe()}`);
  const [B, T] = inputIds.shape;
  if (T === 0) throw new Error("forward: inputIds has no positions (T = 0)");
  const total = past + T;
  let maskValues: Float32Array | null = null;
  const am = options.attentionMask;
  if (am) {
    if (am.rank !== 2 || am.shape[0] !== B || am.shape[1] !== total)
      throw new Error(
        `forward: attentionMask ${am.describe()} must be [${B}, ${total}] (batch, cached + new positions)`,
      );
    const raw = am.data();
    maskValues = raw instanceof Float32Array ? raw : Float32Array.from(raw);
  }
  let positions: Int32Array;
  if (options.positionIds) {
    const p = options.positionIds;
    if (p.rank !== 2 || p.shape[0] !== B || p.shape[1] !== T || p.dtype !== "i32")
      throw new Error(`forward: positionIds ${p.describe()} must be i32 [${B}, ${T}]`);
    positions = Int32Array.from(p.data());
  } else {
    positions = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      if (maskValues) {
        // transformers: cumsum(mask) − 1, pads get position 1 (never used).
        let seen = 0;
        for (let j = 0; j < total; j++) {
          const real = maskValues[b * total + j] !== 0;
          if (real) seen++;
          if (j >= past) positions[b * T + j - past] = real ? seen - 1 : 1;
        }
      } else for (let t = 0; t < T; t++) positions[b * T + t] = past + t;
    }
  }
  for (let i = 0; i < positions.length; i++) {
    if (positions[i] < 0 || positions[i] >= maxPositions)
      throw new Error(
        `forward: position ${positions[i]} is outside the model's ${maxPositions} positions`,
      );
  }
  let mask: Tensor | null = null;
  if (maskValues?.some((v) => v === 0)) {
    const add = new Float32Array(maskValues.length);
    for (let i = 0; i < add.length; i++) add[i] = maskValues[i] === 0 ? MASKED : 0;
    mask = tensor(add, [B, 1, 1, total]);
  }
  return { B, T, past, positions, mask, lastOnly: options.logitsFor === "last" };
}
