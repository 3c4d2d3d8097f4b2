/**
 * The XPlain analysis of a first-fit(-decreasing) heuristic for vector bin packing: black-box
 * adversarial search over item sizes (on a grid of levels), the worst heuristic/optimal ratio
 * found, adversarial regions grown around it, and an explanation of the worst input.
 *
 * The optimum of each candidate input comes from `optimalPacking` (lower bound first, MILP
 * only when the heuristics do not meet it). Inputs whose optimum was not proven within the
 * time limit count with the best packing found, so their gap is a lower bound: labelled in
 * `notes`.
 */
import type { Solver } from "@athanor/opt";
import {
  BLACK_BOX_SEARCHES,
  type GapFunction,
  type InputSpace,
  type SearchResult,
} from "../search/blackbox.js";
import { growRegion, type Region, regionSeeds, widenedCoordinates } from "../search/regions.js";
import { explainPacking, type PackingExplanation } from "./explain.js";
import { worstCaseFirstFit } from "./metaopt.js";
import { type FfdVariant, firstFit, type Item, isFfdVariant, optimalPacking } from "./packing.js";

export type VbpSearchMethod = "exact" | "random" | "hill-climbing" | "simulated-annealing";
export const VBP_METHODS: VbpSearchMethod[] = [
  "exact",
  "random",
  "hill-climbing",
  "simulated-annealing",
];

export interface VbpAnalysisOptions {
  heuristic: FfdVariant;
  /** Number of items (default 6) and dimensions (default 2). */
  items?: number;
  dims?: number;
  /** Size levels each coordinate may take (default: multiples of 1/grid in (0, maxSize]). */
  levels?: number[];
  /** Grid denominator for the default levels (default 10). */
  grid?: number;
  /**
   * Largest default level (default 0.6): with sizes up to 1 most items need a bin of their
   * own and first fit is rarely wrong; smaller items let bins be shared, which is where it is.
   */
  maxSize?: number;
  /** What the search maximizes: `ratio` (heuristic/optimal - 1, default) or `bins` (difference). */
  objective?: "ratio" | "bins";
  /** Default: every method; `exact` only for ff and ffd-sum (the others are skipped, noted). */
  methods?: VbpSearchMethod[];
  /**
   * Exact method: the optimum's bin count it fixes (default 2); it finds the grid input with
   * the most heuristic bins among those packable into this many. Uses `grid` and `maxSize`.
   */
  optimalBins?: number;
  /** Exact method: MILP time limit in seconds (default 60). */
  exactTimeLimit?: number;
  /** Gap evaluations per black-box method (default 150). */
  evaluations?: number;
  /** MILP time limit per optimum, seconds (default 10). */
  timeLimit?: number;
  /** Regions to grow (default 1; 0 skips) and their evaluation budget each (default 200). */
  regions?: number;
  regionBudget?: number;
  seed?: number;
}

export interface VbpMethodResult {
  method: VbpSearchMethod;
  /** The objective at the best input (ratio - 1, or bins difference). */
  gap: number | undefined;
  ratio: number | undefined;
  heuristicBins: number | undefined;
  optimalBins: number | undefined;
  items: Item[] | undefined;
  seconds: number;
  /** Black-box: gap evaluations; exact: none (one MILP). */
  evaluations: number;
  /** Exact: `optimal` (the worst input on the grid for that optimum) or `time_limit`. */
  status?: "optimal" | "time_limit";
  /** Exact: MILP bound on the heuristic's bins. */
  bound?: number;
}

export interface VbpRegionReport extends Region {
  /** Item sizes whose range is not a single level. */
  ranges: { item: number; dim: number; lower: number; upper: number }[];
}

export interface VbpAnalysis {
  heuristic: FfdVariant;
  items: number;
  dims: number;
  levels: number[];
  objective: "ratio" | "bins";
  methods: VbpMethodResult[];
  best: VbpMethodResult | undefined;
  explanation?: PackingExplanation;
  regions: VbpRegionReport[];
  samples: { x: number[]; gap: number }[];
  /** Distinct inputs whose optimum was evaluated, and how many were not proven optimal. */
  optimumSolves: { inputs: number; unproven: number };
  notes: string[];
}

export function toItems(x: readonly number[], dims: number): Item[] {
  if (x.length % dims !== 0)
    throw new Error(`${x.length} sizes cannot be split into items of ${dims} dimensions`);
  return Array.from({ length: x.length / dims }, (_, i) => x.slice(i * dims, (i + 1) * dims));
}

export interface VbpEvaluation {
  heuristicBins: number;
  optimalBins: number;
  proven: boolean;
}

/**
 * The heuristic's bins against the optimum on inputs given as flat size vectors, cached by
 * input: `gap(x)` is what the search maximizes.
 */
export function vbpGap(
  heuristic: FfdVariant,
  dims: number,
  solver: Solver,
  opts: { objective?: "ratio" | "bins"; timeLimit?: number } = {},
): {
  gap: GapFunction;
  evaluate(x: number[]): Promise<VbpEvaluation>;
  cache: Map<string, VbpEvaluation>;
} {
  const cache = new Map<string, VbpEvaluation>();
  const evaluate = async (x: number[]): Promise<VbpEvaluation> => {
    const key = x.join(",");
    const hit = cache.get(key);
    if (hit) return hit;
    const items = toItems(x, dims);
    const h = firstFit(items, heuristic).bins;
    const opt = await optimalPacking(items, solver, { timeLimit: opts.timeLimit ?? 10 });
    const r = { heuristicBins: h, optimalBins: opt.bins, proven: opt.proven };
    cache.set(key, r);
    return r;
  };
  const gap: GapFunction = async (x) => {
    const r = await evaluate(x);
    if (r.optimalBins === 0) return 0;
    return (opts.objective ?? "ratio") === "ratio"
      ? r.heuristicBins / r.optimalBins - 1
      : r.heuristicBins - r.optimalBins;
  };
  return { gap, evaluate, cache };
}

export async function analyzeVbp(
  options: VbpAnalysisOptions,
  solver: Solver,
): Promise<VbpAnalysis> {
  if (!isFfdVariant(options.heuristic))
    throw new Error(`unknown VBP heuristic "${options.heuristic}"`);
  const n = options.items ?? 6;
  const d = options.dims ?? 2;
  if (!Number.isInteger(n) || n < 1) throw new Error(`items must be a positive integer, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new Error(`dims must be a positive integer, got ${d}`);
  if (n > 40)
    throw new Error(
      `items = ${n}: the optimum of every candidate is a MILP; use at most 40 items (10 or fewer is fast)`,
    );
  const grid = options.grid ?? 10;
  if (!Number.isInteger(grid) || grid < 1)
    throw new Error(`grid must be a positive integer, got ${grid}`);
  const maxSize = options.maxSize ?? 0.6;
  if (!(maxSize > 0 && maxSize <= 1)) throw new Error(`maxSize must be in (0, 1], got ${maxSize}`);
  const levels = [
    ...new Set(
      options.levels ??
        Array.from({ length: grid }, (_, i) => +((i + 1) / grid).toFixed(6)).filter(
          (l) => l <= maxSize + 1e-9,
        ),
    ),
  ].sort((a, b) => a - b);
  if (levels.length === 0 || levels.some((l) => !(l >= 0 && l <= 1)))
    throw new Error(`levels must be sizes in [0, 1], got [${levels.join(", ")}]`);
  const objective = options.objective ?? "ratio";
  const notes: string[] = [];
  const space: InputSpace = {
    dims: n * d,
    lower: new Array(n * d).fill(levels[0]!),
    upper: new Array(n * d).fill(levels.at(-1)!),
    levels,
  };
  const g = vbpGap(options.heuristic, d, solver, { objective, timeLimit: options.timeLimit });
  const results: VbpMethodResult[] = [];
  const samples: { x: number[]; gap: number }[] = [];
  const exactOk = options.heuristic === "ff" || options.heuristic === "ffd-sum";
  for (const method of options.methods ?? VBP_METHODS) {
    if (method === "exact") {
      if (!exactOk) {
        notes.push(
          `exact: not available for ${options.heuristic} (only ff and ffd-sum have a linear packing order); skipped`,
        );
        continue;
      }
      if (options.levels)
        notes.push(`exact: searches the grid 1/${grid} up to ${maxSize}, not the given levels`);
      const t0 = performance.now();
      let r: Awaited<ReturnType<typeof worstCaseFirstFit>>;
      try {
        r = await worstCaseFirstFit(
          {
            variant: options.heuristic as "ff" | "ffd-sum",
            items: n,
            dims: d,
            optimalBins: options.optimalBins ?? Math.min(2, n),
            grid,
            maxSize,
            timeLimit: options.exactTimeLimit ?? 60,
          },
          solver,
        );
      } catch (e) {
        notes.push(`exact: ${(e as Error).message}`);
        continue;
      }
      if (r.status === "time_limit")
        notes.push(
          `exact: time limit reached; the input found is a lower bound on the worst case (MILP bound ${r.bound} bins)`,
        );
      const x = r.items.flat();
      results.push({
        method,
        gap: await g.gap(x),
        ratio: r.heuristicBins / r.optimalBins,
        heuristicBins: r.heuristicBins,
        optimalBins: r.optimalBins,
        items: r.items,
        seconds: (performance.now() - t0) / 1000,
        evaluations: 0,
        status: r.status,
        bound: r.bound,
      });
      continue;
    }
    const search = BLACK_BOX_SEARCHES[method];
    if (!search) throw new Error(`unknown method "${method}": use ${VBP_METHODS.join(", ")}`);
    const r: SearchResult = await search(space, g.gap, {
      evaluations: options.evaluations ?? 150,
      seed: options.seed ?? 1,
    });
    samples.push(...r.samples);
    const ev = r.best ? await g.evaluate(r.best.x) : undefined;
    results.push({
      method,
      gap: r.best?.gap,
      ratio: ev ? ev.heuristicBins / Math.max(1, ev.optimalBins) : undefined,
      heuristicBins: ev?.heuristicBins,
      optimalBins: ev?.optimalBins,
      items: r.best ? toItems(r.best.x, d) : undefined,
      seconds: r.seconds,
      evaluations: r.evaluations,
    });
  }
  const best = results
    .filter((r) => r.gap !== undefined)
    .sort((a, b) => b.gap! - a.gap! || a.seconds - b.seconds)[0];
  let explanation: PackingExplanation | undefined;
  if (best?.items) {
    const opt = await optimalPacking(best.items, solver, { timeLimit: options.timeLimit ?? 10 });
    explanation = explainPacking(best.items, options.heuristic, opt);
  }

  const regions: VbpRegionReport[] = [];
  const seeds = regionSeeds(results, (r) => r.items?.flat(), options.regions ?? 1);
  for (const [i, s] of seeds.entries()) {
    const region = await growRegion(space, g.gap, s.x, s.gap, {
      threshold: s.gap * 0.5,
      seed: (options.seed ?? 1) + i,
      budget: options.regionBudget ?? 200,
      testSamples: 30,
    });
    const ranges = widenedCoordinates(region).map(({ index, lower, upper }) => ({
      item: Math.floor(index / d),
      dim: index % d,
      lower,
      upper,
    }));
    regions.push({ ...region, ranges });
  }
  const unproven = [...g.cache.values()].filter((e) => !e.proven).length;
  if (unproven > 0)
    notes.push(
      `${unproven} of ${g.cache.size} inputs hit the MILP time limit: their optimum is the best packing found, so their gap is a lower bound (partial result)`,
    );
  if (best && best.gap === 0)
    notes.push(
      `no input with a gap was found on this grid; try more items, more evaluations or a finer grid (the FFDSum 2x family needs sizes on a 1/100 grid)`,
    );
  return {
    heuristic: options.heuristic,
    items: n,
    dims: d,
    levels,
    objective,
    methods: results,
    best,
    explanation,
    regions,
    samples,
    optimumSolves: { inputs: g.cache.size, unproven },
    notes,
  };
}
