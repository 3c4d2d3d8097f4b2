/**
 * Validation: actions are checked against the app before anything runs. Names resolve to the
 * app's own (`hot_dog` → `hot dog`, `plant3` → 3), wildcards and groups expand, and a key
 * that names nothing is an error that says what exists. Decisions that the model does not
 * have for a key (a worker not available on a shift, a route that is not an arc) are dropped
 * with a warning, as the app's own guarded edits do.
 */
import { type App, type AppData, type AppName, getApp } from "@athanor/optiguide";
import {
  type AppSpec,
  appSpec,
  type DataPath,
  type DecisionSpec,
  type Json,
  type ParamSpec,
  surfaceName,
} from "./spec.js";
import { type Action, type Bound, formatAction, type ValueChange } from "./syntax.js";

export class ActionError extends Error {
  constructor(
    message: string,
    readonly action?: string,
  ) {
    super(action ? `${action}: ${message}` : message);
    this.name = "ActionError";
  }
}

/** What validation needs about an app (built once per app). */
export interface ActionContext {
  app: App;
  spec: AppSpec;
  data: AppData;
  /** The model's variable names (canonical). */
  vars: Set<string>;
  /** Alternative variable names → canonical (tsp edges). */
  aliases: Record<string, string>;
}

const contexts = new Map<AppName, ActionContext>();

export function actionContext(app: AppName): ActionContext {
  let ctx = contexts.get(app);
  if (!ctx) {
    const a = getApp(app);
    const data = a.data();
    const am = a.build(a.data());
    ctx = {
      app: a,
      spec: appSpec(app, data),
      data,
      vars: new Set(am.varNames()),
      aliases: am.aliasMap(),
    };
    contexts.set(app, ctx);
  }
  return ctx;
}

/** One resolved step, in the app's own names. */
export type Step =
  | { op: "show-param"; label: string; path: DataPath }
  | { op: "show-decision"; label: string; vars: string[] }
  | { op: "show-total"; label: string; prefix: string }
  | { op: "show-objective" }
  | { op: "set"; path: DataPath; change: ValueChange; create: boolean }
  | { op: "fix"; v: string; change: ValueChange; name: string }
  | { op: "bound"; expr: string; bound: Bound; name: string }
  | { op: "apart"; a: string; b: string; name: string };

export interface ResolvedAction {
  action: Action;
  /** `query`: read the plan or data; `data` / `constraint`: a what-if edit; `decline`. */
  kind: "query" | "data" | "constraint" | "decline";
  steps: Step[];
  warnings: string[];
}

/** A key part's candidates: the app names it stands for (several for `*` and groups). */
function partValues(
  spec: AppSpec,
  type: string,
  part: string,
): { values: string[]; wild: boolean } | undefined {
  const et = spec.entities.get(type);
  if (!et) throw new Error(`spec: unknown entity type ${type}`);
  if (part === "*") return { values: [...et.members.values()], wild: true };
  const one = et.members.get(part);
  if (one !== undefined) return { values: [one], wild: false };
  const group = et.groups?.get(part);
  if (group) return { values: group.map((m) => et.members.get(m)!), wild: true };
  return undefined;
}

function listMembers(spec: AppSpec, type: string): string {
  const et = spec.entities.get(type)!;
  const names = [...et.members.keys()];
  if (et.groups) names.push(...et.groups.keys());
  return names.join(", ");
}

/** Orders of the key parts to try: as written first, then other orders of the typed parts. */
function permutations(n: number): number[][] {
  if (n <= 1) return [[0]];
  const out: number[][] = [];
  const rec = (prefix: number[]) => {
    if (prefix.length === n) {
      out.push(prefix);
      return;
    }
    for (let i = 0; i < n; i++) if (!prefix.includes(i)) rec([...prefix, i]);
  };
  rec([]);
  return out;
}

/**
 * Resolves a key (surface parts) against key types: the concrete keys (app names) it covers,
 * and whether it used a wildcard. Typed parts may come in any order when their types tell.
 */
export function resolveKey(
  spec: AppSpec,
  types: string[],
  key: string[],
  what: string,
): { keys: string[][]; wild: boolean } {
  if (key.length !== types.length)
    throw new ActionError(
      `${what} takes ${types.length} key part${types.length === 1 ? "" : "s"} (${types.join(", ")}), got ${key.length}`,
    );
  let firstError: string | undefined;
  for (const order of permutations(key.length)) {
    const parts = order.map((i) => key[i]!);
    const resolved: { values: string[]; wild: boolean }[] = [];
    let bad: string | undefined;
    for (const [i, part] of parts.entries()) {
      if (order[i] !== i && part === "*") {
        bad = "moved wildcard";
        break;
      }
      const r = partValues(spec, types[i]!, part);
      if (!r) {
        bad = `"${part}" is not a ${types[i]} (${types[i]}s: ${listMembers(spec, types[i]!)})`;
        break;
      }
      resolved.push(r);
    }
    if (bad) {
      firstError ??= bad;
      continue;
    }
    let keys: string[][] = [[]];
    for (const r of resolved) keys = keys.flatMap((k) => r.values.map((v) => [...k, v]));
    return { keys, wild: resolved.some((r) => r.wild) };
  }
  throw new ActionError(firstError ?? `cannot read the key ${key.join(" ")}`);
}

function readPath(data: AppData, path: DataPath): Json | undefined {
  let v: Json | undefined = data[path[0]];
  for (const k of path.slice(1)) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, Json>)[k as string];
  }
  return v;
}

export function valueAt(ctx: ActionContext, path: DataPath): number | undefined {
  const v = readPath(ctx.data, path);
  return typeof v === "number" ? v : undefined;
}

function getParam(ctx: ActionContext, name: string, verb: string): ParamSpec {
  const p = ctx.spec.params.get(name);
  if (p) return p;
  const hint = ctx.spec.decisions.has(name)
    ? ` ("${name}" is a decision: use forbid, fix, limit, why or whynot)`
    : "";
  throw new ActionError(
    `${verb}: "${name}" is not a parameter of ${ctx.spec.app}${hint} (parameters: ${[...ctx.spec.params.keys()].join(", ")})`,
  );
}

function getDecision(ctx: ActionContext, name: string, verb: string): DecisionSpec {
  const d = ctx.spec.decisions.get(name);
  if (d) return d;
  const hint = ctx.spec.params.has(name) ? ` ("${name}" is a parameter: use set)` : "";
  throw new ActionError(
    `${verb}: "${name}" is not a decision of ${ctx.spec.app}${hint} (decisions: ${[...ctx.spec.decisions.keys()].join(", ")})`,
  );
}

function canonicalVar(ctx: ActionContext, v: string): string | undefined {
  const c = ctx.aliases[v] ?? v;
  return ctx.vars.has(c) ? c : undefined;
}

/** The model's variables for a decision key pattern; missing ones are warnings (or silent under a wildcard). */
function decisionVars(
  ctx: ActionContext,
  d: DecisionSpec,
  key: string[],
  verb: string,
  warnings: string[],
): string[][] {
  const { keys, wild } = resolveKey(ctx.spec, d.keys, key, `${verb} ${d.name}`);
  const out: string[][] = [];
  for (const k of keys) {
    const vs: string[] = [];
    for (const v of d.vars(k)) {
      const c = canonicalVar(ctx, v);
      if (c) vs.push(c);
      else if (!wild)
        warnings.push(
          `${v} is not a decision of the model (no ${d.name} for ${k.join(", ")}), so this part has no effect`,
        );
    }
    if (vs.length > 0) out.push(vs);
  }
  return out;
}

function checkChange(c: ValueChange, where: string): void {
  if (c.op === "/" && c.value === 0) throw new ActionError(`${where}: division by zero`);
  if (!Number.isFinite(c.value))
    throw new ActionError(`${where}: the value must be a finite number`);
}

/** Validates one action against the app and resolves it into steps. Throws {@link ActionError}. */
export function resolveAction(ctx: ActionContext, action: Action): ResolvedAction {
  const line = formatAction(action);
  try {
    return resolveInner(ctx, action, line);
  } catch (e) {
    if (e instanceof ActionError && !e.action) throw new ActionError(e.message, line);
    throw e;
  }
}

function resolveInner(ctx: ActionContext, action: Action, line: string): ResolvedAction {
  const warnings: string[] = [];
  const { spec } = ctx;
  switch (action.verb) {
    case "decline":
      return { action, kind: "decline", steps: [], warnings };
    case "show": {
      if (action.target === "objective" || action.target === "total_cost") {
        if (action.key.length > 0) throw new ActionError("show objective takes no key");
        return { action, kind: "query", steps: [{ op: "show-objective" }], warnings };
      }
      const p = spec.params.get(action.target);
      if (p) {
        const { keys } = resolveKey(spec, p.keys, action.key, `show ${p.name}`);
        const steps: Step[] = [];
        for (const k of keys)
          for (const path of p.refs(k))
            steps.push({ op: "show-param", label: `${p.name} ${k.join(" ")}`, path });
        if (steps.length === 0)
          throw new ActionError(`${p.name} has no value for ${action.key.join(" ")}`);
        return { action, kind: "query", steps, warnings };
      }
      const t = spec.totals.get(action.target);
      if (t) {
        const { keys } = resolveKey(spec, t.keys, action.key, `show ${t.name}`);
        return {
          action,
          kind: "query",
          steps: keys.map((k) => ({
            op: "show-total",
            label: `${t.name} ${k.join(" ")}`,
            prefix: t.prefix(k),
          })),
          warnings,
        };
      }
      const d = spec.decisions.get(action.target);
      if (!d)
        throw new ActionError(
          `"${action.target}" is not something ${spec.app} has (parameters: ${[...spec.params.keys()].join(", ")}; decisions: ${[...spec.decisions.keys()].join(", ")}; or objective)`,
        );
      const { keys, wild } = resolveKey(spec, d.keys, action.key, `show ${d.name}`);
      const steps: Step[] = [];
      for (const k of keys) {
        const vars = d.vars(k).flatMap((v) => canonicalVar(ctx, v) ?? []);
        const label = `${d.name} ${k.map(surfaceName).join(" ")}`;
        if (vars.length > 0) steps.push({ op: "show-decision", label, vars });
        else if (!wild)
          warnings.push(`${label} is not a decision of the model (it is never possible)`);
      }
      return { action, kind: "query", steps, warnings };
    }
    case "set": {
      const p = getParam(ctx, action.target, "set");
      checkChange(action.change, line);
      const { keys, wild } = resolveKey(spec, p.keys, action.key, `set ${p.name}`);
      const steps: Step[] = [];
      for (const k of keys) {
        const refs = p.refs(k);
        for (const path of refs)
          steps.push({ op: "set", path, change: action.change, create: false });
        if (refs.length === 0 && !wild) {
          if (p.newRef && action.change.op === "=" && !action.change.percent)
            steps.push({ op: "set", path: p.newRef(k), change: action.change, create: true });
          else
            throw new ActionError(
              `${p.name} has no value for ${k.join(", ")}${p.newRef ? " (only =V can create one)" : ""}`,
            );
        }
        const note = p.unused?.(k);
        if (note && !wild) warnings.push(note);
      }
      if (steps.length === 0)
        warnings.push(`no ${p.name} matches ${action.key.join(" ")}, so nothing changes`);
      return { action, kind: "data", steps, warnings };
    }
    case "forbid":
    case "why":
    case "whynot":
    case "fix": {
      const d = getDecision(ctx, action.target, action.verb);
      const change: ValueChange =
        action.verb === "fix"
          ? action.change
          : { op: "=", value: action.verb === "whynot" ? 1 : 0, percent: false };
      if (action.verb === "fix") checkChange(change, line);
      const steps: Step[] = decisionVars(ctx, d, action.key, action.verb, warnings)
        .flat()
        .map((v) => ({ op: "fix", v, change, name: line }));
      return { action, kind: "constraint", steps, warnings };
    }
    case "limit": {
      const t = spec.totals.get(action.target);
      if (t) {
        const { keys } = resolveKey(spec, t.keys, action.key, `limit ${t.name}`);
        return {
          action,
          kind: "constraint",
          steps: keys.map((k) => ({
            op: "bound",
            expr: t.expr(k),
            bound: action.bound,
            name: k.join(","),
          })),
          warnings,
        };
      }
      const d = getDecision(ctx, action.target, "limit");
      const steps: Step[] = decisionVars(ctx, d, action.key, "limit", warnings).map((vs) => ({
        op: "bound",
        expr: vs.join(" + "),
        bound: action.bound,
        name: line,
      }));
      return { action, kind: "constraint", steps, warnings };
    }
    case "only":
    case "exclusive": {
      const d = getDecision(ctx, action.target, action.verb);
      if (d.keys.length !== 2)
        throw new ActionError(
          `${action.verb} needs a decision with two key parts (${d.name} has ${d.keys.length})`,
        );
      const { keys, wild } = resolveKey(spec, d.keys, action.key, `${action.verb} ${d.name}`);
      if (wild || keys.length !== 1)
        throw new ActionError(
          `${action.verb} takes one ${d.keys[0]} and one ${d.keys[1]}, not a wildcard`,
        );
      const [a, b] = keys[0]!;
      const others = (type: string, not: string) =>
        [...spec.entities.get(type)!.members.values()].filter((m) => m !== not);
      const forbidden: string[][] = others(d.keys[1]!, b!).map((o) => [a!, o]);
      if (action.verb === "exclusive")
        for (const o of others(d.keys[0]!, a!)) forbidden.push([o, b!]);
      const steps: Step[] = [];
      for (const k of forbidden)
        for (const v of d.vars(k)) {
          const c = canonicalVar(ctx, v);
          if (c)
            steps.push({
              op: "fix",
              v: c,
              change: { op: "=", value: 0, percent: false },
              name: line,
            });
        }
      return { action, kind: "constraint", steps, warnings };
    }
    case "apart": {
      const d = getDecision(ctx, action.target, "apart");
      if (d.keys.length !== 2 || d.keys[0] === d.keys[1])
        throw new ActionError(
          `apart needs a decision keyed by two different kinds of thing (${d.name})`,
        );
      if (action.key.length !== 2) throw new ActionError(`apart ${d.name} takes two ${d.keys[0]}s`);
      const names = action.key.map((part) => {
        const r = partValues(spec, d.keys[0]!, part);
        if (!r || r.wild)
          throw new ActionError(
            `"${part}" is not a ${d.keys[0]} (${d.keys[0]}s: ${listMembers(spec, d.keys[0]!)})`,
          );
        return r.values[0]!;
      });
      if (names[0] === names[1]) throw new ActionError("apart needs two different names");
      const steps: Step[] = [];
      for (const other of spec.entities.get(d.keys[1]!)!.members.values()) {
        const va = canonicalVar(ctx, d.vars([names[0]!, other])[0]!);
        const vb = canonicalVar(ctx, d.vars([names[1]!, other])[0]!);
        if (va && vb) steps.push({ op: "apart", a: va, b: vb, name: other });
      }
      if (steps.length === 0)
        warnings.push(
          `${names[0]} and ${names[1]} never share a ${d.keys[1]}, so this changes nothing`,
        );
      return { action, kind: "constraint", steps, warnings };
    }
  }
}

/** Resolves a list of actions; they must agree on their kind (one what-if is one kind of edit). */
export function resolveActions(ctx: ActionContext, actions: Action[]): ResolvedAction[] {
  if (actions.length === 0) throw new ActionError("no action");
  const resolved = actions.map((a) => resolveAction(ctx, a));
  const kinds = new Set(resolved.map((r) => r.kind));
  if (kinds.size > 1)
    throw new ActionError(
      `cannot combine ${[...kinds].join(" and ")} actions in one answer (${resolved.map((r) => formatAction(r.action)).join(" ; ")}): a what-if either changes data (set) or adds constraints`,
    );
  return resolved;
}
