/**
 * tsp: Gurobi's symmetric travelling salesman example on 10 seeded random points. The source adds
 * subtour elimination rows lazily from a callback; we solve, cut every subtour of the incumbent,
 * and solve again until one tour remains (see ../solve.ts), which gives the same optimum.
 */
import { eq, LinExpr } from "@athanor/opt";
import type { App } from "../app.js";
import { AppModel } from "../app-model.js";
import { type AppData, readAppFile, tupleDict } from "../data.js";
import { splitKey } from "../keys.js";
import { dict } from "./util.js";

function data(): AppData {
  const f = readAppFile("tsp") as { n: number; points: number[][]; dist: unknown };
  return { n: f.n, points: f.points, dist: tupleDict(f.dist) };
}

function build(d: AppData): AppModel {
  const am = new AppModel("tsp");
  const dist = dict(d, "dist");
  const n = d.n as number;
  const keys = Object.keys(dist).map(splitKey) as number[][];
  const v = am.addFamily("vars", keys, { type: "binary" });
  const obj = new LinExpr();
  for (const [i, j] of keys) obj.addTerm(v(i!, j!), dist[`${i},${j}`]!);
  am.model.minimize(obj);
  // for i, j in vars.keys(): vars[j, i] = vars[i, j]
  for (const [i, j] of keys) am.alias(`vars[${j},${i}]`, `vars[${i},${j}]`);
  // Degree 2 at each point (unnamed in the source: Gurobi shows R0..R9).
  for (let i = 0; i < n; i++) {
    const e = new LinExpr();
    for (const [a, b] of keys) if (a === i || b === i) e.addTerm(v(a!, b!));
    am.addRow(eq(e, 2), `R${i}`, "degree");
  }
  return am;
}

export const tsp: App = {
  name: "tsp",
  title: "travelling salesman over 10 seeded random points (symmetric distances)",
  data,
  build,
  exactTsp: true,
  schema: {
    n: { doc: "number of points (10)", type: "number", readonly: true },
    points: {
      doc: "coordinates [x, y] of each point (distances are already computed from them)",
      type: "list",
      readonly: true,
    },
    dist: {
      doc: "dist['i,j'] for j < i: Euclidean distance; one edge variable per key",
      type: "dict",
      keys: ["points", "points"],
    },
  },
  editPoints: {
    data: "after points and dist, before the model is built",
    constraint: "after the first solve (with subtour elimination); the model is then solved again",
  },
  variableFamilies: {
    "vars[i,j]": "binary: the tour uses edge (i, j); vars[j,i] names the same edge",
  },
  constraintFamilies: {
    "R<i>": "degree 2 at point i (unnamed in the source; Gurobi's default names)",
    subtour: "sum of edges inside a subtour S <= |S| - 1, added until one tour remains",
  },
  baseline: 302.7546403604326,
  planFamilies: ["vars"],
};
