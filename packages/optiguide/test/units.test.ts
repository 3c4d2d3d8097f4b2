import { describe, expect, it } from "vitest";
import {
  APPS,
  describeApp,
  inferEditKind,
  isCorrect,
  loadQuestions,
  parseGroundTruth,
  parseRelation,
  runEdit,
  splitKey,
} from "../src/index.js";

const lookup = (family: string, parts: (string | null)[]) => {
  if (family !== "x") throw new Error(`unknown variable family "${family}"`);
  const all = ["x[a,1]", "x[a,2]", "x[b,1]"];
  if (parts.includes(null))
    return all.filter(
      (n) =>
        n.startsWith(`x[${parts[0] ?? ""}`) && (parts[1] === null || n.endsWith(`,${parts[1]}]`)),
    );
  return [`x[${parts.join(",")}]`];
};

describe("the expression language", () => {
  it("moves variables left and constants right", () => {
    const r = parseRelation("2 * x[a,1] + 3 >= x[b, 1] - (x[a,2] - 4) / 2", lookup);
    expect(r.sense).toBe(">=");
    expect(r.rhs).toBe(-1);
    expect(Object.fromEntries(r.terms)).toEqual({ "x[a,1]": 2, "x[b,1]": -1, "x[a,2]": 0.5 });
  });
  it("quotes and spaces in keys; sum over a wildcard", () => {
    expect(Object.fromEntries(parseRelation("x['a', \"1\"] == 0", lookup).terms)).toEqual({
      "x[a,1]": 1,
    });
    expect(Object.fromEntries(parseRelation("sum(x[a,*]) <= 3", lookup).terms)).toEqual({
      "x[a,1]": 1,
      "x[a,2]": 1,
    });
  });
  it("rejects what is not linear or not a relation, with the column", () => {
    expect(() => parseRelation("x[a,1] * x[a,2] <= 1", lookup)).toThrow(/not linear/);
    expect(() => parseRelation("x[a,1] <= 1 + ", lookup)).toThrow(/ends early/);
    expect(() => parseRelation("x[a,1] + 1", lookup)).toThrow(/expected a relation/);
    expect(() => parseRelation("x[a,*] <= 1", lookup)).toThrow(/only allowed inside sum/);
    expect(() => parseRelation("x[a,1] = 1", lookup)).toThrow(/use "==" .* column 8/);
  });
});

describe("the edit sandbox", () => {
  it("hands back the mutated data and the constraint specs", async () => {
    const out = await runEdit(
      {
        kind: "constraint",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: edit-form source text
        code: 'for (const [a, b] of keys(data.d)) addConstr(`x[${a},${b}] <= ${data.d[key(a, b)]}`, "cap");',
      },
      { data: { d: { "a,1": 3, "b,2": 4 } } },
    );
    expect(out.constraints).toEqual([
      { expr: "x[a,1] <= 3", name: "cap" },
      { expr: "x[b,2] <= 4", name: "cap" },
    ]);
  });
  it("has no host access", async () => {
    await expect(runEdit({ kind: "data", code: "process.exit(1)" }, { data: {} })).rejects.toThrow(
      /process/,
    );
    await expect(runEdit({ kind: "data", code: 'require("fs")' }, { data: {} })).rejects.toThrow(
      /require/,
    );
  });
  it("infers the kind as OptiGuide places snippets", () => {
    expect(inferEditKind('addConstr("x[a] <= 1")')).toBe("constraint");
    expect(inferEditKind("data.cost.a = 1")).toBe("data");
  });
});

describe("questions and scoring", () => {
  it("parses ground truths", () => {
    expect(parseGroundTruth(2470)).toEqual({ status: "optimal", objective: 2470 });
    expect(
      parseGroundTruth("infeasible\nConflicting Constraints:\n['calories', 'limit_dairy']"),
    ).toEqual({
      status: "infeasible",
      conflict: ["calories", "limit_dairy"],
    });
    expect(() => parseGroundTruth("banana")).toThrow(/unreadable/);
  });
  it("scores the objective within 1e-6 relative and infeasibility by status", () => {
    const o = (status: "optimal" | "infeasible", objective?: number) => ({
      status,
      objective,
      plan: [],
      solveMs: 0,
      solves: 0,
    });
    expect(
      isCorrect(o("optimal", 302.7546403604326), {
        status: "optimal",
        objective: 302.7546403604325,
      }),
    ).toBe(true);
    expect(isCorrect(o("optimal", 2471), { status: "optimal", objective: 2470 })).toBe(false);
    expect(isCorrect(o("infeasible"), { status: "infeasible", conflict: ["x"] })).toBe(true);
  });
  it("reads the app from code_path and refuses other files", () => {
    const { app, questions } = loadQuestions(`${__dirname}/../data/questions/dev/netflow.json`);
    expect(app).toBe("netflow");
    expect(questions.length).toBe(107);
    expect(() => loadQuestions(`${__dirname}/../data/apps/coffee.json`)).toThrow(
      /not a benchmark file/,
    );
    expect(() => loadQuestions("/nonexistent.json")).toThrow(/cannot read questions/);
  });
  it("splits tuple keys, integers as numbers", () => {
    expect(splitKey("9,4")).toEqual([9, 4]);
    expect(splitKey("Pens,New York")).toEqual(["Pens", "New York"]);
  });
});

describe("describeApp", () => {
  it("gives a writer the data fields, families and the edit API", () => {
    const md = describeApp(APPS.coffee);
    expect(md).toContain(
      '`data.shipping_cost_from_supplier_to_roastery["supplier1,roastery1"]` = 5',
    );
    expect(md).toContain("`supply_<supplier>`");
    expect(md).toContain("addConstr(");
  });
});
