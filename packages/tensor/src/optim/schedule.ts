/** Learning-rate schedules and gradient clipping. */

import { noGrad } from "../autograd.js";
import { full } from "../creation.js";
import { add, div, minimum, mul, sqrt, square } from "../ops/elementwise.js";
import { sum } from "../ops/reduce.js";
import { keep, tidy } from "../scope.js";
import type { Tensor } from "../tensor.js";

export interface WarmupCosineOptions {
  /** Peak learning rate (reached at the end of warmup). */
  peak: number;
  /** Linear warmup steps (from peak/warmup at step 1... to peak). */
  warmup: number;
  /** Total steps; after it the rate stays at `min`. */
  total: number;
  /** Final learning rate (default 0). */
  min?: number;
}

/**
 * Linear warmup then cosine decay to `min`: lr(step) for 1-based `step`. Step s ≤ warmup gives
 * peak·s/warmup; then min + (peak − min)·½(1 + cos(π·progress)).
 */
export function warmupCosine(o: WarmupCosineOptions): (step: number) => number {
  const min = o.min ?? 0;
  if (o.total <= o.warmup)
    throw new Error(`warmupCosine: total (${o.total}) must exceed warmup (${o.warmup})`);
  return (step) => {
    if (o.warmup > 0 && step <= o.warmup) return (o.peak * step) / o.warmup;
    const progress = Math.min(1, (step - o.warmup) / (o.total - o.warmup));
    return min + (o.peak - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

/**
 * Scales gradients so their global L2 norm is at most `maxNorm` (`torch.nn.utils.clip_grad_norm_`:
 * coefficient maxNorm / (norm + 1e-6), capped at 1). Returns the norm before clipping as a
 * scalar tensor (the caller disposes it; `await norm.itemAsync()` reads it). Everything stays
 * on the device: no readback, so it works on GPU backends without stalling the queue.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): Tensor {
  const ps = [...params].filter((p) => p.grad);
  if (ps.length === 0) return full([], 0);
  return noGrad(() => {
    const total = keep(
      tidy(() => {
        let acc = sum(square(ps[0].grad!));
        for (const p of ps.slice(1)) acc = add(acc, sum(square(p.grad!)));
        return sqrt(acc);
      }),
    );
    tidy(() => {
      const coef = minimum(div(maxNorm, add(total, 1e-6)), 1);
      for (const p of ps) {
        const scaled = keep(mul(p.grad!, coef));
        p.grad!.dispose();
        p.grad = scaled;
      }
    });
    return total;
  });
}
