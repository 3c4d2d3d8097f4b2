import { closeDefaultSolver } from "@athanor/opt";
import { afterAll, describe, expect, it } from "vitest";
import { APP_NAMES, APPS, getApp, runApp } from "../src/index.js";

afterAll(() => closeDefaultSolver());

describe("the six apps reproduce their baselines", () => {
  it.each(APP_NAMES)("%s", async (name) => {
    const app = APPS[name];
    const o = await runApp(app);
    if (app.baseline === "infeasible") {
      expect(o.status).toBe("infeasible");
      // diet: limit_dairy (added after the first solve) makes the final model infeasible.
      expect(o.conflict).toContain("limit_dairy");
    } else {
      expect(o.status).toBe("optimal");
      expect(o.objective).toBeCloseTo(app.baseline, 6);
    }
  });

  it("describes the baseline plan by decision names (coffee uses the VALUE-SHIPPINGS pairs)", async () => {
    const o = await runApp(APPS.coffee);
    const ships = o.plan.filter((d) => d.name.startsWith("x[")).map((d) => d.name);
    // The amounts have alternative optima; the supplier-roastery pairs used do not.
    expect(ships.sort()).toEqual([
      "x[supplier1,roastery2]",
      "x[supplier2,roastery2]",
      "x[supplier3,roastery1]",
    ]);
  });

  it("tsp finds the tour the benchmark quotes", async () => {
    const o = await runApp(APPS.tsp);
    const edges = o.plan.map((d) => d.name);
    const tour = [0, 3, 9, 4, 5, 6, 1, 2, 8, 7];
    for (let k = 0; k < tour.length; k++) {
      const [a, b] = [tour[k]!, tour[(k + 1) % tour.length]!];
      expect(edges).toContain(`vars[${Math.max(a, b)},${Math.min(a, b)}]`);
    }
  });

  it("netflow's plan equals original_solution", async () => {
    const o = await runApp(APPS.netflow);
    expect(o.plan.map((d) => d.name).sort()).toEqual(
      [
        "flow[Pencils,Detroit,Boston]",
        "flow[Pencils,Denver,New York]",
        "flow[Pencils,Denver,Seattle]",
        "flow[Pens,Detroit,Boston]",
        "flow[Pens,Detroit,New York]",
        "flow[Pens,Denver,Boston]",
        "flow[Pens,Denver,Seattle]",
      ].sort(),
    );
  });

  it("diet's first stage (without limit_dairy) has the documented optimum", async () => {
    const o = await runApp(APPS.diet, { kind: "constraint", code: "" }, {});
    expect(o.status).toBe("infeasible");
    const am = APPS.diet.build(APPS.diet.data());
    const { InProcessSolver } = await import("@athanor/opt");
    const sol = await new InProcessSolver().solve(am.model);
    expect(sol.objective).toBeCloseTo(11.828861111111111, 9);
  });

  it("names an unknown app", () => {
    expect(() => getApp("bakery")).toThrow(/unknown app "bakery".*coffee, diet/);
  });
});
