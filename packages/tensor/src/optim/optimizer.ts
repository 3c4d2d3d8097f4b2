/** Shared optimizer plumbing: parameters, state tensors, save / load. */

import { noGrad } from "../autograd.js";
import { isCapturing, onReplay } from "../capture.js";
import { full } from "../creation.js";
import { keep } from "../scope.js";
import type { Tensor } from "../tensor.js";

/** Serializable optimizer state: tensors (e.g. for safetensors) plus JSON-able scalars. */
export interface OptimizerState {
  kind: string;
  step: number;
  hyper: Record<string, number | boolean>;
  /** State tensors named `<paramIndex>.<slot>` (e.g. "3.m"). */
  tensors: Record<string, Tensor>;
}

export abstract class Optimizer {
  /** Number of `step()` calls so far. */
  stepCount = 0;
  protected readonly slots: Map<string, Tensor>[];
  readonly params: readonly Tensor[];

  constructor(
    params: Iterable<Tensor>,
    /** Learning rate (mutable: schedules set it before each step). */
    public lr: number,
  ) {
    this.params = [...params];
    const kind = this.constructor.name;
    if (this.params.length === 0) throw new Error(`${kind}: no parameters given`);
    this.params.forEach((p, i) => {
      if (!p.requiresGrad || p.dtype !== "f32" || !p.isLeaf) {
        throw new Error(
          `${kind}: parameter ${i} (${p.describe()}) must be an f32 leaf tensor with requiresGrad`,
        );
      }
      if (!p.isContiguous() || p.offset !== 0) {
        throw new Error(`${kind}: parameter ${i} (${p.describe()}) must be contiguous`);
      }
    });
    this.slots = this.params.map(() => new Map());
  }

  abstract readonly kind: string;
  protected abstract hyper(): Record<string, number | boolean>;
  protected abstract update(p: Tensor, g: Tensor, slots: Map<string, Tensor>, index: number): void;

  protected slot(slots: Map<string, Tensor>, name: string, like: Tensor): Tensor {
    let t = slots.get(name);
    if (!t) {
      t = keep(full(like.shape, 0, { backend: like.backend }));
      slots.set(name, t);
    }
    return t;
  }

  /**
   * Advances `stepCount` and returns this step's kernel hyper-parameters, made by `make`.
   * Inside `capture`, every replay is a step too: it advances the count again and refreshes the
   * returned object in place, which the kernels' live parameter words are computed from.
   */
  protected advance<H extends object>(make: () => H): H {
    this.stepCount++;
    const h = make();
    if (isCapturing(this.params[0].backend)) {
      onReplay(() => {
        this.stepCount++;
        Object.assign(h, make());
      });
    }
    return h;
  }

  /**
   * Throws, inside `capture`, when a parameter with a gradient lacks the state slot `name`: the
   * step that creates it cannot be replayed (`why` says what it does instead).
   */
  protected requireSlotInCapture(name: string, why: string): void {
    if (!isCapturing(this.params[0].backend)) return;
    if (this.params.some((p, i) => p.grad && !this.slots[i].has(name)))
      throw new Error(`${why}; take one step before capture()`);
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    if (isCapturing(this.params[0].backend)) {
      throw new Error(
        `${this.kind}: this optimizer's step cannot be captured (a replay would repeat its ` +
          "arguments); call step() outside capture(), or use AdamW (on a backend with " +
          "adamwMany) or SGD, which advance with each replay",
      );
    }
    this.stepCount++;
    noGrad(() => {
      this.params.forEach((p, i) => {
        if (p.grad) this.update(p, p.grad, this.slots[i], i);
      });
    });
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** Current state (tensors are the live state: copy or serialize before further steps). */
  state(): OptimizerState {
    const tensors: Record<string, Tensor> = {};
    this.slots.forEach((m, i) => {
      for (const [k, t] of m) tensors[`${i}.${k}`] = t;
    });
    return { kind: this.kind, step: this.stepCount, hyper: this.hyper(), tensors };
  }

  /** Restores state saved by `state()` (tensors are copied in). */
  loadState(state: OptimizerState): void {
    if (state.kind !== this.kind)
      throw new Error(`${this.kind}.loadState: state is for "${state.kind}"`);
    for (const [name, t] of Object.entries(state.tensors)) {
      const [idx, slot] = name.split(".");
      const i = Number(idx);
      const p = this.params[i];
      if (!p || !slot)
        throw new Error(`${this.kind}.loadState: state tensor "${name}" has no parameter ${idx}`);
      if (t.shape.join() !== p.shape.join()) {
        throw new Error(
          `${this.kind}.loadState: "${name}" is ${t.describe()} but parameter ${i} is ${p.describe()}`,
        );
      }
      const dst = this.slot(this.slots[i], slot, p);
      p.backend.copy(t._view("loadState"), dst._view("loadState"));
    }
    this.stepCount = state.step;
    this.loadHyper(state.hyper);
  }

  protected loadHyper(h: Record<string, number | boolean>): void {
    if (typeof h.lr === "number") this.lr = h.lr;
  }

  /** Frees the optimizer's state tensors. */
  dispose(): void {
    for (const m of this.slots) {
      for (const t of m.values()) t.dispose();
      m.clear();
    }
  }
}
