/** Custom differentiable functions with their own backward. */

import { attach, isGradEnabled, noGrad, type SavedTensor, save } from "./autograd.js";
import type { Tensor } from "./tensor.js";

/** What a custom op's forward and backward see. */
export interface CustomOpContext {
  /** Saves tensors for backward (through the active saved-tensor hooks). */
  save(...tensors: Tensor[]): void;
  /** The saved tensors, in order (backward only). */
  readonly saved: Tensor[];
  /** Which inputs need a gradient. */
  readonly needsInputGrad: boolean[];
  /** Free-form values to pass from forward to backward (shapes, flags). */
  readonly values: Record<string, unknown>;
}

export interface CustomOpSpec {
  name: string;
  /** Computes the outputs (runs without recording). */
  forward(ctx: CustomOpContext, ...inputs: Tensor[]): Tensor | Tensor[];
  /** Gradients for each input (null for none) from one gradient per output. */
  backward(ctx: CustomOpContext, ...grads: Tensor[]): (Tensor | null)[];
}

/**
 * Defines a differentiable function from a forward and a backward (like
 * `torch.autograd.Function`). The returned function takes and returns tensors.
 *
 * ```ts
 * const square = customOp({
 *   name: "square",
 *   forward: (ctx, x) => { ctx.save(x); return ops.mul(x, x); },
 *   backward: (ctx, g) => [ops.mul(g, ops.mul(ctx.saved[0], 2))],
 * });
 * ```
 */
export function customOp(spec: CustomOpSpec): (...inputs: Tensor[]) => Tensor | Tensor[] {
  return (...inputs: Tensor[]) => {
    const savedHandles: SavedTensor[] = [];
    const recording = isGradEnabled() && inputs.some((t) => t.requiresGrad);
    const ctx: CustomOpContext = {
      save: (...ts) => {
        if (recording) for (const t of ts) savedHandles.push(save(t, spec.name));
      },
      get saved() {
        return savedHandles.map((s) => s.get());
      },
      needsInputGrad: inputs.map((t) => t.requiresGrad),
      values: {},
    };
    const result = noGrad(() => spec.forward(ctx, ...inputs));
    const outs = Array.isArray(result) ? result : [result];
    if (recording) {
      attach(
        spec.name,
        inputs,
        outs,
        (grads) => {
          const r = spec.backward(ctx, ...grads);
          if (r.length !== inputs.length) {
            throw new Error(
              `${spec.name} backward: returned ${r.length} gradients for ${inputs.length} inputs`,
            );
          }
          r.forEach((g, i) => {
            if (g && g.shape.join() !== inputs[i].shape.join()) {
              throw new Error(
                `${spec.name} backward: gradient ${i} has shape [${g.shape}] but input is ${inputs[i].describe()}`,
              );
            }
          });
          return r;
        },
        savedHandles,
      );
    }
    return result;
  };
}
