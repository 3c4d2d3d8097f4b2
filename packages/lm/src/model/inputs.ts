/**
 * Turning `ForwardOptions` into what the layers need: the new tokens' positions and the
 * additive attention mask for left padding.
 */

import { type Tensor, tensor } from "@athanor/tensor";
import type { ForwardOptions, HostInput } from "./causal-lm.js";

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
  /** A step decoder's persistent inputs (./step-decoder.ts), or null. */
  decode: DecodeInputs | null;
}

/**
 * What a recorded decode step reads instead of host-derived values: every tensor is written
 * before each step, so a replay sees the new step's values (./step-decoder.ts).
 */
export interface DecodeInputs {
  /** i32 [1]: the cache position this step's keys and values go to. */
  slot: Tensor;
  /** The model's position tensors for this step (`TransformerLM.positionTensors`). */
  positions: PositionTensors;
  /** Attention reads cache positions [0, span): the step's and every one before it. */
  span: number;
}

/** A pass's position-dependent tensors: GPT-2's position ids, Llama's RoPE cos / sin rows. */
export type PositionTensors = Record<string, Tensor>;

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
  const am = options.attentionMask;
  const maskValues = am
    ? Float32Array.from(
        hostValues(am, "attentionMask", [B, total], "batch, cached + new positions"),
      )
    : null;
  let positions: Int32Array;
  if (options.positionIds) {
    const p = options.positionIds;
    if (!Array.isArray(p) && !ArrayBuffer.isView(p) && (p as Tensor).dtype !== "i32")
      throw new Error(`forward: positionIds ${(p as Tensor).describe()} must be i32 [${B}, ${T}]`);
    positions = Int32Array.from(hostValues(p, "positionIds", [B, T], "batch, new positions"));
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
    mask = tensor(add, [B, 1, 1, total], { backend: inputIds.backend });
  }
  return { B, T, past, positions, mask, lastOnly: options.logitsFor === "last", decode: null };
}

/** The values of a host input of shape `shape`, checked; `meaning` names the axes. */
function hostValues(
  x: HostInput,
  name: string,
  shape: [number, number],
  meaning: string,
): ArrayLike<number> {
  const want = `[${shape.join(", ")}] (${meaning})`;
  if (Array.isArray(x) || ArrayBuffer.isView(x)) {
    const values = x as ArrayLike<number>;
    if (values.length !== shape[0] * shape[1])
      throw new Error(`forward: ${name} has ${values.length} values; expected ${want}, row-major`);
    return values;
  }
  const t = x as Tensor;
  if (t.rank !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1])
    throw new Error(`forward: ${name} ${t.describe()} must be ${want}`);
  if (!t.backend.syncRead)
    throw new Error(
      `forward: ${name} is on backend "${t.backend.name}", which cannot be read synchronously; ` +
        "pass it as a host array (Float32Array / Int32Array, row-major) instead",
    );
  return t.data();
}
