/**
 * Black-box adversarial search over a box (optionally quantized) input space: random search,
 * hill climbing and simulated annealing. They only evaluate the gap function, so they work
 * for any heuristic, and serve as baselines for the exact method.
 */
import { rng } from "../topology.js";

export interface InputSpace {
  dims: number;
  lower: readonly number[];
  upper: readonly number[];
  /** When set, every coordinate takes one of these values (and stays within its bounds). */
  levels?: readonly number[];
}

/** The gap to maximize at an input (e.g. OPT(x) - H(x)); `undefined` for an invalid input. */
export type GapFunction = (x: number[]) => Promise<number | undefined>;

export interface Sample {
  x: number[];
  gap: number;
}

export interface SearchResult {
  method: string;
  best: Sample | undefined;
  evaluations: number;
  /** Every valid evaluation, in order (regions are grown from these). */
  samples: Sample[];
  seconds: number;
}

export interface SearchOptions {
  evaluations: number;
  seed?: number;
  /** Stops early when aborted; the result so far is returned. */
  signal?: AbortSignal;
}

function sampler(space: InputSpace, rand: () => number) {
  const coord = (i: number) => {
    const lo = space.lower[i]!;
    const hi = space.upper[i]!;
    if (space.levels) {
      const ok = space.levels.filter((l) => l >= lo && l <= hi);
      return ok[Math.floor(rand() * ok.length)] ?? lo;
    }
    return lo + rand() * (hi - lo);
  };
  const point = () => Array.from({ length: space.dims }, (_, i) => coord(i));
  /** Changes one to three coordinates: a level step or a Gaussian-ish move scaled by `scale`. */
  const neighbour = (x: number[], scale: number) => {
    const y = [...x];
    const moves = 1 + Math.floor(rand() * 3);
    for (let m = 0; m < moves; m++) {
      const i = Math.floor(rand() * space.dims);
      const lo = space.lower[i]!;
      const hi = space.upper[i]!;
      if (space.levels) {
        const ok = space.levels.filter((l) => l >= lo && l <= hi);
        const at = Math.max(0, ok.indexOf(y[i]!));
        const step = rand() < 0.5 ? -1 : 1;
        y[i] =
          ok[
            Math.min(
              ok.length - 1,
              Math.max(0, at + step * Math.max(1, Math.round(scale * ok.length))),
            )
          ]!;
      } else {
        const delta = (rand() + rand() + rand() - 1.5) * scale * (hi - lo);
        y[i] = Math.min(hi, Math.max(lo, y[i]! + delta));
      }
    }
    return y;
  };
  return { point, neighbour };
}

async function run(
  method: string,
  opts: SearchOptions,
  body: (evaluate: (x: number[]) => Promise<number | undefined>) => Promise<void>,
  f: GapFunction,
): Promise<SearchResult> {
  const t0 = performance.now();
  const samples: Sample[] = [];
  let best: Sample | undefined;
  let evaluations = 0;
  const evaluate = async (x: number[]) => {
    if (evaluations >= opts.evaluations || opts.signal?.aborted) return undefined;
    evaluations++;
    const gap = await f(x);
    if (gap === undefined || !Number.isFinite(gap)) return undefined;
    const s = { x, gap };
    samples.push(s);
    if (!best || gap > best.gap) best = s;
    return gap;
  };
  await body(evaluate);
  return { method, best, evaluations, samples, seconds: (performance.now() - t0) / 1000 };
}

const done = (opts: SearchOptions, n: number) =>
  n >= opts.evaluations || opts.signal?.aborted === true;

/** A black-box search: what `randomSearch`, `hillClimb` and `simulatedAnnealing` have in common. */
export type BlackBoxSearch = (
  space: InputSpace,
  f: GapFunction,
  opts: SearchOptions,
) => Promise<SearchResult>;

export function randomSearch(
  space: InputSpace,
  f: GapFunction,
  opts: SearchOptions,
): Promise<SearchResult> {
  const { point } = sampler(space, rng(opts.seed ?? 1));
  return run(
    "random",
    opts,
    async (evaluate) => {
      for (let i = 0; !done(opts, i); i++) await evaluate(point());
    },
    f,
  );
}

/** First-improvement hill climbing with random restarts when stuck for `patience` moves. */
export function hillClimb(
  space: InputSpace,
  f: GapFunction,
  opts: SearchOptions & { patience?: number; step?: number },
): Promise<SearchResult> {
  const rand = rng(opts.seed ?? 1);
  const { point, neighbour } = sampler(space, rand);
  const patience = opts.patience ?? 30;
  return run(
    "hill-climbing",
    opts,
    async (evaluate) => {
      let n = 0;
      while (!done(opts, n)) {
        let x = point();
        let gx = await evaluate(x);
        n++;
        let stuck = 0;
        while (!done(opts, n) && stuck < patience) {
          const y = neighbour(x, opts.step ?? 0.1);
          const gy = await evaluate(y);
          n++;
          if (gy !== undefined && (gx === undefined || gy > gx)) {
            x = y;
            gx = gy;
            stuck = 0;
          } else stuck++;
        }
      }
    },
    f,
  );
}

/** Simulated annealing with a geometric cooling schedule from `t0` (in gap units). */
export function simulatedAnnealing(
  space: InputSpace,
  f: GapFunction,
  opts: SearchOptions & { t0?: number; step?: number },
): Promise<SearchResult> {
  const rand = rng(opts.seed ?? 1);
  const { point, neighbour } = sampler(space, rand);
  return run(
    "simulated-annealing",
    opts,
    async (evaluate) => {
      let x = point();
      let gx = (await evaluate(x)) ?? Number.NEGATIVE_INFINITY;
      const t0 = opts.t0 ?? Math.max(1e-9, Math.abs(gx) * 0.5 + 1);
      for (let i = 1; !done(opts, i); i++) {
        const temp = t0 * 0.01 ** (i / opts.evaluations);
        const y = neighbour(x, (opts.step ?? 0.2) * Math.max(0.1, temp / t0));
        const gy = await evaluate(y);
        if (gy === undefined) continue;
        if (gy >= gx || rand() < Math.exp((gy - gx) / temp)) {
          x = y;
          gx = gy;
        }
      }
    },
    f,
  );
}

/** The black-box baselines by method name, as the analyses and the CLI name them. */
export const BLACK_BOX_SEARCHES: Record<
  "random" | "hill-climbing" | "simulated-annealing",
  BlackBoxSearch
> = {
  random: randomSearch,
  "hill-climbing": hillClimb,
  "simulated-annealing": simulatedAnnealing,
};
