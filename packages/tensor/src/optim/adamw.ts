/** AdamW (decoupled weight decay), matching `torch.optim.AdamW` step for step. */

import { noGrad } from "../autograd.js";
import type { AdamWParams } from "../backend.js";
import type { Tensor } from "../tensor.js";
import { Optimizer } from "./optimizer.js";

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  /** Decoupled weight decay (PyTorch default 0.01). */
  weightDecay?: number;
}

export class AdamW extends Optimizer {
  readonly kind = "adamw";
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;

  constructor(params: Iterable<Tensor>, options: AdamWOptions = {}) {
    super(params, options.lr ?? 1e-3);
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
  }

  protected hyper() {
    return {
      lr: this.lr,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
    };
  }

  protected override loadHyper(h: Record<string, number | boolean>): void {
    super.loadHyper(h);
    if (typeof h.beta1 === "number") this.beta1 = h.beta1;
    if (typeof h.beta2 === "number") this.beta2 = h.beta2;
    if (typeof h.eps === "number") this.eps = h.eps;
    if (typeof h.weightDecay === "number") this.weightDecay = h.weightDecay;
  }

  /**
   * Applies one update to every parameter that has a gradient: through the backend's
   * `adamwMany` where it has one (a GPU backend then records a kernel per few parameters, not
   * one per parameter), else parameter by parameter. Inside `capture` (after one eager step),
   * every replay takes a step with the step count and learning rate of that moment.
   */
  override step(): void {
    const backend = this.params[0].backend;
    if (!backend.adamwMany || this.params.some((p) => p.backend !== backend)) {
      super.step();
      return;
    }
    this.requireSlotInCapture(
      "m",
      "AdamW: its moments are created by its first step, which cannot be captured (every " +
        "replay would zero them again)",
    );
    const h = this.advance(() => this.hyperStep());
    noGrad(() => {
      const updates = [];
      for (const [i, p] of this.params.entries()) {
        if (!p.grad) continue;
        const op = "AdamW";
        updates.push({
          param: p._view(op),
          grad: p.grad._view(op),
          m: this.slot(this.slots[i], "m", p)._view(op),
          v: this.slot(this.slots[i], "v", p)._view(op),
        });
      }
      if (updates.length) backend.adamwMany?.(updates, h);
    });
  }

  /** This step's hyper-parameters (after `stepCount` has been advanced). */
  private hyperStep(): AdamWParams {
    return {
      lr: this.lr,
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.weightDecay,
      step: this.stepCount,
    };
  }

  protected update(p: Tensor, g: Tensor, slots: Map<string, Tensor>): void {
    const m = this.slot(slots, "m", p);
    const v = this.slot(slots, "v", p);
    const op = "AdamW";
    p.backend.adamw(p._view(op), g._view(op), m._view(op), v._view(op), this.hyperStep());
  }
}
