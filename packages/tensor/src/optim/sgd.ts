/** SGD with momentum, dampening, Nesterov and weight decay (`torch.optim.SGD`). */

import { noGrad } from "../autograd.js";
import type { SgdParams } from "../backend.js";
import { isCapturing } from "../capture.js";
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

  /**
   * Applies one update to every parameter that has a gradient. Inside `capture` every replay
   * takes a step with the hyper-parameters of that moment; with momentum, only after one eager
   * step (the first step sets the momentum buffers to the gradients, the later ones blend).
   */
  override step(): void {
    const backend = this.params[0].backend;
    if (!isCapturing(backend)) {
      super.step();
      return;
    }
    if (this.momentum !== 0)
      this.requireSlotInCapture(
        "momentum",
        "SGD: its first step with momentum sets the momentum buffers to the gradients, which " +
          "every replay would repeat",
      );
    const h = this.advance(() => this.kernelParams());
    noGrad(() => {
      this.params.forEach((p, i) => {
        if (p.grad) this.apply(p, p.grad, this.slots[i], h);
      });
    });
  }

  protected update(p: Tensor, g: Tensor, slots: Map<string, Tensor>): void {
    this.apply(p, g, slots, this.kernelParams(this.momentum !== 0 && !slots.has("momentum")));
  }

  /** The kernels' hyper-parameters now. */
  private kernelParams(firstStep = false): SgdParams {
    return {
      lr: this.lr,
      momentum: this.momentum,
      dampening: this.dampening,
      weightDecay: this.weightDecay,
      nesterov: this.nesterov,
      firstStep,
    };
  }

  private apply(p: Tensor, g: Tensor, slots: Map<string, Tensor>, h: SgdParams): void {
    const buf = this.momentum !== 0 ? this.slot(slots, "momentum", p) : null;
    p.backend.sgd(p._view("SGD"), g._view("SGD"), buf?._view("SGD") ?? null, h);
  }
}
