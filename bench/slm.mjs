// The small task model (packages/slm) on the OptiGuide benchmark's dev questions, scored like
// `optiguide bench` (the executed edit must reproduce GT EXEC RESULT): accuracy per app and per
// question type, latency per question (model + sandbox + solves, p50 / p95, one question at a
// time), model size and training time; exact-match accuracy on our own held-out generated
// questions; the decline rate on off-domain requests we wrote (OFF_DOMAIN_EVAL, never trained
// on). With `--endpoint` and ATHANOR_BASE_URL / ATHANOR_MODEL set, the same benchmark for the
// endpoint's model (the OptiGuide writer pipeline with in-context examples), side by side.
// `npm run bench -- slm [--json] [--model DIR] [--app NAME] [--endpoint]`
import { statSync } from "node:fs";
import { join } from "node:path";
import { modelClientFromEnv } from "@athanor/agents";
import { closeDefaultSolver } from "@athanor/opt";
import { APP_NAMES, percentile, pipelineSource, runBenchmark } from "@athanor/optiguide";
import { generateExamples, OFF_DOMAIN_EVAL, SlmModel, slmEditSource } from "@athanor/slm";

const round = (x, d = 1) => Number(x.toFixed(d));
const pct = (x) => `${(100 * x).toFixed(1)}%`;

function table(rows) {
  const header = Object.keys(rows[0]);
  const widths = header.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h]).length)));
  console.log(header.map((h, i) => h.padEnd(widths[i])).join("  "));
  for (const r of rows)
    console.log(header.map((h, i) => String(r[h]).padEnd(widths[i])).join("  "));
}

export async function main(args) {
  const json = args.includes("--json");
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const apps = opt("--app") ? [opt("--app")] : [...APP_NAMES];
  try {
    const model = await SlmModel.load(opt("--model"));
    const weightsBytes = statSync(join(model.dir, "model.safetensors")).size;
    // Warm up: the first call builds the grammar masks and the baseline solves.
    for (const app of apps) await model.answer(app, "What is the total cost of the current plan?");

    const report = await runBenchmark({
      apps,
      source: slmEditSource(model),
      concurrency: 1,
      mode: "slm",
    });
    const modelMs = [];
    for (const r of report.results) modelMs.push(r.latencyMs - r.solveMs);
    const appRows = report.apps.map((a) => ({
      app: a.app,
      questions: a.n,
      correct: a.correct,
      accuracy: pct(a.accuracy),
      p50ms: Math.round(a.latencyP50Ms),
      p95ms: Math.round(a.latencyP95Ms),
    }));
    table(appRows);
    console.log();
    table(
      Object.entries(report.types).map(([k, t]) => ({
        "app/type": k,
        questions: t.n,
        correct: t.correct,
        accuracy: pct(t.accuracy),
      })),
    );
    const lat = report.results.map((r) => r.latencyMs);

    // Our own held-out generated questions (a seed the shipped model was not trained with).
    const held = generateExamples({ apps, seed: 424242, perTemplate: 2, declinePerApp: 2 });
    let exact = 0;
    for (const e of held) if (model.predict(e.app, e.question).line === e.action) exact++;

    // Off-domain requests we wrote, never trained on: each app must decline each one.
    let declined = 0;
    let offTotal = 0;
    for (const app of apps)
      for (const q of OFF_DOMAIN_EVAL) {
        offTotal++;
        if (model.predict(app, q).line === "decline") declined++;
      }

    let endpoint;
    const client = args.includes("--endpoint") ? modelClientFromEnv() : undefined;
    if (client) {
      const big = await runBenchmark({
        apps,
        source: pipelineSource({ writer: client, debugRounds: 1 }),
        concurrency: 4,
        mode: client.modelId,
      });
      endpoint = {
        model: client.modelId,
        accuracy: big.overall.accuracy,
        p50Ms: percentile(
          big.results.map((r) => r.latencyMs),
          50,
        ),
      };
    }

    const figures = {
      bench: "slm",
      accuracy: round(report.overall.accuracy, 4),
      correct: report.overall.correct,
      questions: report.overall.n,
      latencyP50Ms: Math.round(percentile(lat, 50)),
      latencyP95Ms: Math.round(percentile(lat, 95)),
      modelP50Ms: Math.round(percentile(modelMs, 50)),
      modelP95Ms: Math.round(percentile(modelMs, 95)),
      parameters: model.meta.parameters,
      weightsMB: round(weightsBytes / 1e6, 2),
      trainSeconds: Math.round(model.meta.trainSeconds),
      trainSteps: model.meta.steps,
      heldOutExactMatch: round(exact / held.length, 4),
      heldOutQuestions: held.length,
      declineRate: round(declined / offTotal, 4),
      offDomainQuestions: offTotal,
      apps: Object.fromEntries(report.apps.map((a) => [a.app, round(a.accuracy, 4)])),
      types: Object.fromEntries(
        Object.entries(report.types).map(([k, t]) => [k, round(t.accuracy, 4)]),
      ),
      ...(endpoint ? { endpoint } : {}),
    };
    console.log(
      `\nslm: ${report.overall.correct}/${report.overall.n} dev questions correct (${pct(report.overall.accuracy)}); ` +
        `latency p50 ${figures.latencyP50Ms} ms, p95 ${figures.latencyP95Ms} ms (model alone p50 ${figures.modelP50Ms} ms)\n` +
        `model: ${figures.parameters.toLocaleString("en-US")} parameters, ${figures.weightsMB} MB, trained in ${figures.trainSeconds} s (${figures.trainSteps} steps)\n` +
        `own held-out questions: ${pct(figures.heldOutExactMatch)} exact match (${held.length}); off-domain declined: ${pct(figures.declineRate)} (${offTotal})` +
        (endpoint
          ? `\nendpoint ${endpoint.model}: ${pct(endpoint.accuracy)} (p50 ${Math.round(endpoint.p50Ms)} ms)`
          : ""),
    );
    if (json) console.log(JSON.stringify(figures));
  } finally {
    await closeDefaultSolver();
  }
}
