/** coffee: OptiGuide's own supply-chain example (suppliers → roasteries → cafes). */
import { eq, ge, LinExpr, le, sum } from "@athanor/opt";
import type { App } from "../app.js";
import { AppModel } from "../app-model.js";
import { type AppData, readAppFile, tupleDict } from "../data.js";
import { splitKey } from "../keys.js";
import { dict } from "./util.js";

function data(): AppData {
  const f = readAppFile("coffee") as {
    sets: Record<string, string[]>;
    parameters: Record<string, unknown>;
  };
  const p = f.parameters;
  return {
    suppliers: f.sets.suppliers!,
    roasteries: f.sets.roasteries!,
    cafes: f.sets.cafes!,
    capacity_in_supplier: p.capacity_in_supplier as Record<string, number>,
    shipping_cost_from_supplier_to_roastery: tupleDict(p.shipping_cost_from_supplier_to_roastery),
    roasting_cost_light: p.roasting_cost_light as Record<string, number>,
    roasting_cost_dark: p.roasting_cost_dark as Record<string, number>,
    shipping_cost_from_roastery_to_cafe: tupleDict(p.shipping_cost_from_roastery_to_cafe),
    light_coffee_needed_for_cafe: p.light_coffee_needed_for_cafe as Record<string, number>,
    dark_coffee_needed_for_cafe: p.dark_coffee_needed_for_cafe as Record<string, number>,
  };
}

function build(d: AppData): AppModel {
  const am = new AppModel("coffee");
  const sr = dict(d, "shipping_cost_from_supplier_to_roastery");
  const rc = dict(d, "shipping_cost_from_roastery_to_cafe");
  const srKeys = Object.keys(sr).map(splitKey) as string[][];
  const rcKeys = Object.keys(rc).map(splitKey) as string[][];
  const x = am.addFamily("x", srKeys, { type: "integer" });
  const yl = am.addFamily("y_light", rcKeys, { type: "integer" });
  const yd = am.addFamily("y_dark", rcKeys, { type: "integer" });
  const light = dict(d, "roasting_cost_light");
  const dark = dict(d, "roasting_cost_dark");
  const obj = new LinExpr();
  for (const [s, r] of srKeys) obj.addTerm(x(s!, r!), sr[`${s},${r}`]!);
  for (const [r, c] of rcKeys) {
    obj.addTerm(yl(r!, c!), light[r!]!).addTerm(yd(r!, c!), dark[r!]!);
    obj.addTerm(yl(r!, c!), rc[`${r},${c}`]!).addTerm(yd(r!, c!), rc[`${r},${c}`]!);
  }
  am.model.minimize(obj);
  // The source loops over the distinct key components, in the order they appear.
  const uniq = (keys: string[][], i: number) => [...new Set(keys.map((k) => k[i]!))];
  for (const r of uniq(srKeys, 1)) {
    const inflow = sum(srKeys.filter((k) => k[1] === r).map(([s]) => x(s!, r)));
    const out = sum(rcKeys.filter((k) => k[0] === r).flatMap(([, c]) => [yl(r, c!), yd(r, c!)]));
    am.addRow(eq(inflow, out), `flow_${r}`, "flow");
  }
  const cap = dict(d, "capacity_in_supplier");
  for (const s of uniq(srKeys, 0)) {
    am.addRow(
      le(sum(srKeys.filter((k) => k[0] === s).map(([, r]) => x(s, r!))), cap[s]!),
      `supply_${s}`,
      "supply",
    );
  }
  const needL = dict(d, "light_coffee_needed_for_cafe");
  const needD = dict(d, "dark_coffee_needed_for_cafe");
  for (const c of uniq(rcKeys, 1)) {
    const into = rcKeys.filter((k) => k[1] === c);
    am.addRow(
      ge(sum(into.map(([r]) => yl(r!, c))), needL[c]!),
      `light_demand_${c}`,
      "light_demand",
    );
    am.addRow(ge(sum(into.map(([r]) => yd(r!, c))), needD[c]!), `dark_demand_${c}`, "dark_demand");
  }
  return am;
}

export const coffee: App = {
  name: "coffee",
  title:
    "coffee supply chain: suppliers ship beans to roasteries, which roast light and dark coffee for cafes",
  data,
  build,
  schema: {
    suppliers: { doc: "supplier names", type: "set", readonly: true },
    roasteries: { doc: "roastery names", type: "set", readonly: true },
    cafes: { doc: "cafe names", type: "set", readonly: true },
    capacity_in_supplier: {
      doc: "beans each supplier can ship",
      type: "dict",
      keys: ["suppliers"],
    },
    shipping_cost_from_supplier_to_roastery: {
      doc: "cost per unit of beans shipped from a supplier to a roastery (one variable x per key)",
      type: "dict",
      keys: ["suppliers", "roasteries"],
    },
    roasting_cost_light: {
      doc: "cost per unit of light roast at each roastery",
      type: "dict",
      keys: ["roasteries"],
    },
    roasting_cost_dark: {
      doc: "cost per unit of dark roast at each roastery",
      type: "dict",
      keys: ["roasteries"],
    },
    shipping_cost_from_roastery_to_cafe: {
      doc: "cost per unit of coffee shipped from a roastery to a cafe (variables y_light, y_dark per key)",
      type: "dict",
      keys: ["roasteries", "cafes"],
    },
    light_coffee_needed_for_cafe: {
      doc: "light coffee each cafe needs",
      type: "dict",
      keys: ["cafes"],
    },
    dark_coffee_needed_for_cafe: {
      doc: "dark coffee each cafe needs",
      type: "dict",
      keys: ["cafes"],
    },
  },
  editPoints: {
    data: "after the data dicts and the three sets, before the variables are created",
    constraint: "after the first solve; the model is then solved again",
  },
  variableFamilies: {
    "x[s,r]": "integer >= 0: beans shipped from supplier s to roastery r",
    "y_light[r,c]": "integer >= 0: light coffee roasted at r and sent to cafe c",
    "y_dark[r,c]": "integer >= 0: dark coffee roasted at r and sent to cafe c",
  },
  constraintFamilies: {
    "flow_<roastery>": "beans received by r == light + dark coffee r sends out",
    "supply_<supplier>": "beans shipped by s <= capacity_in_supplier[s]",
    "light_demand_<cafe>": "light coffee received by c >= light_coffee_needed_for_cafe[c]",
    "dark_demand_<cafe>": "dark coffee received by c >= dark_coffee_needed_for_cafe[c]",
  },
  baseline: 2470,
};
