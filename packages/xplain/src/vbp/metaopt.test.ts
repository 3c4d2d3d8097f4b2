import { InProcessSolver } from "@athanor/opt";
import { afterAll, describe, expect, it } from "vitest";
import { analyzeVbp } from "./analyze.js";
import { worstCaseFirstFit } from "./metaopt.js";
import { firstFit, type Item } from "./packing.js";

const solver = new InProcessSolver();
afterAll(() => solver.close());

/** Whether items pack into k bins: brute force over every assignment (tiny inputs only). */
function packsInto(items: readonly Item[], k: number): boolean {
  const n = items.length;
  for (let code = 0; code < k ** n; code++) {
    const loads = Array.from({ length: k }, () => [0, 0]);
    let c = code;
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      const b = c % k;
      c = Math.floor(c / k);
      for (let j = 0; j < 2; j++) {
        loads[b]![j]! += items[i]![j]!;
        if (loads[b]![j]! > 1 + 1e-9) ok = false;
      }
    }
    if (ok) return true;
  }
  return false;
}

/** The most bins `variant` uses over every grid input packable into k bins. */
function exhaustiveWorst(variant: "ff" | "ffd-sum", n: number, grid: number, k: number): number {
  let worst = 0;
  const per = grid; // levels 1/grid .. 1
  for (let code = 0; code < per ** (2 * n); code++) {
    let c = code;
    const items: Item[] = Array.from({ length: n }, () => {
      const it = [0, 0].map(() => {
        const v = ((c % per) + 1) / grid;
        c = Math.floor(c / per);
        return v;
      });
      return it;
    });
    const h = firstFit(items, variant).bins;
    if (h > worst && packsInto(items, k)) worst = h;
  }
  return worst;
}

describe("exact adversarial search for first fit (MILP)", () => {
  it("finds the true worst case on small grids (exhaustive check)", async () => {
    // FFDSum with 4 items takes HiGHS ~10 s to prove on a loaded machine: 3 items here.
    for (const [variant, n] of [
      ["ff", 4],
      ["ffd-sum", 3],
    ] as const) {
      const truth = exhaustiveWorst(variant, n, 3, 2);
      const r = await worstCaseFirstFit(
        { variant, items: n, dims: 2, optimalBins: 2, grid: 3 },
        solver,
      );
      expect(r.status).toBe("optimal");
      expect(r.heuristicBins).toBe(truth);
      expect(r.optimalBins).toBeLessThanOrEqual(2);
      // Not vacuous: FF in input order can be made worse than the optimum here.
      if (variant === "ff") expect(truth).toBe(3);
    }
  }, 30_000);

  // ~5-15 s: the MILP proves that no 6-item input on this grid does worse.
  it("finds FFDSum = 2 x OPT by itself on a 1/100 grid (6 items, 2 optimal bins)", async () => {
    const r = await worstCaseFirstFit(
      { variant: "ffd-sum", items: 6, dims: 2, optimalBins: 2, grid: 100, maxSize: 0.6 },
      solver,
    );
    expect(r.status).toBe("optimal");
    expect(r.heuristicBins).toBe(4);
    expect(r.optimalBins).toBe(2);
    expect(firstFit(r.items, "ffd-sum").bins).toBe(4);
    expect(packsInto(r.items, 2)).toBe(true);
  }, 60_000);

  it("is the exact method of analyzeVbp, and is skipped (noted) where it does not apply", async () => {
    const a = await analyzeVbp(
      { heuristic: "ff", items: 4, grid: 3, maxSize: 1, methods: ["exact"], regions: 0 },
      solver,
    );
    expect(a.methods[0]).toMatchObject({
      method: "exact",
      status: "optimal",
      heuristicBins: 3,
      optimalBins: 2,
      ratio: 1.5,
    });
    expect(a.explanation!.heuristicBins).toBe(3);
    const b = await analyzeVbp({ heuristic: "ffd-max", methods: ["exact"], regions: 0 }, solver);
    expect(b.methods).toEqual([]);
    expect(b.notes.join()).toMatch(/exact: not available for ffd-max/);
  });

  it("rejects what it cannot encode", async () => {
    await expect(
      worstCaseFirstFit({ variant: "ffd-max" as never, items: 3, dims: 2, optimalBins: 1 }, solver),
    ).rejects.toThrow(/encodes ff and ffd-sum only/);
    await expect(
      worstCaseFirstFit({ variant: "ff", items: 2, dims: 2, optimalBins: 3 }, solver),
    ).rejects.toThrow(/optimalBins = 3 exceeds the 2 items/);
    await expect(
      worstCaseFirstFit(
        { variant: "ff", items: 3, dims: 1, optimalBins: 1, grid: 10, minSize: 0.5 },
        solver,
      ),
    ).rejects.toThrow(/no input with 3 items .* packs into 1 bins/);
  });
});
