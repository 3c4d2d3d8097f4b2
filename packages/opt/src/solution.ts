/**
 * The result of a solve: status, objective, values by variable name, LP duals and reduced
 * costs by name, and the conflicting constraints of an infeasible model.
 */

import { Var } from "./expr.js";
import type { ConflictData, JobResult, SolveStatus } from "./highs-core.js";
import { type CompiledModel, Constraint } from "./model.js";

export type { SolveStatus } from "./highs-core.js";

/** Why a model is infeasible: constraints (and variable bounds) that cannot all hold. */
export interface Conflict {
  /** Names of the conflicting constraints. */
  constraints: string[];
  /** Names of variables whose bounds take part (LP conflicts; empty for MIPs). */
  variables: string[];
  /** Whether the set is proven irreducible: dropping any one constraint restores feasibility. */
  irreducible: boolean;
  /** `highs-iis` (HiGHS IIS on an LP), `deletion-filter` (MIP), `highs-iis-unrefined`. */
  method: ConflictData["method"];
}

/** A solve's outcome. Values are looked up by `Var` handle or by name. */
export class Solution {
  /** `optimal`, `infeasible`, `unbounded`, `infeasible_or_unbounded`, `time_limit`, `limit`, `error`. */
  readonly status: SolveStatus;
  /** Objective of the returned point (the incumbent when stopped early); undefined without one. */
  readonly objective: number | undefined;
  /** MIP: best proven bound on the objective. */
  readonly bestBound: number | undefined;
  /** MIP: relative gap between `objective` and `bestBound`. */
  readonly gap: number | undefined;
  /** Error or diagnostic text. */
  readonly message: string | undefined;
  readonly conflict: Conflict | undefined;
  /** Wall time of the solve inside the solver, in seconds. */
  readonly seconds: number;
  /** HiGHS's model status code. */
  readonly highsStatus: number;
  /** Simplex iterations (LP) or branch-and-bound nodes (MIP), when reported. */
  readonly iterations: number | undefined;
  /** Size of the solver's WebAssembly memory after the solve, in bytes. */
  readonly wasmMemory: number;

  private readonly colNames: readonly string[];
  private readonly rowNames: readonly string[];
  private readonly r: JobResult;
  private colIndex?: Map<string, number>;
  private rowIndex?: Map<string, number>;

  /** @internal Built by the solvers. */
  constructor(model: Pick<CompiledModel, "colNames" | "rowNames">, result: JobResult) {
    this.r = result;
    this.colNames = model.colNames;
    this.rowNames = model.rowNames;
    this.status = result.status;
    this.objective = result.objective;
    this.bestBound = result.bestBound;
    this.gap = result.gap;
    this.message = result.message;
    this.seconds = result.seconds;
    this.highsStatus = result.highsStatus;
    this.iterations = result.iterations;
    this.wasmMemory = result.wasmMemory;
    if (result.conflict) {
      const c = result.conflict;
      this.conflict = {
        constraints: c.rows.map((i) => model.rowNames[i]!),
        variables: c.cols.map((j) => model.colNames[j]!),
        irreducible: c.irreducible,
        method: c.method,
      };
    }
  }

  /** Whether a primal point is available (optimal, or an incumbent at a limit). */
  get hasSolution(): boolean {
    return this.r.hasSolution;
  }

  /** Whether LP duals and reduced costs are available (optimal LPs). */
  get hasDuals(): boolean {
    return this.r.rowDual !== undefined;
  }

  /** Value of a variable. Throws when there is no primal point or no such variable. */
  value(v: Var | string): number {
    const x = this.r.colValue;
    if (!x) throw new Error(`no primal values: the solve ended ${this.status}`);
    return x[this.col(v)]!;
  }

  /** Activity (left-hand side value) of a constraint. */
  activity(c: Constraint | string): number {
    const x = this.r.rowValue;
    if (!x) throw new Error(`no primal values: the solve ended ${this.status}`);
    return x[this.row(c)]!;
  }

  /**
   * Dual value (shadow price) of a constraint: the change of the objective per unit
   * increase of its binding bound. LP only; throws when unavailable (MIP, not optimal).
   */
  dual(c: Constraint | string): number {
    const y = this.r.rowDual;
    if (!y)
      throw new Error(
        `no dual values (${this.status}${this.r.colDual ? "" : ", MIP or no dual solution"})`,
      );
    return y[this.row(c)]!;
  }

  /** Reduced cost of a variable (LP only; throws when unavailable). */
  reducedCost(v: Var | string): number {
    const d = this.r.colDual;
    if (!d) throw new Error(`no reduced costs (${this.status}, MIP or no dual solution)`);
    return d[this.col(v)]!;
  }

  /** All variable values by name. */
  values(): Record<string, number> {
    const out: Record<string, number> = {};
    const x = this.r.colValue;
    if (x) for (let j = 0; j < this.colNames.length; j++) out[this.colNames[j]!] = x[j]!;
    return out;
  }

  /** Variables whose value exceeds `tol` in magnitude, in column order. */
  nonzeros(tol = 1e-9): { name: string; value: number }[] {
    const x = this.r.colValue;
    if (!x) return [];
    const out: { name: string; value: number }[] = [];
    for (let j = 0; j < this.colNames.length; j++) {
      if (Math.abs(x[j]!) > tol) out.push({ name: this.colNames[j]!, value: x[j]! });
    }
    return out;
  }

  /** All constraint duals by name (LP only). */
  duals(): Record<string, number> {
    const out: Record<string, number> = {};
    const y = this.r.rowDual;
    if (y) for (let i = 0; i < this.rowNames.length; i++) out[this.rowNames[i]!] = y[i]!;
    return out;
  }

  /** A JSON-friendly summary (status, objective, nonzero values, conflict). */
  toJSON(): Record<string, unknown> {
    return {
      status: this.status,
      objective: this.objective,
      bestBound: this.bestBound,
      gap: this.gap,
      message: this.message,
      seconds: this.seconds,
      values: Object.fromEntries(this.nonzeros().map((e) => [e.name, e.value])),
      conflict: this.conflict,
    };
  }

  private col(v: Var | string): number {
    if (v instanceof Var) {
      if (this.colNames[v.index] !== v.name)
        throw new RangeError(`variable ${v.name} is not in this solution`);
      return v.index;
    }
    this.colIndex ??= new Map(this.colNames.map((n, j) => [n, j]));
    const j = this.colIndex.get(v);
    if (j === undefined) throw new RangeError(`no variable ${v} in this solution`);
    return j;
  }

  private row(c: Constraint | string): number {
    const name = c instanceof Constraint ? c.name : c;
    this.rowIndex ??= new Map(this.rowNames.map((n, i) => [n, i]));
    const i = this.rowIndex.get(name);
    if (i === undefined) throw new RangeError(`no constraint ${name} in this solution`);
    return i;
  }
}
