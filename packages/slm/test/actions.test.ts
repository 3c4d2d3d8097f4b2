import { closeDefaultSolver } from "@athanor/opt";
import { type AppName, type Edit, getApp, runApp } from "@athanor/optiguide";
import { afterAll, describe, expect, it } from "vitest";
import {
  ActionError,
  ActionSyntaxError,
  executePlan,
  formatActions,
  parseActions,
  planActions,
} from "../src/index.js";

afterAll(() => closeDefaultSolver());

describe("syntax", () => {
  it("parses and formats every verb", () => {
    const lines = [
      "show ship supplier1 roastery2",
      "show objective",
      "set demand cafe3 +13%",
      "set cost * boston * *0.5",
      "forbid ship supplier2 roastery2",
      "fix buy hot_dog +2",
      "limit shifts bob <=3",
      "why ship supplier2 roastery2",
      "whynot flow pens detroit boston",
      "only deliver roastery1 cafe1",
      "exclusive deliver roastery2 cafe2",
      "apart work gu bob",
      "decline",
      "forbid work gu sun7 ; fix work gu tue2 =1",
    ];
    for (const l of lines) expect(formatActions(parseActions(l))).toBe(l);
  });

  it("reports what is wrong and where", () => {
    expect(() => parseActions("destroy ship a b")).toThrow(/unknown verb "destroy".*column 1/);
    expect(() => parseActions("set demand cafe3 13%")).toThrow(/"13%" is not a change/);
    expect(() => parseActions("limit shifts bob 3")).toThrow(ActionSyntaxError);
    expect(() => parseActions("decline now")).toThrow(/takes no arguments/);
    expect(() => parseActions("set demand cafe3 *13%")).toThrow(/not a change/);
  });
});

describe("validation", () => {
  it("rejects names the app does not have, listing what exists", () => {
    expect(() => planActions("coffee", "set demand cafe9 +10%")).toThrow(
      /"cafe9" is not a cafe \(cafes: cafe1, cafe2, cafe3\)/,
    );
    expect(() => planActions("coffee", "forbid capacity supplier1")).toThrow(
      /is a parameter: use set/,
    );
    expect(() => planActions("coffee", "set ship supplier1 roastery1 =3")).toThrow(/is a decision/);
    expect(() => planActions("diet", "set cost hot_dog")).toThrow(ActionSyntaxError);
    expect(() =>
      planActions("coffee", "set demand cafe1 +1 ; forbid ship supplier1 roastery1"),
    ).toThrow(/cannot combine data and constraint/);
    expect(() => planActions("facility", "set demand warehouse1 /0")).toThrow(ActionError);
  });

  it("takes typed key parts in either order", () => {
    const a = planActions("facility", "whynot transport warehouse3 plant1");
    const b = planActions("facility", "whynot transport plant1 warehouse3");
    expect(a.edit!.code).toContain('"transport[3,1] == 1"');
    expect(b.edit!.code).toContain('"transport[3,1] == 1"');
  });

  it("drops decisions the model lacks, with a warning", () => {
    const p = planActions("workforce1", "forbid work amy mon1 ; fix work amy tue2 =1");
    expect(p.warnings.join()).toMatch(/x\[Amy,Mon1\] is not a decision/);
    expect(p.edit!.code).toBe('addConstr("x[Amy,Tue2] == 1", "fix work amy tue2 =1");');
  });

  it("expands wildcards and groups", () => {
    const p = planActions("workforce1", "set requirement monday +2");
    expect(p.edit!.code.split("\n")).toEqual([
      'data.shiftRequirements["Mon1"] = data.shiftRequirements["Mon1"] + 2;',
      'data.shiftRequirements["Mon8"] = data.shiftRequirements["Mon8"] + 2;',
    ]);
    const n = planActions("netflow", "set cost * * new_york +5");
    expect(n.edit!.code.split("\n")).toHaveLength(4);
  });
});

/** Runs an action line and a hand-written edit with the same meaning; both must agree. */
async function same(app: AppName, line: string, edit: Edit): Promise<number | "infeasible"> {
  const p = planActions(app, line);
  const [mine, ref] = await Promise.all([runApp(getApp(app), p.edit), runApp(getApp(app), edit)]);
  expect(mine.status).toBe(ref.status);
  if (ref.status === "optimal") expect(mine.objective).toBeCloseTo(ref.objective!, 6);
  return ref.status === "optimal" ? ref.objective! : "infeasible";
}

describe("what-if edits reproduce hand-written edits", () => {
  it("coffee", async () => {
    await same("coffee", "set demand cafe2 +20%", {
      kind: "data",
      code: 'data.light_coffee_needed_for_cafe["cafe2"] *= 1.2; data.dark_coffee_needed_for_cafe["cafe2"] *= 1.2;',
    });
    await same("coffee", "exclusive deliver roastery1 cafe3", {
      kind: "constraint",
      code: 'for (const c of ["cafe1","cafe2"]) { addConstr("y_light[roastery1," + c + "] == 0"); addConstr("y_dark[roastery1," + c + "] == 0"); } addConstr("y_light[roastery2,cafe3] == 0"); addConstr("y_dark[roastery2,cafe3] == 0");',
    });
  });
  it("facility, netflow, tsp, workforce1, diet", async () => {
    expect(
      await same("facility", "set fixed_cost plant1 -40%", {
        kind: "data",
        code: "data.fixedCosts[1] *= 0.6;",
      }),
    ).toBeGreaterThan(0);
    await same("netflow", "set cost * denver * *2", {
      kind: "data",
      code: 'for (const k of Object.keys(data.cost)) if (k.split(",")[1] === "Denver") data.cost[k] *= 2;',
    });
    await same("tsp", "forbid edge point4 point9", {
      kind: "constraint",
      code: 'addConstr("vars[9,4] == 0");',
    });
    await same("workforce1", "limit shifts * <=4", {
      kind: "constraint",
      code: 'for (const w of data.workers) addConstr("sum(x[" + w + ",*]) <= 4");',
    });
    expect(
      await same("diet", "fix buy fries +1", {
        kind: "constraint",
        code: 'addConstr("buy[fries] == " + (value("buy[fries]") + 1));',
      }),
    ).toBe("infeasible");
  });
});

describe("execution", () => {
  it("answers a query from the baseline plan and data", async () => {
    const r = await executePlan(
      planActions("coffee", "show ship supplier1 roastery2 ; show capacity supplier1"),
    );
    const shipped = r.baseline!.plan.find((d) => d.name === "x[supplier1,roastery2]")?.value ?? 0;
    expect(r.values).toEqual([
      { label: "ship supplier1 roastery2 in the current plan", value: shipped },
      { label: "capacity supplier1", value: 150 },
    ]);
  });
  it("explains a why by forcing the opposite", async () => {
    const r = await executePlan(planActions("coffee", "why ship supplier1 roastery2"));
    expect(r.text).toMatch(/In the current plan, x\[supplier1,roastery2\] = \d+/);
    expect(r.outcome!.status).toBe("optimal");
    expect(r.outcome!.objective!).toBeGreaterThan(2470);
  });
  it("declines", async () => {
    const r = await executePlan(planActions("tsp", "decline"));
    expect(r.text).toMatch(/not a question about the tsp model/);
  });
});
