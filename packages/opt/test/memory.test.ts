import { InProcessSolver, type Solver, SolverPool } from "@athanor/opt";
import { describe, expect, it } from "vitest";
import { knapsack, wyndor } from "./fixtures.js";

/**
 * Every solve creates a HiGHS instance inside WebAssembly memory and must dispose it:
 * WebAssembly memory never shrinks, so a leak shows as steady growth. 1,000 solves
 * (LPs, MIPs and infeasible models with conflict analysis) must leave it flat.
 */
async function thousandSolves(solver: Solver): Promise<number[]> {
  const models = [wyndor(), knapsack(), wyndor()];
  const infeasible = wyndor();
  infeasible.addConstraint(infeasible.variable("x1"), ">=", 5, "too_much");
  const memory: number[] = [];
  for (let k = 0; k < 1000; k++) {
    const m = k % 10 === 9 ? infeasible : models[k % 3]!;
    const s = await solver.solve(m);
    expect(s.status).toBe(m === infeasible ? "infeasible" : "optimal");
    memory.push(s.wasmMemory);
  }
  return memory;
}

describe("WebAssembly memory", () => {
  it("stays flat over 1,000 solves in a worker", async () => {
    const pool = new SolverPool({ size: 1 });
    try {
      const memory = await thousandSolves(pool);
      expect(memory[999]).toBe(memory[99]);
      expect(Math.max(...memory)).toBe(memory[99]);
    } finally {
      await pool.close();
    }
  });

  it("stays flat over 1,000 solves in process", async () => {
    const solver = new InProcessSolver();
    const memory = await thousandSolves(solver);
    expect(memory[999]).toBe(memory[99]);
    await solver.close();
  });

  it("recycles workers after a number of solves and keeps answering", async () => {
    const pool = new SolverPool({ size: 1, recycleAfter: 5 });
    try {
      for (let k = 0; k < 12; k++)
        expect((await pool.solve(wyndor())).objective).toBeCloseTo(36, 9);
      expect(pool.workers).toBeLessThanOrEqual(1);
    } finally {
      await pool.close();
    }
  });
});
