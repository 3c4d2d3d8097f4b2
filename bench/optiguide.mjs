// OptiGuide benchmark: HiGHS solve time per app (median and p95 over the dev split's questions,
// each question's ground-truth edit applied by the oracle) and the benchmark's wall time.
// `npm run bench -- optiguide [--json] [--concurrency N]`. The benchmark runs twice in one
// process: one question at a time (solve times without self-contention), then N questions in
// flight on the worker pool; the ratio of the two wall times is the parallel speed-up. The
// unedited baseline solve (median of 5, warm) is listed per app for scale.
import { closeDefaultSolver } from "@athanor/opt";
import { APP_NAMES, APPS, percentile, runApp, runBenchmark } from "@athanor/optiguide";

export async function main(args) {
  const json = args.includes("--json");
  const ci = args.indexOf("--concurrency");
  const concurrency = ci >= 0 ? Number(args[ci + 1]) : 4;
  try {
    const serial = await runBenchmark({ apps: [...APP_NAMES], concurrency: 1 });
    const parallel = await runBenchmark({ apps: [...APP_NAMES], concurrency });
    const baseline = {};
    for (const name of APP_NAMES) {
      const ms = [];
      for (let i = 0; i < 5; i++) ms.push((await runApp(APPS[name])).solveMs);
      baseline[name] = percentile(ms, 50);
    }
    const rows = serial.apps.map((a, k) => ({
      app: a.app,
      questions: a.n,
      correct: a.correct,
      solveP50Ms: round(a.solveP50Ms),
      solveP95Ms: round(a.solveP95Ms),
      baselineSolveMs: round(baseline[a.app]),
      latencyP50Ms: round(a.latencyP50Ms),
      wallSerialS: round(a.wallMs / 1000),
      wallParallelS: round(parallel.apps[k].wallMs / 1000),
    }));
    const header = Object.keys(rows[0]);
    const widths = header.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h]).length)));
    console.log(header.map((h, i) => h.padStart(widths[i])).join("  "));
    for (const r of rows)
      console.log(header.map((h, i) => String(r[h]).padStart(widths[i])).join("  "));
    const wallSerialS = round(serial.wallMs / 1000);
    const wallParallelS = round(parallel.wallMs / 1000);
    const speedup = round(serial.wallMs / parallel.wallMs);
    console.log(
      `\n${serial.overall.correct}/${serial.overall.n} correct (serial), ${parallel.overall.correct}/${parallel.overall.n} (parallel)` +
        `\nbenchmark wall time: ${wallSerialS} s one at a time, ${wallParallelS} s with ${concurrency} in flight (x${speedup})`,
    );
    if (json)
      console.log(
        JSON.stringify({
          bench: "optiguide",
          concurrency,
          wallSerialS,
          wallParallelS,
          speedup,
          accuracy: serial.overall.accuracy,
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
