import { between, eq, ge, LinExpr, le, Model, sum, term } from "@athanor/opt";
import { describe, expect, it } from "vitest";

function coffee() {
  const m = new Model("coffee");
  const pairs = [
    ["supplier1", "roastery1"],
    ["supplier1", "roastery2"],
    ["supplier2", "roastery2"],
  ] as const;
  const x = m.addVars("x", pairs, { type: "integer" });
  const supply = m.addConstraints(
    "supply",
    ["supplier1", "supplier2"],
    ([s]) => le(x.sum(s!, "*"), 100),
    { name: ([s]) => `supply_${s}` },
  );
  m.minimize(
    sum([
      x.get("supplier1", "roastery1").times(5),
      x.get("supplier1", "roastery2").times(4),
      x.get("supplier2", "roastery2").times(6),
    ]),
  );
  return { m, x, supply };
}

describe("expressions", () => {
  it("builds in place without copying and merges repeated variables on use", () => {
    const m = new Model();
    const a = m.addVar("a");
    const b = m.addVar("b");
    const e = new LinExpr().addTerm(a, 2).add(b).add(a, 3).add(5).sub(b);
    expect(e.size).toBe(4);
    const merged = e.merged();
    expect(merged.vars.map((v) => v.name)).toEqual(["a"]);
    expect(merged.coefs).toEqual([5]);
    expect(merged.constant).toBe(5);
    expect(e.toString()).toBe("5 a + 5");
    expect(a.plus(b).times(2).minus(3).toString()).toBe("2 a + 2 b - 3");
    expect(term(-1, a).toString()).toBe("-a");
    expect(e.evaluate((v) => (v === a ? 1 : 10))).toBe(10);
  });

  it("rejects non-finite coefficients", () => {
    const m = new Model();
    const a = m.addVar("a");
    expect(() => a.times(Number.NaN)).toThrow(/finite/);
    expect(() => new LinExpr().add(Number.POSITIVE_INFINITY)).toThrow(/finite/);
  });
});

describe("Model", () => {
  it("names family members x[k1,k2] and finds them by key, pattern and name", () => {
    const { m, x } = coffee();
    expect(x.size).toBe(3);
    expect(x.get("supplier1", "roastery2").name).toBe("x[supplier1,roastery2]");
    expect(m.variable("x[supplier2,roastery2]")).toBe(x.get("supplier2", "roastery2"));
    expect(x.select("*", "roastery2").map((v) => v.name)).toEqual([
      "x[supplier1,roastery2]",
      "x[supplier2,roastery2]",
    ]);
    expect(x.has("supplier9", "roastery1")).toBe(false);
    expect(() => x.get("supplier9", "roastery1")).toThrow(/has no member x\[supplier9,roastery1\]/);
    expect(m.varType(x.get("supplier1", "roastery1"))).toBe("integer");
    expect(m.family("x")).toBe(x);
  });

  it("keeps constraint families with members, names and senses", () => {
    const { m } = coffee();
    expect(m.constraintsIn("supply").map((c) => c.name)).toEqual([
      "supply_supplier1",
      "supply_supplier2",
    ]);
    const c = m.constraint("supply_supplier1");
    expect(c.family).toBe("supply");
    expect(c.key).toEqual(["supplier1"]);
    expect(c.sense).toBe("<=");
    expect(c.rhs).toBe(100);
    expect(c.toString()).toBe(
      "supply_supplier1: x[supplier1,roastery1] + x[supplier1,roastery2] <= 100",
    );
    expect(m.constraintFamilies()).toEqual(["supply"]);
  });

  it("moves constants to the bounds and supports every sense", () => {
    const m = new Model();
    const a = m.addVar("a");
    const b = m.addVar("b", { lb: -5, ub: 5 });
    expect(m.addConstraint(a.plus(3), ">=", b.plus(1)).lower).toBe(-2);
    const r = m.add(between(1, a.plus(b).plus(1), 4), "r");
    expect([r.lower, r.upper, r.sense]).toEqual([0, 3, "range"]);
    expect(m.add(eq(a, 2)).sense).toBe("==");
    expect(m.add(ge(a, 1)).sense).toBe(">=");
    expect(m.numConstraints).toBe(4);
    expect(m.constraints()[0]!.name).toBe("c0");
  });

  it("refuses duplicate names, foreign variables and unknown names with clear errors", () => {
    const m = new Model("a");
    const other = new Model("b");
    const y = other.addVar("y");
    const x = m.addVar("x");
    expect(() => m.addVar("x")).toThrow(/duplicate variable name x/);
    m.addConstraint(x, "<=", 1, "cap");
    expect(() => m.addConstraint(x, "<=", 2, "cap")).toThrow(/duplicate constraint name cap/);
    expect(() => m.addConstraint(y, "<=", 1)).toThrow(/variable y does not belong to model a/);
    expect(() => m.setRhs("nope", 1)).toThrow(/model a has no constraint nope/);
    expect(() => m.variable("zz")).toThrow(/no variable zz/);
    expect(() => m.addVar("has space")).toThrow(/whitespace/);
    expect(() => m.addVar("inf", { lb: Number.POSITIVE_INFINITY })).toThrow(/leave no value/);
    expect(() => m.addConstraint(x, "<" as "<=", 1)).toThrow(/unknown constraint sense/);
  });

  it("clones independently and patches by name", () => {
    const { m, x } = coffee();
    const w = m.clone("what-if");
    w.setRhs("supply_supplier1", 50);
    w.setCoefficient("supply_supplier1", "x[supplier1,roastery2]", 2);
    w.setBounds(x.get("supplier2", "roastery2"), 0, 10);
    w.setObjectiveCoefficient("x[supplier1,roastery1]", 7);
    w.removeConstraint("supply_supplier2");
    const extra = w.addVar("extra");
    w.addConstraint(extra.plus(x.get("supplier1", "roastery1")), ">=", 3, "new_row");

    // The original is untouched.
    expect(m.constraint("supply_supplier1").rhs).toBe(100);
    expect(m.constraint("supply_supplier1").coefficient(x.get("supplier1", "roastery2"))).toBe(1);
    expect(m.upperBound(x.get("supplier2", "roastery2"))).toBe(Number.POSITIVE_INFINITY);
    expect(m.objectiveCoefficient("x[supplier1,roastery1]")).toBe(5);
    expect(m.numConstraints).toBe(2);
    expect(m.numVars).toBe(3);
    expect(() => m.addConstraint(extra, "<=", 1)).toThrow(/does not belong/);

    // The clone has the patches.
    expect(w.constraint("supply_supplier1").rhs).toBe(50);
    expect(w.constraint("supply_supplier1").coefficient(x.get("supplier1", "roastery2"))).toBe(2);
    expect(w.upperBound("x[supplier2,roastery2]")).toBe(10);
    expect(w.objectiveCoefficient(x.get("supplier1", "roastery1"))).toBe(7);
    expect(w.constraints().map((c) => c.name)).toEqual(["supply_supplier1", "new_row"]);
    expect(w.findConstraint("supply_supplier2")).toBeUndefined();
    // A removed row's handle is refused.
    const gone = m.constraint("supply_supplier2");
    expect(() => w.setRhs(gone, 1)).toThrow(/not in model/);
  });

  it("compiles to CSR with merged coefficients", () => {
    const m = new Model();
    const a = m.addVar("a", { type: "binary" });
    const b = m.addVar("b", { lb: -1 });
    m.addConstraint(new LinExpr().add(a).add(b, 2).add(a, 3), "<=", 4, "r0");
    m.addConstraint(b, ">=", 0, "r1");
    m.maximize(a.plus(b).plus(7));
    const d = m.compile();
    expect(Array.from(d.starts)).toEqual([0, 2, 3]);
    expect(Array.from(d.indices)).toEqual([0, 1, 1]);
    expect(Array.from(d.values)).toEqual([4, 2, 1]);
    expect(Array.from(d.rowUpper)).toEqual([4, Number.POSITIVE_INFINITY]);
    expect(Array.from(d.integrality!)).toEqual([1, 0]);
    expect([d.sense, d.offset]).toEqual(["max", 7]);
    expect(Array.from(d.colUpper)).toEqual([1, Number.POSITIVE_INFINITY]);
  });

  it("builds tens of thousands of rows programmatically", () => {
    const m = new Model("big");
    const n = 200;
    const keys: [number, number][] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) keys.push([i, j]);
    const x = m.addVars("x", keys);
    const rows = m.addConstraints(
      "row",
      Array.from({ length: n }, (_, i) => i),
      ([i]) => le(sum(Array.from({ length: n }, (_, j) => x.get(i!, j))), 1),
    );
    // 40,000 one-term rows as well (big-M style bounds).
    for (const [k, v] of x.entries()) m.addConstraint(v, "<=", 1, `ub[${k.join(",")}]`);
    expect(rows).toHaveLength(n);
    expect(m.numConstraints).toBe(n + n * n);
    expect(m.numNonzeros).toBe(2 * n * n);
    const c = m.clone();
    expect(c.numConstraints).toBe(m.numConstraints);
  });
});
