import { closeDefaultSolver } from "@athanor/opt";
import { afterAll, describe, expect, it } from "vitest";
import { APPS, runApp } from "../src/index.js";

afterAll(() => closeDefaultSolver());

describe("bad input gets a clear answer, never a hang", () => {
  it("a data edit about an unknown cafe", async () => {
    const o = await runApp(APPS.coffee, {
      kind: "data",
      code: 'data.light_coffee_needed_for_cafe["cafe9"] = 30;',
    });
    expect(o.status).toBe("error");
    expect(o.errorKind).toBe("data");
    expect(o.message).toMatch(/unknown key "cafe9".*cafes \(cafe1, cafe2, cafe3\)/);
  });

  it("a constraint edit about an unknown cafe", async () => {
    const o = await runApp(APPS.coffee, {
      kind: "constraint",
      code: 'addConstr("y_light[roastery1,cafe9] == 0");',
    });
    expect(o.status).toBe("error");
    expect(o.errorKind).toBe("constraint");
    expect(o.message).toMatch(/unknown variable y_light\[roastery1,cafe9\]/);
  });

  it("an unknown variable family", async () => {
    const o = await runApp(APPS.coffee, {
      kind: "constraint",
      code: 'addConstr("shipments[a] <= 1");',
    });
    expect(o.message).toMatch(
      /unknown variable family "shipments" \(the model has x, y_light, y_dark\)/,
    );
  });

  it("an edit that throws, with the line of the edit", async () => {
    const o = await runApp(APPS.coffee, {
      kind: "data",
      code: "const a = 1;\nundefinedThing.foo = 2;",
    });
    expect(o.status).toBe("error");
    expect(o.errorKind).toBe("edit");
    expect(o.message).toMatch(/undefinedThing.*line 2 of the edit/);
  });

  it("an edit that loops forever stops at the sandbox time limit", async () => {
    const t = Date.now();
    const o = await runApp(
      APPS.coffee,
      { kind: "data", code: "while (true) {}" },
      { editTimeoutMs: 200 },
    );
    expect(o.status).toBe("error");
    expect(o.errorKind).toBe("timeout");
    expect(o.message).toMatch(/200 ms time limit/);
    expect(Date.now() - t).toBeLessThan(10_000);
  });

  it("a data edit that calls addConstr is told where constraints go", async () => {
    const o = await runApp(APPS.coffee, {
      kind: "data",
      code: 'addConstr("x[supplier1,roastery1] == 0");',
    });
    expect(o.message).toMatch(/addConstr\(\) is only available in a constraint edit/);
  });

  it("a non-linear or malformed constraint", async () => {
    const bad = await runApp(APPS.coffee, {
      kind: "constraint",
      code: 'addConstr("x[supplier1,roastery1] * x[supplier2,roastery1] <= 3");',
    });
    expect(bad.message).toMatch(/product of two variables is not linear/);
    const strict = await runApp(APPS.coffee, {
      kind: "constraint",
      code: 'addConstr("x[supplier1,roastery1] < 3");',
    });
    expect(strict.message).toMatch(/strict "<"/);
  });

  it("an edit that makes the model unbounded", async () => {
    const code = `for (const c of data.categories) data.maxNutrition[c] = 1e100;
data.cost.hamburger = -1;`;
    const o = await runApp(APPS.diet, { kind: "data", code });
    expect(["unbounded", "infeasible_or_unbounded"]).toContain(o.status);
    expect(o.message).toMatch(/unbounded/);
  });

  it("an infeasible model names its conflicting constraints", async () => {
    const o = await runApp(APPS.coffee, {
      kind: "data",
      code: 'data.capacity_in_supplier["supplier1"] = data.capacity_in_supplier["supplier1"] / 2;',
    });
    expect(o.status).toBe("infeasible");
    expect(o.conflict!.length).toBeGreaterThan(0);
    expect(o.conflict!.every((c) => /^(flow|supply|light_demand|dark_demand)_/.test(c))).toBe(true);
  });

  it("changing a set fixed before the data edit point is refused", async () => {
    const o = await runApp(APPS.coffee, { kind: "data", code: 'data.cafes.push("cafe4");' });
    expect(o.message).toMatch(/"cafes" is fixed before the data edit point/);
  });

  it("a non-number parameter is refused", async () => {
    const o = await runApp(APPS.facility, { kind: "data", code: 'data.demand[0] = "lots";' });
    expect(o.message).toMatch(/demand\[0\] must be a finite number/);
  });

  it("value() with no solution to read says so", async () => {
    const o = await runApp(APPS.coffee, {
      kind: "constraint",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: edit-form source text
      code: 'addConstr(`x[supplier1,roastery1] == ${value("x[supplier9,roastery1]")}`);',
    });
    expect(o.message).toMatch(/no such variable/);
  });
});
