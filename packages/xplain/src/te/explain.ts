/**
 * Why demand pinning loses traffic on an input: which pinned demands take which shortest
 * path, which links they congest, which demands lose traffic because of it, and what the
 * optimum does instead. Structured data plus a short text.
 */
import type { Solver } from "@athanor/opt";
import { demandPinning, optimal } from "./heuristics.js";
import { pairName, type TeInstance } from "./instance.js";

export interface CongestedLink {
  link: string;
  capacity: number;
  /** Pinned traffic DP puts on the link. */
  pinnedLoad: number;
  /** Total DP load (pinned + routed). */
  heuristicLoad: number;
  /** Load the optimum puts on it. */
  optimalLoad: number;
  /** Pinned demands whose shortest path crosses it. */
  pinnedDemands: { pair: string; demand: number; path: string[] }[];
}

export interface DemandLoss {
  pair: string;
  demand: number;
  heuristicServed: number;
  optimalServed: number;
}

export interface PinningExplanation {
  demands: Record<string, number>;
  optimalTotal: number;
  heuristicTotal: number;
  gap: number;
  congested: CongestedLink[];
  /** Demands the heuristic serves less of than the optimum, largest loss first. */
  losses: DemandLoss[];
  /** Pinned demands the optimum routes off their shortest path. */
  rerouted: { pair: string; demand: number; optimalPaths: { path: string[]; flow: number }[] }[];
  text: string;
}

const EPS = 1e-6;

export async function explainDemandPinning(
  inst: TeInstance,
  demands: readonly number[],
  threshold: number,
  solver: Solver,
): Promise<PinningExplanation> {
  const [opt, dp] = await Promise.all([
    optimal(inst, demands, solver),
    demandPinning(inst, demands, threshold, solver),
  ]);
  const links = inst.topology.links;
  const name = (e: number) => `${links[e]!.from}->${links[e]!.to}`;
  const loadOf = (flows: number[][]) => {
    const load = links.map(() => 0);
    for (const [k, fs] of flows.entries()) {
      for (const [j, f] of fs.entries()) for (const e of inst.paths[k]![j]!.links) load[e]! += f;
    }
    return load;
  };
  const dpLoad = loadOf(dp.flows);
  const optLoad = loadOf(opt.flows);
  const pinnedSet = new Set(dp.pinned);
  const pinnedLoad = links.map(() => 0);
  for (const k of dp.pinned)
    for (const e of inst.paths[k]![0]!.links) pinnedLoad[e]! += demands[k]!;

  const congested: CongestedLink[] = [];
  links.forEach((l, e) => {
    if (pinnedLoad[e]! > EPS && dpLoad[e]! >= l.capacity - EPS) {
      congested.push({
        link: name(e),
        capacity: l.capacity,
        pinnedLoad: pinnedLoad[e]!,
        heuristicLoad: dpLoad[e]!,
        optimalLoad: optLoad[e]!,
        pinnedDemands: dp.pinned
          .filter((k) => inst.paths[k]![0]!.links.includes(e))
          .map((k) => ({
            pair: pairName(inst.pairs[k]!),
            demand: demands[k]!,
            path: inst.paths[k]![0]!.nodes,
          })),
      });
    }
  });
  congested.sort((a, b) => b.pinnedLoad - a.pinnedLoad);
  const served = (flows: number[][], k: number) => flows[k]!.reduce((s, f) => s + f, 0);
  const losses = inst.pairs
    .map((p, k) => ({
      pair: pairName(p),
      demand: demands[k]!,
      heuristicServed: served(dp.flows, k),
      optimalServed: served(opt.flows, k),
    }))
    .filter((x) => x.optimalServed - x.heuristicServed > EPS)
    .sort((a, b) => b.optimalServed - b.heuristicServed - (a.optimalServed - a.heuristicServed));
  const rerouted = [...pinnedSet]
    .filter((k) => opt.flows[k]!.slice(1).some((f) => f > EPS))
    .map((k) => ({
      pair: pairName(inst.pairs[k]!),
      demand: demands[k]!,
      optimalPaths: opt.flows[k]!.flatMap((f, j) =>
        f > EPS ? [{ path: inst.paths[k]![j]!.nodes, flow: f }] : [],
      ),
    }));

  const gap = opt.total - dp.total;
  const fmt = (x: number) =>
    Math.abs(x - Math.round(x)) < 1e-9 ? String(Math.round(x)) : x.toFixed(3);
  const lines: string[] = [];
  lines.push(
    `Demand pinning routes ${fmt(dp.total)} of the traffic; the optimum routes ${fmt(opt.total)} (gap ${fmt(gap)}).`,
  );
  for (const c of congested.slice(0, 3)) {
    lines.push(
      `Pinned demands ${c.pinnedDemands.map((p) => `${p.pair} (${fmt(p.demand)})`).join(", ")} take their shortest paths over ${c.link} and put ${fmt(c.pinnedLoad)} of its ${fmt(c.capacity)} capacity there; DP fills it to ${fmt(c.heuristicLoad)}.`,
    );
  }
  if (losses.length) {
    lines.push(
      `As a result ${losses
        .slice(0, 3)
        .map((x) => `${x.pair} gets ${fmt(x.heuristicServed)} instead of ${fmt(x.optimalServed)}`)
        .join("; ")}.`,
    );
  }
  if (rerouted.length) {
    lines.push(
      `The optimum instead sends ${rerouted
        .slice(0, 3)
        .map((r) => `${r.pair} over ${r.optimalPaths.map((p) => p.path.join("-")).join(" and ")}`)
        .join("; ")}, leaving the congested links to traffic that has no other path.`,
    );
  }
  if (!dp.feasible)
    lines.push(
      `Pinned demands alone overload ${dp.overloaded.map(name).join(", ")}: DP has no valid routing.`,
    );
  return {
    demands: Object.fromEntries(
      inst.pairs.map((p, k) => [pairName(p), demands[k]!]).filter(([, d]) => (d as number) > 0),
    ),
    optimalTotal: opt.total,
    heuristicTotal: dp.total,
    gap,
    congested,
    losses,
    rerouted,
    text: lines.join(" "),
  };
}
