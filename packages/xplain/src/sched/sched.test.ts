import { describe, expect, it } from "vitest";
import { rng } from "../topology.js";
import { analyzeSpPifo, spPifoGap } from "./analyze.js";
import { explainSpPifo } from "./explain.js";
import {
  compareSchedulers,
  inversions,
  simulatePifo,
  simulateSpPifo,
  weightedDelay,
} from "./simulate.js";

describe("PIFO and SP-PIFO", () => {
  it("matches a hand-traced example (2 queues, all packets arrive first)", () => {
    const ranks = [3, 5, 1, 4, 2];
    // bounds [q0, q1] start at 0; queue 0 has the highest priority; scan q1 then q0.
    // p0 r3 -> q1, [0,3]; p1 r5 -> q1, [0,5]; p2 r1 -> q0, [1,5]; p3 r4 -> q0, [4,5];
    // p4 r2 < every bound -> push-down by 4-2 = 2 into q0, bounds [2,3].
    const sp = simulateSpPifo(ranks, 2, { dequeueEvery: 0 });
    expect(sp.packets.map((p) => p.queue)).toEqual([1, 1, 0, 0, 0]);
    expect(sp.packets[4]!.pushDown).toBe(2);
    expect(sp.packets[4]!.boundsOnArrival).toEqual([4, 5]);
    expect(sp.finalBounds).toEqual([2, 3]);
    expect(sp.order).toEqual([2, 3, 4, 0, 1]); // ranks 1, 4, 2, 3, 5
    expect(simulatePifo(ranks, { dequeueEvery: 0 }).order).toEqual([2, 4, 0, 3, 1]);
    // Packet 3 (rank 4) leaves while packets 4 (rank 2) and 0 (rank 3) wait.
    expect(inversions(sp)).toEqual([
      { early: 3, late: 0 },
      { early: 3, late: 4 },
    ]);
    const c = compareSchedulers(ranks, 2, { dequeueEvery: 0 });
    // weights 6 - rank; PIFO: 4*1 + 3*2 + 2*3 + 1*4 = 20; SP-PIFO: 2*1 + 4*2 + 3*3 + 1*4 = 23.
    expect(weightedDelay(c.pifo, 5)).toBe(20);
    expect(c.weightedDelayGap).toBe(3);
    const e = explainSpPifo(ranks, 2, { dequeueEvery: 0 });
    expect(e.byCause).toEqual({ "queue-bounds": 1, fifo: 1 });
    expect(e.pushDowns).toEqual([{ packet: 4, rank: 2, cost: 2 }]);
    expect(e.inversions.find((x) => x.late === 4)!.lateWasPushDown).toBe(true);
    expect(e.text).toMatch(/serves 2 packet pairs out of rank order/);
  });

  it("interleaves arrivals and dequeues", () => {
    // dequeueEvery 1: each packet leaves right after it arrives, so nothing is inverted.
    const ranks = [5, 1, 4, 0];
    expect(simulateSpPifo(ranks, 2, { dequeueEvery: 1 }).order).toEqual([0, 1, 2, 3]);
    expect(compareSchedulers(ranks, 2, { dequeueEvery: 1 }).inversions).toEqual([]);
    // dequeueEvery 2: p0, p1 arrive, PIFO serves p1 (rank 1); p2, p3 arrive, it serves p3;
    // the drain takes p2 (rank 4) before p0 (rank 5).
    expect(simulatePifo(ranks, { dequeueEvery: 2 }).order).toEqual([1, 3, 2, 0]);
  });

  it("one queue is FIFO; PIFO never inverts and never loses on weighted delay", () => {
    const r = rng(5);
    for (let t = 0; t < 200; t++) {
      const ranks = Array.from({ length: 7 }, () => Math.floor(r() * 6));
      const every = t % 3;
      expect(simulateSpPifo(ranks, 1, { dequeueEvery: 0 }).order).toEqual(ranks.map((_, i) => i));
      const c = compareSchedulers(ranks, 2, { dequeueEvery: every, maxRank: 5 });
      expect(inversions(c.pifo)).toEqual([]);
      expect(c.weightedDelayGap).toBeGreaterThanOrEqual(0);
      expect(c.inversions.length === 0).toBe(c.weightedDelayGap === 0);
    }
  });

  it("rejects bad input with the reason", async () => {
    expect(() => simulatePifo([])).toThrow(/no packets/);
    expect(() => simulateSpPifo([1, -2], 2)).toThrow(/packet 1 has rank -2/);
    expect(() => simulateSpPifo([1, Number.NaN], 2)).toThrow(/packet 1 has rank NaN/);
    expect(() => simulateSpPifo([1], 0)).toThrow(/queues must be a positive integer/);
    expect(() => simulatePifo([1], { dequeueEvery: 1.5 })).toThrow(/dequeueEvery/);
    expect(() => spPifoGap(2, { metric: "drops" as never, maxRank: 3 })).toThrow(/unknown metric/);
    await expect(analyzeSpPifo({ packets: 0 })).rejects.toThrow(/packets must be an integer >= 1/);
  });
});

describe("adversarial rank sequences", () => {
  it("exhaustive search finds the true worst gap; black-box baselines stay below it", async () => {
    const a = await analyzeSpPifo({
      packets: 6,
      queues: 2,
      maxRank: 3,
      dequeueEvery: 2,
      evaluations: 300,
      regions: 1,
      regionBudget: 400,
      seed: 3,
    });
    const ex = a.methods.find((m) => m.method === "exhaustive")!;
    expect(ex.evaluations).toBe(4 ** 6);
    expect(a.best!.gap).toBe(ex.gap);
    for (const m of a.methods) expect(m.gap!).toBeLessThanOrEqual(ex.gap!);
    expect(ex.gap!).toBeGreaterThan(0);
    // The reported sequence really has that many inversions.
    expect(compareSchedulers(ex.ranks!, 2, { dequeueEvery: 2 }).inversions).toHaveLength(ex.gap!);
    expect(a.explanation!.inversions).toHaveLength(ex.gap!);
    expect(a.regions).toHaveLength(1);
    const reg = a.regions[0]!;
    expect(reg.inside.samples).toBeGreaterThan(0);
    expect(reg.pValue).toBeGreaterThanOrEqual(0);
    expect(reg.pValue).toBeLessThanOrEqual(1);
  });

  it("skips exhaustive search on a large space, and says so", async () => {
    const a = await analyzeSpPifo({
      packets: 12,
      maxRank: 15,
      methods: ["exhaustive", "random"],
      evaluations: 100,
      regions: 0,
    });
    expect(a.methods[0]).toMatchObject({ method: "exhaustive", skipped: true });
    expect(a.notes.join()).toMatch(/exhaustive: skipped/);
    expect(a.best!.method).toBe("random");
  });
});
