/**
 * A 2-D family on which FFDSum uses exactly twice the optimal number of bins.
 *
 * For even k, take k copies of each of three items:
 *
 *     X = (0.55, 0.10)   sum 0.65
 *     P = (0.23, 0.44)   sum 0.67
 *     Q = (0.20, 0.46)   sum 0.66
 *
 * OPT = k: the bin {X, P, Q} has load (0.98, 1.00), so k bins hold everything; and no
 * packing does better, since no two X fit together (0.55 + 0.55 > 1), and also the total
 * size in dimension 2 is exactly k.
 *
 * FFDSum = 2k: sums are distinct, so the order is forced (no tie-breaking involved): all P,
 * then all Q, then all X.
 * - P bins hold two P each, (0.46, 0.88); a third P overflows dimension 2 (1.32). k/2 bins.
 * - No Q fits a P bin (0.88 + 0.46 > 1 in dimension 2); Q bins hold two Q each,
 *   (0.40, 0.92); a third overflows (1.38). k/2 bins.
 * - No X fits a P bin (0.46 + 0.55 = 1.01 in dimension 1), nor a Q bin (0.92 + 0.10 = 1.02
 *   in dimension 2), nor another X bin (1.10): k bins.
 * Total k/2 + k/2 + k = 2k. The optimum puts one P and one Q with each X; FFDSum pairs the
 * P's with each other and the Q's with each other because they come first, and the pairs
 * leave 0.54 of dimension 1 (P bins) or 0.60 of it (Q bins) unused yet still block X: P pairs
 * by 0.01 in dimension 1, Q pairs by 0.02 in dimension 2.
 *
 * For odd k the last P bin holds one P, a Q joins it, and FFDSum uses 2k - 1 bins.
 *
 * Derived for Athanor (see docs/xplain-vbp-sched.md): with one "blocker" item per optimal
 * bin larger than 1/2 in one dimension, the items sorted before it must fill their FFD bins
 * past the blocker's slack in *some* dimension. A single dimension cannot do it (a volume
 * argument gives a strict contradiction), so half of the FFD bins block in dimension 1 and
 * half in dimension 2.
 */
import type { Item } from "./packing.js";

export const FFD_SUM_FAMILY_ITEMS = {
  X: [0.55, 0.1],
  P: [0.23, 0.44],
  Q: [0.2, 0.46],
} as const;

/** The family's instance for `k` (a positive integer): k copies each of X, P, Q (interleaved). */
export function ffdSumTwiceFamily(k: number): Item[] {
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
  const { X, P, Q } = FFD_SUM_FAMILY_ITEMS;
  const items: Item[] = [];
  for (let i = 0; i < k; i++) items.push([...X], [...P], [...Q]);
  return items;
}

/** What the family achieves: OPT = k; FFDSum = 2k for even k, 2k - 1 for odd k. */
export function ffdSumFamilyBins(k: number): { optimal: number; ffdSum: number } {
  return { optimal: k, ffdSum: k % 2 === 0 ? 2 * k : 2 * k - 1 };
}
