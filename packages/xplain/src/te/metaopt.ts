/**
 * Exact adversarial search for the TE heuristics (MetaOpt's rewrite): one MILP whose optimum
 * is the demand vector, over quantized levels, with the largest `OPT(d) - H(d)`.
 */
import type { Solver } from "@athanor/opt";
import { LinExpr, sum } from "@athanor/opt";
import { AdversarialModel, type QuantizedInput } from "../dsl.js";
import { pairName, shortestPathUsers, type TeInstance } from "./instance.js";

export interface ExactSearchOptions {
  /** Demand levels each pair may take (must include 0). */
  levels: readonly number[];
  /** Solver wall-clock limit in seconds (the incumbent is returned, labelled). */
  timeLimit?: number;
  mipGap?: number;
}

export interface ExactSearchResult {
  /** `optimal`: the true worst gap over the levels; `time_limit`: a lower bound (incumbent). */
  status: "optimal" | "time_limit";
  demands: number[];
  /** The MILP's objective: OPT(d) - H(d) at the returned demands. */
  gap: number;
  /** MILP upper bound on the gap (equal to `gap` when optimal). */
  bound: number | undefined;
  seconds: number;
  size: { variables: number; constraints: number; binaries: number };
}

function checkLevels(levels: readonly number[]): void {
  if (!levels.includes(0))
    throw new Error(`levels must include 0 (no demand), got [${levels.join(", ")}]`);
  if (levels.some((l) => !(l >= 0) || !Number.isFinite(l))) {
    throw new Error(`levels must be finite and >= 0, got [${levels.join(", ")}]`);
  }
}

/** Adds the optimal max-flow (the benchmark, maximized with the leader) and returns its value. */
function addOptimal(am: AdversarialModel, inst: TeInstance, d: QuantizedInput[]): LinExpr {
  const m = am.model;
  const total = new LinExpr();
  const load = inst.topology.links.map(() => new LinExpr());
  inst.pairs.forEach((p, k) => {
    const g = inst.paths[k]!.map((_, j) => m.addVar(`opt.f[${pairName(p)},${j}]`));
    m.addConstraint(sum(g).sub(d[k]!.value()), "<=", 0, {
      name: `opt.demand[${pairName(p)}]`,
      family: "opt.demand",
    });
    g.forEach((f, j) => {
      total.addTerm(f);
      for (const e of inst.paths[k]![j]!.links) load[e]!.addTerm(f);
    });
  });
  inst.topology.links.forEach((l, e) => {
    if (load[e]!.size > 0) {
      m.addConstraint(load[e]!, "<=", l.capacity, {
        name: `opt.cap[${l.from}->${l.to}]`,
        family: "opt.capacity",
      });
    }
  });
  return total;
}

async function solveGap(
  am: AdversarialModel,
  d: QuantizedInput[],
  opts: ExactSearchOptions,
  solver: Solver,
): Promise<ExactSearchResult> {
  const sol = await solver.solve(am.model, {
    timeLimit: opts.timeLimit,
    mipGap: opts.mipGap ?? 1e-6,
    conflict: false,
  });
  if (sol.status !== "optimal" && !(sol.status === "time_limit" && sol.objective !== undefined)) {
    throw new Error(`adversarial MILP ended ${sol.status}${sol.message ? `: ${sol.message}` : ""}`);
  }
  const value = (v: Parameters<typeof sol.value>[0]) => sol.value(v);
  return {
    status: sol.status === "optimal" ? "optimal" : "time_limit",
    demands: d.map((q) => q.levelIn(value)),
    gap: sol.objective!,
    bound: sol.bestBound,
    seconds: sol.seconds,
    size: {
      variables: am.model.numVars,
      constraints: am.model.numConstraints,
      binaries: d.reduce((n, q) => n + q.bins.length, 0),
    },
  };
}

/** The worst demand vector for demand pinning with `threshold`, against the optimum. */
export async function worstCaseDemandPinning(
  inst: TeInstance,
  threshold: number,
  opts: ExactSearchOptions,
  solver: Solver,
): Promise<ExactSearchResult> {
  checkLevels(opts.levels);
  const am = new AdversarialModel("metaopt-dp");
  const m = am.model;
  const d = inst.pairs.map((p) => am.input(`d[${pairName(p)}]`, opts.levels));
  const benchmark = addOptimal(am, inst, d);

  // Demand pinning. Pinned traffic per pair: its level when 0 < level <= threshold.
  const pinned = d.map((q) => q.where((l) => l > 0 && l <= threshold));
  const users = shortestPathUsers(inst);
  // DP must have a valid routing: pinned traffic alone fits every link.
  inst.topology.links.forEach((l, e) => {
    if (users[e]!.length > 0) {
      m.addConstraint(sum(users[e]!.map((k) => pinned[k]!)), "<=", l.capacity, {
        name: `dp.pinned_fits[${l.from}->${l.to}]`,
        family: "dp.pinned_fits",
      });
    }
  });
  // The rest is routed optimally on the residual capacity: a follower LP.
  const f = am.follower("dp");
  const obj: [ReturnType<typeof f.addVar>, number][] = [];
  const load = inst.topology.links.map(() => [] as [ReturnType<typeof f.addVar>, number][]);
  inst.pairs.forEach((p, k) => {
    const vs = inst.paths[k]!.map((_, j) => f.addVar(`f[${pairName(p)},${j}]`));
    f.addConstraint(
      `demand[${pairName(p)}]`,
      vs.map((v) => [v, 1]),
      d[k]!.where((l) => l > threshold),
    );
    vs.forEach((v, j) => {
      obj.push([v, 1]);
      for (const e of inst.paths[k]![j]!.links) load[e]!.push([v, 1]);
    });
  });
  inst.topology.links.forEach((l, e) => {
    if (load[e]!.length === 0) return;
    const rhs = new LinExpr();
    rhs.constant = l.capacity;
    for (const k of users[e]!) rhs.sub(pinned[k]!);
    f.addConstraint(`cap[${l.from}->${l.to}]`, load[e]!, rhs);
  });
  f.maximize(obj);
  // Duals of this packing LP (a = 1, c = 1) are optimal within [0, 1]; b >= 0 holds because
  // pinned traffic fits (the constraint above), so the bound is valid.
  const heuristic = sum(pinned).add(f.compile({ dualBound: 1 }));
  am.maximizeGap(benchmark, heuristic);
  return solveGap(am, d, opts, solver);
}

/** The worst demand vector for POP with a fixed `partition` of the pairs. */
export async function worstCasePop(
  inst: TeInstance,
  partition: readonly number[],
  opts: ExactSearchOptions,
  solver: Solver,
): Promise<ExactSearchResult> {
  checkLevels(opts.levels);
  const am = new AdversarialModel("metaopt-pop");
  const d = inst.pairs.map((p) => am.input(`d[${pairName(p)}]`, opts.levels));
  const benchmark = addOptimal(am, inst, d);
  const parts = Math.max(...partition) + 1;
  const heuristic = new LinExpr();
  for (let part = 0; part < parts; part++) {
    const f = am.follower(`pop${part}`);
    const obj: [ReturnType<typeof f.addVar>, number][] = [];
    const load = inst.topology.links.map(() => [] as [ReturnType<typeof f.addVar>, number][]);
    inst.pairs.forEach((p, k) => {
      if (partition[k] !== part) return;
      const vs = inst.paths[k]!.map((_, j) => f.addVar(`f[${pairName(p)},${j}]`));
      f.addConstraint(
        `demand[${pairName(p)}]`,
        vs.map((v) => [v, 1]),
        d[k]!.value(),
      );
      vs.forEach((v, j) => {
        obj.push([v, 1]);
        for (const e of inst.paths[k]![j]!.links) load[e]!.push([v, 1]);
      });
    });
    inst.topology.links.forEach((l, e) => {
      if (load[e]!.length > 0)
        f.addConstraint(`cap[${l.from}->${l.to}]`, load[e]!, l.capacity / parts);
    });
    f.maximize(obj);
    heuristic.add(f.compile());
  }
  am.maximizeGap(benchmark, heuristic);
  return solveGap(am, d, opts, solver);
}
