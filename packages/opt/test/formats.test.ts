import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CompiledModel,
  InProcessSolver,
  LinExpr,
  Model,
  ModelFormatError,
  readLp,
  readModelFile,
  readMps,
  sum,
  writeLp,
  writeModelFile,
  writeMps,
} from "@athanor/opt";
import highsModule, { type Highs } from "highs";
import { afterAll, describe, expect, it } from "vitest";
import { knapsack, wyndor } from "./fixtures.js";

/** highs-js is CommonJS: its default export is the loader function. */
const highsLoader = highsModule as unknown as () => Promise<Highs>;

/** A model with every feature the formats carry. */
function rich(): Model {
  const m = new Model("rich");
  const x = m.addVars("x", [
    ["s1", "r1"],
    ["s1", "r2"],
  ]);
  const free = m.addVar("free", { lb: -Infinity });
  const neg = m.addVar("neg", { lb: -3.5, ub: 2.25 });
  const fixed = m.addVar("fixed", { lb: 4, ub: 4 });
  const n = m.addVar("n", { type: "integer", ub: 10 });
  const nInf = m.addVar("nInf", { type: "integer" });
  const b = m.addVar("b", { type: "binary" });
  const upOnly = m.addVar("upOnly", { lb: -Infinity, ub: 7 });
  m.addConstraint(x.sum("s1", "*").plus(free), "<=", 10, { name: "supply[s1]", family: "supply" });
  m.addRange(-2, new LinExpr().add(neg).add(n, 3).add(b, -1e-7), 8.5, "ranged");
  m.addConstraint(fixed.plus(nInf).plus(upOnly), "==", 1 / 3, "eq");
  m.addConstraint(free.minus(neg), ">=", -1e6, "ge");
  m.addConstraint(b.plus(free), ">=", -Infinity, "free_row");
  m.maximize(
    sum([x.get("s1", "r1").times(2), x.get("s1", "r2").times(-0.1), n, b.times(5), upOnly]).plus(
      12.5,
    ),
  );
  return m;
}

function same(a: CompiledModel, b: CompiledModel): void {
  expect(b.sense).toBe(a.sense);
  expect(b.offset).toBe(a.offset);
  expect(b.colNames).toEqual(a.colNames);
  expect(b.rowNames).toEqual(a.rowNames);
  for (const k of ["colCost", "colLower", "colUpper", "rowLower", "rowUpper", "starts"] as const) {
    expect(Array.from(b[k]), k).toEqual(Array.from(a[k]));
  }
  // Same rows; MPS is column-wise, so entries within a row may come back in another order.
  const rows = (d: CompiledModel) =>
    d.rowNames.map((_, i) => {
      const e: [number, number][] = [];
      for (let p = d.starts[i]!; p < d.starts[i + 1]!; p++) e.push([d.indices[p]!, d.values[p]!]);
      return e.sort((x, y) => x[0] - y[0]);
    });
  expect(rows(b)).toEqual(rows(a));
  expect(Array.from(b.integrality ?? [])).toEqual(Array.from(a.integrality ?? []));
}

const solver = new InProcessSolver();
let dir: string | undefined;
afterAll(async () => {
  await solver.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("LP format", () => {
  it("round-trips every feature exactly", () => {
    const m = rich();
    const text = writeLp(m);
    const back = readLp(text);
    same(m.compile(), back.compile());
    // Identical text but for the header comment (LP files do not carry the model's name).
    expect(writeLp(back).split("\n").slice(1)).toEqual(text.split("\n").slice(1));
  });

  it("reads what HiGHS writes (ranges split into lo/up rows, empty semi section)", async () => {
    const h = await highsLoader();
    const m = rich();
    m.removeConstraint("free_row");
    const hm = h.createModel({ format: "mps", data: writeMps(m) });
    const lp = hm.exportModel("lp");
    hm.dispose();
    const back = readLp(lp, "highs.lp");
    const [a, b] = await Promise.all([solver.solve(m), solver.solve(back)]);
    expect(b.status).toBe("optimal");
    expect(b.objective).toBeCloseTo(a.objective!, 9);
  });

  it("writes names HiGHS's LP reader accepts with safeNames", async () => {
    const h = await highsLoader();
    const m = knapsack();
    const lp = writeLp(m, { safeNames: true });
    expect(lp).toContain("take(a)");
    const hm = h.createModel({ format: "lp", data: lp });
    hm.options.set({ output_flag: false });
    hm.run();
    expect(hm.getObjectiveValue()).toBe(220);
    hm.dispose();
  });

  it("parses comments, multi-line rows, keywords in any case and implicit names", () => {
    const m = readLp(
      [
        "\\ a comment",
        "MAXIMIZE",
        "  profit: 3 x1 + 5 x2  \\ trailing comment",
        "Subject To",
        "  x1 <= 4",
        "  2 x2",
        "    <= 12",
        "  c3: 3 x1 + 2 x2 =< 18",
        "Bounds",
        "  0 <= x1 <= 1e+2",
        "End",
      ].join("\n"),
    );
    expect(m.constraints().map((c) => c.name)).toEqual(["R1", "R2", "c3"]);
    expect(m.upperBound("x1")).toBe(100);
    expect(m.objectiveSense).toBe("max");
  });

  it.each([
    ["min\n obj: x\nst\n c1: x + y >=\nend\n", 4, /expected a right-hand side number, got "end"/],
    ["min\n obj: x\nst\n c1: x + y 3\nend\n", 4, /needs <=, >= or = and a right-hand side/],
    ["obj: x\nst\nend\n", 1, /expected "minimize" or "maximize"/],
    ["min\n obj: x\nst\n c1: x >= 1\n c1: x <= 3\nend\n", 5, /duplicate constraint name "c1"/],
    ["min\n obj: x\nst\n c1: x >= 1\nbounds\n x <= abc\nend\n", 6, /expected a bound, got "abc"/],
    ["min\n obj: x\nst\n c1: x >= 1\n", 4, /missing "end"/],
    ["max\n obj: x +\nst\nend\n", 2, /dangling sign/],
    [
      "min\n obj: x\nst\n c1: x >= 1\nsemi\n x\nend\n",
      6,
      /semi-continuous variables are not supported/,
    ],
  ])("reports bad LP input with its line (%#)", (text, line, msg) => {
    try {
      readLp(text, "bad.lp");
      expect.unreachable("should have thrown");
    } catch (e) {
      expect(e).toBeInstanceOf(ModelFormatError);
      expect((e as ModelFormatError).line).toBe(line);
      expect((e as Error).message).toMatch(msg);
      expect((e as Error).message).toMatch(new RegExp(`^bad\\.lp:${line}: `));
    }
  });
});

describe("MPS format", () => {
  it("round-trips every feature exactly", () => {
    const m = rich();
    const text = writeMps(m);
    const back = readMps(text);
    same(m.compile(), back.compile());
    expect(writeMps(back)).toBe(text);
  });

  it("is read by HiGHS to the same optimum, and reads what HiGHS writes", async () => {
    const h = await highsLoader();
    for (const m of [wyndor(), knapsack(), rich()]) {
      const ours = await solver.solve(m);
      const hm = h.createModel({ format: "mps", data: writeMps(m) });
      hm.options.set({ output_flag: false });
      hm.run();
      expect(hm.getObjectiveValue()).toBeCloseTo(ours.objective!, 9);
      const theirs = new TextDecoder().decode(hm.exportModel("mps"));
      hm.dispose();
      const back = await solver.solve(readMps(theirs));
      expect(back.objective).toBeCloseTo(ours.objective!, 9);
    }
  });

  it("reads fixed-format sections, RANGES on E rows and objective constants", () => {
    const m = readMps(
      [
        "NAME          TESTLP",
        "* comment",
        "ROWS",
        " N  COST",
        " E  LIM1",
        " E  LIM2",
        "COLUMNS",
        "    X1        COST         1.0   LIM1         1.0",
        "    X1        LIM2         1.0",
        "RHS",
        "    RHS       LIM1         4.0   LIM2         1.0",
        "    RHS       COST        -2.0",
        "RANGES",
        "    RNG       LIM1         2.0   LIM2        -0.5",
        "BOUNDS",
        " UP BND       X1           9",
        "ENDATA",
      ].join("\n"),
    );
    expect(m.name).toBe("TESTLP");
    expect([m.constraint("LIM1").lower, m.constraint("LIM1").upper]).toEqual([4, 6]);
    expect([m.constraint("LIM2").lower, m.constraint("LIM2").upper]).toEqual([0.5, 1]);
    expect(m.objective().constant).toBe(2);
    expect(m.upperBound("X1")).toBe(9);
  });

  it.each([
    ["NAME t\nROWS\n N obj\n L c1\nCOLUMNS\n x c2 1\nENDATA\n", 6, /unknown row "c2"/],
    ["NAME t\nROWS\n N obj\n Q c1\nENDATA\n", 4, /unknown row type "Q"/],
    [
      "NAME t\nROWS\n N obj\n L c1\nCOLUMNS\n x c1 abc\nENDATA\n",
      6,
      /expected a coefficient for row c1, got "abc"/,
    ],
    [
      "NAME t\nROWS\n N obj\n L c1\nCOLUMNS\n x c1 1\nBOUNDS\n UP BND y 3\nENDATA\n",
      8,
      /bound on unknown column "y"/,
    ],
    ["NAME t\nROWS\n N obj\n L c1\nCOLUMNS\n x c1 1\n", 7, /missing ENDATA/],
    [" x c1 1\n", 1, /data before any section header/],
  ])("reports bad MPS input with its line (%#)", (text, line, msg) => {
    try {
      readMps(text, "bad.mps");
      expect.unreachable("should have thrown");
    } catch (e) {
      expect(e).toBeInstanceOf(ModelFormatError);
      expect((e as ModelFormatError).line).toBe(line);
      expect((e as Error).message).toMatch(msg);
    }
  });
});

describe("model files", () => {
  it("reads and writes by extension and refuses others", async () => {
    dir = await mkdtemp(join(tmpdir(), "athanor-opt-"));
    const m = rich();
    for (const ext of ["lp", "mps"]) {
      const p = join(dir, `m.${ext}`);
      await writeModelFile(p, m);
      same(m.compile(), (await readModelFile(p)).compile());
    }
    await writeFile(join(dir, "m.txt"), "x");
    await expect(readModelFile(join(dir, "m.txt"))).rejects.toThrow(
      /expected a \.lp or \.mps file/,
    );
  });
});
