/**
 * Running actions: a query reads the baseline plan or the data; a what-if runs its compiled
 * edit and compares with the baseline plan; a "why" forces the opposite decision and reports
 * what that costs; a decline says the request is outside the app.
 */
import {
  type AppName,
  comparePlans,
  describeChange,
  type Edit,
  type Outcome,
  type RunOptions,
  runApp,
} from "@athanor/optiguide";
import { compileEdit } from "./compile.js";
import {
  type ActionContext,
  actionContext,
  type ResolvedAction,
  resolveActions,
  valueAt,
} from "./resolve.js";
import { type Action, formatActions, parseActions } from "./syntax.js";

/** The change of a what-if against the baseline (`comparePlans`). */
export type PlanChange = ReturnType<typeof comparePlans>;

/** Actions checked against an app and ready to run. */
export interface Plan {
  app: AppName;
  /** The canonical action line. */
  line: string;
  actions: Action[];
  resolved: ResolvedAction[];
  kind: "query" | "what-if" | "why" | "decline";
  /** The compiled edit of a what-if or why. */
  edit?: Edit;
  warnings: string[];
}

/** Parses, validates and compiles an action line for an app. Throws on any problem. */
export function planActions(app: AppName, line: string): Plan {
  const actions = parseActions(line);
  const ctx = actionContext(app);
  const resolved = resolveActions(ctx, actions);
  const first = resolved[0]!.kind;
  const warnings = resolved.flatMap((r) => r.warnings);
  const isWhy = actions.some((a) => a.verb === "why" || a.verb === "whynot");
  const kind =
    first === "query" ? "query" : first === "decline" ? "decline" : isWhy ? "why" : "what-if";
  const plan: Plan = { app, line: formatActions(actions), actions, resolved, kind, warnings };
  if (first === "data" || first === "constraint") plan.edit = compileEdit(resolved);
  return plan;
}

export interface ShownValue {
  label: string;
  value: number | null;
}

export interface ActionResult {
  plan: Plan;
  /** The answer in plain words. */
  text: string;
  baseline?: Outcome;
  outcome?: Outcome;
  change?: PlanChange;
  /** Values a query read. */
  values?: ShownValue[];
  /** Time inside HiGHS, in milliseconds (baseline solves are cached per process). */
  solveMs: number;
}

const baselines = new Map<AppName, Promise<Outcome>>();

/** The app's unedited outcome, solved once per process. */
export function baselineOutcome(app: AppName, opts: RunOptions = {}): Promise<Outcome> {
  let b = baselines.get(app);
  if (!b) {
    b = runApp(actionContext(app).app, undefined, opts);
    baselines.set(app, b);
    b.catch(() => baselines.delete(app));
  }
  return b;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(8))));

function planValue(base: Outcome, vars: string[]): number {
  const byName = new Map(base.plan.map((d) => [d.name, d.value]));
  return vars.reduce((s, v) => s + (byName.get(v) ?? 0), 0);
}

function query(
  ctx: ActionContext,
  r: ResolvedAction[],
  base: Outcome,
): { text: string; values: ShownValue[] } {
  const values: ShownValue[] = [];
  for (const res of r)
    for (const s of res.steps) {
      if (s.op === "show-objective")
        values.push({ label: "total cost of the current plan", value: base.objective ?? null });
      else if (s.op === "show-param")
        values.push({ label: s.label, value: valueAt(ctx, s.path) ?? null });
      else if (s.op === "show-decision")
        values.push({
          label: `${s.label} in the current plan`,
          value: base.status === "optimal" ? planValue(base, s.vars) : null,
        });
      else if (s.op === "show-total") {
        const v = base.plan
          .filter((d) => d.name.startsWith(s.prefix))
          .reduce((a, d) => a + d.value, 0);
        values.push({
          label: `${s.label} in the current plan`,
          value: base.status === "optimal" ? v : null,
        });
      }
    }
  const note =
    base.status !== "optimal"
      ? ` (the current plan is ${base.status}: ${base.message ?? "no solution"})`
      : "";
  const text =
    values.map((v) => `${v.label}: ${v.value === null ? "unknown" : fmt(v.value)}`).join("\n") +
    note;
  return { text, values };
}

function whyText(plan: Plan, base: Outcome, change: PlanChange): string {
  const parts: string[] = [];
  for (const r of plan.resolved) {
    const a = r.action;
    if (a.verb !== "why" && a.verb !== "whynot") continue;
    const vars = r.steps.flatMap((s) => (s.op === "fix" ? [s.v] : []));
    if (vars.length === 0) continue;
    const now = planValue(base, vars);
    parts.push(`In the current plan, ${vars.join(" + ")} = ${fmt(now)}.`);
    if (a.verb === "why" && now === 0)
      parts.push("It is not used, so there is nothing to explain.");
    parts.push(
      a.verb === "why"
        ? "To see why, it was forbidden (set to 0) and the model solved again:"
        : "To see why not, it was forced to one unit and the model solved again:",
    );
  }
  const d = change.objectiveDelta;
  if (change.statusAfter === "infeasible")
    parts.push("without it there is no feasible plan, so it is necessary.");
  else if (d !== undefined && Math.abs(d) > 1e-9)
    parts.push(
      `the total cost would ${d > 0 ? "rise" : "fall"} by ${fmt(Math.abs(d))}, which is why the plan ${d > 0 ? "does it this way" : "could be improved"}.`,
    );
  else if (d !== undefined)
    parts.push("the total cost stays the same: the plan has an equally good alternative.");
  return parts.join(" ");
}

/** Runs a plan: reads values for a query, solves the what-if (or why) and compares with the baseline. */
export async function executePlan(plan: Plan, opts: RunOptions = {}): Promise<ActionResult> {
  const ctx = actionContext(plan.app);
  if (plan.kind === "decline")
    return {
      plan,
      text: `That is not a question about the ${plan.app} model (${ctx.spec.about}), so I cannot answer it.`,
      solveMs: 0,
    };
  const base = await baselineOutcome(plan.app, opts);
  if (plan.kind === "query") {
    const q = query(ctx, plan.resolved, base);
    const warn = plan.warnings.length
      ? `${q.text ? "\n" : ""}Note: ${plan.warnings.join("; ")}.`
      : "";
    return { plan, text: q.text + warn, values: q.values, baseline: base, solveMs: 0 };
  }
  const outcome = await runApp(ctx.app, plan.edit, opts);
  const change = comparePlans(base, outcome);
  const warn = plan.warnings.length ? `\nNote: ${plan.warnings.join("; ")}.` : "";
  const text =
    outcome.status === "error"
      ? `The what-if could not run: ${outcome.message}`
      : plan.kind === "why"
        ? `${whyText(plan, base, change)}\n${describeChange(change)}`
        : describeChange(change);
  return { plan, text: text + warn, baseline: base, outcome, change, solveMs: outcome.solveMs };
}
