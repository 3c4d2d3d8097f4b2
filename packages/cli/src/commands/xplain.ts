import { writeFileSync } from "node:fs";
import { closeDefaultSolver, defaultSolver } from "@athanor/opt";
import {
  analyzeSpPifo,
  analyzeTe,
  analyzeVbp,
  explainPacking,
  FFD_VARIANTS,
  type FfdVariant,
  ffdSumTwiceFamily,
  firstFit,
  getTopology,
  isFfdVariant,
  optimalPacking,
  SCHED_METHODS,
  SCHED_METRICS,
  type SchedMetric,
  type SchedSearchMethod,
  type SearchMethod,
  schedReportHtml,
  type TeHeuristic,
  TOPOLOGY_NAMES,
  teReportHtml,
  toItems,
  VBP_METHODS,
  type VbpSearchMethod,
  vbpReportHtml,
} from "@athanor/xplain";
import type { Command } from "commander";
import { formatTable, printJson } from "../output.js";

const TE_HEURISTICS: TeHeuristic[] = ["demand-pinning", "pop"];
const METHODS: SearchMethod[] = ["exact", "random", "hill-climbing", "simulated-annealing"];
const ALL_HEURISTICS = [...TE_HEURISTICS, ...FFD_VARIANTS, "sp-pifo"];

function numberList(s: string): number[] {
  const xs = s.split(",").map((x) => Number(x.trim()));
  if (xs.some((x) => !Number.isFinite(x)))
    throw new Error(`expected a comma-separated list of numbers, got "${s}"`);
  return xs;
}

function nonNegativeInt(name: string) {
  return (s: string) => {
    const x = Number(s);
    if (!(Number.isInteger(x) && x >= 0))
      throw new Error(`${name} must be an integer >= 0, got "${s}"`);
    return x;
  };
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
    .requiredOption("--heuristic <name>", `one of ${ALL_HEURISTICS.join(", ")}`)
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
    .option(
      "--levels <list>",
      "TE: demand levels (must include 0); VBP: item size levels in [0, 1]; comma-separated",
      numberList,
    )
    .option(
      "--methods <list>",
      `comma-separated; TE: ${METHODS.join(", ")}; VBP: ${VBP_METHODS.join(", ")}; sp-pifo: ${SCHED_METHODS.join(", ")}`,
      (s: string) => s.split(","),
    )
    .option(
      "--evaluations <n>",
      "gap evaluations per black-box method (default: TE 300, VBP 150, sp-pifo 2000)",
      positive("--evaluations"),
    )
    .option(
      "--time-limit <s>",
      "MILP time limit in seconds (TE: the exact search, default 60; VBP: each optimum, default 10, and the exact search, default 60)",
      positive("--time-limit"),
    )
    .option(
      "--max-pairs <n>",
      "analyse at most this many demand pairs",
      positive("--max-pairs"),
      30,
    )
    .option("--partitions <n>", "POP partitions", positive("--partitions"), 2)
    .option("--regions <n>", "adversarial regions to grow (0 to skip)", (s: string) => Number(s), 1)
    .option("--items <n>", "VBP: number of items (default 6)", positive("--items"))
    .option("--dims <d>", "VBP: dimensions per item (default 2)", positive("--dims"))
    .option("--grid <n>", "VBP: sizes are multiples of 1/n (default 10)", positive("--grid"))
    .option("--max-size <s>", "VBP: largest size on the grid (default 0.6)", positive("--max-size"))
    .option("--objective <ratio|bins>", "VBP: maximize heuristic/optimal (ratio) or extra bins")
    .option(
      "--optimal-bins <k>",
      "VBP exact method: the optimum's bins it fixes (default 2)",
      positive("--optimal-bins"),
    )
    .option(
      "--family <k>",
      "VBP: evaluate the FFDSum 2x family with k copies (no search)",
      positive("--family"),
    )
    .option("--packets <n>", "sp-pifo: packets per sequence (default 8)", positive("--packets"))
    .option("--queues <q>", "sp-pifo: strict-priority queues (default 2)", positive("--queues"))
    .option("--max-rank <r>", "sp-pifo: ranks are 0..r (default 7)", positive("--max-rank"))
    .option(
      "--dequeue-every <k>",
      "sp-pifo: one dequeue after every k arrivals, 0 = all arrive first (default 2)",
      nonNegativeInt("--dequeue-every"),
    )
    .option("--metric <name>", `sp-pifo gap: ${SCHED_METRICS.join(", ")} (default inversions)`)
    .option("--seed <n>", "random seed", (s: string) => Number(s), 1)
    .option("--report <file.html>", "write an HTML report with plots")
    .option("--json", "print the analysis as JSON")
    .action(async (o) => {
      if (isFfdVariant(o.heuristic)) return analyzeVbpCommand(o);
      if (o.heuristic === "sp-pifo") return analyzeSchedCommand(o);
      if (!TE_HEURISTICS.includes(o.heuristic)) {
        throw new Error(
          `unknown heuristic "${o.heuristic}": use one of ${ALL_HEURISTICS.join(", ")}`,
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
            evaluations: o.evaluations ?? 300,
            timeLimit: o.timeLimit ?? 60,
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

interface AnalyzeOpts {
  heuristic: string;
  levels?: number[];
  methods?: string[];
  evaluations?: number;
  timeLimit?: number;
  regions: number;
  seed: number;
  report?: string;
  json?: boolean;
  items?: number;
  dims?: number;
  grid?: number;
  maxSize?: number;
  objective?: string;
  family?: number;
  optimalBins?: number;
  packets?: number;
  queues?: number;
  maxRank?: number;
  dequeueEvery?: number;
  metric?: string;
}

function checkedMethods<M extends string>(
  given: string[] | undefined,
  allowed: M[],
): M[] | undefined {
  const methods = given?.map((m) => m.trim());
  for (const m of methods ?? []) {
    if (!allowed.includes(m as M))
      throw new Error(`unknown method "${m}": use ${allowed.join(", ")}`);
  }
  return methods as M[] | undefined;
}

const item = (it: readonly number[]) => `(${it.map((x) => +x.toFixed(3)).join(", ")})`;

/** `analyze --heuristic ff|ffd-*`: vector bin packing. */
async function analyzeVbpCommand(o: AnalyzeOpts): Promise<void> {
  const heuristic = o.heuristic as FfdVariant;
  if (o.objective !== undefined && o.objective !== "ratio" && o.objective !== "bins")
    throw new Error(`--objective must be ratio or bins, got "${o.objective}"`);
  const methods = checkedMethods<VbpSearchMethod>(o.methods, VBP_METHODS);
  try {
    if (o.family !== undefined) {
      if (!Number.isInteger(o.family))
        throw new Error(`--family must be an integer, got ${o.family}`);
      const items = ffdSumTwiceFamily(o.family);
      const h = firstFit(items, heuristic);
      const opt = await optimalPacking(items, defaultSolver(), { timeLimit: o.timeLimit ?? 30 });
      const e = explainPacking(items, heuristic, opt);
      const out = {
        family: "ffd-sum-2x",
        k: o.family,
        heuristic,
        items,
        heuristicBins: h.bins,
        optimalBins: opt.bins,
        optimalStatus: opt.status,
        ratio: h.bins / opt.bins,
        explanation: e,
      };
      if (o.json) return printJson(out);
      console.log(
        `FFDSum 2x family, k = ${o.family}: ${items.length} items, k each of X ${item(items[0]!)}, P ${item(items[1]!)}, Q ${item(items[2]!)}`,
      );
      console.log(
        `${heuristic}: ${h.bins} bins; optimum: ${opt.bins} bins (${opt.status === "time_limit" ? "time limit: upper bound only" : "proven"}); ratio ${(h.bins / opt.bins).toFixed(3)}`,
      );
      console.log(`\nWhy: ${e.text}`);
      return;
    }
    const a = await analyzeVbp(
      {
        heuristic,
        items: o.items,
        dims: o.dims,
        levels: o.levels,
        grid: o.grid,
        maxSize: o.maxSize,
        objective: o.objective as "ratio" | "bins" | undefined,
        methods,
        optimalBins: o.optimalBins,
        exactTimeLimit: o.timeLimit,
        evaluations: o.evaluations,
        timeLimit: o.timeLimit,
        regions: o.regions,
        seed: o.seed,
      },
      defaultSolver(),
    );
    if (o.report) writeFileSync(o.report, vbpReportHtml(a));
    if (o.json) return printJson(a);
    console.log(
      `${a.heuristic}: ${a.items} items in ${a.dims} dimensions, sizes on ${a.levels.length > 12 ? `${a.levels.length} levels from ${a.levels[0]} to ${a.levels.at(-1)}` : `[${a.levels.join(", ")}]`}`,
    );
    console.log(
      formatTable(
        ["method", "heuristic bins", "optimal bins", "ratio", "seconds", "evaluations"],
        a.methods.map((m) => [
          m.method + (m.status === "time_limit" ? " (time limit: lower bound)" : ""),
          m.heuristicBins ?? "-",
          m.optimalBins ?? "-",
          m.ratio === undefined ? "-" : +m.ratio.toFixed(3),
          +m.seconds.toFixed(2),
          m.method === "exact" ? "MILP" : m.evaluations,
        ]),
      ),
    );
    if (a.best?.items) console.log(`\nWorst input: ${a.best.items.map(item).join(" ")}`);
    if (a.explanation) console.log(`\nWhy: ${a.explanation.text}`);
    for (const [i, r] of a.regions.entries()) {
      console.log(
        `\nRegion ${i + 1}: ${r.significant ? "significant" : "NOT significant"} (one-sided Mann-Whitney U, p = ${r.pValue.toExponential(2)}); mean gap inside ${r.inside.meanGap.toFixed(3)} vs outside ${r.outside.meanGap.toFixed(3)}`,
      );
      console.log(`  grown from ${toItems(r.seed, a.dims).map(item).join(" ")}`);
      for (const x of r.ranges)
        console.log(`  item ${x.item + 1} dimension ${x.dim + 1} in [${x.lower}, ${x.upper}]`);
    }
    for (const n of a.notes) console.log(`note: ${n}`);
    if (o.report) console.log(`\nreport: ${o.report}`);
  } finally {
    await closeDefaultSolver();
  }
}

/** `analyze --heuristic sp-pifo`: packet scheduling against PIFO. */
async function analyzeSchedCommand(o: AnalyzeOpts): Promise<void> {
  if (o.metric !== undefined && !SCHED_METRICS.includes(o.metric as SchedMetric))
    throw new Error(`--metric must be one of ${SCHED_METRICS.join(", ")}, got "${o.metric}"`);
  const methods = checkedMethods<SchedSearchMethod>(o.methods, SCHED_METHODS);
  const a = await analyzeSpPifo({
    packets: o.packets,
    queues: o.queues,
    maxRank: o.maxRank,
    dequeueEvery: o.dequeueEvery,
    metric: o.metric as SchedMetric | undefined,
    methods,
    evaluations: o.evaluations,
    regions: o.regions,
    seed: o.seed,
  });
  if (o.report) writeFileSync(o.report, schedReportHtml(a));
  if (o.json) return printJson(a);
  console.log(
    `SP-PIFO (${a.queues} queues) vs PIFO: ${a.packets} packets, ranks 0..${a.maxRank}, one dequeue every ${a.dequeueEvery || "∞"} arrivals; gap = ${a.metric}`,
  );
  console.log(
    formatTable(
      ["method", "gap", "ranks", "seconds", "evaluations"],
      a.methods.map((m) => [
        m.method,
        m.skipped ? "skipped" : (m.gap ?? "-"),
        m.ranks?.join(" ") ?? "-",
        +m.seconds.toFixed(3),
        m.evaluations,
      ]),
    ),
  );
  if (a.explanation) console.log(`\nWhy: ${a.explanation.text}`);
  for (const [i, r] of a.regions.entries()) {
    console.log(
      `\nRegion ${i + 1}: ${r.significant ? "significant" : "NOT significant"} (one-sided Mann-Whitney U, p = ${r.pValue.toExponential(2)}); mean gap inside ${r.inside.meanGap.toFixed(2)} vs outside ${r.outside.meanGap.toFixed(2)}`,
    );
    for (const x of r.ranges) console.log(`  packet ${x.packet} rank in [${x.lower}, ${x.upper}]`);
  }
  for (const n of a.notes) console.log(`note: ${n}`);
  if (o.report) console.log(`\nreport: ${o.report}`);
}
