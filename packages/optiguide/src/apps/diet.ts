/** diet: Gurobi's classic diet LP, with the second-stage `limit_dairy` row that OptiGuide's patched script adds. */
import { between, LinExpr, le } from "@athanor/opt";
import type { App } from "../app.js";
import { AppModel } from "../app-model.js";
import { type AppData, readAppFile, tupleDict } from "../data.js";
import { dict, inf, strings } from "./util.js";

function data(): AppData {
  const f = readAppFile("diet") as {
    sets: Record<string, string[]>;
    parameters: Record<string, unknown>;
  };
  const p = f.parameters;
  return {
    categories: f.sets.categories!,
    foods: f.sets.foods!,
    minNutrition: p.minNutrition as Record<string, number>,
    maxNutrition: p.maxNutrition as Record<string, number>,
    cost: p.cost as Record<string, number>,
    nutritionValues: tupleDict(p.nutritionValues),
  };
}

function build(d: AppData): AppModel {
  const am = new AppModel("diet");
  const foods = strings(d, "foods");
  const buy = am.addFamily(
    "buy",
    foods.map((f) => [f]),
  );
  const cost = dict(d, "cost");
  am.model.minimize(
    new LinExpr().add(foods.reduce((e, f) => e.addTerm(buy(f), cost[f]!), new LinExpr())),
  );
  const nv = dict(d, "nutritionValues");
  const lo = dict(d, "minNutrition");
  const hi = dict(d, "maxNutrition");
  // addConstrs(..., "_") names each row by its category alone.
  for (const c of strings(d, "categories")) {
    const e = new LinExpr();
    for (const f of foods) e.addTerm(buy(f), nv[`${f},${c}`]!);
    am.addRow(between(inf(lo[c]!), e, inf(hi[c]!)), c, "nutrition");
  }
  return am;
}

export const diet: App = {
  name: "diet",
  title: "diet: choose servings of 9 foods within nutrition limits at least cost",
  data,
  build,
  script: [
    { step: "solve" },
    { step: "edit-point" },
    {
      step: "stage",
      name: "limit_dairy",
      apply(am) {
        am.addRow(
          le(new LinExpr().add(am.get("buy[milk]")).add(am.get("buy[ice cream]")), 6),
          "limit_dairy",
        );
      },
    },
    { step: "solve" },
    { step: "edit-point" },
    { step: "solve" },
  ],
  schema: {
    categories: { doc: "nutrition categories", type: "set", readonly: true },
    foods: {
      doc: "food names (note the spaces in 'hot dog' and 'ice cream')",
      type: "set",
      readonly: true,
    },
    minNutrition: { doc: "minimum intake per category", type: "dict", keys: ["categories"] },
    maxNutrition: {
      doc: "maximum intake per category (1e100 = no limit)",
      type: "dict",
      keys: ["categories"],
    },
    cost: { doc: "cost of one serving of each food", type: "dict", keys: ["foods"] },
    nutritionValues: {
      doc: "amount of a category in one serving of a food",
      type: "dict",
      keys: ["foods", "categories"],
    },
  },
  editPoints: {
    data: "after all data, before the model is built",
    constraint:
      "two points, and OptiGuide's re.sub fills both: after the first solve (before limit_dairy is added), and after the solve that follows limit_dairy",
  },
  variableFamilies: { "buy[f]": "continuous >= 0: servings of food f" },
  constraintFamilies: {
    "<category>":
      "minNutrition[c] <= nutrition of the diet in c <= maxNutrition[c] (rows named calories, protein, fat, sodium)",
    limit_dairy: "buy[milk] + buy[ice cream] <= 6, added after the first solve",
  },
  baseline: "infeasible",
};
