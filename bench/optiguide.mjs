// OptiGuide benchmark: HiGHS solve time per app (median and p95 over the dev split's questions,
// each question's ground-truth edit applied by the oracle) and the benchmark's wall time.
// `npm run bench -- optiguide [--json] [--concurrency N]`. Ratio: a what-if's median solve time
// over the app's unedited baseline solve (median of 5, warm), measured in the same run.
import { closeDefaultSolver } from "@athanor/opt";
import { APP_NAMES, APPS, percentile, runApp, runBenchmark } from "@athanor/optiguide";

export async function main(args) {
  const json = args.includes("--json");
  const ci = args.indexOf("--concurrency");
  const concurrency = ci >= 0 ? Number(args[ci + 1]) : 2;
  try {
    const report = await runBenchmark({ apps: [...APP_NAMES], concurrency });
    // Baselines after the benchmark, on warm workers (tsp: with the subtour cuts already known).
    const baseline = {};
    for (const name of APP_NAMES) {
      const ms = [];
      for (let i = 0; i < 5; i++) ms.push((await runApp(APPS[name])).solveMs);
      baseline[name] = percentile(ms, 50);
    }
    const rows = report.apps.map((a) => ({
      app: a.app,
      questions: a.n,
      correct: a.correct,
      solveP50Ms: round(a.solveP50Ms),
      solveP95Ms: round(a.solveP95Ms),
      baselineSolveMs: round(baseline[a.app]),
      ratioP50ToBaseline: round(a.solveP50Ms / baseline[a.app]),
      latencyP50Ms: round(a.latencyP50Ms),
      wallS: round(a.wallMs / 1000),
    }));
    const header = Object.keys(rows[0]);
    const widths = header.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h]).length)));
    console.log(header.map((h, i) => h.padStart(widths[i])).join("  "));
    for (const r of rows)
      console.log(header.map((h, i) => String(r[h]).padStart(widths[i])).join("  "));
    const wallS = round(report.wallMs / 1000);
    console.log(
      `\n${report.overall.correct}/${report.overall.n} correct; benchmark wall time ${wallS} s (concurrency ${concurrency})`,
    );
    if (json)
      console.log(
        JSON.stringify({
          bench: "optiguide",
          concurrency,
          wallS,
          accuracy: report.overall.accuracy,
          apps: rows,
        }),
      );
  } finally {
    await closeDefaultSolver();
  }
}

function round(x) {
  return Math.round(x * 100) / 100;
}
