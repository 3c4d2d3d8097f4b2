import { writeFileSync } from "node:fs";
import { closeDefaultSolver, defaultSolver } from "@athanor/opt";
import {
  analyzeTe,
  getTopology,
  type SearchMethod,
  type TeHeuristic,
  TOPOLOGY_NAMES,
  teReportHtml,
} from "@athanor/xplain";
import type { Command } from "commander";
import { formatTable, printJson } from "../output.js";

const TE_HEURISTICS: TeHeuristic[] = ["demand-pinning", "pop"];
const METHODS: SearchMethod[] = ["exact", "random", "hill-climbing", "simulated-annealing"];

function numberList(s: string): number[] {
  const xs = s.split(",").map((x) => Number(x.trim()));
  if (xs.some((x) => !Number.isFinite(x)))
    throw new Error(`expected a comma-separated list of numbers, got "${s}"`);
  return xs;
}

function positive(name: string) {
  return (s: string) => {
    const x = Number(s);
    if (!(x > 0)) throw new Error(`${name} must be a positive number, got "${s}"`);
    return x;
  };
}

/** `athanor xplain ...`: where and why a heuristic underperforms. */
export function registerXplain(program: Command): void {
  const group = program
    .command("xplain")
    .description("XPlain: find where a heuristic underperforms, the region, and why");

  group
    .command("topologies")
    .description("list the built-in topologies")
    .option("--json", "print JSON")
    .action((opts: { json?: boolean }) => {
      const rows = TOPOLOGY_NAMES.map((n) => {
        const t = getTopology(n);
        return {
          name: n,
          nodes: t.nodes.length,
          links: t.links.length / 2,
          source: t.source ?? "",
        };
      });
      if (opts.json) printJson(rows);
      else
        console.log(
          formatTable(
            ["name", "nodes", "links", "source"],
            rows.map((r) => [r.name, r.nodes, r.links, r.source]),
          ),
        );
    });

  group
    .command("analyze")
    .description("search adversarial inputs, grow regions and explain them")
    .requiredOption("--heuristic <name>", `one of ${TE_HEURISTICS.join(", ")}`)
    .option(
      "--topology <name|file>",
      `built-in (${TOPOLOGY_NAMES.join(", ")}) or a JSON file`,
      "diamond",
    )
    .option(
      "--threshold <T>",
      "demand-pinning threshold (default 5% of mean link capacity)",
      positive("--threshold"),
    )
    .option("--levels <list>", "demand levels, comma-separated, must include 0", numberList)
    .option("--methods <list>", `comma-separated: ${METHODS.join(", ")}`, (s: string) =>
      s.split(","),
    )
    .option(
      "--evaluations <n>",
      "gap evaluations per black-box method",
      positive("--evaluations"),
      300,
    )
    .option("--time-limit <s>", "exact MILP time limit in seconds", positive("--time-limit"), 60)
    .option(
      "--max-pairs <n>",
      "analyse at most this many demand pairs",
      positive("--max-pairs"),
      30,
    )
    .option("--partitions <n>", "POP partitions", positive("--partitions"), 2)
    .option("--regions <n>", "adversarial regions to grow (0 to skip)", (s: string) => Number(s), 1)
    .option("--seed <n>", "random seed", (s: string) => Number(s), 1)
    .option("--report <file.html>", "write an HTML report with plots")
    .option("--json", "print the analysis as JSON")
    .action(async (o) => {
      if (!TE_HEURISTICS.includes(o.heuristic)) {
        throw new Error(
          `unknown heuristic "${o.heuristic}": use one of ${TE_HEURISTICS.join(", ")}`,
        );
      }
      const methods = (o.methods as string[] | undefined)?.map((m) => m.trim());
      for (const m of methods ?? []) {
        if (!METHODS.includes(m as SearchMethod))
          throw new Error(`unknown method "${m}": use ${METHODS.join(", ")}`);
      }
      const topology = getTopology(o.topology);
      try {
        const a = await analyzeTe(
          topology,
          {
            heuristic: o.heuristic,
            threshold: o.threshold,
            levels: o.levels,
            methods: methods as SearchMethod[] | undefined,
            evaluations: o.evaluations,
            timeLimit: o.timeLimit,
            maxPairs: o.maxPairs,
            partitions: o.partitions,
            regions: o.regions,
            seed: o.seed,
          },
          defaultSolver(),
        );
        if (o.report) writeFileSync(o.report, teReportHtml(a, topology));
        if (o.json) {
          printJson(a);
          return;
        }
        console.log(
          `${a.heuristic} on ${a.topology}: ${a.pairs.length} pairs, levels [${a.levels.join(", ")}]${a.threshold !== undefined ? `, threshold ${a.threshold}` : ""}`,
        );
        console.log(
          formatTable(
            ["method", "gap", "% capacity", "seconds", "evaluations"],
            a.methods.map((m) => [
              m.method + (m.status === "time_limit" ? " (lower bound)" : ""),
              m.gap === undefined ? "-" : +m.gap.toFixed(4),
              m.gapFraction === undefined ? "-" : +(m.gapFraction * 100).toFixed(2),
              +m.seconds.toFixed(2),
              m.evaluations ?? "MILP",
            ]),
          ),
        );
        if (a.explanation) console.log(`\nWhy: ${a.explanation.text}`);
        for (const [i, r] of a.regions.entries()) {
          console.log(
            `\nRegion ${i + 1}: ${r.significant ? "significant" : "NOT significant"} (one-sided Mann-Whitney U, p = ${r.pValue.toExponential(2)}); mean gap inside ${r.inside.meanGap.toFixed(3)} vs outside ${r.outside.meanGap.toFixed(3)}`,
          );
          for (const x of r.ranges) console.log(`  ${x.pair} in [${x.lower}, ${x.upper}]`);
        }
        for (const n of a.notes) console.log(`note: ${n}`);
        if (o.report) console.log(`\nreport: ${o.report}`);
      } finally {
        await closeDefaultSolver();
      }
    });
}
