import { LinExpr, Model, sum } from "@athanor/opt";

/**
 * Hillier & Lieberman's Wyndor Glass LP: max 3 x1 + 5 x2 s.t. x1 <= 4, 2 x2 <= 12,
 * 3 x1 + 2 x2 <= 18. Optimum 36 at (2, 6); shadow prices 0, 1.5, 1.
 */
export function wyndor(): Model {
  const m = new Model("wyndor");
  const x1 = m.addVar("x1");
  const x2 = m.addVar("x2");
  m.addConstraint(x1, "<=", 4, { name: "plant1", family: "plant" });
  m.addConstraint(x2.times(2), "<=", 12, { name: "plant2", family: "plant" });
  m.addConstraint(x1.times(3).plus(x2.times(2)), "<=", 18, { name: "plant3", family: "plant" });
  m.maximize(sum([x1.times(3), x2.times(5)]));
  return m;
}

/** The classic 0/1 knapsack (values 60/100/120, weights 10/20/30, capacity 50): optimum 220, taking b and c. */
export function knapsack(): Model {
  const values = [60, 100, 120];
  const weights = [10, 20, 30];
  const m = new Model("knapsack");
  const x = m.addVars("take", ["a", "b", "c"], { type: "binary" });
  m.addConstraint(sum(x.vars().map((v, i) => v.times(weights[i]!))), "<=", 50, "capacity");
  m.maximize(sum(x.vars().map((v, i) => v.times(values[i]!))));
  return m;
}

/**
 * A market-split MIP (Cornuejols & Dawande) with slack variables: an incumbent is found at
 * once, but proving optimality takes HiGHS far longer than a second, so it exercises time
 * limits and cancellation.
 */
export function marketSplit(rows = 4, cols = 30, seed = 7): Model {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const m = new Model("market-split");
  const x = m.addVars(
    "x",
    Array.from({ length: cols }, (_, j) => j),
    { type: "binary" },
  );
  const obj = new LinExpr();
  for (let i = 0; i < rows; i++) {
    const e = new LinExpr();
    let total = 0;
    for (let j = 0; j < cols; j++) {
      const a = Math.floor(rnd() * 100);
      total += a;
      e.addTerm(x.get(j), a);
    }
    const sp = m.addVar(`over[${i}]`);
    const sm = m.addVar(`under[${i}]`);
    e.addTerm(sp, 1).addTerm(sm, -1);
    m.addConstraint(e, "==", Math.floor(total / 2), `split[${i}]`);
    obj.addTerm(sp).addTerm(sm);
  }
  m.minimize(obj);
  return m;
}
