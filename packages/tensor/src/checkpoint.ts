/** Gradient checkpointing: recompute a segment during backward instead of storing it. */

import { attach, backward, isGradEnabled, noGrad, save, withGradEnabled } from "./autograd.js";
import type { Tensor } from "./tensor.js";

/**
 * Runs `fn(...inputs)` without keeping its intermediate activations; during backward the
 * segment is recomputed with recording on and backpropagated. Only the inputs are saved.
 * Parameters used inside `fn` (closed over) receive their gradients as usual. `fn` must be
 * deterministic.
 */
export function checkpoint<R extends Tensor | Tensor[]>(
  fn: (...inputs: Tensor[]) => R,
  ...inputs: Tensor[]
): R {
  if (!isGradEnabled()) return fn(...inputs);
  const result = noGrad(() => fn(...inputs));
  const outs = (Array.isArray(result) ? result : [result]) as Tensor[];
  const saved = inputs.map((t) => save(t, "checkpoint"));
  attach(
    "checkpoint",
    inputs,
    outs,
    (grads) => {
      const detached = saved.map((s, i) => {
        const d = s.get().detach();
        if (inputs[i].requiresGrad) d.requireGrad();
        return d;
      });
      const re = withGradEnabled(true, () => fn(...detached));
      const reOuts = (Array.isArray(re) ? re : [re]) as Tensor[];
      const roots: Tensor[] = [];
      const rootGrads: Tensor[] = [];
      reOuts.forEach((o, i) => {
        if (o.requiresGrad) {
          roots.push(o);
          rootGrads.push(grads[i]);
        }
      });
      if (roots.length > 0) withGradEnabled(true, () => backward(roots, rootGrads));
      return detached.map((d) => {
        if (!d.grad) return null;
        const g = d.grad.alias(); // owned by the enclosing backward scope
        d.grad.dispose();
        d.grad = null;
        return g;
      });
    },
    saved,
  );
  return result;
}
