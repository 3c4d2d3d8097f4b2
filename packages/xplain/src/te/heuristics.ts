/**
 * The traffic-engineering heuristics and their optimal counterpart, evaluated on one demand
 * vector:
 * - optimal: max multi-commodity flow over the k candidate paths;
 * - demand pinning (DP): demands at or below a threshold are pinned to their shortest path;
 *   the others are routed optimally in the capacity left over;
 * - POP: the demands are split into random partitions, each routed optimally on an equal
 *   share of every link's capacity.
 */
import type { Solver } from "@athanor/opt";
import { rng } from "../topology.js";
import { type FlowResult, maxFlow } from "./flow.js";
import { shortestPathUsers, type TeInstance } from "./instance.js";

export interface PinningResult extends FlowResult {
  /** False when the pinned demands alone overload a link: DP has no valid routing. */
  feasible: boolean;
  /** Indices of pinned pairs. */
  pinned: number[];
  /** Links (indices) that pinned demands overload, when infeasible. */
  overloaded: number[];
}

export function optimal(
  inst: TeInstance,
  demands: readonly number[],
  solver: Solver,
): Promise<FlowResult> {
  return maxFlow(inst, demands, solver);
}

export async function demandPinning(
  inst: TeInstance,
  demands: readonly number[],
  threshold: number,
  solver: Solver,
): Promise<PinningResult> {
  const pinned = demands.flatMap((d, k) => (d > 0 && d <= threshold ? [k] : []));
  const residual = inst.topology.links.map((l) => l.capacity);
  const users = shortestPathUsers(inst);
  users.forEach((ks, e) => {
    for (const k of ks)
      if (demands[k]! > 0 && demands[k]! <= threshold) residual[e]! -= demands[k]!;
  });
  const overloaded = residual.flatMap((r, e) => (r < -1e-9 ? [e] : []));
  const isPinned = new Set(pinned);
  const rest = await maxFlow(inst, demands, solver, {
    capacity: residual,
    include: (k) => !isPinned.has(k),
  });
  const flows = rest.flows.map((f, k) =>
    isPinned.has(k) ? f.map((_, j) => (j === 0 ? demands[k]! : 0)) : f,
  );
  const pinnedTotal = pinned.reduce((s, k) => s + demands[k]!, 0);
  return {
    total: pinnedTotal + rest.total,
    flows,
    feasible: overloaded.length === 0,
    pinned,
    overloaded,
  };
}

/** A fixed random assignment of pairs to `partitions` parts (POP's client split). */
export function popPartition(pairs: number, partitions: number, seed = 1): number[] {
  const rand = rng(seed);
  return Array.from({ length: pairs }, () => Math.floor(rand() * partitions));
}

export async function pop(
  inst: TeInstance,
  demands: readonly number[],
  partition: readonly number[],
  solver: Solver,
): Promise<FlowResult> {
  const parts = Math.max(...partition) + 1;
  const capacity = inst.topology.links.map((l) => l.capacity / parts);
  const results = await Promise.all(
    Array.from({ length: parts }, (_, p) =>
      maxFlow(inst, demands, solver, { capacity, include: (k) => partition[k] === p }),
    ),
  );
  const flows = inst.pairs.map((_, k) => results[partition[k]!]!.flows[k]!);
  return { total: results.reduce((s, r) => s + r.total, 0), flows };
}

/** `OPT(d) - DP(d)`, undefined where the pinned demands alone overload a link. */
export function demandPinningGap(inst: TeInstance, threshold: number, solver: Solver) {
  return async (d: number[]): Promise<number | undefined> => {
    const [opt, dp] = await Promise.all([
      optimal(inst, d, solver),
      demandPinning(inst, d, threshold, solver),
    ]);
    return dp.feasible ? opt.total - dp.total : undefined;
  };
}

/** `OPT(d) - POP(d)` for a fixed partition. */
export function popGap(inst: TeInstance, partition: readonly number[], solver: Solver) {
  return async (d: number[]): Promise<number> => {
    const [opt, h] = await Promise.all([optimal(inst, d, solver), pop(inst, d, partition, solver)]);
    return opt.total - h.total;
  };
}
