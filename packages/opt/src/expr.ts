/**
 * Variables and linear expressions.
 *
 * STABLE API: `Var`, `LinExpr`, `ExprLike`, `sum`, `dot`, `term` and the relation helpers
 * `le` / `ge` / `eq` / `between` are stable; other packages build on them.
 *
 * A `LinExpr` is an append-only list of `(variable, coefficient)` terms plus a constant.
 * Repeated variables are allowed and are merged only when the expression becomes a
 * constraint or objective, so building an expression of n terms costs O(n): use the
 * in-place methods (`add`, `addTerm`, `sub`, `mul`) or `sum(...)` inside loops. The
 * copying methods (`plus`, `minus`, `times`) are for short, readable one-liners.
 */

/** One component of a family key: `x[supplier1,roastery2]` has key `["supplier1", "roastery2"]`. */
export type Key = string | number;

/**
 * A decision variable: a handle (column index and name) into the `Model` that created it.
 * Handles are immutable and shared by `model.clone()`, so a handle from the original model
 * addresses the same variable in every clone. Bounds and type live in the model.
 */
export class Var {
  /** @internal Use `model.addVar` / `model.addVars`. */
  constructor(
    /** Column index in the model (stable: variables are never deleted). */
    readonly index: number,
    /** Unique name, e.g. `x[supplier1,roastery2]`. */
    readonly name: string,
  ) {}

  /** `coef * this` as a new expression. */
  times(coef: number): LinExpr {
    return new LinExpr().addTerm(this, coef);
  }

  /** `this + other` as a new expression. */
  plus(other: ExprLike): LinExpr {
    return new LinExpr().addTerm(this, 1).add(other);
  }

  /** `this - other` as a new expression. */
  minus(other: ExprLike): LinExpr {
    return new LinExpr().addTerm(this, 1).sub(other);
  }

  toString(): string {
    return this.name;
  }
}

/** Anything usable where a linear expression is expected. */
export type ExprLike = Var | LinExpr | number;

/** A linear expression `sum_k coefs[k] * vars[k] + constant`. */
export class LinExpr {
  /** Variables of the terms, parallel to `coefs`; a variable may repeat. */
  readonly vars: Var[] = [];
  /** Coefficients of the terms, parallel to `vars`. */
  readonly coefs: number[] = [];
  /** Constant term. */
  constant = 0;

  /** A new expression equal to `x` (copies a `LinExpr`). */
  static from(x: ExprLike): LinExpr {
    return new LinExpr().add(x);
  }

  /** Number of stored terms (before merging repeated variables). */
  get size(): number {
    return this.vars.length;
  }

  /** In place: `this += coef * v`. Returns `this`. */
  addTerm(v: Var, coef = 1): this {
    if (!(v instanceof Var)) throw new TypeError(`addTerm: expected a Var, got ${describe(v)}`);
    if (!Number.isFinite(coef)) {
      throw new RangeError(`addTerm: coefficient of ${v.name} must be finite, got ${coef}`);
    }
    this.vars.push(v);
    this.coefs.push(coef);
    return this;
  }

  /** In place: `this += scale * x`. Returns `this`. Cost O(terms of x). */
  add(x: ExprLike, scale = 1): this {
    if (typeof x === "number") {
      if (!Number.isFinite(x)) throw new RangeError(`add: constant must be finite, got ${x}`);
      this.constant += scale * x;
    } else if (x instanceof Var) {
      this.addTerm(x, scale);
    } else if (x instanceof LinExpr) {
      const n = x.vars.length;
      for (let k = 0; k < n; k++) {
        this.vars.push(x.vars[k]!);
        this.coefs.push(scale * x.coefs[k]!);
      }
      this.constant += scale * x.constant;
    } else {
      throw new TypeError(`add: expected a Var, LinExpr or number, got ${describe(x)}`);
    }
    return this;
  }

  /** In place: `this -= scale * x`. Returns `this`. */
  sub(x: ExprLike, scale = 1): this {
    return this.add(x, -scale);
  }

  /** In place: `this *= k`. Returns `this`. */
  mul(k: number): this {
    if (!Number.isFinite(k)) throw new RangeError(`mul: factor must be finite, got ${k}`);
    for (let i = 0; i < this.coefs.length; i++) this.coefs[i]! *= k;
    this.constant *= k;
    return this;
  }

  /** A new expression `this + x`. */
  plus(x: ExprLike): LinExpr {
    return LinExpr.from(this).add(x);
  }

  /** A new expression `this - x`. */
  minus(x: ExprLike): LinExpr {
    return LinExpr.from(this).sub(x);
  }

  /** A new expression `k * this`. */
  times(k: number): LinExpr {
    return LinExpr.from(this).mul(k);
  }

  /** A copy of this expression. */
  clone(): LinExpr {
    return LinExpr.from(this);
  }

  /** Repeated variables merged, zero coefficients dropped, in first-appearance order. */
  merged(): { vars: Var[]; coefs: number[]; constant: number } {
    const pos = new Map<Var, number>();
    const vars: Var[] = [];
    const coefs: number[] = [];
    for (let k = 0; k < this.vars.length; k++) {
      const v = this.vars[k]!;
      const at = pos.get(v);
      if (at === undefined) {
        pos.set(v, vars.length);
        vars.push(v);
        coefs.push(this.coefs[k]!);
      } else coefs[at]! += this.coefs[k]!;
    }
    let w = 0;
    for (let k = 0; k < vars.length; k++) {
      if (coefs[k] !== 0) {
        vars[w] = vars[k]!;
        coefs[w++] = coefs[k]!;
      }
    }
    vars.length = w;
    coefs.length = w;
    return { vars, coefs, constant: this.constant };
  }

  /** Value of the expression for given variable values (e.g. `solution.value`). */
  evaluate(value: (v: Var) => number): number {
    let s = this.constant;
    for (let k = 0; k < this.vars.length; k++) s += this.coefs[k]! * value(this.vars[k]!);
    return s;
  }

  /** Human-readable form, e.g. `2 x[a] - y + 3`. */
  toString(): string {
    const { vars, coefs, constant } = this.merged();
    const parts: string[] = [];
    for (let k = 0; k < vars.length; k++) {
      const c = coefs[k]!;
      const mag = Math.abs(c) === 1 ? "" : `${Math.abs(c)} `;
      parts.push(
        `${parts.length === 0 ? (c < 0 ? "-" : "") : c < 0 ? "- " : "+ "}${mag}${vars[k]!.name}`,
      );
    }
    if (constant !== 0 || parts.length === 0) {
      parts.push(
        parts.length === 0 ? String(constant) : `${constant < 0 ? "-" : "+"} ${Math.abs(constant)}`,
      );
    }
    return parts.join(" ");
  }
}

/** `sum(items)` as a new expression; O(total terms). */
export function sum(items: Iterable<ExprLike>): LinExpr {
  const e = new LinExpr();
  for (const x of items) e.add(x);
  return e;
}

/** `sum_k coefs[k] * vars[k]` as a new expression. The arrays must have equal length. */
export function dot(coefs: readonly number[], vars: readonly Var[]): LinExpr {
  if (coefs.length !== vars.length) {
    throw new RangeError(`dot: ${coefs.length} coefficients for ${vars.length} variables`);
  }
  const e = new LinExpr();
  for (let k = 0; k < vars.length; k++) e.addTerm(vars[k]!, coefs[k]!);
  return e;
}

/** `coef * v` as a new expression. */
export function term(coef: number, v: Var): LinExpr {
  return new LinExpr().addTerm(v, coef);
}

/** Constraint sense as written by the modeler; `range` is `lower <= expr <= upper`. */
export type Sense = "<=" | ">=" | "==";

/**
 * A linear relation, `lower <= expr <= upper` (either side may be infinite), before it is
 * added to a model. Built by `le`, `ge`, `eq`, `between`, and accepted by `model.add(...)`.
 */
export interface Relation {
  readonly expr: LinExpr;
  readonly lower: number;
  readonly upper: number;
}

/** `lhs <= rhs`. A numeric `rhs` may be infinite (no upper bound). */
export function le(lhs: ExprLike, rhs: ExprLike): Relation {
  if (typeof rhs === "number")
    return { expr: LinExpr.from(lhs), lower: -Infinity, upper: bound(rhs) };
  return { expr: LinExpr.from(lhs).sub(rhs), lower: -Infinity, upper: 0 };
}

/** `lhs >= rhs`. A numeric `rhs` may be infinite (no lower bound). */
export function ge(lhs: ExprLike, rhs: ExprLike): Relation {
  if (typeof rhs === "number")
    return { expr: LinExpr.from(lhs), lower: bound(rhs), upper: Infinity };
  return { expr: LinExpr.from(lhs).sub(rhs), lower: 0, upper: Infinity };
}

/** `lhs == rhs`. */
export function eq(lhs: ExprLike, rhs: ExprLike): Relation {
  if (typeof rhs === "number") {
    if (!Number.isFinite(rhs))
      throw new RangeError(`eq: right-hand side must be finite, got ${rhs}`);
    return { expr: LinExpr.from(lhs), lower: rhs, upper: rhs };
  }
  return { expr: LinExpr.from(lhs).sub(rhs), lower: 0, upper: 0 };
}

/** A numeric right-hand side: finite or infinite (a free side), never NaN. */
function bound(v: number): number {
  if (Number.isNaN(v)) throw new RangeError("constraint right-hand side is NaN");
  return v;
}

/** `lower <= expr <= upper` (a ranged row). */
export function between(lower: number, expr: ExprLike, upper: number): Relation {
  if (Number.isNaN(lower) || Number.isNaN(upper)) throw new RangeError("between: NaN bound");
  return { expr: LinExpr.from(expr), lower, upper };
}

/** `lhs sense rhs` from a sense string. */
export function relation(lhs: ExprLike, sense: Sense, rhs: ExprLike): Relation {
  switch (sense) {
    case "<=":
      return le(lhs, rhs);
    case ">=":
      return ge(lhs, rhs);
    case "==":
      return eq(lhs, rhs);
    default:
      throw new RangeError(`unknown constraint sense ${JSON.stringify(sense)} (use <=, >= or ==)`);
  }
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return `${typeof x} ${String(x)}`;
}
