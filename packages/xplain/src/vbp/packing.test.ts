import { InProcessSolver } from "@athanor/opt";
import { afterAll, describe, expect, it } from "vitest";
import { rng } from "../topology.js";
import { analyzeVbp, toItems } from "./analyze.js";
import { explainPacking } from "./explain.js";
import { FFD_SUM_FAMILY_ITEMS, ffdSumFamilyBins, ffdSumTwiceFamily } from "./family.js";
import {
  FFD_VARIANTS,
  firstFit,
  firstFitInOrder,
  type Item,
  optimalPacking,
  packingLowerBound,
  packingOrder,
} from "./packing.js";

const solver = new InProcessSolver();
afterAll(() => solver.close());

function* permutations(n: number): Generator<number[]> {
  const a = Array.from({ length: n }, (_, i) => i);
  const c = new Array<number>(n).fill(0);
  yield [...a];
  for (let i = 1; i < n; ) {
    if (c[i]! < i) {
      const j = i % 2 === 0 ? 0 : c[i]!;
      [a[j], a[i]] = [a[i]!, a[j]!];
      yield [...a];
      c[i]!++;
      i = 1;
    } else c[i++] = 0;
  }
}

function randomItems(n: number, d: number, seed: number, grid = 10): Item[] {
  const r = rng(seed);
  return Array.from({ length: n }, () =>
    Array.from({ length: d }, () => (1 + Math.floor(r() * grid)) / grid),
  );
}

describe("first fit", () => {
  it("packs in input order and FFD variants sort by their weight", () => {
    const items: Item[] = [
      [0.2, 0.6],
      [0.5, 0.1],
      [0.6, 0.3],
      [0.3, 0.5],
    ];
    const ff = firstFit(items, "ff");
    // 0 -> bin 0; 1 -> bin 0 (0.7, 0.7); 2 -> bin 1; 3 -> bin 1 (0.9, 0.8).
    expect(ff.assignment).toEqual([0, 0, 1, 1]);
    expect(ff.bins).toBe(2);
    expect(ff.loads[1]![0]).toBeCloseTo(0.9);
    expect(packingOrder(items, "ffd-sum")).toEqual([2, 0, 3, 1]); // sums .9 .8 .8 .6 (tie: input order)
    expect(packingOrder(items, "ffd-max")).toEqual([0, 2, 1, 3]); // .6 .6 .5 .5
    expect(packingOrder(items, "ffd-prod")).toEqual([2, 3, 0, 1]); // .18 .15 .12 .05
    expect(packingOrder(items, "ffd-l2")[0]).toBe(2);
  });

  it("breaks ties by input order even when floating point disagrees", () => {
    // 0.45 + 0.2 = 0.65 but 0.3 + 0.35 = 0.6499999999999999 in floating point.
    expect(0.3 + 0.35).not.toBe(0.45 + 0.2);
    expect(
      packingOrder(
        [
          [0.45, 0.2],
          [0.3, 0.35],
        ],
        "ffd-sum",
      ),
    ).toEqual([0, 1]);
    expect(
      packingOrder(
        [
          [0.3, 0.35],
          [0.45, 0.2],
        ],
        "ffd-sum",
      ),
    ).toEqual([0, 1]);
  });

  it("fits loads that sum to exactly 1 in decimals", () => {
    expect(
      firstFit([
        [0.55, 0.1],
        [0.45, 0.9],
      ]).bins,
    ).toBe(1);
  });
});

describe("optimal packing (MILP)", () => {
  it("equals the best first-fit order over every permutation (exhaustive, small instances)", async () => {
    // Instances where some variant is worse than the best order come first, so the check is
    // not vacuous; then instances without a gap.
    const pool = Array.from({ length: 60 }, (_, s) => randomItems(6, 2, s + 1, 10)).map((it) =>
      it.map((x) => x.map((v) => +(v * 0.6).toFixed(2))),
    );
    const bestOrder = (items: Item[]) => {
      let best = Number.POSITIVE_INFINITY;
      for (const order of permutations(items.length))
        best = Math.min(best, firstFitInOrder(items, order).bins);
      return best;
    };
    const gapped = pool.filter((it) =>
      FFD_VARIANTS.some((v) => firstFit(it, v).bins > bestOrder(it)),
    );
    const chosen = [
      ...gapped.slice(0, 4),
      ...pool.filter((it) => !gapped.includes(it)).slice(0, 2),
    ];
    let withGap = 0;
    for (const items of chosen) {
      const best = bestOrder(items);
      const opt = await optimalPacking(items, solver, { useBound: false });
      expect(opt.status).toBe("optimal");
      expect(opt.bins).toBe(best);
      // The assignment is a valid packing with that many bins.
      const loads = new Map<number, number[]>();
      opt.assignment.forEach((b, i) => {
        const l = loads.get(b) ?? [0, 0];
        loads.set(b, [l[0]! + items[i]![0]!, l[1]! + items[i]![1]!]);
      });
      expect(loads.size).toBe(opt.bins);
      for (const l of loads.values()) for (const x of l) expect(x).toBeLessThanOrEqual(1 + 1e-9);
      for (const v of FFD_VARIANTS) {
        const h = firstFit(items, v).bins;
        expect(h).toBeGreaterThanOrEqual(opt.bins);
        if (h > opt.bins) withGap++;
      }
      expect(packingLowerBound(items)).toBeLessThanOrEqual(opt.bins);
    }
    expect(withGap).toBeGreaterThan(0); // the check is not vacuous
  });

  it("labels a result cut by the time limit as partial", async () => {
    const items = randomItems(40, 3, 11, 20);
    const opt = await optimalPacking(items, solver, { timeLimit: 0.05 });
    expect(opt.status).toBe("time_limit");
    expect(opt.proven).toBe(false);
    expect(opt.lowerBound).toBeLessThan(opt.bins);
    expect(opt.bins).toBeLessThanOrEqual(
      Math.min(...FFD_VARIANTS.map((v) => firstFit(items, v).bins)),
    );
  });

  it("rejects bad input with the reason and the place", async () => {
    expect(() => firstFit([[0.5, 1.2]])).toThrow(
      /item 0 has size 1.2 in dimension 1; sizes must be in \[0, 1\]/,
    );
    expect(() => firstFit([[-0.1]])).toThrow(/size -0.1/);
    expect(() => firstFit([[Number.NaN, 0]])).toThrow(/size NaN/);
    expect(() => firstFit([[0.5, 0.5], [0.5]])).toThrow(/item 1 has 1 dimensions, item 0 has 2/);
    expect(() => firstFit([[]])).toThrow(/no dimensions/);
    expect(() => firstFitInOrder([[0.1], [0.2]], [0, 0])).toThrow(/permutation/);
    expect(firstFit([]).bins).toBe(0);
    expect(await optimalPacking([], solver)).toMatchObject({ bins: 0, proven: true });
    await expect(analyzeVbp({ heuristic: "ffd-sum", items: 0 }, solver)).rejects.toThrow(
      /items must be a positive integer/,
    );
    await expect(analyzeVbp({ heuristic: "ffd-sum", levels: [0.5, 1.5] }, solver)).rejects.toThrow(
      /levels must be sizes in \[0, 1\]/,
    );
    await expect(analyzeVbp({ heuristic: "bfd" as never }, solver)).rejects.toThrow(
      /unknown VBP heuristic/,
    );
    expect(() => toItems([0.1, 0.2, 0.3], 2)).toThrow(/cannot be split/);
  });
});

describe("the FFDSum 2x family", () => {
  it("OPT = k (MILP) and FFDSum = 2k for even k; 2k - 1 for odd k", async () => {
    for (const k of [2, 3, 4, 6]) {
      const items = ffdSumTwiceFamily(k);
      const ffd = firstFit(items, "ffd-sum");
      const opt = await optimalPacking(items, solver, { useBound: false, timeLimit: 20 });
      expect(opt.status).toBe("optimal");
      expect(opt.bins).toBe(k);
      expect(ffd.bins).toBe(ffdSumFamilyBins(k).ffdSum);
      if (k % 2 === 0) expect(ffd.bins).toBe(2 * opt.bins);
      // The order is forced by distinct sums (P, then Q, then X): no tie-breaking involved.
      const sums = Object.values(FFD_SUM_FAMILY_ITEMS).map((it) => it[0] + it[1]);
      expect(new Set(sums).size).toBe(3);
    }
  });

  it("explains it: same-type pairs the optimum separates, blocked in both dimensions", () => {
    const items = ffdSumTwiceFamily(2); // X0 P1 Q2 X3 P4 Q5
    // The optimum: bin {X, P, Q} per copy.
    const e = explainPacking(items, "ffd-sum", {
      bins: 2,
      assignment: [0, 0, 0, 1, 1, 1],
      proven: true,
    });
    expect(e.heuristicBins).toBe(4);
    expect(e.together).toEqual(
      expect.arrayContaining([
        [1, 4],
        [2, 5],
      ]),
    );
    // The X items are refused by the P bin in dimension 1 and by the Q bin in dimension 2.
    const x = e.blocked.find((b) => b.item === 0)!;
    expect(x.blockedBy.slice(0, 2)).toEqual([
      { bin: 0, dims: [0] },
      { bin: 1, dims: [1] },
    ]);
    expect(e.blockingDims[0]).toBeGreaterThan(0);
    expect(e.blockingDims[1]).toBeGreaterThan(0);
    expect(e.text).toMatch(/ffd-sum uses 4 bins; the optimum uses 2/);
  });
});

describe("adversarial search for VBP", () => {
  it("finds inputs where FFD is worse than the optimum, with consistent figures", async () => {
    const a = await analyzeVbp(
      {
        heuristic: "ffd-sum",
        items: 6,
        dims: 2,
        grid: 10,
        maxSize: 0.6,
        methods: ["random", "hill-climbing"],
        evaluations: 60,
        regions: 1,
        regionBudget: 60,
        seed: 2,
      },
      solver,
    );
    expect(a.methods).toHaveLength(2);
    expect(a.best!.gap!).toBeGreaterThan(0);
    const items = a.best!.items!;
    expect(firstFit(items, "ffd-sum").bins).toBe(a.best!.heuristicBins);
    const opt = await optimalPacking(items, solver, { useBound: false });
    expect(opt.bins).toBe(a.best!.optimalBins);
    expect(a.best!.ratio).toBeCloseTo(a.best!.heuristicBins! / a.best!.optimalBins!);
    expect(a.explanation!.heuristicBins).toBe(a.best!.heuristicBins);
    expect(a.regions).toHaveLength(1);
    expect(a.regions[0]!.pValue).toBeGreaterThanOrEqual(0);
  }, 40_000);
});
