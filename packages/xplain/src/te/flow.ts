/**
 * Multi-commodity max-flow over candidate paths: the optimal benchmark, and the routing step
 * of demand pinning and POP. Models are built with `@athanor/opt` and solved with HiGHS.
 */
import { LinExpr, Model, type Solver, sum, type Var } from "@athanor/opt";
import { pairName, type TeInstance } from "./instance.js";

export interface FlowResult {
  /** Total flow routed. */
  total: number;
  /** `flows[k][p]`: flow of pair k on its p-th path. */
  flows: number[][];
}

/**
 * Max total flow of `demands` (per pair; pairs with 0 or excluded are skipped) over the
 * instance's paths, within `capacity[e]` per link (defaults to the topology's).
 */
export async function maxFlow(
  inst: TeInstance,
  demands: readonly number[],
  solver: Solver,
  opts: { capacity?: readonly number[]; include?: (k: number) => boolean } = {},
): Promise<FlowResult> {
  const m = new Model("maxflow");
  const cap = opts.capacity ?? inst.topology.links.map((l) => l.capacity);
  const vars: (Var[] | undefined)[] = [];
  const load = inst.topology.links.map(() => new LinExpr());
  const objective = new LinExpr();
  inst.pairs.forEach((p, k) => {
    if (!(demands[k]! > 0) || (opts.include && !opts.include(k))) return;
    const fs = inst.paths[k]!.map((_, j) => m.addVar(`f[${pairName(p)},${j}]`));
    vars[k] = fs;
    m.addConstraint(sum(fs), "<=", demands[k]!, {
      name: `demand[${pairName(p)}]`,
      family: "demand",
    });
    fs.forEach((f, j) => {
      objective.addTerm(f);
      for (const e of inst.paths[k]![j]!.links) load[e]!.addTerm(f);
    });
  });
  inst.topology.links.forEach((l, e) => {
    if (load[e]!.size > 0) {
      m.addConstraint(load[e]!, "<=", Math.max(0, cap[e]!), {
        name: `cap[${l.from}->${l.to}]`,
        family: "capacity",
      });
    }
  });
  m.maximize(objective);
  if (objective.size === 0)
    return { total: 0, flows: inst.pairs.map((_, k) => inst.paths[k]!.map(() => 0)) };
  const sol = await solver.solve(m);
  if (sol.status !== "optimal")
    throw new Error(`max-flow LP ended ${sol.status}${sol.message ? `: ${sol.message}` : ""}`);
  return {
    total: sol.objective!,
    flows: inst.pairs.map((_, k) =>
      inst.paths[k]!.map((__, j) => (vars[k] ? sol.value(vars[k]![j]!) : 0)),
    ),
  };
}
