// npm run bench -- xplain [--json] [--time-limit S] [--evaluations N] [--topologies a,b]
// The demand-pinning gap found on each topology, as a fraction of total capacity, by the
// exact MetaOpt MILP and by the black-box baselines, with their run times, in one run.
import { closeDefaultSolver, defaultSolver } from "@athanor/opt";
import { analyzeTe, getTopology } from "@athanor/xplain";

function arg(args, name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}

export async function main(args) {
  const json = args.includes("--json");
  const timeLimit = Number(arg(args, "--time-limit", "60"));
  const evaluations = Number(arg(args, "--evaluations", "300"));
  const topologies = arg(args, "--topologies", "diamond,ring8,abilene").split(",");
  const rows = [];
  try {
    for (const name of topologies) {
      const topology = getTopology(name);
      const meanCap = topology.links.reduce((s, l) => s + l.capacity, 0) / topology.links.length;
      const threshold = +(meanCap * 0.1).toFixed(4);
      const a = await analyzeTe(
        topology,
        {
          heuristic: "demand-pinning",
          threshold,
          levels: [0, threshold, +(meanCap * 0.5).toFixed(4), meanCap],
          maxPairs: 20,
          evaluations,
          timeLimit,
          regions: 0,
        },
        defaultSolver(),
      );
      for (const m of a.methods) {
        rows.push({
          topology: name,
          pairs: a.pairs.length,
          method: m.method,
          gap: m.gap ?? null,
          gapFraction: m.gapFraction ?? null,
          seconds: m.seconds,
          evaluations: m.evaluations ?? null,
          status: m.status ?? null,
        });
      }
    }
  } finally {
    await closeDefaultSolver();
  }
  const exactBy = new Map(rows.filter((r) => r.method === "exact").map((r) => [r.topology, r.gap]));
  console.log(
    "topology  pairs  method               gap        % capacity  vs exact  seconds  evals",
  );
  for (const r of rows) {
    const ex = exactBy.get(r.topology);
    const ratio = ex ? (r.gap ?? 0) / ex : null;
    console.log(
      `${r.topology.padEnd(9)} ${String(r.pairs).padStart(5)}  ${(r.method + (r.status === "time_limit" ? "*" : "")).padEnd(19)} ${(r.gap ?? 0).toFixed(3).padStart(9)}  ${((r.gapFraction ?? 0) * 100).toFixed(2).padStart(9)}%  ${ratio === null ? "    -" : ratio.toFixed(2).padStart(8)}  ${r.seconds.toFixed(1).padStart(7)}  ${r.evaluations ?? "MILP"}`,
    );
  }
  console.log(
    "* exact stopped at its time limit: the gap is the incumbent (a lower bound on the worst gap)",
  );
  if (json) console.log(JSON.stringify({ benchmark: "xplain", timeLimit, evaluations, rows }));
}
