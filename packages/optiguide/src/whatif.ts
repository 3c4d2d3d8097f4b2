/**
 * Runs an app's script with an optional edit: data edit → build → (solve → edit point → stage …)
 * → final solve, as OptiGuide runs the patched source script, and reports the result against the
 * baseline plan.
 */
import { defaultSolver, LinExpr, le, type Solution, type Solver } from "@athanor/opt";
import { type App, DEFAULT_SCRIPT } from "./app.js";
import type { AppModel } from "./app-model.js";
import { cloneData } from "./data.js";
import { type Edit, EditError, inferEditKind, runEdit } from "./edit.js";
import { parseRelation } from "./expr.js";
import { DataError, validateData } from "./validate.js";

export type OutcomeStatus =
  | "optimal"
  | "infeasible"
  | "unbounded"
  | "infeasible_or_unbounded"
  | "time_limit"
  | "error";

export interface Decision {
  name: string;
  value: number;
}

export interface Outcome {
  status: OutcomeStatus;
  objective?: number;
  /** Conflicting constraints (labels as in the source, e.g. `limit_dairy`, `_`) when infeasible. */
  conflict?: string[];
  /** Nonzero decisions of the final solve, by gurobipy name. */
  plan: Decision[];
  /** What went wrong, in a sentence, when the status is not optimal. */
  message?: string;
  /** Where an error came from: the edit's code, its data, the model, or the solver. */
  errorKind?: "edit" | "timeout" | "data" | "constraint" | "solver";
  /** Time inside HiGHS (sum over the solves), in milliseconds. */
  solveMs: number;
  /** Number of HiGHS solves (tsp: one per round of subtour cuts). */
  solves: number;
}

export interface RunOptions {
  solver?: Solver;
  /** Sandbox limits for the edit code. */
  editTimeoutMs?: number;
  editMemoryBytes?: number;
  /** Seconds per HiGHS solve (default 60). */
  solveTimeLimit?: number;
}

const MIP_GAP = 0; // exact optima: the benchmark compares objectives to 1e-6

/** Runs the app with `edit` (none: the baseline). Never throws for a bad edit: the outcome says what went wrong. */
export async function runApp(app: App, edit?: Edit, opts: RunOptions = {}): Promise<Outcome> {
  const stats = { solveMs: 0, solves: 0 };
  const fail = (errorKind: Outcome["errorKind"], message: string): Outcome => ({
    status: "error",
    plan: [],
    message,
    errorKind,
    ...stats,
  });
  const kind = edit ? (edit.kind ?? inferEditKind(edit.code)) : undefined;
  const sandbox = { timeoutMs: opts.editTimeoutMs ?? 1000, memoryBytes: opts.editMemoryBytes };
  const original = app.data();
  let data = original;
  try {
    if (edit && kind === "data") {
      const out = await runEdit({ kind, code: edit.code }, { data: cloneData(original) }, sandbox);
      validateData(app, out.data, original);
      data = out.data;
    }
  } catch (e) {
    if (e instanceof EditError) return fail(e.reason === "timeout" ? "timeout" : "edit", e.message);
    if (e instanceof DataError) return fail("data", e.message);
    throw e;
  }
  let am: AppModel;
  try {
    am = app.build(data);
  } catch (e) {
    return fail("data", `the edited data does not build a model: ${(e as Error).message}`);
  }
  const script = app.script ?? DEFAULT_SCRIPT;
  const needValues = edit !== undefined && kind === "constraint" && /\bvalue\s*\(/.test(edit.code);
  let values: Record<string, number> | null = null;
  const solver = opts.solver ?? defaultSolver();
  const solveOnce = async (): Promise<Solution> => {
    const sol = app.exactTsp
      ? await solveTsp(am, solver, opts, stats)
      : await timedSolve(am, solver, opts, stats);
    return sol;
  };
  let last: Solution | undefined;
  const editVars = new Set<string>();
  for (let i = 0; i < script.length; i++) {
    const step = script[i]!;
    const isLast = i === script.length - 1;
    if (step.step === "solve") {
      if (!isLast && !needValues) continue;
      last = await solveOnce();
      if (!isLast)
        values = last.status === "optimal" || last.hasSolution ? valuesByName(am, last) : values;
    } else if (step.step === "stage") step.apply(am, data);
    else if (edit && kind === "constraint") {
      try {
        const out = await runEdit(
          { kind, code: edit.code },
          // Variables an earlier edit point added are hidden, so a repeated run (diet) can add them again;
          // the host then reuses them.
          {
            data: cloneData(data),
            vars: am.varNames().filter((n) => !editVars.has(n)),
            aliases: am.aliasMap(),
            values,
          },
          sandbox,
        );
        for (const v of out.variables) {
          if (!am.has(v.name)) am.addVar(v.name, { type: v.type, lb: v.lb, ub: v.ub ?? Infinity });
          editVars.add(v.name);
        }
        for (const c of out.constraints) {
          const rel = parseRelation(c.expr, am.lookup);
          const expr = new LinExpr();
          for (const [n, k] of rel.terms) expr.addTerm(am.get(n), k);
          const r =
            rel.sense === "<="
              ? { expr, lower: -Infinity, upper: rel.rhs }
              : rel.sense === ">="
                ? { expr, lower: rel.rhs, upper: Infinity }
                : { expr, lower: rel.rhs, upper: rel.rhs };
          am.addRow(r, c.name ?? "_", "edit");
        }
      } catch (e) {
        if (e instanceof EditError)
          return fail(e.reason === "timeout" ? "timeout" : "edit", e.message);
        return fail("constraint", `the constraint edit is not valid: ${(e as Error).message}`);
      }
    }
  }
  if (!last) last = await solveOnce();
  return outcomeOf(app, am, last, stats);
}

function outcomeOf(
  app: App,
  am: AppModel,
  sol: Solution,
  stats: { solveMs: number; solves: number },
): Outcome {
  const status: OutcomeStatus = sol.status === "limit" ? "time_limit" : sol.status;
  const out: Outcome = { status, plan: [], ...stats };
  if (status === "optimal") {
    out.objective = sol.objective! + 0;
    out.plan = planOf(app, am, sol);
  } else if (status === "infeasible") {
    out.conflict = (sol.conflict?.constraints ?? []).map((n) => am.label(n));
    out.message = `the model is infeasible${out.conflict.length ? `; conflicting constraints: ${out.conflict.join(", ")}` : ""}`;
  } else if (status === "unbounded")
    out.message = "the model is unbounded: the objective improves without limit";
  else if (status === "infeasible_or_unbounded")
    out.message = "the model is infeasible or unbounded (HiGHS could not tell which)";
  else if (status === "time_limit") {
    out.message = "the solver hit its time limit";
    if (sol.hasSolution) out.objective = sol.objective;
  } else {
    out.errorKind = "solver";
    out.message = `the solver failed: ${sol.message ?? "unknown error"}`;
  }
  return out;
}

function valuesByName(am: AppModel, sol: Solution): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of am.model.variables()) out[am.nameOf(v)] = sol.value(v);
  return out;
}

function planOf(app: App, am: AppModel, sol: Solution): Decision[] {
  const fams = app.planFamilies;
  const out: Decision[] = [];
  for (const v of am.model.variables()) {
    const x = sol.value(v);
    if (Math.abs(x) <= 1e-9) continue;
    const name = am.nameOf(v);
    if (fams && !fams.some((f) => name.startsWith(`${f}[`))) continue;
    out.push({ name, value: Math.abs(x - Math.round(x)) < 1e-9 ? Math.round(x) : x });
  }
  return out;
}

async function timedSolve(
  am: AppModel,
  solver: Solver,
  opts: RunOptions,
  stats: { solveMs: number; solves: number },
): Promise<Solution> {
  const sol = await solver.solve(am.model, {
    mipGap: MIP_GAP,
    timeLimit: opts.solveTimeLimit ?? 60,
  });
  stats.solveMs += sol.seconds * 1000;
  stats.solves++;
  return sol;
}

/** Solve, cut every subtour of the incumbent (sum of its edges <= |S| - 1), repeat until one tour remains. */
async function solveTsp(
  am: AppModel,
  solver: Solver,
  opts: RunOptions,
  stats: { solveMs: number; solves: number },
): Promise<Solution> {
  const n = am.varNames().reduce((mx, name) => {
    const m = /^vars\[(\d+),(\d+)\]$/.exec(name);
    return m ? Math.max(mx, Number(m[1]) + 1, Number(m[2]) + 1) : mx;
  }, 0);
  // Subtour cuts are valid for every tour over the same points, whatever the distances or edits,
  // so cuts found by earlier solves are added up front: most what-ifs then need a single solve.
  const known = knownCuts.get(n) ?? new Map<string, number[]>();
  knownCuts.set(n, known);
  for (const cyc of known.values()) addSubtourCut(am, cyc);
  for (let round = 0; round < 200; round++) {
    const sol = await timedSolve(am, solver, opts, stats);
    if (sol.status !== "optimal") return sol;
    const adj: number[][] = Array.from({ length: n }, () => []);
    for (const name of am.varNames()) {
      const m = /^vars\[(\d+),(\d+)\]$/.exec(name);
      if (!m || sol.value(am.get(name)) < 0.5) continue;
      adj[Number(m[1])]!.push(Number(m[2]));
      adj[Number(m[2])]!.push(Number(m[1]));
    }
    const cycles = components(adj);
    if (cycles.length <= 1) return sol;
    for (const cyc of cycles) {
      const id = [...cyc].sort((a, b) => a - b).join(",");
      if (known.size < 10_000) known.set(id, cyc);
      addSubtourCut(am, cyc);
    }
  }
  throw new Error("tsp: subtour elimination did not converge in 200 rounds");
}

const knownCuts = new Map<number, Map<string, number[]>>();

function addSubtourCut(am: AppModel, cyc: number[]): void {
  const e = new LinExpr();
  for (const i of cyc)
    for (const j of cyc)
      if (j < i && am.has(`vars[${i},${j}]`)) e.addTerm(am.get(`vars[${i},${j}]`));
  am.addRow(le(e, cyc.length - 1), "subtour", "subtour");
}

function components(adj: number[][]): number[][] {
  const seen = new Array<boolean>(adj.length).fill(false);
  const out: number[][] = [];
  for (let s = 0; s < adj.length; s++) {
    if (seen[s]) continue;
    const comp: number[] = [];
    const stack = [s];
    seen[s] = true;
    while (stack.length) {
      const v = stack.pop()!;
      comp.push(v);
      for (const w of adj[v]!) {
        if (seen[w]) continue;
        seen[w] = true;
        stack.push(w);
      }
    }
    out.push(comp);
  }
  return out;
}

export interface PlanChange {
  name: string;
  before: number;
  after: number;
}

/** Decisions whose value differs between two plans (absent = 0), for explaining a what-if. */
export function planChanges(before: Decision[], after: Decision[], tol = 1e-9): PlanChange[] {
  const b = new Map(before.map((d) => [d.name, d.value]));
  const a = new Map(after.map((d) => [d.name, d.value]));
  const out: PlanChange[] = [];
  for (const name of new Set([...b.keys(), ...a.keys()])) {
    const x = b.get(name) ?? 0;
    const y = a.get(name) ?? 0;
    if (Math.abs(x - y) > tol) out.push({ name, before: x, after: y });
  }
  return out;
}
