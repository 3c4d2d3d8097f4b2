/**
 * How a what-if outcome differs from the baseline plan: status, objective, the decisions that
 * changed, and the conflicting constraints when infeasible. Computed here, deterministically;
 * the interpreter agent only puts it into words.
 */
import type { Outcome } from "../whatif.js";

export interface DecisionChange {
  name: string;
  before: number;
  after: number;
}

export interface PlanChange {
  statusBefore: Outcome["status"];
  statusAfter: Outcome["status"];
  objectiveBefore?: number;
  objectiveAfter?: number;
  /** after - before, when both are known. */
  objectiveDelta?: number;
  /** Relative change in percent of |before|, when before != 0. */
  objectiveDeltaPct?: number;
  /** Decisions whose value changed, largest change first. */
  changed: DecisionChange[];
  conflict?: string[];
  message?: string;
}

const TOL = 1e-9;

export function comparePlans(baseline: Outcome, outcome: Outcome): PlanChange {
  const before = new Map(baseline.plan.map((d) => [d.name, d.value]));
  const after = new Map(outcome.plan.map((d) => [d.name, d.value]));
  const changed: DecisionChange[] = [];
  if (outcome.status === "optimal") {
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      const b = before.get(name) ?? 0;
      const a = after.get(name) ?? 0;
      if (Math.abs(a - b) > TOL * Math.max(1, Math.abs(b)))
        changed.push({ name, before: b, after: a });
    }
    changed.sort(
      (x, y) =>
        Math.abs(y.after - y.before) - Math.abs(x.after - x.before) || x.name.localeCompare(y.name),
    );
  }
  const change: PlanChange = {
    statusBefore: baseline.status,
    statusAfter: outcome.status,
    objectiveBefore: baseline.objective,
    objectiveAfter: outcome.objective,
    changed,
  };
  if (baseline.objective !== undefined && outcome.objective !== undefined) {
    change.objectiveDelta = outcome.objective - baseline.objective;
    if (Math.abs(baseline.objective) > TOL) {
      change.objectiveDeltaPct = (100 * change.objectiveDelta) / Math.abs(baseline.objective);
    }
  }
  if (outcome.conflict) change.conflict = outcome.conflict;
  if (outcome.message) change.message = outcome.message;
  return change;
}

const num = (x: number) => (Number.isInteger(x) ? String(x) : Number(x.toPrecision(8)).toString());

/** A plain-text account of the change (also the fallback explanation without a model). */
export function describeChange(c: PlanChange, limit = 8): string {
  const lines: string[] = [];
  if (c.statusAfter === "optimal") {
    if (c.objectiveBefore !== undefined && c.objectiveDelta !== undefined) {
      const pct =
        c.objectiveDeltaPct === undefined
          ? ""
          : ` (${c.objectiveDelta >= 0 ? "+" : ""}${c.objectiveDeltaPct.toFixed(2)}%)`;
      lines.push(
        Math.abs(c.objectiveDelta) <= TOL
          ? `The objective stays at ${num(c.objectiveAfter!)}.`
          : `The objective changes from ${num(c.objectiveBefore)} to ${num(c.objectiveAfter!)}${pct}.`,
      );
    } else {
      lines.push(
        `The model is solved to optimality with objective ${num(c.objectiveAfter!)} (the baseline was ${c.statusBefore}).`,
      );
    }
    if (c.changed.length === 0) lines.push("No decision changes.");
    else {
      lines.push(`${c.changed.length} decision${c.changed.length === 1 ? "" : "s"} change:`);
      for (const d of c.changed.slice(0, limit))
        lines.push(`- ${d.name}: ${num(d.before)} -> ${num(d.after)}`);
      if (c.changed.length > limit) lines.push(`- ... and ${c.changed.length - limit} more`);
    }
  } else if (c.statusAfter === "infeasible") {
    lines.push(
      `The model becomes infeasible${c.conflict?.length ? `; these constraints conflict: ${c.conflict.join(", ")}` : ""}.`,
    );
  } else {
    lines.push(
      c.message
        ? `${c.message[0]!.toUpperCase()}${c.message.slice(1)}.`
        : `The solve ended ${c.statusAfter}.`,
    );
  }
  return lines.join("\n");
}
