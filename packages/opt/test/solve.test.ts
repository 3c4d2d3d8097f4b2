import { InProcessSolver, le, Model, SolverPool, solve, sum } from "@athanor/opt";
import { afterAll, describe, expect, it } from "vitest";
import { knapsack, marketSplit, wyndor } from "./fixtures.js";

const pool = new SolverPool({ size: 2 });
const inProcess = new InProcessSolver();
afterAll(async () => {
  await pool.close();
  await inProcess.close();
});

describe.each([
  ["worker pool", pool],
  ["in-process", inProcess],
] as const)("%s", (_label, solver) => {
  it("solves a textbook LP with duals and reduced costs", async () => {
    const s = await solver.solve(wyndor());
    expect(s.status).toBe("optimal");
    expect(s.objective).toBeCloseTo(36, 9);
    expect(s.value("x1")).toBeCloseTo(2, 9);
    expect(s.value("x2")).toBeCloseTo(6, 9);
    expect(s.hasDuals).toBe(true);
    expect(s.dual("plant1")).toBeCloseTo(0, 9);
    expect(s.dual("plant2")).toBeCloseTo(1.5, 9);
    expect(s.dual("plant3")).toBeCloseTo(1, 9);
    expect(s.reducedCost("x1")).toBeCloseTo(0, 9);
    expect(s.activity("plant3")).toBeCloseTo(18, 9);
    expect(s.nonzeros().map((e) => e.name)).toEqual(["x1", "x2"]);
  });

  it("solves a small MIP to its known optimum", async () => {
    const s = await solver.solve(knapsack());
    expect(s.status).toBe("optimal");
    expect(s.objective).toBe(220);
    expect(s.values()).toEqual({ "take[a]": 0, "take[b]": 1, "take[c]": 1 });
    expect(s.hasDuals).toBe(false);
    expect(() => s.dual("capacity")).toThrow(/no dual values/);
    expect(s.gap).toBeLessThanOrEqual(1e-4);
  });

  it("names the conflicting constraints of an infeasible LP", async () => {
    const m = wyndor();
    m.addConstraint(m.variable("x1").plus(m.variable("x2")), ">=", 20, "min_output");
    const s = await solver.solve(m);
    expect(s.status).toBe("infeasible");
    expect(s.hasSolution).toBe(false);
    expect(s.conflict?.irreducible).toBe(true);
    expect(s.conflict?.method).toBe("highs-iis");
    // 3 x1 + 2 x2 <= 18 (plant3) with x1 >= 0 caps x1 + x2 at 9 < 20.
    expect(new Set(s.conflict?.constraints)).toEqual(new Set(["min_output", "plant3"]));
    expect(s.conflict?.variables).toEqual(["x1"]);
  });

  it("finds an irreducible conflict of a MIP infeasible only by integrality", async () => {
    const m = new Model("parity");
    const x = m.addVar("x", { type: "integer", ub: 10 });
    const y = m.addVar("y", { type: "integer", ub: 10 });
    m.addConstraint(x.times(2).plus(y.times(2)), "==", 7, "odd_total");
    m.addConstraint(x, "<=", 8, "loose");
    m.minimize(x);
    const s = await solver.solve(m);
    expect(s.status).toBe("infeasible");
    expect(s.conflict).toMatchObject({
      constraints: ["odd_total"],
      irreducible: true,
      method: "deletion-filter",
    });
  });

  it("narrows a MIP conflict among many rows to the irreducible pair", async () => {
    const m = new Model("window");
    const x = m.addVar("x", { type: "integer" });
    const y = m.addVar("y", { type: "integer" });
    const z = m.addVars(
      "z",
      Array.from({ length: 40 }, (_, i) => i),
      { type: "integer" },
    );
    m.addConstraints(
      "filler",
      Array.from({ length: 40 }, (_, i) => i),
      ([i]) => le(z.get(i!).plus(x), 100 + Number(i)),
    );
    m.addConstraint(x.plus(y), ">=", 5.5, "at_least");
    m.addConstraint(x.plus(y), "<=", 5.8, "at_most"); // no integer sum lies in [5.5, 5.8]
    m.minimize(sum(z.vars()));
    const s = await solver.solve(m);
    expect(s.status).toBe("infeasible");
    expect(s.conflict).toMatchObject({ irreducible: true, method: "deletion-filter" });
    expect(new Set(s.conflict!.constraints)).toEqual(new Set(["at_least", "at_most"]));
  });

  it("reports unbounded models", async () => {
    const m = new Model();
    const x = m.addVar("x");
    const y = m.addVar("y");
    m.addConstraint(x.minus(y), "<=", 1, "gap");
    m.maximize(x.plus(y));
    expect((await solver.solve(m)).status).toBe("unbounded");
  });

  it("stops at the time limit and returns the incumbent", async () => {
    const m = marketSplit();
    const s = await solver.solve(m, { timeLimit: 0.3 });
    expect(s.status).toBe("time_limit");
    expect(s.hasSolution).toBe(true);
    expect(s.objective).toBeGreaterThanOrEqual(s.bestBound!);
    // The incumbent is a real point: its objective matches its values.
    expect(m.objective().evaluate((v) => s.value(v))).toBeCloseTo(s.objective!, 6);
  });

  it("refuses bad options", async () => {
    await expect(solver.solve(wyndor(), { timeLimit: -1 })).rejects.toThrow(
      /timeLimit must be a positive/,
    );
    await expect(solver.solve(wyndor(), { mipGap: Number.NaN })).rejects.toThrow(/mipGap/);
  });

  it("answers degenerate and invalid models with a status, never a crash", async () => {
    const crossed = new Model();
    crossed.minimize(crossed.addVar("x", { lb: 5, ub: 1 }));
    const s1 = await solver.solve(crossed);
    expect(s1.status).toBe("infeasible");
    expect(s1.conflict?.variables).toEqual(["x"]);

    const empty = new Model();
    empty.minimize(4);
    expect(await solver.solve(empty)).toMatchObject({ status: "optimal", objective: 4 });

    const huge = new Model();
    const x = huge.addVar("x");
    huge.addConstraint(x.times(1e300), "<=", 1, "r");
    huge.maximize(x);
    const s3 = await solver.solve(huge);
    expect(s3.status).toBe("error");
    expect(s3.message).toMatch(/HiGHS refused the model/);
    // The solver keeps working afterwards.
    expect((await solver.solve(wyndor())).objective).toBeCloseTo(36, 9);
  });

  it("reports HiGHS option errors as status error", async () => {
    const s = await solver.solve(wyndor(), { highs: { no_such_option: 1 } });
    expect(s.status).toBe("error");
    expect(s.message).toMatch(/no_such_option/);
  });
});

describe("InProcessSolver.solveSync", () => {
  it("solves synchronously once HiGHS is loaded", async () => {
    expect(() => new InProcessSolver().solveSync(wyndor())).toThrow(/not loaded yet/);
    const s = await InProcessSolver.create();
    const results = Array.from({ length: 21 }, (_, k) => {
      const m = knapsack();
      m.setRhs("capacity", 10 + 2 * k);
      return s.solveSync(m).objective;
    });
    expect(results[0]).toBe(60); // capacity 10: item a only
    expect(results[19]).toBe(180); // capacity 48: a + c (b + c weighs 50)
    expect(results[20]).toBe(220); // capacity 50: b + c
    await s.close();
  });
});

describe("SolverPool", () => {
  it("solves several models at once and each answer matches its model", async () => {
    const models = Array.from({ length: 12 }, (_, k) => {
      const m = wyndor();
      m.setRhs("plant1", 1 + (k % 4)); // x1 <= 1..4 changes the optimum
      return { k, m };
    });
    const sols = await Promise.all(models.map(({ m }) => pool.solve(m)));
    sols.forEach((s, i) => {
      const cap = 1 + (models[i]!.k % 4);
      const x1 = Math.min(cap, 2);
      expect(s.objective).toBeCloseTo(3 * x1 + 5 * 6, 9);
    });
    expect(pool.workers).toBeLessThanOrEqual(2);
  });

  it("cancels a running solve, replaces the worker and keeps serving", async () => {
    const ac = new AbortController();
    const running = pool.solve(marketSplit(5, 40), { signal: ac.signal });
    const queued = [pool.solve(wyndor()), pool.solve(knapsack())];
    setTimeout(() => ac.abort(new Error("user cancelled")), 200);
    await expect(running).rejects.toThrow(/user cancelled/);
    const [a, b] = await Promise.all(queued);
    expect(a.objective).toBeCloseTo(36, 9);
    expect(b.objective).toBe(220);
    expect((await pool.solve(wyndor())).status).toBe("optimal");
  });

  it("rejects at once when the signal is already aborted, and drops queued jobs on abort", async () => {
    const small = new SolverPool({ size: 1 });
    try {
      await expect(small.solve(wyndor(), { signal: AbortSignal.abort() })).rejects.toThrow();
      const ac = new AbortController();
      const blocker = small.solve(marketSplit(), { timeLimit: 0.5 });
      const waiting = small.solve(wyndor(), { signal: ac.signal });
      ac.abort();
      await expect(waiting).rejects.toThrow(/abort/i);
      expect((await blocker).status).toBe("time_limit");
    } finally {
      await small.close();
    }
  });

  it("rejects solves after close", async () => {
    const p = new SolverPool({ size: 1 });
    await p.close();
    await expect(p.solve(wyndor())).rejects.toThrow(/closed/);
  });
});

describe("solve() on the shared pool", () => {
  it("answers what-if clones without touching the original", async () => {
    const base = wyndor();
    const what = base.clone();
    what.setRhs("plant3", 24);
    const [a, b] = await Promise.all([solve(base), solve(what)]);
    expect(a.objective).toBeCloseTo(36, 9);
    expect(b.objective).toBeCloseTo(42, 9); // x1 = 4, x2 = 6
    expect(sum([base.variable("x1")]).evaluate((v) => b.value(v))).toBeCloseTo(4, 9);
  });
});
