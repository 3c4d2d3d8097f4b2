/** facility: Gurobi's capacitated facility location example. */
import { eq, LinExpr, le, sum } from "@athanor/opt";
import type { App } from "../app.js";
import { AppModel } from "../app-model.js";
import { type AppData, readAppFile } from "../data.js";
import { numbers } from "./util.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function data(): AppData {
  const p = (readAppFile("facility") as { parameters: Record<string, unknown> }).parameters;
  const capacity = p.capacity as number[];
  const demand = p.demand as number[];
  return {
    plants: range(capacity.length),
    warehouses: range(demand.length),
    demand,
    capacity,
    fixedCosts: p.fixedCosts as number[],
    transCosts: p.transCosts as number[][],
    maxFixed: p.maxFixed as number,
  };
}

function build(d: AppData): AppModel {
  const am = new AppModel("facility");
  const plants = numbers(d, "plants");
  const warehouses = numbers(d, "warehouses");
  const fixed = numbers(d, "fixedCosts");
  const trans = d.transCosts as number[][];
  const open = am.addFamily(
    "open",
    plants.map((p) => [p]),
    { type: "binary" },
  );
  const transport = am.addFamily(
    "transport",
    warehouses.flatMap((w) => plants.map((p) => [w, p])),
  );
  const obj = new LinExpr();
  for (const p of plants) obj.addTerm(open(p), fixed[p]!);
  for (const w of warehouses) for (const p of plants) obj.addTerm(transport(w, p), trans[w]![p]!);
  am.model.minimize(obj);
  const capacity = numbers(d, "capacity");
  const demand = numbers(d, "demand");
  for (const p of plants) {
    const shipped = sum(warehouses.map((w) => transport(w, p)));
    am.addRow(le(shipped, open(p).times(capacity[p]!)), `Capacity[${p}]`, "Capacity");
  }
  for (const w of warehouses)
    am.addRow(eq(sum(plants.map((p) => transport(w, p))), demand[w]!), `Demand[${w}]`, "Demand");
  return am;
}

export const facility: App = {
  name: "facility",
  title: "facility location: which plants to open and how much each ships to each warehouse",
  data,
  build,
  schema: {
    plants: {
      doc: "plant indices 0..4 (range(len(capacity)), fixed before the data edit point)",
      type: "set",
      readonly: true,
    },
    warehouses: {
      doc: "warehouse indices 0..3 (range(len(demand)), fixed)",
      type: "set",
      readonly: true,
    },
    demand: { doc: "demand[w] of each warehouse (met exactly)", type: "list" },
    capacity: { doc: "capacity[p] of each plant", type: "list" },
    fixedCosts: { doc: "fixedCosts[p]: cost of opening plant p", type: "list" },
    transCosts: {
      doc: "transCosts[w][p]: cost per unit from plant p to warehouse w (warehouse first)",
      type: "list",
    },
    maxFixed: {
      doc: "largest fixed cost (used only for the source's start values)",
      type: "number",
    },
  },
  editPoints: {
    data: "after the data lists, plants, warehouses and maxFixed, before the model is built",
    constraint: "after the first solve; the model is then solved again",
  },
  variableFamilies: {
    "open[p]": "binary: plant p is open",
    "transport[w,p]":
      "continuous >= 0: units shipped to warehouse w from plant p (warehouse first)",
  },
  constraintFamilies: {
    "Capacity[p]": "sum_w transport[w,p] <= capacity[p] * open[p]",
    "Demand[w]": "sum_p transport[w,p] == demand[w]",
  },
  baseline: 210500,
};
