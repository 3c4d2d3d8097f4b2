/** workforce1: Gurobi's shift assignment example, with OptiGuide's halved shift requirements. */
import { eq, LinExpr } from "@athanor/opt";
import type { App } from "../app.js";
import { AppModel } from "../app-model.js";
import { type AppData, readAppFile } from "../data.js";
import { dict, strings } from "./util.js";

function data(): AppData {
  const f = readAppFile("workforce1") as {
    sets: Record<string, string[]>;
    parameters: Record<string, unknown>;
  };
  const p = f.parameters;
  return {
    shifts: f.sets.shifts!,
    workers: f.sets.workers!,
    shiftRequirements: p.shiftRequirements as Record<string, number>,
    pay: p.pay as Record<string, number>,
    availability: p.availability as string[][],
  };
}

function build(d: AppData): AppModel {
  const am = new AppModel("workforce1");
  // After the data edit point: availability = tuplelist(list(set(availability))).
  const seen = new Set<string>();
  const avail: [string, string][] = [];
  for (const [w, s] of d.availability as [string, string][]) {
    const k = `${w},${s}`;
    if (!seen.has(k)) {
      seen.add(k);
      avail.push([w, s]);
    }
  }
  const x = am.addFamily("x", avail, { ub: 1 });
  const pay = dict(d, "pay");
  const obj = new LinExpr();
  for (const [w, s] of avail) obj.addTerm(x(w, s), pay[w]!);
  am.model.minimize(obj);
  const req = dict(d, "shiftRequirements");
  for (const s of strings(d, "shifts")) {
    const e = new LinExpr();
    for (const [w, t] of avail) if (t === s) e.addTerm(x(w, t));
    am.addRow(eq(e, req[s]!), s, "shift");
  }
  return am;
}

export const workforce1: App = {
  name: "workforce1",
  title: "workforce: assign 7 workers to 14 shifts, each shift staffed exactly, at least pay",
  data,
  build,
  schema: {
    shifts: { doc: "shift names Mon1 .. Sun14", type: "set", readonly: true },
    workers: { doc: "worker names", type: "set", readonly: true },
    shiftRequirements: {
      doc: "workers needed per shift (already halved by OptiGuide's patch)",
      type: "dict",
      keys: ["shifts"],
    },
    pay: { doc: "pay per shift of each worker", type: "dict", keys: ["workers"] },
    availability: {
      doc: "[worker, shift] pairs the worker can work; one variable x per pair",
      type: "tuples",
      keys: ["workers", "shifts"],
    },
  },
  editPoints: {
    data: "after the requirements are halved, before availability is de-duplicated and the model built",
    constraint: "after the first solve; the model is then solved again",
  },
  variableFamilies: {
    "x[w,s]": "continuous in [0, 1]: worker w works shift s (one per available pair)",
  },
  constraintFamilies: {
    "<shift>": "sum_w x[w,s] == shiftRequirements[s] (rows named by the shift, e.g. Mon1)",
  },
  baseline: 220,
};
