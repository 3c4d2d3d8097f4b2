/** netflow: Gurobi's multi-commodity network flow example. */
import { eq, LinExpr, le } from "@athanor/opt";
import type { App } from "../app.js";
import { AppModel } from "../app-model.js";
import { type AppData, readAppFile, tupleDict } from "../data.js";
import { dict, strings } from "./util.js";

function data(): AppData {
  const f = readAppFile("netflow") as {
    sets: Record<string, unknown>;
    parameters: Record<string, unknown>;
  };
  return {
    commodities: f.sets.commodities as string[],
    nodes: f.sets.nodes as string[],
    arcs: f.sets.arcs as string[][],
    capacity: tupleDict(f.parameters.capacity),
    cost: tupleDict(f.parameters.cost),
    inflow: tupleDict(f.parameters.inflow),
  };
}

function build(d: AppData): AppModel {
  const am = new AppModel("netflow");
  const commodities = strings(d, "commodities");
  const nodes = strings(d, "nodes");
  const arcs = d.arcs as [string, string][];
  const flow = am.addFamily(
    "flow",
    commodities.flatMap((h) => arcs.map(([i, j]) => [h, i, j])),
  );
  const cost = dict(d, "cost");
  const obj = new LinExpr();
  for (const h of commodities)
    for (const [i, j] of arcs) {
      const c = cost[`${h},${i},${j}`];
      if (c === undefined) throw new Error(`netflow: cost has no entry for (${h}, ${i}, ${j})`);
      obj.addTerm(flow(h, i, j), c);
    }
  am.model.minimize(obj);
  const capacity = dict(d, "capacity");
  for (const [i, j] of arcs) {
    const e = new LinExpr();
    for (const h of commodities) e.addTerm(flow(h, i, j));
    am.addRow(le(e, capacity[`${i},${j}`]!), `cap[${i},${j}]`, "cap");
  }
  const inflow = dict(d, "inflow");
  for (const h of commodities)
    for (const j of nodes) {
      const into = new LinExpr();
      for (const [a, b] of arcs) if (b === j) into.addTerm(flow(h, a, b));
      into.add(inflow[`${h},${j}`] ?? 0);
      const out = new LinExpr();
      for (const [a, b] of arcs) if (a === j) out.addTerm(flow(h, a, b));
      am.addRow(eq(into, out), `node[${h},${j}]`, "node");
    }
  return am;
}

export const netflow: App = {
  name: "netflow",
  title:
    "multi-commodity network flow: ship Pencils and Pens from Detroit and Denver to three cities",
  data,
  build,
  schema: {
    commodities: { doc: "products", type: "set", readonly: true },
    nodes: { doc: "cities", type: "set", readonly: true },
    arcs: {
      doc: "(source, destination) pairs with a flow variable; fixed before the data edit point",
      type: "tuples",
      keys: ["nodes", "nodes"],
      readonly: true,
    },
    capacity: {
      doc: "capacity of an arc, shared by both products (entries on non-arcs are unused)",
      type: "dict",
      keys: ["nodes", "nodes"],
    },
    cost: {
      doc: "cost per unit of a product on an arc (entries on non-arcs are unused)",
      type: "dict",
      keys: ["commodities", "nodes", "nodes"],
    },
    inflow: {
      doc: "supply (> 0) or demand (< 0) of a product at a node",
      type: "dict",
      keys: ["commodities", "nodes"],
    },
  },
  editPoints: {
    data: "after the data dicts (arcs already fixed), before the model is built",
    constraint: "after the first solve; the model is then solved again",
  },
  variableFamilies: { "flow[h,i,j]": "continuous >= 0: units of product h shipped on arc (i, j)" },
  constraintFamilies: {
    "cap[i,j]": "sum_h flow[h,i,j] <= capacity[i,j]",
    "node[h,j]": "inflow into j + inflow[h,j] == outflow from j, per product",
  },
  baseline: 5500,
};
