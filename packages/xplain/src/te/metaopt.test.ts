import { InProcessSolver } from "@athanor/opt";
import { afterAll, describe, expect, it } from "vitest";
import { hillClimb, randomSearch, simulatedAnnealing } from "../search/blackbox.js";
import { getTopology } from "../topologies.js";
import { demandPinning, demandPinningGap, popGap, popPartition } from "./heuristics.js";
import { teInstance } from "./instance.js";
import { worstCaseDemandPinning, worstCasePop } from "./metaopt.js";

const solver = new InProcessSolver();
afterAll(() => solver.close());

const diamond = getTopology("diamond");
const inst = teInstance(diamond, {
  pairs: [
    { src: "a", dst: "d" },
    { src: "a", dst: "b" },
    { src: "b", dst: "d" },
    { src: "c", dst: "b" },
  ],
  pathsPerPair: 2,
});
const levels = [0, 50, 100];

/** Every combination of levels: the ground truth for the exact method. */
async function exhaustive(gap: (d: number[]) => Promise<number | undefined>) {
  let best = { gap: Number.NEGATIVE_INFINITY, d: [] as number[] };
  const n = inst.pairs.length;
  for (let code = 0; code < levels.length ** n; code++) {
    const d = Array.from(
      { length: n },
      (_, i) => levels[Math.floor(code / levels.length ** i) % levels.length]!,
    );
    const g = await gap(d);
    if (g !== undefined && g > best.gap) best = { gap: g, d };
  }
  return best;
}

describe("MetaOpt exact search", () => {
  it("finds the true worst gap of demand pinning (checked exhaustively)", async () => {
    const threshold = 50;
    const truth = await exhaustive(demandPinningGap(inst, threshold, solver));
    const exact = await worstCaseDemandPinning(inst, threshold, { levels }, solver);
    expect(exact.status).toBe("optimal");
    expect(exact.gap).toBeCloseTo(truth.gap, 6);
    expect(truth.gap).toBeGreaterThan(0);
    // The returned input really has that gap when the heuristics are simulated.
    const simulated = await demandPinningGap(inst, threshold, solver)(exact.demands);
    expect(simulated).toBeCloseTo(exact.gap, 6);
  }, 60_000);

  it("finds the true worst gap of POP (checked exhaustively)", async () => {
    const partition = [0, 1, 1, 0];
    const truth = await exhaustive(popGap(inst, partition, solver));
    const exact = await worstCasePop(inst, partition, { levels }, solver);
    expect(exact.gap).toBeCloseTo(truth.gap, 6);
    expect(await popGap(inst, partition, solver)(exact.demands)).toBeCloseTo(exact.gap, 6);
  }, 60_000);

  it("beats or matches the black-box baselines with the same levels", async () => {
    const threshold = 50;
    const f = demandPinningGap(inst, threshold, solver);
    const space = { dims: 4, lower: [0, 0, 0, 0], upper: [100, 100, 100, 100], levels };
    const exact = await worstCaseDemandPinning(inst, threshold, { levels }, solver);
    for (const search of [randomSearch, hillClimb, simulatedAnnealing]) {
      const r = await search(space, f, { evaluations: 60, seed: 3 });
      expect(r.best!.gap).toBeLessThanOrEqual(exact.gap + 1e-6);
    }
  }, 60_000);

  it("rejects levels without zero", async () => {
    await expect(worstCaseDemandPinning(inst, 50, { levels: [10, 20] }, solver)).rejects.toThrow(
      /must include 0/,
    );
  });
});

describe("demand pinning", () => {
  it("pins small demands to the shortest path and reports overloads", async () => {
    const r = await demandPinning(inst, [50, 100, 100, 0], 50, solver);
    expect(r.pinned).toEqual([0]);
    expect(r.feasible).toBe(true);
    // a->d is pinned to its shortest path a-b-d.
    expect(r.flows[0]).toEqual([50, 0]);
    // Two pinned demands of 50 both need b->c (capacity 50): DP has no valid routing.
    const two = teInstance(diamond, {
      pairs: [
        { src: "b", dst: "c" },
        { src: "b", dst: "c" },
      ],
    });
    const bad = await demandPinning(two, [50, 50], 50, solver);
    expect(bad.feasible).toBe(false);
    expect(bad.overloaded.map((e) => diamond.links[e]!.from + diamond.links[e]!.to)).toEqual([
      "bc",
    ]);
  });

  it("partitions deterministically", () => {
    expect(popPartition(10, 2, 7)).toEqual(popPartition(10, 2, 7));
  });
});
