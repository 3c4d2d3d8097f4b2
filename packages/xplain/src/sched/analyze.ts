/**
 * The XPlain analysis of SP-PIFO against PIFO: adversarial rank sequences by black-box search
 * (and by exhaustive enumeration when the space is small enough: the true worst gap), regions
 * of rank space where the gap stays high, and an explanation of the worst sequence.
 */
import {
  BLACK_BOX_SEARCHES,
  type GapFunction,
  type InputSpace,
  type SearchResult,
} from "../search/blackbox.js";
import { growRegion, type Region, regionSeeds, widenedCoordinates } from "../search/regions.js";
import { explainSpPifo, type SchedExplanation } from "./explain.js";
import { compareSchedulers, SCHED_METRICS, type SchedMetric } from "./simulate.js";

export type SchedSearchMethod = "exhaustive" | "random" | "hill-climbing" | "simulated-annealing";
export const SCHED_METHODS: SchedSearchMethod[] = [
  "exhaustive",
  "random",
  "hill-climbing",
  "simulated-annealing",
];

export interface SchedAnalysisOptions {
  /** Packets in the sequence (default 8) and SP-PIFO queues (default 2). */
  packets?: number;
  queues?: number;
  /** Ranks are integers 0..maxRank (default 7). */
  maxRank?: number;
  /** One dequeue after every this many arrivals (default 2; 0: all arrive first). */
  dequeueEvery?: number;
  /** The gap: `inversions` (default) or `weighted-delay`. */
  metric?: SchedMetric;
  methods?: SchedSearchMethod[];
  /** Evaluations per black-box method (default 2000). */
  evaluations?: number;
  /** Exhaustive search runs only when (maxRank+1)^packets is at most this (default 300000). */
  maxExhaustive?: number;
  regions?: number;
  regionBudget?: number;
  seed?: number;
}

export interface SchedMethodResult {
  method: SchedSearchMethod;
  gap: number | undefined;
  ranks: number[] | undefined;
  seconds: number;
  evaluations: number;
  /** Exhaustive: whether it ran (false when the space is too large; see notes). */
  skipped?: boolean;
}

export interface SchedRegionReport extends Region {
  ranges: { packet: number; lower: number; upper: number }[];
  explanation: SchedExplanation;
}

export interface SchedAnalysis {
  packets: number;
  queues: number;
  maxRank: number;
  dequeueEvery: number;
  metric: SchedMetric;
  methods: SchedMethodResult[];
  best: SchedMethodResult | undefined;
  explanation?: SchedExplanation;
  regions: SchedRegionReport[];
  samples: { x: number[]; gap: number }[];
  notes: string[];
}

export function spPifoGap(
  queues: number,
  opts: { metric?: SchedMetric; dequeueEvery?: number; maxRank: number },
): (ranks: readonly number[]) => number {
  const metric = opts.metric ?? "inversions";
  if (!SCHED_METRICS.includes(metric))
    throw new Error(`unknown metric "${metric}": use ${SCHED_METRICS.join(", ")}`);
  return (ranks) => {
    const c = compareSchedulers(ranks, queues, opts);
    return metric === "inversions" ? c.inversions.length : c.weightedDelayGap;
  };
}

function exhaustive(n: number, maxRank: number, f: (x: number[]) => number): SearchResult {
  const t0 = performance.now();
  const base = maxRank + 1;
  const x = new Array<number>(n).fill(0);
  let best: { x: number[]; gap: number } | undefined;
  const samples: { x: number[]; gap: number }[] = [];
  const total = base ** n;
  const keepEvery = Math.max(1, Math.floor(total / 500));
  for (let code = 0; code < total; code++) {
    let c = code;
    for (let i = n - 1; i >= 0; i--) {
      x[i] = c % base;
      c = Math.floor(c / base);
    }
    const gap = f(x);
    if (!best || gap > best.gap) best = { x: [...x], gap };
    if (code % keepEvery === 0) samples.push({ x: [...x], gap });
  }
  return {
    method: "exhaustive",
    best,
    evaluations: total,
    samples,
    seconds: (performance.now() - t0) / 1000,
  };
}

function posInt(name: string, v: number, min: number): number {
  if (!(Number.isInteger(v) && v >= min))
    throw new Error(`${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

export async function analyzeSpPifo(options: SchedAnalysisOptions = {}): Promise<SchedAnalysis> {
  const n = posInt("packets", options.packets ?? 8, 1);
  const queues = posInt("queues", options.queues ?? 2, 1);
  const maxRank = posInt("maxRank", options.maxRank ?? 7, 1);
  const dequeueEvery = posInt("dequeueEvery", options.dequeueEvery ?? 2, 0);
  const metric = options.metric ?? "inversions";
  const f = spPifoGap(queues, { metric, dequeueEvery, maxRank });
  const gapFn: GapFunction = async (x) => f(x);
  const levels = Array.from({ length: maxRank + 1 }, (_, i) => i);
  const space: InputSpace = {
    dims: n,
    lower: new Array(n).fill(0),
    upper: new Array(n).fill(maxRank),
    levels,
  };
  const notes: string[] = [];
  const results: SchedMethodResult[] = [];
  const samples: { x: number[]; gap: number }[] = [];
  for (const method of options.methods ?? SCHED_METHODS) {
    if (method === "exhaustive") {
      const size = (maxRank + 1) ** n;
      if (size > (options.maxExhaustive ?? 300_000)) {
        notes.push(
          `exhaustive: skipped, ${maxRank + 1}^${n} = ${size.toExponential(2)} sequences exceed maxExhaustive`,
        );
        results.push({
          method,
          gap: undefined,
          ranks: undefined,
          seconds: 0,
          evaluations: 0,
          skipped: true,
        });
        continue;
      }
      const r = exhaustive(n, maxRank, f);
      samples.push(...r.samples);
      results.push({
        method,
        gap: r.best?.gap,
        ranks: r.best?.x,
        seconds: r.seconds,
        evaluations: r.evaluations,
      });
      continue;
    }
    const search = BLACK_BOX_SEARCHES[method];
    if (!search) throw new Error(`unknown method "${method}": use ${SCHED_METHODS.join(", ")}`);
    const r = await search(space, gapFn, {
      evaluations: options.evaluations ?? 2000,
      seed: options.seed ?? 1,
    });
    samples.push(...r.samples);
    results.push({
      method,
      gap: r.best?.gap,
      ranks: r.best?.x,
      seconds: r.seconds,
      evaluations: r.evaluations,
    });
  }
  const best = results
    .filter((r) => r.gap !== undefined)
    .sort((a, b) => b.gap! - a.gap! || a.seconds - b.seconds)[0];
  const explain = (ranks: number[]) => explainSpPifo(ranks, queues, { dequeueEvery, maxRank });
  const explanation = best?.ranks ? explain(best.ranks) : undefined;
  const regions: SchedRegionReport[] = [];
  const seeds = regionSeeds(results, (r) => r.ranks, options.regions ?? 1);
  for (const [i, s] of seeds.entries()) {
    const region = await growRegion(space, gapFn, s.x, s.gap, {
      threshold: s.gap * 0.5,
      seed: (options.seed ?? 1) + i,
      budget: options.regionBudget ?? 2000,
    });
    const ranges = widenedCoordinates(region).map(({ index, lower, upper }) => ({
      packet: index,
      lower,
      upper,
    }));
    regions.push({ ...region, ranges, explanation: explain(region.seed) });
  }
  return {
    packets: n,
    queues,
    maxRank,
    dequeueEvery,
    metric,
    methods: results,
    best,
    explanation,
    regions,
    samples,
    notes,
  };
}
