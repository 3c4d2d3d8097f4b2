/**
 * The analysis DSL: describe a heuristic and the benchmark it is compared with over shared,
 * quantized input variables, and compile both into ONE mixed-integer program whose optimum
 * is the input that maximizes `benchmark(input) - heuristic(input)` (MetaOpt's rewrite).
 *
 * - Inputs are quantized: each takes one of a few levels, chosen by one-hot binaries. Any
 *   function of an input's level (its value, "is it pinned", ...) is then linear.
 * - The benchmark is an optimization problem in the same direction as the leader (e.g. the
 *   optimal max-flow, maximized): its variables and constraints go straight into the model.
 * - The heuristic's inner optimization (e.g. demand pinning's routing of the unpinned
 *   demands, a maximization the leader wants to be small) is a `Follower` LP. The leader
 *   cannot simply minimize it (that would let it pick bad routings for the heuristic), so the
 *   follower is replaced by its LP dual: the leader minimizes the dual objective over dual-
 *   feasible points, whose minimum equals the follower's optimum (strong duality). The
 *   follower's right-hand sides depend on the inputs, so the dual objective has products of
 *   dual variables and input binaries, linearized exactly with bounds on the duals.
 */
import { type ExprLike, type LinExpr, Model, sum, type Var } from "@athanor/opt";

export class QuantizedInput {
  /** One binary per level; exactly one is 1. */
  readonly bins: Var[];

  constructor(
    readonly model: Model,
    readonly name: string,
    readonly levels: readonly number[],
  ) {
    if (levels.length < 1) throw new Error(`input ${name}: needs at least one level`);
    this.bins = levels.map((_, i) => model.addVar(`${name}#${i}`, { type: "binary" }));
    model.addConstraint(sum(this.bins), "==", 1, { name: `${name}#onehot`, family: "onehot" });
  }

  /** The input's value, `sum_l level_l * bin_l`. */
  value(): LinExpr {
    return this.where(() => true);
  }

  /** `sum over levels satisfying pred of f(level) * bin` (f defaults to the level itself). */
  where(pred: (level: number) => boolean, f: (level: number) => number = (l) => l): LinExpr {
    return sum(
      this.levels.flatMap((l, i) => (pred(l) && f(l) !== 0 ? [this.bins[i]!.times(f(l))] : [])),
    );
  }

  /** The level chosen in a solution, given the values of the binaries. */
  levelIn(value: (v: Var) => number): number {
    const i = this.bins.findIndex((b) => value(b) > 0.5);
    return this.levels[Math.max(i, 0)]!;
  }
}

/** A follower variable (a column of the follower LP), always `>= 0`. */
export interface FollowerVar {
  readonly index: number;
  readonly name: string;
}

interface FollowerRow {
  name: string;
  terms: [FollowerVar, number][];
  /** Right-hand side: a constant plus an expression over input binaries only. */
  rhs: LinExpr;
}

/**
 * A follower LP `max c^T y  s.t.  A y <= b(input), y >= 0`, where each `b_i` is linear in the
 * input binaries. `compile()` adds its dual to the leader model and returns the dual
 * objective, an expression equal to the follower's optimum at the chosen input.
 */
export class Follower {
  private readonly vars: FollowerVar[] = [];
  private readonly rows: FollowerRow[] = [];
  private readonly objective = new Map<number, number>();

  constructor(
    readonly model: Model,
    readonly name: string,
  ) {}

  addVar(name: string): FollowerVar {
    const v = { index: this.vars.length, name: `${this.name}.${name}` };
    this.vars.push(v);
    return v;
  }

  /** `sum terms <= rhs`, with `rhs` a constant plus input expressions (e.g. `input.value()`). */
  addConstraint(name: string, terms: [FollowerVar, number][], rhs: ExprLike): void {
    this.rows.push({ name, terms, rhs: typeof rhs === "number" ? sumConst(rhs) : toExpr(rhs) });
  }

  maximize(terms: [FollowerVar, number][]): void {
    for (const [v, c] of terms) this.objective.set(v.index, (this.objective.get(v.index) ?? 0) + c);
  }

  /**
   * Adds the dual and returns its objective. `dualBound` bounds every dual variable; it must
   * be valid for an optimal dual. The default, `max c / min a`, is valid for packing LPs
   * (`A >= 0`, `c >= 0`, `b >= 0`), which covers max-flow followers: checked, with a clear
   * error otherwise.
   */
  compile(options: { dualBound?: number } = {}): LinExpr {
    const m = this.model;
    let U = options.dualBound;
    if (U === undefined) {
      let maxC = 0;
      let minA = Number.POSITIVE_INFINITY;
      for (const c of this.objective.values()) {
        if (c < 0)
          throw new Error(
            `follower ${this.name}: objective has a negative coefficient; pass dualBound`,
          );
        maxC = Math.max(maxC, c);
      }
      for (const r of this.rows) {
        for (const [, a] of r.terms) {
          if (a < 0)
            throw new Error(
              `follower ${this.name}: row ${r.name} has a negative coefficient; pass dualBound`,
            );
          if (a > 0) minA = Math.min(minA, a);
        }
        // One-hot inputs: the smallest b_i is at least the constant plus every negative coefficient.
        const minB = r.rhs.constant + r.rhs.coefs.reduce((acc, c) => acc + Math.min(0, c), 0);
        if (minB < -1e-9) {
          throw new Error(
            `follower ${this.name}: row ${r.name} can have a negative right-hand side; pass dualBound`,
          );
        }
      }
      U = minA === Number.POSITIVE_INFINITY ? 0 : maxC / minA;
    }
    // Dual variables w_i in [0, U], one per row.
    const w = this.rows.map((r) => m.addVar(`${this.name}.dual[${r.name}]`, { lb: 0, ub: U }));
    // Dual feasibility: for each follower column j, sum_i a_ij w_i >= c_j.
    const cols = this.vars.map(() => [] as [Var, number][]);
    this.rows.forEach((r, i) => {
      for (const [v, a] of r.terms) cols[v.index]!.push([w[i]!, a]);
    });
    this.vars.forEach((v, j) => {
      const c = this.objective.get(j) ?? 0;
      const lhs = sum(cols[j]!.map(([wi, a]) => wi.times(a)));
      m.addConstraint(lhs, ">=", c, {
        name: `${this.name}.dualfeas[${v.name}]`,
        family: `${this.name}.dualfeas`,
      });
    });
    // Dual objective: sum_i w_i * b_i(input) = sum_i w_i b0_i + sum_i sum_k beta_ik (w_i * x_k).
    const obj = sum(w.map((wi, i) => wi.times(this.rows[i]!.rhs.constant)));
    this.rows.forEach((r, i) => {
      const { vars, coefs } = r.rhs.merged();
      vars.forEach((x, k) => {
        const z = m.addVar(`${this.name}.prod[${r.name},${x.name}]`, { lb: 0, ub: U });
        const wi = w[i]!;
        // z = w_i * x exactly, for binary x and w_i in [0, U].
        m.addConstraint(z.minus(x.times(U!)), "<=", 0, { family: `${this.name}.lin` });
        m.addConstraint(z.minus(wi), "<=", 0, { family: `${this.name}.lin` });
        m.addConstraint(z.minus(wi).add(x.times(-U!)), ">=", -U!, { family: `${this.name}.lin` });
        obj.addTerm(z, coefs[k]!);
      });
    });
    return obj;
  }
}

function sumConst(c: number): LinExpr {
  const e = sum([]);
  e.constant = c;
  return e;
}

function toExpr(x: ExprLike): LinExpr {
  return sum([x]);
}

/** The leader model: quantized inputs, the benchmark's part, followers, and the gap objective. */
export class AdversarialModel {
  readonly model: Model;
  readonly inputs: QuantizedInput[] = [];

  constructor(name = "adversarial") {
    this.model = new Model(name);
  }

  input(name: string, levels: readonly number[]): QuantizedInput {
    const q = new QuantizedInput(this.model, name, levels);
    this.inputs.push(q);
    return q;
  }

  follower(name: string): Follower {
    return new Follower(this.model, name);
  }

  /** Sets the objective `max benchmark - heuristic`. */
  maximizeGap(benchmark: ExprLike, heuristic: ExprLike): void {
    this.model.maximize(toExpr(benchmark).sub(heuristic));
  }
}
