/**
 * Compiles resolved actions into Athanor's edit form (`Edit`: JavaScript run in the QuickJS
 * sandbox, the same form the OptiGuide writer produces): `set` becomes a data edit, the decision
 * verbs become `addConstr` rows of a constraint edit.
 */
import type { Edit } from "@athanor/optiguide";
import type { ResolvedAction, Step } from "./resolve.js";
import type { DataPath } from "./spec.js";
import type { ValueChange } from "./syntax.js";

const q = (s: string) => JSON.stringify(s);

/** `["cost", "Pens,Detroit,Boston"]` → `data.cost["Pens,Detroit,Boston"]`. */
export function pathCode(path: DataPath): string {
  const [field, ...keys] = path;
  return `data.${field}${keys.map((k) => `[${typeof k === "number" ? k : q(k)}]`).join("")}`;
}

/** The new value of `lhs` after a change, as a JavaScript expression. */
export function changeCode(lhs: string, c: ValueChange): string {
  if (c.percent) return `${lhs} * (1 ${c.op} ${c.value} / 100)`;
  if (c.op === "=") return String(c.value);
  return `${lhs} ${c.op} ${c.value}`;
}

function stepCode(s: Step): string {
  switch (s.op) {
    case "set": {
      const lhs = pathCode(s.path);
      return `${lhs} = ${changeCode(lhs, s.change)};`;
    }
    case "fix": {
      if (s.change.op === "=" && !s.change.percent)
        return `addConstr(${q(`${s.v} == ${s.change.value}`)}, ${q(s.name)});`;
      const rhs = changeCode(`value(${q(s.v)})`, s.change);
      return `addConstr(${q(`${s.v} == `)} + (${rhs}), ${q(s.name)});`;
    }
    case "bound":
      return `addConstr(${q(`${s.expr} ${s.bound.sense} ${s.bound.value}`)}, ${q(s.name)});`;
    case "apart":
      return `addConstr(${q(`${s.a} + ${s.b} <= 1`)}, ${q(s.name)});`;
    default:
      throw new Error(`compile: ${s.op} is a query, not an edit`);
  }
}

/** The edit for resolved what-if actions (all of one kind: data or constraint). */
export function compileEdit(resolved: ResolvedAction[]): Edit {
  const kind = resolved[0]?.kind;
  if (kind !== "data" && kind !== "constraint")
    throw new Error(`compile: ${kind ?? "nothing"} is not an edit`);
  const lines: string[] = [];
  for (const r of resolved) for (const s of r.steps) lines.push(stepCode(s));
  // A guarded action whose decisions do not exist changes nothing; the edit says so.
  if (lines.length === 0) lines.push("// nothing in the model matches: no change");
  return { kind, code: lines.join("\n") };
}
