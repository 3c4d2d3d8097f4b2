/**
 * Adversarial subspaces: grow boxes of the input space around adversarial inputs in which
 * the gap stays high, then keep only boxes whose gaps are significantly larger than the
 * rest of the space (one-sided Mann-Whitney U test at level `alpha`, default 0.05, i.e. 95%
 * confidence, on fresh samples inside and outside the box).
 */
import { rng } from "../topology.js";
import type { GapFunction, InputSpace } from "./blackbox.js";
import { mannWhitneyGreater } from "./stats.js";

export interface Region {
  lower: number[];
  upper: number[];
  /** The adversarial input the box was grown from. */
  seed: number[];
  seedGap: number;
  inside: { samples: number; meanGap: number; highFraction: number };
  outside: { samples: number; meanGap: number };
  /** One-sided Mann-Whitney U p-value (inside > outside). */
  pValue: number;
  significant: boolean;
}

export interface RegionOptions {
  /** A sample counts as "high" when its gap is at least this. */
  threshold: number;
  /** Fraction of high samples a box must keep while it grows (default 0.8). */
  purity?: number;
  /** Samples drawn to test each growth step (default 8). */
  stepSamples?: number;
  /** Samples inside and outside for the final test (default 40 each). */
  testSamples?: number;
  alpha?: number;
  seed?: number;
  /** Total gap evaluations allowed for this region (default 2000). */
  budget?: number;
}

function levelsIn(space: InputSpace, i: number): number[] | undefined {
  return space.levels?.filter((l) => l >= space.lower[i]! && l <= space.upper[i]!);
}

export async function growRegion(
  space: InputSpace,
  f: GapFunction,
  seedPoint: number[],
  seedGap: number,
  opts: RegionOptions,
): Promise<Region> {
  const rand = rng(opts.seed ?? 7);
  const purity = opts.purity ?? 0.8;
  const m = opts.stepSamples ?? 8;
  let budget = opts.budget ?? 2000;
  const lower = [...seedPoint];
  const upper = [...seedPoint];
  const draw = (lo: number[], hi: number[]) =>
    lo.map((l, i) => {
      const lv = levelsIn(space, i)?.filter((v) => v >= l && v <= hi[i]!);
      return lv ? lv[Math.floor(rand() * lv.length)]! : l + rand() * (hi[i]! - l);
    });
  const evaluate = async (x: number[]) => {
    budget--;
    return (await f(x)) ?? Number.NEGATIVE_INFINITY;
  };
  /** Next boundary value outward along dim i, or undefined at the edge of the space. */
  const widen = (i: number, dir: -1 | 1): number | undefined => {
    const lv = levelsIn(space, i);
    const cur = dir < 0 ? lower[i]! : upper[i]!;
    if (lv) {
      const next = dir < 0 ? lv.filter((v) => v < cur).at(-1) : lv.find((v) => v > cur);
      return next;
    }
    const step = (space.upper[i]! - space.lower[i]!) / 8;
    const next = cur + dir * step;
    if (dir < 0 && cur <= space.lower[i]!) return undefined;
    if (dir > 0 && cur >= space.upper[i]!) return undefined;
    return Math.min(space.upper[i]!, Math.max(space.lower[i]!, next));
  };

  let grew = true;
  while (grew && budget > m) {
    grew = false;
    const order = Array.from({ length: space.dims }, (_, i) => i).sort(() => rand() - 0.5);
    for (const i of order) {
      for (const dir of [-1, 1] as const) {
        if (budget <= m) break;
        const next = widen(i, dir);
        if (next === undefined) continue;
        const lo = [...lower];
        const hi = [...upper];
        if (dir < 0) lo[i] = next;
        else hi[i] = next;
        // Sample the new slab only: the rest of the box was accepted already.
        let high = 0;
        for (let s = 0; s < m; s++) {
          const x = draw(lo, hi);
          x[i] = next;
          if ((await evaluate(x)) >= opts.threshold) high++;
        }
        if (high / m >= purity) {
          lower[i] = lo[i]!;
          upper[i] = hi[i]!;
          grew = true;
        }
      }
    }
  }

  const n = opts.testSamples ?? 40;
  const inside: number[] = [];
  for (let s = 0; s < n; s++) inside.push(await evaluate(draw(lower, upper)));
  const outside: number[] = [];
  const isInside = (x: number[]) => x.every((v, i) => v >= lower[i]! && v <= upper[i]!);
  for (let tries = 0; outside.length < n && tries < n * 50; tries++) {
    const x = draw([...space.lower], [...space.upper]);
    if (!isInside(x)) outside.push(await evaluate(x));
  }
  const finite = (xs: number[]) => xs.filter((v) => Number.isFinite(v));
  const mean = (xs: number[]) =>
    xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : Number.NaN;
  const inF = finite(inside);
  const outF = finite(outside);
  const test = inF.length && outF.length ? mannWhitneyGreater(inF, outF) : { p: 1 };
  return {
    lower,
    upper,
    seed: seedPoint,
    seedGap,
    inside: {
      samples: inF.length,
      meanGap: mean(inF),
      highFraction: inF.filter((v) => v >= opts.threshold).length / Math.max(1, inF.length),
    },
    outside: { samples: outF.length, meanGap: mean(outF) },
    pValue: test.p,
    significant: test.p < (opts.alpha ?? 0.05),
  };
}

/**
 * The adversarial inputs to grow regions from: the results with a positive gap, best first,
 * without repeating an input, at most `limit`.
 */
export function regionSeeds<T extends { gap?: number }>(
  results: readonly T[],
  point: (r: T) => number[] | undefined,
  limit: number,
): { x: number[]; gap: number }[] {
  const seen = new Set<string>();
  const seeds: { x: number[]; gap: number }[] = [];
  const ranked = results
    .filter((r) => point(r) !== undefined && (r.gap ?? 0) > 0)
    .sort((a, b) => b.gap! - a.gap!);
  for (const r of ranked) {
    if (seeds.length >= limit) break;
    const x = point(r)!;
    const key = x.join();
    if (seen.has(key)) continue;
    seen.add(key);
    seeds.push({ x, gap: r.gap! });
  }
  return seeds;
}

/** The coordinates a region widened (its other coordinates stay at the seed's values). */
export function widenedCoordinates(
  region: Region,
): { index: number; lower: number; upper: number }[] {
  return region.lower.flatMap((lower, index) =>
    lower !== region.upper[index] ? [{ index, lower, upper: region.upper[index]! }] : [],
  );
}
