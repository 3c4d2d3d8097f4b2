/**
 * Exact adversarial search for first fit (MetaOpt's encoding of a heuristic's decisions with
 * binaries): one MILP whose optimum is the item-size vector, on a grid, that makes FF (or
 * FFDSum) open the most bins while an optimal packing into `optimalBins` bins still exists.
 *
 * Sizes are integers t[i][j] in grid units (size = t / grid), so loads are integers and
 * "does not fit" is exactly `load + t >= grid + 1`: no epsilon. Variables:
 * - x[i][b]: FF puts item i in bin b (item i can only reach bins 0..i);
 * - w[i][b][j] = x[i][b] * t[i][j], linearized exactly (x binary, t bounded);
 * - o[i][b][j]: item i overflows bin b in dimension j when it arrives; the load then is
 *   L[i][b][j] = sum over k < i of w[k][b][j], and o = 1 forces L + t >= grid + 1;
 * - first fit: if item i goes to bin b, it overflowed every earlier bin in some dimension
 *   (sum_j o[i][b'][j] >= sum over b > b' of x[i][b]); it fits where it goes (final loads
 *   <= grid). An empty bin can never be "overflowed", so items open bins in order, exactly
 *   as FF does. Given the sizes, FF's assignment is the only feasible x.
 * - the benchmark: z[i][c] packs every item into `optimalBins` bins (same linearization).
 * - FFDSum: sizes are constrained to be sorted by their sum (ties keep the index order, as
 *   the stable sort does), so FFDSum packs in index order and the FF encoding applies.
 *   Other FFD weights (max, product, L2) are not linear and are not encoded.
 *
 * Objective: maximize the bins FF opens. The optimum's bins are then at most `optimalBins`
 * (the true optimum of the returned input may be lower; it is computed and reported).
 */
import { LinExpr, Model, type Solver, sum, type Var } from "@athanor/opt";
import { firstFit, type Item, optimalPacking } from "./packing.js";

export interface ExactVbpOptions {
  variant: "ff" | "ffd-sum";
  items: number;
  dims: number;
  /** The benchmark's bins: inputs must be packable into this many. */
  optimalBins: number;
  /** Sizes are multiples of 1/grid (default 10). */
  grid?: number;
  /** Size range per coordinate (defaults 1/grid and 1). */
  minSize?: number;
  maxSize?: number;
  /** Solver wall-clock limit in seconds (default 60): the incumbent is returned, labelled. */
  timeLimit?: number;
}

export interface ExactVbpResult {
  /** `optimal`: no input on the grid makes the heuristic open more bins; `time_limit`: a lower bound. */
  status: "optimal" | "time_limit";
  items: Item[];
  /** Bins the heuristic opens on `items` (checked by simulation). */
  heuristicBins: number;
  /** The true optimum of `items` (at most `optimalBins`) and whether it is proven. */
  optimalBins: number;
  optimalProven: boolean;
  /** MILP bound on the heuristic's bins over all inputs on the grid. */
  bound: number | undefined;
  seconds: number;
  size: { variables: number; constraints: number };
}

export async function worstCaseFirstFit(
  opts: ExactVbpOptions,
  solver: Solver,
): Promise<ExactVbpResult> {
  const { variant, items: n, dims: d, optimalBins: K } = opts;
  const G = opts.grid ?? 10;
  if (variant !== "ff" && variant !== "ffd-sum")
    throw new Error(
      `exact search encodes ff and ffd-sum only (their packing order is linear in the sizes), got "${variant}"`,
    );
  for (const [name, v, min] of [
    ["items", n, 1],
    ["dims", d, 1],
    ["optimalBins", K, 1],
    ["grid", G, 1],
  ] as const) {
    if (!(Number.isInteger(v) && v >= min))
      throw new Error(`${name} must be an integer >= ${min}, got ${v}`);
  }
  const tMin = Math.ceil((opts.minSize ?? 1 / G) * G - 1e-9);
  const tMax = Math.floor((opts.maxSize ?? 1) * G + 1e-9);
  if (!(tMin >= 0 && tMax <= G && tMin <= tMax))
    throw new Error(
      `size range [${opts.minSize ?? 1 / G}, ${opts.maxSize ?? 1}] must lie in [0, 1] and hold a multiple of 1/${G}`,
    );
  if (K > n) throw new Error(`optimalBins = ${K} exceeds the ${n} items`);

  const m = new Model("metaopt-vbp");
  const t = Array.from({ length: n }, (_, i) =>
    Array.from({ length: d }, (_, j) =>
      m.addVar(`t[${i},${j}]`, { type: "integer", lb: tMin, ub: tMax }),
    ),
  );
  /** y = b * s for binary b and integer s in [0, tMax]: exact. */
  const product = (name: string, b: Var, s: Var): Var => {
    const y = m.addVar(name, { lb: 0, ub: tMax });
    m.addConstraint(y.minus(b.times(tMax)), "<=", 0, { family: "lin" });
    m.addConstraint(y.minus(s), "<=", 0, { family: "lin" });
    m.addConstraint(y.minus(s).add(b.times(-tMax)), ">=", -tMax, { family: "lin" });
    return y;
  };

  // The heuristic: first fit in index order.
  const x = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, b) =>
      m.addVar(`x[${i},${b}]`, { type: "binary", ub: b <= i ? 1 : 0 }),
    ),
  );
  const w = x.map((xi, i) =>
    xi.map((xib, b) =>
      t[i]!.map((tij, j) => (b <= i ? product(`w[${i},${b},${j}]`, xib, tij) : undefined)),
    ),
  );
  for (let i = 0; i < n; i++) m.addConstraint(sum(x[i]!), "==", 1, { name: `ff.assign[${i}]` });
  for (let b = 0; b < n; b++)
    for (let j = 0; j < d; j++) {
      const load = sum(w.flatMap((wi) => (wi[b]![j] ? [wi[b]![j]!] : [])));
      m.addConstraint(load, "<=", G, { name: `ff.cap[${b},${j}]`, family: "ff.cap" });
    }
  for (let i = 1; i < n; i++) {
    for (let bp = 0; bp < i; bp++) {
      // Load of bin bp when item i arrives.
      const os = Array.from({ length: d }, (_, j) => {
        const o = m.addVar(`o[${i},${bp},${j}]`, { type: "binary" });
        const load = new LinExpr();
        for (let k = bp; k < i; k++) {
          const wk = w[k]![bp]![j];
          if (wk) load.addTerm(wk);
        }
        // o = 1  =>  load + t >= G + 1.
        m.addConstraint(load.add(t[i]![j]!).add(o.times(-(G + 1))), ">=", 0, {
          family: "ff.overflow",
        });
        return o;
      });
      // Going to a later bin requires overflowing bin bp in some dimension.
      const later = sum(x[i]!.slice(bp + 1));
      m.addConstraint(sum(os).sub(later), ">=", 0, {
        name: `ff.first[${i},${bp}]`,
        family: "ff.first",
      });
    }
  }
  const used = Array.from({ length: n }, (_, b) => m.addVar(`u[${b}]`, { type: "binary" }));
  for (const [b, u] of used.entries()) {
    m.addConstraint(u.minus(sum(x.map((xi) => xi[b]!))), "<=", 0, { family: "ff.used" });
  }

  if (variant === "ffd-sum")
    for (let i = 0; i + 1 < n; i++)
      m.addConstraint(sum(t[i]!).sub(sum(t[i + 1]!)), ">=", 0, { name: `ffd.sorted[${i}]` });

  // The benchmark: a packing into K bins exists.
  const z = Array.from({ length: n }, (_, i) =>
    Array.from({ length: K }, (_, c) =>
      m.addVar(`z[${i},${c}]`, { type: "binary", ub: c <= i ? 1 : 0 }),
    ),
  );
  for (let i = 0; i < n; i++) m.addConstraint(sum(z[i]!), "==", 1, { name: `opt.assign[${i}]` });
  for (let c = 0; c < K; c++)
    for (let j = 0; j < d; j++) {
      const load = sum(
        z.flatMap((zi, i) => (c <= i ? [product(`v[${i},${c},${j}]`, zi[c]!, t[i]![j]!)] : [])),
      );
      m.addConstraint(load, "<=", G, { name: `opt.cap[${c},${j}]`, family: "opt.cap" });
    }

  m.maximize(sum(used));
  const sol = await solver.solve(m, {
    timeLimit: opts.timeLimit ?? 60,
    mipGap: 0,
    conflict: false,
  });
  if (sol.status !== "optimal" && !(sol.status === "time_limit" && sol.hasSolution)) {
    throw new Error(
      sol.status === "infeasible"
        ? `no input with ${n} items of sizes in [${tMin}/${G}, ${tMax}/${G}] packs into ${K} bins`
        : `VBP adversarial MILP ended ${sol.status}${sol.message ? `: ${sol.message}` : ""}`,
    );
  }
  const items: Item[] = t.map((ti) => ti.map((v) => Math.round(sol.value(v)) / G));
  const heuristicBins = firstFit(items, variant).bins;
  const milpBins = Math.round(sol.objective!);
  if (heuristicBins !== milpBins)
    throw new Error(
      `internal error: the MILP counts ${milpBins} ${variant} bins but simulation gives ${heuristicBins} on ${JSON.stringify(items)}`,
    );
  const opt = await optimalPacking(items, solver, { timeLimit: opts.timeLimit ?? 60 });
  return {
    status: sol.status === "optimal" ? "optimal" : "time_limit",
    items,
    heuristicBins,
    optimalBins: opt.bins,
    optimalProven: opt.proven,
    bound: sol.bestBound,
    seconds: sol.seconds,
    size: { variables: m.numVars, constraints: m.numConstraints },
  };
}
