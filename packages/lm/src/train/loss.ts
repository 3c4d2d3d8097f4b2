/** The causal-LM loss: next-token cross-entropy with ignored (−100) labels, like `transformers`. */

import { ops, type Tensor } from "@athanor/tensor";

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
  const T = logits.shape[1];
  if (T < 2) throw new Error(`causalLMLoss: need at least 2 positions, got ${T}`);
  return ops.crossEntropy(
    ops.slice(logits, 1, 0, T - 1),
    ops.contiguous(ops.slice(labels, 1, 1, T)),
    {
      reduction: options.reduction ?? "mean",
      ignoreIndex: options.ignoreIndex ?? IGNORE_INDEX,
    },
  );
}

/** Number of labels that count toward the loss (labels[:, 1:] ≠ ignore). */
export function countLabelTokens(labels: Tensor, ignoreIndex = IGNORE_INDEX): number {
  const [B, T] = labels.shape;
  const d = labels.data();
  let n = 0;
  for (let b = 0; b < B; b++) for (let t = 1; t < T; t++) if (d[b * T + t] !== ignoreIndex) n++;
  return n;
}
