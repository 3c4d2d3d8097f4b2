/** The causal-LM loss: next-token cross-entropy with ignored (−100) labels, like `transformers`. */

import { full, ops, type Tensor } from "@athanor/tensor";

export const IGNORE_INDEX = -100;

export interface CausalLMLossOptions {
  /** "mean" over counted tokens (default, `transformers`' loss) or "sum". */
  reduction?: "mean" | "sum";
  ignoreIndex?: number;
}

/**
 * Loss of logits [B, T, V] against labels [B, T] (i32): position t predicts label t + 1;
 * labels equal to `ignoreIndex` (−100: prompt tokens, padding) do not count.
 */
export function causalLMLoss(
  logits: Tensor,
  labels: Tensor,
  options: CausalLMLossOptions = {},
): Tensor {
  if (
    logits.rank !== 3 ||
    labels.rank !== 2 ||
    labels.dtype !== "i32" ||
    logits.shape[0] !== labels.shape[0] ||
    logits.shape[1] !== labels.shape[1]
  )
    throw new Error(
      `causalLMLoss: logits ${logits.describe()} and labels ${labels.describe()} must be [B, T, V] and i32 [B, T]`,
    );
  const [B, T] = labels.shape;
  if (T < 2) throw new Error(`causalLMLoss: need at least 2 positions, got ${T}`);
  // Shift the labels rather than the logits (as transformers 5 does): targets[t] = labels[t+1],
  // the last position ignored, so the [B, T, V] logits are used in place, never copied.
  const ignore = options.ignoreIndex ?? IGNORE_INDEX;
  const targets = ops.concat(
    [ops.slice(labels, 1, 1, T), full([B, 1], ignore, { dtype: "i32", backend: labels.backend })],
    1,
  );
  const loss = ops.crossEntropy(logits, targets, {
    reduction: options.reduction ?? "mean",
    ignoreIndex: ignore,
  });
  targets.dispose();
  return loss;
}

/**
 * Number of labels that count toward the loss (labels[:, 1:] ≠ ignore), read on the host:
 * batches made by `sftBatch` / `lmBatch` carry it as `labelTokens` already (use that for
 * tensors on a GPU backend).
 */
export function countLabelTokens(labels: Tensor, ignoreIndex = IGNORE_INDEX): number {
  const [B, T] = labels.shape;
  if (!labels.backend.syncRead)
    throw new Error(
      `countLabelTokens: labels are on backend "${labels.backend.name}", which cannot be read ` +
        "synchronously; give the batch its labelTokens count (sftBatch / lmBatch do)",
    );
  const d = labels.data();
  return countIn(d, B, T, ignoreIndex);
}

/** Label tokens of host labels [B, T] (row-major). */
export function countIn(
  d: ArrayLike<number>,
  B: number,
  T: number,
  ignoreIndex = IGNORE_INDEX,
): number {
  let n = 0;
  for (let b = 0; b < B; b++) for (let t = 1; t < T; t++) if (d[b * T + t] !== ignoreIndex) n++;
  return n;
}
