/**
 * The whole XPlain analysis of a TE heuristic on a topology: the worst gap by the exact
 * method and by the black-box baselines, adversarial regions grown from the best inputs,
 * and an explanation of each.
 */
import type { Solver } from "@athanor/opt";
import { BLACK_BOX_SEARCHES, type InputSpace, type SearchResult } from "../search/blackbox.js";
import { growRegion, type Region, regionSeeds, widenedCoordinates } from "../search/regions.js";
import type { Topology } from "../topology.js";
import { explainDemandPinning, type PinningExplanation } from "./explain.js";
import { demandPinningGap, popGap, popPartition } from "./heuristics.js";
import {
  type DemandPair,
  pairName,
  type TeInstance,
  teInstance,
  totalCapacity,
} from "./instance.js";
import { type ExactSearchResult, worstCaseDemandPinning, worstCasePop } from "./metaopt.js";

export type TeHeuristic = "demand-pinning" | "pop";
export type SearchMethod = "exact" | "random" | "hill-climbing" | "simulated-annealing";

export interface TeAnalysisOptions {
  heuristic: TeHeuristic;
  /** Demand-pinning threshold (default: 5% of the mean link capacity). */
  threshold?: number;
  /** Demand levels (default: 0, threshold, and 25/50/100% of the mean link capacity). */
  levels?: number[];
  /** POP partitions (default 2) and the partition seed. */
  partitions?: number;
  partitionSeed?: number;
  /** Demand pairs (default: all ordered pairs, capped at `maxPairs`). */
  pairs?: DemandPair[];
  maxPairs?: number;
  pathsPerPair?: number;
  methods?: SearchMethod[];
  /** Gap evaluations per black-box method (default 300). */
  evaluations?: number;
  /** Exact MILP time limit in seconds (default 60). */
  timeLimit?: number;
  /** Regions to grow (default 1; 0 skips them) and their evaluation budget each. */
  regions?: number;
  regionBudget?: number;
  seed?: number;
}

export interface MethodResult {
  method: SearchMethod;
  gap: number | undefined;
  /** Gap as a fraction of the topology's total capacity. */
  gapFraction: number | undefined;
  demands: number[] | undefined;
  seconds: number;
  evaluations?: number;
  /** Exact method: optimal (the true worst gap over the levels) or time_limit (a lower bound). */
  status?: ExactSearchResult["status"];
  bound?: number;
}

export interface RegionReport extends Region {
  /** Pairs whose range is not a single point, with their range. */
  ranges: { pair: string; lower: number; upper: number }[];
  explanation?: PinningExplanation;
}

export interface TeAnalysis {
  heuristic: TeHeuristic;
  topology: string;
  pairs: string[];
  threshold?: number;
  levels: number[];
  totalCapacity: number;
  methods: MethodResult[];
  best: MethodResult | undefined;
  explanation?: PinningExplanation;
  regions: RegionReport[];
  /** Every black-box sample (for plots). */
  samples: { x: number[]; gap: number }[];
  notes: string[];
}

export async function analyzeTe(
  topology: Topology,
  options: TeAnalysisOptions,
  solver: Solver,
): Promise<TeAnalysis> {
  const notes: string[] = [];
  let pairs = options.pairs;
  const all = topology.nodes.length * (topology.nodes.length - 1);
  const maxPairs = options.maxPairs ?? 30;
  if (!pairs && all > maxPairs) {
    // Deterministic subset: pairs spread over the node list.
    pairs = [];
    const stride = Math.max(1, Math.floor(all / maxPairs));
    let i = 0;
    for (const a of topology.nodes)
      for (const b of topology.nodes) {
        if (a === b) continue;
        if (i++ % stride === 0 && pairs.length < maxPairs) pairs.push({ src: a, dst: b });
      }
    notes.push(
      `${all} ordered pairs; analysed ${pairs.length} of them (every ${stride}th); raise maxPairs for more`,
    );
  }
  const inst: TeInstance = teInstance(topology, { pairs, pathsPerPair: options.pathsPerPair ?? 2 });
  const meanCap = topology.links.reduce((s, l) => s + l.capacity, 0) / topology.links.length;
  const threshold = options.threshold ?? meanCap * 0.05;
  if (options.heuristic === "demand-pinning" && !(threshold > 0)) {
    throw new Error(`threshold must be positive, got ${threshold}`);
  }
  const levels = [
    ...new Set(
      options.levels ??
        [0, threshold, meanCap * 0.25, meanCap * 0.5, meanCap].map((x) => +x.toFixed(6)),
    ),
  ].sort((a, b) => a - b);
  if (options.heuristic === "demand-pinning" && !levels.some((l) => l > 0 && l <= threshold)) {
    notes.push(
      `no level is at or below the threshold ${threshold}: no demand can be pinned, so the gap is 0`,
    );
  }
  const partition = popPartition(
    inst.pairs.length,
    options.partitions ?? 2,
    options.partitionSeed ?? 1,
  );
  const gapFn =
    options.heuristic === "demand-pinning"
      ? demandPinningGap(inst, threshold, solver)
      : popGap(inst, partition, solver);
  const space: InputSpace = {
    dims: inst.pairs.length,
    lower: inst.pairs.map(() => levels[0]!),
    upper: inst.pairs.map(() => levels.at(-1)!),
    levels,
  };
  const cap = totalCapacity(inst);
  const methods = options.methods ?? ["exact", "random", "hill-climbing", "simulated-annealing"];
  const results: MethodResult[] = [];
  const samples: { x: number[]; gap: number }[] = [];
  for (const method of methods) {
    if (method === "exact") {
      const t0 = performance.now();
      const opts = { levels, timeLimit: options.timeLimit ?? 60 };
      const r =
        options.heuristic === "demand-pinning"
          ? await worstCaseDemandPinning(inst, threshold, opts, solver)
          : await worstCasePop(inst, partition, opts, solver);
      if (r.status === "time_limit")
        notes.push(
          `exact: time limit reached; the gap is the incumbent, a lower bound (MILP bound ${r.bound})`,
        );
      results.push({
        method,
        gap: r.gap,
        gapFraction: r.gap / cap,
        demands: r.demands,
        seconds: (performance.now() - t0) / 1000,
        status: r.status,
        bound: r.bound,
      });
      continue;
    }
    const search = BLACK_BOX_SEARCHES[method];
    if (!search) throw new Error(`unknown method "${method}"`);
    const r: SearchResult = await search(space, gapFn, {
      evaluations: options.evaluations ?? 300,
      seed: options.seed ?? 1,
    });
    samples.push(...r.samples);
    results.push({
      method,
      gap: r.best?.gap,
      gapFraction: r.best ? r.best.gap / cap : undefined,
      demands: r.best?.x,
      seconds: r.seconds,
      evaluations: r.evaluations,
    });
  }
  const best = results.filter((r) => r.gap !== undefined).sort((a, b) => b.gap! - a.gap!)[0];
  const explain = (d: number[]) =>
    options.heuristic === "demand-pinning"
      ? explainDemandPinning(inst, d, threshold, solver)
      : Promise.resolve(undefined);
  const explanation = best?.demands ? await explain(best.demands) : undefined;

  // Regions: from the best distinct inputs found.
  const regions: RegionReport[] = [];
  const seeds = regionSeeds(results, (r) => r.demands, options.regions ?? 1);
  for (const [i, s] of seeds.entries()) {
    const region = await growRegion(space, gapFn, s.x, s.gap, {
      threshold: s.gap * 0.5,
      seed: (options.seed ?? 1) + i,
      budget: options.regionBudget ?? 600,
    });
    const ranges = widenedCoordinates(region).map(({ index, lower, upper }) => ({
      pair: pairName(inst.pairs[index]!),
      lower,
      upper,
    }));
    regions.push({ ...region, ranges, explanation: await explain(region.seed) });
  }
  return {
    heuristic: options.heuristic,
    topology: topology.name,
    pairs: inst.pairs.map(pairName),
    threshold: options.heuristic === "demand-pinning" ? threshold : undefined,
    levels,
    totalCapacity: cap,
    methods: results,
    best,
    explanation,
    regions,
    samples,
    notes,
  };
}
