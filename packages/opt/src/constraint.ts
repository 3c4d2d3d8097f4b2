/** A named linear constraint of a model (read-only view; change it through the model). STABLE API (see model.ts). */

import { type Key, LinExpr, type Sense, type Var } from "./expr.js";

/** Shape of a constraint: `<=` (upper only), `>=` (lower only), `==`, `range` (both, unequal) or `free`. */
export type ConstraintSense = Sense | "range" | "free";

/**
 * A linear constraint `lower <= sum coefs[k] * vars[k] <= upper` of a model. Read it
 * through the getters; change it through the model's patch methods, which keep the
 * model's indexes consistent. Each clone has its own `Constraint` objects: look them up
 * by name in the clone (`clone.constraint(name)`).
 */
export class Constraint {
  /** @internal */ _vars: readonly Var[];
  /** @internal */ _coefs: readonly number[];
  /** @internal */ _lower: number;
  /** @internal */ _upper: number;
  /** @internal */ _removed = false;

  /** @internal Use `model.addConstraint` / `model.add` / `model.addConstraints`. */
  constructor(
    readonly name: string,
    readonly family: string | undefined,
    readonly key: readonly Key[] | undefined,
    vars: readonly Var[],
    coefs: readonly number[],
    lower: number,
    upper: number,
  ) {
    this._vars = vars;
    this._coefs = coefs;
    this._lower = lower;
    this._upper = upper;
  }

  /** Lower bound of the row activity (`-Infinity` when none). */
  get lower(): number {
    return this._lower;
  }
  /** Upper bound of the row activity (`Infinity` when none). */
  get upper(): number {
    return this._upper;
  }
  /** Variables with a nonzero coefficient (each once). */
  get vars(): readonly Var[] {
    return this._vars;
  }
  /** Coefficients, parallel to `vars`. */
  get coefs(): readonly number[] {
    return this._coefs;
  }
  /** Whether the constraint was removed from its model. */
  get removed(): boolean {
    return this._removed;
  }

  get sense(): ConstraintSense {
    const lo = this._lower > -Infinity;
    const up = this._upper < Infinity;
    if (lo && up) return this._lower === this._upper ? "==" : "range";
    if (lo) return ">=";
    if (up) return "<=";
    return "free";
  }

  /** Right-hand side: the upper bound of `<=`, the lower bound of `>=` and `==`. */
  get rhs(): number {
    const s = this.sense;
    if (s === "<=") return this._upper;
    if (s === ">=" || s === "==") return this._lower;
    throw new RangeError(`constraint ${this.name} is a ${s} row: read lower / upper`);
  }

  /** Coefficient of `v` in this row (0 when absent). */
  coefficient(v: Var): number {
    const k = this._vars.indexOf(v);
    return k < 0 ? 0 : this._coefs[k]!;
  }

  /** The row's left-hand side as a new expression. */
  expr(): LinExpr {
    const e = new LinExpr();
    for (let k = 0; k < this._vars.length; k++) e.addTerm(this._vars[k]!, this._coefs[k]!);
    return e;
  }

  toString(): string {
    const lhs = this.expr().toString();
    switch (this.sense) {
      case "<=":
        return `${this.name}: ${lhs} <= ${this._upper}`;
      case ">=":
        return `${this.name}: ${lhs} >= ${this._lower}`;
      case "==":
        return `${this.name}: ${lhs} == ${this._lower}`;
      case "range":
        return `${this.name}: ${this._lower} <= ${lhs} <= ${this._upper}`;
      default:
        return `${this.name}: ${lhs} free`;
    }
  }
}
