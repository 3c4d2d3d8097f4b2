/**
 * Vector bin packing: items with a size in each of d dimensions, bins of capacity 1 in every
 * dimension. First-fit (FF) and first-fit-decreasing variants (FFD by the sum, product, max
 * or L2 norm of the sizes, as in the VBP literature and MetaOpt), and the optimum by MILP.
 */
import { LinExpr, Model, type Solver, sum } from "@athanor/opt";

export type Item = readonly number[];

export type FfdVariant = "ff" | "ffd-sum" | "ffd-prod" | "ffd-max" | "ffd-l2";
export const FFD_VARIANTS: FfdVariant[] = ["ff", "ffd-sum", "ffd-prod", "ffd-max", "ffd-l2"];

const EPS = 1e-9;

function checkItems(items: readonly Item[]): number {
  if (items.length === 0) return 0;
  const d = items[0]!.length;
  items.forEach((it, i) => {
    if (it.length !== d) throw new Error(`item ${i} has ${it.length} dimensions, item 0 has ${d}`);
    it.forEach((s, j) => {
      if (!(s >= 0 && s <= 1))
        throw new Error(`item ${i} has size ${s} in dimension ${j}; sizes must be in [0, 1]`);
    });
  });
  return d;
}

const weight: Record<Exclude<FfdVariant, "ff">, (it: Item) => number> = {
  "ffd-sum": (it) => it.reduce((s, x) => s + x, 0),
  "ffd-prod": (it) => it.reduce((s, x) => s * x, 1),
  "ffd-max": (it) => Math.max(...it),
  "ffd-l2": (it) => Math.hypot(...it),
};

/** The order a variant packs items in (stable: ties keep the input order). */
export function packingOrder(items: readonly Item[], variant: FfdVariant): number[] {
  const idx = items.map((_, i) => i);
  if (variant === "ff") return idx;
  const w = weight[variant];
  return idx.sort((a, b) => w(items[b]!) - w(items[a]!) || a - b);
}

/** Packs items first-fit in the variant's order; returns the bin of each item. */
export function firstFit(
  items: readonly Item[],
  variant: FfdVariant = "ff",
): { bins: number; assignment: number[] } {
  const d = checkItems(items);
  const loads: number[][] = [];
  const assignment = new Array<number>(items.length).fill(-1);
  for (const i of packingOrder(items, variant)) {
    const it = items[i]!;
    let b = loads.findIndex((load) => load.every((l, j) => l + it[j]! <= 1 + EPS));
    if (b < 0) {
      b = loads.length;
      loads.push(new Array<number>(d).fill(0));
    }
    for (let j = 0; j < d; j++) loads[b]![j]! += it[j]!;
    assignment[i] = b;
  }
  return { bins: loads.length, assignment };
}

/** The minimum number of bins (MILP with symmetry breaking), and an optimal assignment. */
export async function optimalPacking(
  items: readonly Item[],
  solver: Solver,
  opts: { timeLimit?: number } = {},
): Promise<{ bins: number; assignment: number[]; proven: boolean }> {
  const d = checkItems(items);
  if (items.length === 0) return { bins: 0, assignment: [], proven: true };
  const upper = firstFit(items, "ffd-sum");
  const B = upper.bins;
  const m = new Model("vbp");
  const y = Array.from({ length: B }, (_, b) => m.addVar(`y[${b}]`, { type: "binary" }));
  const x = items.map((_, i) => y.map((__, b) => m.addVar(`x[${i},${b}]`, { type: "binary" })));
  for (const [i, xi] of x.entries()) {
    m.addConstraint(sum(xi), "==", 1, { name: `assign[${i}]`, family: "assign" });
  }
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < d; j++) {
      const load = new LinExpr();
      items.forEach((it, i) => {
        if (it[j]! > 0) load.addTerm(x[i]![b]!, it[j]!);
      });
      m.addConstraint(load.sub(y[b]!), "<=", 0, { name: `cap[${b},${j}]`, family: "capacity" });
    }
    if (b > 0) m.addConstraint(y[b]!.minus(y[b - 1]!), "<=", 0, { family: "symmetry" });
    // Item i can only use bins 0..i (symmetry breaking by item order).
  }
  items.forEach((_, i) => {
    for (let b = i + 1; b < B; b++) m.setUpperBound(x[i]![b]!, 0);
  });
  m.minimize(sum(y));
  const sol = await solver.solve(m, { timeLimit: opts.timeLimit ?? 30, conflict: false });
  if (sol.objective === undefined) {
    return { bins: B, assignment: upper.assignment, proven: false };
  }
  const assignment = items.map((_, i) => y.findIndex((__, b) => sol.value(x[i]![b]!) > 0.5));
  return { bins: Math.round(sol.objective), assignment, proven: sol.status === "optimal" };
}
