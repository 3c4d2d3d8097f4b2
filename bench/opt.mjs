// The optimization layer (`@athanor/opt`): what the worker pool costs and buys, and what
// building large models costs. `npm run bench -- opt [--json] [--solves N] [--mips N]`.
//
// 1. Small-solve throughput: the same tiny LP solved N times in process, on a 1-worker pool
//    (sequential: the message round trip is the overhead) and on a 2-worker pool (concurrent).
// 2. Concurrency: N facility-location MIPs (30 sites x 60 customers) solved one after another in
//    process, then all at once on a 2-worker pool (the ratio is the speed-up the pool buys).
// 3. Model building: a 200 x 200 assignment-style model (40,000 variables, 40,400 rows,
//    80,000 nonzeros) built through the API, compiled and cloned.
import { InProcessSolver, LinExpr, le, Model, SolverPool, sum } from "@athanor/opt";

function parseArgs(args) {
  const o = { json: false, solves: 500, mips: 4 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--json") o.json = true;
    else if (a === "--solves") o.solves = Number(args[++i]);
    else if (a === "--mips") o.mips = Number(args[++i]);
    else if (a === "--help" || a === "-h") {
      console.log("usage: npm run bench -- opt [--json] [--solves 500] [--mips 4]");
      process.exit(0);
    } else throw new Error(`opt bench: unknown argument ${a}`);
  }
  return o;
}

function wyndor() {
  const m = new Model("wyndor");
  const x1 = m.addVar("x1");
  const x2 = m.addVar("x2");
  m.addConstraint(x1, "<=", 4, "plant1");
  m.addConstraint(x2.times(2), "<=", 12, "plant2");
  m.addConstraint(x1.times(3).plus(x2.times(2)), "<=", 18, "plant3");
  m.maximize(sum([x1.times(3), x2.times(5)]));
  return m;
}

/** Capacitated facility location with seeded random data. */
function facility(sites, customers, seed) {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const m = new Model(`facility-${seed}`);
  const open = m.addVars(
    "open",
    Array.from({ length: sites }, (_, i) => i),
    { type: "binary" },
  );
  const pairs = [];
  for (let i = 0; i < sites; i++) for (let j = 0; j < customers; j++) pairs.push([i, j]);
  const x = m.addVars("x", pairs, { ub: 1 });
  const demand = Array.from({ length: customers }, () => 5 + Math.floor(rnd() * 20));
  const total = demand.reduce((a, b) => a + b, 0);
  for (let j = 0; j < customers; j++) m.addConstraint(x.sum("*", j), "==", 1, `serve[${j}]`);
  for (let i = 0; i < sites; i++) {
    const load = new LinExpr();
    for (let j = 0; j < customers; j++) load.addTerm(x.get(i, j), demand[j]);
    load.addTerm(open.get(i), -Math.ceil((3 * total) / sites));
    m.addConstraint(load, "<=", 0, `cap[${i}]`);
  }
  const cost = new LinExpr();
  for (let i = 0; i < sites; i++) cost.addTerm(open.get(i), 200 + Math.floor(rnd() * 300));
  for (const [[, j], v] of x.entries()) cost.addTerm(v, demand[j] * (1 + Math.floor(rnd() * 30)));
  m.minimize(cost);
  return m;
}

async function timeIt(f) {
  const t = performance.now();
  const r = await f();
  return [(performance.now() - t) / 1000, r];
}

export async function main(args) {
  const o = parseArgs(args);
  const rows = [];
  const figures = {};

  // 1. Small-solve throughput.
  const lp = wyndor();
  const inproc = new InProcessSolver();
  const pool1 = new SolverPool({ size: 1 });
  const pool2 = new SolverPool({ size: 2 });
  // Warm up: V8 compiles WebAssembly with a baseline tier first and optimizes hot functions
  // later; the compiled module is shared by every thread, so 1,000 solves warm every path.
  for (let k = 0; k < 1000; k++) await inproc.solve(lp);
  await Promise.all([pool1.solve(lp), pool2.solve(lp), pool2.solve(lp)]);
  const [tIn] = await timeIt(async () => {
    for (let k = 0; k < o.solves; k++) await inproc.solve(lp);
  });
  const [tP1] = await timeIt(async () => {
    for (let k = 0; k < o.solves; k++) await pool1.solve(lp);
  });
  const [tP2] = await timeIt(() =>
    Promise.all(Array.from({ length: o.solves }, () => pool2.solve(lp))),
  );
  figures.smallSolveMs = {
    inProcess: (1000 * tIn) / o.solves,
    pool1Sequential: (1000 * tP1) / o.solves,
    pool2Concurrent: (1000 * tP2) / o.solves,
  };
  rows.push([`${o.solves} tiny LPs, in process`, (1000 * tIn) / o.solves, 1]);
  rows.push([`${o.solves} tiny LPs, 1 worker, one at a time`, (1000 * tP1) / o.solves, tP1 / tIn]);
  rows.push([`${o.solves} tiny LPs, 2 workers, all at once`, (1000 * tP2) / o.solves, tP2 / tIn]);

  // 2. Concurrency on MIPs.
  const mips = Array.from({ length: o.mips }, (_, k) => facility(30, 60, k + 1));
  const [tSeq, seq] = await timeIt(async () => {
    const out = [];
    for (const m of mips) out.push(await inproc.solve(m));
    return out;
  });
  const [tPar, par] = await timeIt(() => Promise.all(mips.map((m) => pool2.solve(m))));
  for (let k = 0; k < mips.length; k++) {
    if (Math.abs(seq[k].objective - par[k].objective) > 1e-6 * Math.abs(seq[k].objective)) {
      throw new Error(`facility ${k}: in-process ${seq[k].objective} vs pool ${par[k].objective}`);
    }
  }
  figures.facilityMips = { count: o.mips, sequentialS: tSeq, pool2S: tPar, speedup: tSeq / tPar };
  rows.push([`${o.mips} facility MIPs 30x60, in process, sequential (s)`, tSeq, 1]);
  rows.push([`${o.mips} facility MIPs 30x60, 2 workers, concurrent (s)`, tPar, tPar / tSeq]);

  // 3. Model building.
  const n = 200;
  const [tBuild, big] = await timeIt(() => {
    const m = new Model("assignment");
    const keys = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) keys.push([i, j]);
    const x = m.addVars("x", keys);
    m.addConstraints(
      "row",
      Array.from({ length: n }, (_, i) => i),
      ([i]) => le(x.sum(i, "*"), 1),
    );
    for (const [k, v] of x.entries()) m.addConstraint(v, "<=", 1, `ub[${k.join(",")}]`);
    return m;
  });
  const [tCompile] = await timeIt(() => big.compile());
  const [tClone] = await timeIt(() => big.clone());
  figures.build = {
    variables: big.numVars,
    constraints: big.numConstraints,
    buildS: tBuild,
    compileS: tCompile,
    cloneS: tClone,
  };
  rows.push([`build ${big.numVars} vars, ${big.numConstraints} rows (s)`, tBuild, ""]);
  rows.push(["compile to CSR (s)", tCompile, ""]);
  rows.push(["clone (s)", tClone, ""]);

  await Promise.all([inproc.close(), pool1.close(), pool2.close()]);

  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${"measure".padEnd(w)}  ${"ms / solve or s".padStart(15)}  ${"ratio".padStart(6)}`);
  console.log(`${"-".repeat(w)}  ${"-".repeat(15)}  ${"-".repeat(6)}`);
  for (const [label, v, r] of rows) {
    console.log(
      `${label.padEnd(w)}  ${v.toFixed(3).padStart(15)}  ${(r === "" ? "" : r.toFixed(2)).padStart(6)}`,
    );
  }
  if (o.json) console.log(JSON.stringify(figures));
}
