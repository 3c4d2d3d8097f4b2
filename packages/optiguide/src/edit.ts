/**
 * The edit form: a what-if question becomes one small JavaScript snippet, run in a sandbox.
 *
 * - A **data edit** (`kind: "data"`) runs before the model is built. It mutates `data`, a deep
 *   copy of the app's data: `data.capacity_in_supplier["supplier1"] /= 2`. Dicts keyed by tuples
 *   are objects keyed by the parts joined with commas: `data.cost["Pens,Detroit,Boston"] = 17`.
 * - A **constraint edit** (`kind: "constraint"`) runs after the first solve, at the app's
 *   constraint edit point. It calls `addConstr("x[supplier1,roastery1] >= x[supplier1,roastery2] + 1", "name")`
 *   with a relation in the linear-expression language (./expr.ts) and may add variables with
 *   `addVar("z[supplier1]", { type: "binary" })`.
 *
 * In scope: `data`, and the helpers `key(...parts)` (tuple key string), `keys(dict)` (keys split
 * back into parts; integer parts as numbers), `range(n)` / `range(a, b)`, `sum(list)` (joins
 * expression strings with " + "), `has("x[Gu,Sun7]")` (is there such a variable?),
 * `value("buy[milk]")` (its value in the last solve, like gurobipy's `.X`), `addConstr`, `addVar`.
 * `has`, `value`, `addConstr` and `addVar` work only in constraint edits (a data edit runs before
 * the model exists). The sandbox sees JSON in and gives JSON out: the edited data, the constraints
 * and new variables.
 */
import type { AppData } from "./data.js";
import { runInSandbox, type SandboxOptions } from "./sandbox.js";

export interface Edit {
  kind: "data" | "constraint";
  code: string;
}

/** A constraint as the sandbox returns it: a relation string and an optional name. */
export interface ConstraintSpec {
  expr: string;
  name?: string;
}

export interface VarSpec {
  name: string;
  type: "continuous" | "integer" | "binary";
  lb: number;
  /** `null` for no upper bound (JSON has no Infinity). */
  ub: number | null;
}

export class EditError extends Error {
  constructor(
    message: string,
    readonly reason: "error" | "timeout" | "memory" | "invalid",
  ) {
    super(message);
    this.name = "EditError";
  }
}

/** OptiGuide's placement rule, for edits that do not say their kind. */
export function inferEditKind(code: string): Edit["kind"] {
  return /\baddConstr\b|\baddVar\b/.test(code) ? "constraint" : "data";
}

const PRELUDE = String.raw`
const data = input.data;
const __vars = new Set(input.vars);
const __aliases = input.aliases;
const __values = input.values;
const __constraints = [];
const __newVars = [];
const __norm = (name) => {
  if (typeof name !== "string") throw new TypeError("a variable name must be a string like \"x[a,b]\", got " + typeof name);
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[(.*)\])?\s*$/.exec(name);
  if (!m) throw new TypeError("bad variable name " + JSON.stringify(name) + " (expected family[part,part])");
  if (m[2] === undefined) return m[1];
  const parts = m[2].split(",").map((p) => p.trim().replace(/^(["'])(.*)\1$/, "$2"));
  const n = m[1] + "[" + parts.join(",") + "]";
  return __aliases[n] ?? n;
};
const key = (...parts) => parts.map(String).join(",");
const keys = (dict) => Object.keys(dict).map((k) => {
  const parts = k.split(",").map((p) => (/^-?\d+$/.test(p) ? Number(p) : p));
  return parts.length === 1 ? parts[0] : parts;
});
const range = (a, b, step = 1) => {
  if (b === undefined) { b = a; a = 0; }
  const out = [];
  for (let i = a; step > 0 ? i < b : i > b; i += step) out.push(i);
  return out;
};
const sum = (items) => (items.length === 0 ? "0" : "(" + items.join(" + ") + ")");
const has = (name) => {
  __constraintOnly("has");
  return __vars.has(__norm(name));
};
const value = (name) => {
  __constraintOnly("value");
  const n = __norm(name);
  if (__values === null) throw new Error("value(" + JSON.stringify(name) + "): there is no solution to read (the last solve was not optimal)");
  if (!(n in __values)) throw new Error("value(" + JSON.stringify(name) + "): no such variable");
  return __values[n];
};
const __constraintOnly = (fn) => {
  if (input.kind !== "constraint") throw new Error(fn + "() is only available in a constraint edit (kind \"constraint\"); a data edit changes data before the model exists");
};
const addConstr = (expr, name) => {
  __constraintOnly("addConstr");
  if (typeof expr !== "string") throw new TypeError("addConstr(expr, name): expr must be a string such as \"x[a,b] <= 3\"");
  __constraints.push(name === undefined ? { expr } : { expr, name: String(name) });
};
const addVar = (name, opts = {}) => {
  __constraintOnly("addVar");
  const n = __norm(name);
  if (__vars.has(n)) throw new Error("addVar: variable " + n + " already exists");
  const type = opts.type ?? "continuous";
  if (!["continuous", "integer", "binary"].includes(type)) throw new Error("addVar: type must be continuous, integer or binary");
  const ub = opts.ub ?? (type === "binary" ? 1 : null);
  __vars.add(n);
  __newVars.push({ name: n, type, lb: opts.lb ?? 0, ub: ub === Infinity ? null : ub });
};
`;

/** Lines before the edit's first line in the sandboxed script. */
const PRELUDE_LINES = PRELUDE.split("\n").length + 1;

export interface EditInput {
  data: AppData;
  /** Canonical names of the model's variables (for `has`). */
  vars?: string[];
  /** Alternative names → canonical (tsp: `vars[4,9]` → `vars[9,4]`). */
  aliases?: Record<string, string>;
  /** Values of the last solve, or null when it had none. */
  values?: Record<string, number> | null;
}

export interface EditOutput {
  data: AppData;
  constraints: ConstraintSpec[];
  variables: VarSpec[];
}

/** Runs an edit's code in the sandbox; throws {@link EditError} when it throws, loops or returns junk. */
export async function runEdit(
  edit: Edit,
  input: EditInput,
  opts: SandboxOptions = {},
): Promise<EditOutput> {
  if (typeof edit?.code !== "string") throw new EditError("the edit has no code", "invalid");
  const code = `${PRELUDE}\n(() => {\n${edit.code}\n})();\n({ data, constraints: __constraints, variables: __newVars });`;
  const res = await runInSandbox(
    code,
    {
      kind: edit.kind,
      data: input.data,
      vars: input.vars ?? [],
      aliases: input.aliases ?? {},
      values: input.values ?? null,
    },
    opts,
  );
  if (!res.ok) {
    const reason = res.timedOut ? "timeout" : res.outOfMemory ? "memory" : "error";
    // Report lines of the edit's own code, not of the prelude around it.
    const line = res.line !== undefined ? res.line - PRELUDE_LINES : undefined;
    const where =
      line !== undefined && line >= 1 && line <= edit.code.split("\n").length
        ? ` (line ${line} of the edit)`
        : "";
    throw new EditError(`the ${edit.kind} edit failed: ${res.error}${where}`, reason);
  }
  const out = res.output as EditOutput;
  if (!out || typeof out !== "object" || typeof out.data !== "object")
    throw new EditError("the edit replaced `data` with something that is not an object", "invalid");
  return out;
}
