/**
 * The translator on every snippet pattern of templates/*.md (instantiated, with real indentation):
 * the generated edit runs, and gives the same result as the same change made directly through the
 * TypeScript model (an independent path), or the ground truth where the dev split has one.
 */
import { closeDefaultSolver, defaultSolver, eq, ge, le, type Relation, sum } from "@athanor/opt";
import { afterAll, describe, expect, it } from "vitest";
import {
  APPS,
  type App,
  type AppData,
  type AppModel,
  parsePython,
  runApp,
  runEdit,
  translateContext,
  translateSnippet,
} from "../src/index.js";

afterAll(() => closeDefaultSolver());

const tr = (app: App, code: string) => translateSnippet(code, translateContext(app));

/** The same change made directly: edit the data and/or add rows, build, solve. */
async function direct(
  app: App,
  change: { data?: (d: AppData) => void; rows?: (am: AppModel) => void },
) {
  const d = app.data();
  change.data?.(d);
  const am = app.build(d);
  change.rows?.(am);
  const sol = await defaultSolver().solve(am.model, { mipGap: 0 });
  return sol.status === "optimal" ? sol.objective : sol.status;
}

async function viaEdit(app: App, code: string) {
  const o = await runApp(app, tr(app, code));
  if (o.status === "error") throw new Error(o.message);
  return o.status === "optimal" ? o.objective : o.status;
}

const row = (am: AppModel, rel: Relation) => am.addRow(rel, "_");
const v = (am: AppModel, name: string) => am.get(name);

describe("the Python subset", () => {
  it("parses tab and space indentation, comments, ternaries and generators", () => {
    const src =
      'for a in xs:\n\tif a != "b":\n\t\ty[a] += 1 if a in z else 2 # note\nm.addConstrs((q[w] <= 1 for w in ws if w in q), "_")';
    const ast = parsePython(src);
    expect(ast.map((s) => s.k)).toEqual(["for", "expr"]);
  });

  it("reports syntax errors with the snippet line", () => {
    expect(() => parsePython("x = (1,\ny = 2")).toThrow(/snippet line/);
    expect(() => parsePython("for a in b:\nx = 1")).toThrow(/indented block/);
  });
});

describe("coffee templates", () => {
  const app = APPS.coffee;
  it("demand-increase-all (a loop over cafes)", async () => {
    const code =
      "for c in cafes:\n    light_coffee_needed_for_cafe[c] = light_coffee_needed_for_cafe[c] * 2\n    dark_coffee_needed_for_cafe[c] = dark_coffee_needed_for_cafe[c] * 2";
    const e = tr(app, code);
    expect(e).toEqual({
      kind: "data",
      code: "for (const c of data.cafes) {\n  data.light_coffee_needed_for_cafe[c] = (data.light_coffee_needed_for_cafe[c] * 2);\n  data.dark_coffee_needed_for_cafe[c] = (data.dark_coffee_needed_for_cafe[c] * 2);\n}",
    });
    // 460 units of demand against 300 of supply.
    expect(await viaEdit(app, code)).toBe("infeasible");
  });

  it("demand-increase (two dict updates with a percentage)", async () => {
    const code =
      'light_coffee_needed_for_cafe["cafe3"] = light_coffee_needed_for_cafe["cafe3"] * (1 + 13/100)\ndark_coffee_needed_for_cafe["cafe3"] = dark_coffee_needed_for_cafe["cafe3"] * (1 + 13/100)';
    expect(await viaEdit(app, code)).toBe(2692);
  });

  it("supplier-roastery-shipping (tuple-keyed dict)", async () => {
    const e = tr(app, 'shipping_cost_from_supplier_to_roastery["supplier2","roastery1"] = 2');
    expect(e.code).toBe('data.shipping_cost_from_supplier_to_roastery["supplier2,roastery1"] = 2;');
  });

  it("light-quantities-roasteries (sums over a generator)", async () => {
    for (const k of ["", " - 1"]) {
      const code = `m.addConstr(sum(y_light['roastery1',c] for c in cafes) <= sum(y_light['roastery2',c] for c in cafes)${k}, "_")`;
      const expected = await direct(app, {
        rows: (am) => {
          const cafes = ["cafe1", "cafe2", "cafe3"];
          const l = sum(cafes.map((c) => v(am, `y_light[roastery1,${c}]`)));
          const r = sum(cafes.map((c) => v(am, `y_light[roastery2,${c}]`)));
          row(am, le(l, k ? r.minus(1) : r));
        },
      });
      expect(await viaEdit(app, code)).toBe(expected);
    }
  });

  it("shipping-quantities-roasteries (variables on both sides)", async () => {
    for (const k of ["", " + 1"]) {
      const code = `m.addConstr(x['supplier1','roastery1'] >= x['supplier1','roastery2']${k}, "_")`;
      const expected = await direct(app, {
        rows: (am) => {
          const r = v(am, "x[supplier1,roastery2]");
          row(am, ge(v(am, "x[supplier1,roastery1]"), k ? r.plus(1) : r));
        },
      });
      expect(await viaEdit(app, code)).toBe(expected);
    }
  });

  it("single-supplier-roastery (new binary variables via addVars)", async () => {
    const code =
      'z = m.addVars(suppliers, vtype=GRB.BINARY, name="z")\nm.addConstr(sum(z[s] for s in suppliers) <= 1, "_")\nfor s in suppliers:\n    m.addConstr(x[s,\'roastery2\'] <= capacity_in_supplier[s] * z[s], "_")';
    const e = tr(app, code);
    expect(e.kind).toBe("constraint");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: edit-form source text
    expect(e.code).toContain('addVar(`z[${k0}]`, { type: "binary" });');
    const expected = await direct(app, {
      rows: (am) => {
        const sup = ["supplier1", "supplier2", "supplier3"];
        const cap = app.data().capacity_in_supplier as Record<string, number>;
        const z = sup.map((s) => am.addVar(`z[${s}]`, { type: "binary" }));
        row(am, le(sum(z), 1));
        for (const [i, s] of sup.entries())
          row(am, le(v(am, `x[${s},roastery2]`), z[i]!.times(cap[s]!)));
      },
    });
    expect(await viaEdit(app, code)).toBe(expected);
  });
});

describe("diet templates (every answer is infeasible: limit_dairy, and the snippet runs at both edit points)", () => {
  const app = APPS.diet;
  const cases = [
    'm.addConstr(buy["salad"] == 0, "_")',
    'm.addConstr(buy["hot dog"] == buy["hot dog"].X + 2, "_")',
    "minNutrition['calories'] = 1300\nmaxNutrition['calories'] = 1500",
    'cost["pizza"] = 0.42 * cost["pizza"]',
    'm.addConstr(buy["milk"] == 3.5 * buy["milk"].X, "_")',
    'm.addConstr(buy["fries"] == 2 * buy["fries"].X, "_")',
    "m.addConstr(buy.sum(['milk', 'ice cream']) <= 4, \"_\")",
    "minNutrition['sodium'] = minNutrition['sodium'] - 300\nmaxNutrition['sodium'] = maxNutrition['sodium'] - 300",
    'm.addConstr(buy["chicken"] == 3, "_")',
  ];
  it.each(cases)("%s", async (code) => {
    expect(await viaEdit(app, code)).toBe("infeasible");
  });

  it(".X reads the solution of the first solve", async () => {
    const e = tr(app, 'm.addConstr(buy["milk"] == buy["milk"].X + 2, "_")');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: edit-form source text
    expect(e.code).toBe('addConstr(`buy[milk] == ${(value("buy[milk]") + 2)}`, "_");');
    const out = await runEdit(e, {
      data: app.data(),
      vars: ["buy[milk]"],
      values: { "buy[milk]": 7 },
    });
    expect(out.constraints).toEqual([{ expr: "buy[milk] == 9", name: "_" }]);
  });

  it("gurobipy's tupledict.sum over a list of keys", () => {
    expect(tr(app, "m.addConstr(buy.sum(['milk', 'ice cream']) <= 4, \"_\")").code).toBe(
      'addConstr("(buy[milk] + buy[ice cream]) <= 4", "_");',
    );
  });
});

describe("facility templates", () => {
  const app = APPS.facility;
  const T = (d: AppData) => d.transCosts as number[][];
  it("transport-cost += and *= on a nested list", async () => {
    expect(await viaEdit(app, "transCosts[2][4] += 1500")).toBe(
      await direct(app, {
        data: (d) => {
          T(d)[2]![4]! += 1500;
        },
      }),
    );
    expect(await viaEdit(app, "transCosts[0][1] *= 3")).toBe(
      await direct(app, {
        data: (d) => {
          T(d)[0]![1]! *= 3;
        },
      }),
    );
  });
  it("demand-value (list comprehensions)", async () => {
    const e = tr(app, "demand = [v * 2 for v in demand]");
    expect(e.code).toBe("data.demand = data.demand.map((v) => (v * 2));");
    const doubled = await direct(app, {
      data: (d) => {
        d.demand = (d.demand as number[]).map((x) => x * 2);
      },
    });
    expect(await viaEdit(app, "demand = [v * 2 for v in demand]")).toBe(doubled);
    expect(await viaEdit(app, "demand = [v + 1 for v in demand]")).toBe(221600);
  });
  it("open-cost and open-close", async () => {
    expect(await viaEdit(app, "fixedCosts[3] *= 0.5")).toBe(204000);
    expect(await viaEdit(app, "m.addConstr(open[4] == 0, 'Close 4')")).toBe(210900);
    expect(await viaEdit(app, "m.addConstr(open[2] == 1, 'Open 2')")).toBe(
      await direct(app, { rows: (am) => row(am, eq(v(am, "open[2]"), 1)) }),
    );
  });
  it("transport-yes-not (warehouse first)", async () => {
    expect(await viaEdit(app, "m.addConstr(transport[3, 3] == 1, 'Why not select?')")).toBe(211100);
  });
});

describe("netflow templates", () => {
  const app = APPS.netflow;
  const inflow = (d: AppData) => d.inflow as Record<string, number>;
  it("demand-supply-data (augmented assignment with a conditional expression)", async () => {
    const code = 'inflow["Pens", "Boston"] += 4 if ("Pens", "Boston") in inflow else 4';
    expect(tr(app, code).code).toBe(
      'data.inflow["Pens,Boston"] += (("Pens,Boston" in data.inflow) ? 4 : 4);',
    );
    // Demand 40 → 36 at Boston with supply unchanged: the balance rows no longer close.
    expect(await viaEdit(app, code)).toBe(
      await direct(app, {
        data: (d) => {
          inflow(d)["Pens,Boston"]! += 4;
        },
      }),
    );
  });
  it("demand-supply-data (percentage under a membership test)", async () => {
    const code =
      'if ("Pencils", "Denver") in inflow:\n    inflow["Pencils", "Denver"] *= (1 + 20/100)';
    expect(await viaEdit(app, code)).toBe(
      await direct(app, {
        data: (d) => {
          inflow(d)["Pencils,Denver"]! *= 1.2;
        },
      }),
    );
  });
  it("shipping-cost (nested loops with a guard)", async () => {
    const code =
      'for a in commodities:\n    for b in nodes:\n        if (a, b, "New York") in cost:\n                cost[a, b, "New York"] += 48';
    expect(await viaEdit(app, code)).toBe(9340);
  });
  it("shipment (a guarded constraint on a variable family)", async () => {
    const code =
      'if ("Pencils", "Denver", "Seattle") in flow:\n    m.addConstr(flow["Pencils", "Denver", "Seattle"] == 0, \'Why "Pencils" "Denver" to "Seattle"?\')';
    expect(tr(app, code).code).toContain('if (has("flow[Pencils,Denver,Seattle]")) {');
    expect(await viaEdit(app, code)).toBe(6100);
    // A non-arc: the guard skips the row, so the plan is unchanged.
    expect(
      await viaEdit(
        app,
        'if ("Pens", "Boston", "Denver") in flow:\n    m.addConstr(flow["Pens", "Boston", "Denver"] == 1, \'x\')',
      ),
    ).toBe(5500);
  });
  it("shipment-capacity and shipment-cost", async () => {
    const code = 'if ("Detroit", "Boston") in capacity:\n    capacity["Detroit", "Boston"] *= 2';
    expect(await viaEdit(app, code)).toBe(5500);
    expect(await viaEdit(app, 'cost["Pens", "New York", "Boston"] = 17')).toBe(5500);
  });
});

describe("tsp templates", () => {
  const app = APPS.tsp;
  it("both directions name one edge", async () => {
    expect(
      await viaEdit(
        app,
        "m.addConstr(vars[9, 4] == 0, 'not go')\nm.addConstr(vars[4, 9] == 0, 'not go 2')",
      ),
    ).toBeCloseTo(309.0937025624314, 9);
    expect(await viaEdit(app, "m.addConstr(vars[3, 9] == 1, 'try go')")).toBeCloseTo(
      302.7546403604325,
      9,
    );
  });
  it("double a distance; remove a point (loop over split keys)", async () => {
    expect(
      await viaEdit(
        app,
        "if (0, 2) in dist:\n    dist[0 , 2] *= 2\nif (2, 0 ) in dist:\n    dist[2, 0 ] *= 2",
      ),
    ).toBeCloseTo(302.7546403604325, 9);
    const code =
      "for i, j in list(dist.keys()):\n    if i == 2 or j == 2:\n        dist[i, j] = 0 # remove the edge cost";
    expect(tr(app, code).code).toBe(
      "for (const [i, j] of [...keys(data.dist)]) {\n  if (((i === 2) || (j === 2))) {\n    data.dist[key(i, j)] = 0;\n  }\n}",
    );
    expect(await viaEdit(app, code)).toBeCloseTo(192.6909979026993, 9);
  });
});

describe("workforce1 templates", () => {
  const app = APPS.workforce1;
  it("constraint-availability (guards on x)", async () => {
    const code =
      'if ("Gu", "Sun7") in x:\n    m.addConstr(x["Gu", "Sun7"] == 0, "_")\nif ("Gu", "Tue2") in x:\n    m.addConstr(x["Gu", "Tue2"] == 1, "_2")';
    expect(await viaEdit(app, code)).toBe(223);
  });
  it("data-availability (append tuples; de-duplicated at build)", async () => {
    const code = 'availability.append(("Amy", "Mon1"))\navailability.append(("Amy", "Mon1"))';
    expect(tr(app, code).code).toBe(
      'data.availability.push(["Amy", "Mon1"]);\ndata.availability.push(["Amy", "Mon1"]);',
    );
    expect(await viaEdit(app, code)).toBe(
      await direct(app, {
        data: (d) => {
          (d.availability as string[][]).push(["Amy", "Mon1"]);
        },
      }),
    );
  });
  it("shift-limit (x.sum with a wildcard), data-pay, data-shift-requirements", async () => {
    expect(tr(app, 'm.addConstr(x.sum("Bob",\'*\') <= 3, "_")').code).toBe(
      'addConstr("sum(x[Bob,*]) <= 3", "_");',
    );
    expect(await viaEdit(app, 'm.addConstr(x.sum("Bob",\'*\') <= 3, "_")')).toBe(220);
    expect(await viaEdit(app, 'pay["Bob"] = 15')).toBe(220);
    expect(
      await viaEdit(
        app,
        'shiftRequirements["Mon1"] = shiftRequirements["Mon1"] + 4\nshiftRequirements["Mon8"] = shiftRequirements["Mon8"] + 4',
      ),
    ).toBe("infeasible");
  });
  it("weekends: CONSTRAINT CODE without addConstr goes to the data edit point (OptiGuide's rule)", async () => {
    const code =
      'shiftRequirements["Sat6"] = 2\nshiftRequirements["Sun7"] = 2\nshiftRequirements["Sat13"] = 2\nshiftRequirements["Sun14"] = 2';
    expect(tr(app, code).kind).toBe("data");
    const d = (x: AppData) => {
      const r = x.shiftRequirements as Record<string, number>;
      for (const s of ["Sat6", "Sun7", "Sat13", "Sun14"]) r[s] = 2;
    };
    expect(await viaEdit(app, code)).toBe(await direct(app, { data: d }));
  });
  it("shift-conflicts and all-worker limits (addConstrs over a filtered generator)", async () => {
    const code =
      'm.addConstrs((x["Gu", s] + x["Bob", s] <= 1 for s in shifts if ("Gu", s) in x and ("Bob", s) in x), "_")';
    expect(tr(app, code).code).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: edit-form source text
      "for (const s of data.shifts) {\n  if ((has(`x[Gu,${s}]`) && has(`x[Bob,${s}]`))) {\n    addConstr(`x[Gu,${s}] + x[Bob,${s}] <= 1`, `${s}`);\n  }\n}",
    );
    expect(await viaEdit(app, code)).toBe(220);
    expect(await viaEdit(app, "m.addConstrs((x.sum(w,'*') <= 7 for w in workers), \"_\")")).toBe(
      226,
    );
    expect(await viaEdit(app, "m.addConstrs((x.sum(w,'*') >= 1 for w in workers), \"_\")")).toBe(
      222,
    );
  });
});
