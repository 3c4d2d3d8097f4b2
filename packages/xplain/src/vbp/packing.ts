/**
 * Vector bin packing: items with a size in each of d dimensions, bins of capacity 1 in every
 * dimension. First-fit (FF) and first-fit-decreasing variants (FFD by the sum, product, max
 * or L2 norm of the sizes, as in the VBP literature and MetaOpt), and the optimum by MILP.
 */
import { LinExpr, Model, type Solver, sum } from "@athanor/opt";

export type Item = readonly number[];

export type FfdVariant = "ff" | "ffd-sum" | "ffd-prod" | "ffd-max" | "ffd-l2";
export const FFD_VARIANTS: FfdVariant[] = ["ff", "ffd-sum", "ffd-prod", "ffd-max", "ffd-l2"];

/** Loads within `1 + EPS` fit: sizes written as decimals (0.55 + 0.45) must not overflow. */
export const CAPACITY_EPS = 1e-9;

/**
 * Checks items and returns their dimension (0 for no items). Sizes must be finite and in
 * [0, 1]; every item must have the same number of dimensions (at least one).
 */
export function validateItems(items: readonly Item[]): number {
  if (items.length === 0) return 0;
  items.forEach((it, i) => {
    if (!Array.isArray(it)) throw new Error(`item ${i} is not an array of sizes`);
  });
  const d = items[0]!.length;
  if (d === 0) throw new Error("item 0 has no dimensions; give at least one size per item");
  items.forEach((it, i) => {
    if (it.length !== d) throw new Error(`item ${i} has ${it.length} dimensions, item 0 has ${d}`);
    it.forEach((s, j) => {
      if (!(typeof s === "number" && s >= 0 && s <= 1))
        throw new Error(`item ${i} has size ${s} in dimension ${j}; sizes must be in [0, 1]`);
    });
  });
  return d;
}

export function isFfdVariant(v: string): v is FfdVariant {
  return (FFD_VARIANTS as string[]).includes(v);
}

const weight: Record<Exclude<FfdVariant, "ff">, (it: Item) => number> = {
  "ffd-sum": (it) => it.reduce((s, x) => s + x, 0),
  "ffd-prod": (it) => it.reduce((s, x) => s * x, 1),
  "ffd-max": (it) => Math.max(...it),
  "ffd-l2": (it) => Math.hypot(...it),
};

/** The order a variant packs items in (stable: ties, to 1e-9, keep the input order). */
export function packingOrder(items: readonly Item[], variant: FfdVariant): number[] {
  if (!isFfdVariant(variant))
    throw new Error(`unknown variant "${variant}": use one of ${FFD_VARIANTS.join(", ")}`);
  const idx = items.map((_, i) => i);
  if (variant === "ff") return idx;
  const w = weight[variant];
  // Rounded so that ties in exact arithmetic stay ties: 0.3 + 0.35 and 0.45 + 0.2 differ in
  // floating point, and the input order, not rounding noise, must decide between them.
  const ws = items.map((it) => Math.round(w(it) * 1e9) / 1e9);
  return idx.sort((a, b) => ws[b]! - ws[a]! || a - b);
}

export interface Packing {
  /** Number of bins used. */
  bins: number;
  /** `assignment[i]`: the bin of item i (bins numbered in opening order from 0). */
  assignment: number[];
  /** `loads[b][j]`: total size in dimension j of bin b. */
  loads: number[][];
  /** The order items were packed in. */
  order: number[];
}

const fits = (load: readonly number[], it: Item) =>
  load.every((l, j) => l + it[j]! <= 1 + CAPACITY_EPS);

/** First-fit in a given order: each item goes to the first open bin it fits in. */
export function firstFitInOrder(items: readonly Item[], order: readonly number[]): Packing {
  const d = validateItems(items);
  if (order.length !== items.length || new Set(order).size !== items.length)
    throw new Error(`order must be a permutation of 0..${items.length - 1}`);
  const loads: number[][] = [];
  const assignment = new Array<number>(items.length).fill(-1);
  for (const i of order) {
    const it = items[i]!;
    let b = loads.findIndex((load) => fits(load, it));
    if (b < 0) {
      b = loads.length;
      loads.push(new Array<number>(d).fill(0));
    }
    for (let j = 0; j < d; j++) loads[b]![j]! += it[j]!;
    assignment[i] = b;
  }
  return { bins: loads.length, assignment, loads, order: [...order] };
}

/** Packs items first-fit in the variant's order (`ff`: input order). */
export function firstFit(items: readonly Item[], variant: FfdVariant = "ff"): Packing {
  validateItems(items);
  return firstFitInOrder(items, packingOrder(items, variant));
}

/**
 * A lower bound on the optimum: the larger of the total size in any dimension (rounded up)
 * and the number of items larger than 1/2 in any one dimension (no two share a bin).
 */
export function packingLowerBound(items: readonly Item[]): number {
  const d = validateItems(items);
  let lb = items.length > 0 ? 1 : 0;
  for (let j = 0; j < d; j++) {
    const total = items.reduce((s, it) => s + it[j]!, 0);
    lb = Math.max(lb, Math.ceil(total - 1e-7));
    lb = Math.max(lb, items.filter((it) => it[j]! > 0.5 + CAPACITY_EPS).length);
  }
  return lb;
}

export interface OptimalPacking {
  /** Bins of the returned packing: the optimum when `proven`, else the best one found. */
  bins: number;
  assignment: number[];
  /** True when `bins` is proven minimal. */
  proven: boolean;
  /** A proven lower bound on the optimum (equals `bins` when proven). */
  lowerBound: number;
  /**
   * `bound`: the best heuristic packing meets the lower bound (no MILP needed); `optimal`: the
   * MILP proved it; `time_limit`: the solver stopped early, so `bins` is an upper bound only
   * (a partial result).
   */
  status: "bound" | "optimal" | "time_limit";
}

/**
 * The minimum number of bins. The best FF/FFD packing is the starting upper bound; when it
 * meets `packingLowerBound` it is optimal already. Otherwise a MILP (assignment binaries,
 * symmetry broken by bin order and by letting item i use only bins 0..i) is solved with
 * HiGHS within `timeLimit` seconds (default 30); at the limit the result is labelled.
 */
export async function optimalPacking(
  items: readonly Item[],
  solver: Solver,
  opts: { timeLimit?: number; useBound?: boolean } = {},
): Promise<OptimalPacking> {
  const d = validateItems(items);
  if (items.length === 0)
    return { bins: 0, assignment: [], proven: true, lowerBound: 0, status: "bound" };
  const upper = FFD_VARIANTS.map((v) => firstFit(items, v)).reduce((a, b) =>
    b.bins < a.bins ? b : a,
  );
  const lowerBound = packingLowerBound(items);
  if ((opts.useBound ?? true) && upper.bins <= lowerBound) {
    return {
      bins: upper.bins,
      assignment: upper.assignment,
      proven: true,
      lowerBound,
      status: "bound",
    };
  }
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
  }
  // Item i can only use bins 0..i: any packing can be renumbered so (bins in order of their
  // lowest item), so this keeps an optimum and removes symmetric copies.
  items.forEach((_, i) => {
    for (let b = i + 1; b < B; b++) m.setUpperBound(x[i]![b]!, 0);
  });
  m.addConstraint(sum(y), ">=", lowerBound, { name: "lower_bound" });
  m.minimize(sum(y));
  const sol = await solver.solve(m, {
    timeLimit: opts.timeLimit ?? 30,
    mipGap: 0,
    conflict: false,
  });
  const bound = Math.max(lowerBound, Math.ceil((sol.bestBound ?? 0) - 1e-6));
  if (sol.status === "optimal") {
    const assignment = items.map((_, i) => y.findIndex((__, b) => sol.value(x[i]![b]!) > 0.5));
    const bins = Math.round(sol.objective!);
    return { bins, assignment, proven: true, lowerBound: bins, status: "optimal" };
  }
  if (sol.status !== "time_limit" && sol.status !== "limit") {
    throw new Error(`bin-packing MILP ended ${sol.status}${sol.message ? `: ${sol.message}` : ""}`);
  }
  if (sol.hasSolution && sol.objective !== undefined && Math.round(sol.objective) < upper.bins) {
    const assignment = items.map((_, i) => y.findIndex((__, b) => sol.value(x[i]![b]!) > 0.5));
    const bins = Math.round(sol.objective);
    return {
      bins,
      assignment,
      proven: bins <= bound,
      lowerBound: Math.min(bins, bound),
      status: "time_limit",
    };
  }
  return {
    bins: upper.bins,
    assignment: upper.assignment,
    proven: upper.bins <= bound,
    lowerBound: Math.min(upper.bins, bound),
    status: "time_limit",
  };
}

/** Loads of a packing given by an assignment. */
export function binLoads(items: readonly Item[], assignment: readonly number[]): number[][] {
  const d = validateItems(items);
  const bins = assignment.reduce((m, b) => Math.max(m, b + 1), 0);
  const loads = Array.from({ length: bins }, () => new Array<number>(d).fill(0));
  assignment.forEach((b, i) => {
    for (let j = 0; j < d; j++) loads[b]![j]! += items[i]![j]!;
  });
  return loads;
}
