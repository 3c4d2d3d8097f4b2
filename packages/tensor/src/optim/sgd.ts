/** SGD with momentum, dampening, Nesterov and weight decay (`torch.optim.SGD`). */

import type { Tensor } from "../tensor.js";
import { Optimizer } from "./optimizer.js";

export interface SgdOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  readonly kind = "sgd";
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;

  constructor(params: Iterable<Tensor>, options: SgdOptions = {}) {
    super(params, options.lr ?? 1e-2);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error("SGD: nesterov needs momentum > 0 and dampening 0");
    }
  }

  protected hyper() {
    return {
      lr: this.lr,
      momentum: this.momentum,
      dampening: this.dampening,
      weightDecay: this.weightDecay,
      nesterov: this.nesterov,
    };
  }

  protected update(p: Tensor, g: Tensor, slots: Map<string, Tensor>): void {
    const first = this.momentum !== 0 && !slots.has("momentum");
    const buf = this.momentum !== 0 ? this.slot(slots, "momentum", p) : null;
    p.backend.sgd(p._view("SGD"), g._view("SGD"), buf?._view("SGD") ?? null, {
      lr: this.lr,
      momentum: this.momentum,
      dampening: this.dampening,
      weightDecay: this.weightDecay,
      nesterov: this.nesterov,
      firstStep: first,
    });
  }
}
