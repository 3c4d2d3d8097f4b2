import { closeDefaultSolver } from "@athanor/opt";
import { afterAll, describe, expect, it } from "vitest";
import { APP_NAMES, runBenchmark } from "../src/index.js";

afterAll(() => closeDefaultSolver());

// Every dev question's own DATA CODE / CONSTRAINT CODE, translated into the edit form and run:
// 100% proves the TypeScript models and HiGHS reproduce the original Gurobi results.
describe("oracle on the dev split", () => {
  it.each(APP_NAMES)("%s: every dev question reproduced", { timeout: 120_000 }, async (app) => {
    const r = await runBenchmark({ apps: [app], concurrency: 4, memo: true });
    const wrong = r.results
      .filter((q) => !q.correct)
      .map((q) => ({ i: q.index, status: q.status, msg: q.message }));
    expect(wrong).toEqual([]);
    expect(r.overall.n).toBeGreaterThan(50);
  });
});
