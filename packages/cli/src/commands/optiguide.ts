import { readFileSync } from "node:fs";
import { modelClientFromEnv } from "@athanor/agents";
import { closeDefaultSolver } from "@athanor/opt";
import {
  APP_NAMES,
  APPS,
  type AppName,
  type BenchReport,
  type Edit,
  getApp,
  inferEditKind,
  isAppName,
  OptiGuide,
  pipelineSource,
  planChanges,
  runApp,
  runBenchmark,
  translateContext,
  translateSnippet,
} from "@athanor/optiguide";
import { SlmClient, SlmModel, slmEditSource } from "@athanor/slm";
import type { Command } from "commander";
import { formatTable, printJson } from "../output.js";

function appsOf(name: string): AppName[] {
  if (name === "all") return [...APP_NAMES];
  if (!isAppName(name))
    throw new Error(`unknown app "${name}" (apps: ${APP_NAMES.join(", ")}, or all)`);
  return [name];
}

const ms = (x: number) => Math.round(x);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function printReport(r: BenchReport): void {
  console.log(
    formatTable(
      [
        "app",
        "questions",
        "correct",
        "accuracy",
        "latency p50 ms",
        "latency p95 ms",
        "solve p50 ms",
        "solve p95 ms",
        "wall s",
      ],
      r.apps.map((a) => [
        a.app,
        a.n,
        a.correct,
        pct(a.accuracy),
        ms(a.latencyP50Ms),
        ms(a.latencyP95Ms),
        ms(a.solveP50Ms),
        ms(a.solveP95Ms),
        Number((a.wallMs / 1000).toFixed(1)),
      ]),
    ),
  );
  console.log();
  console.log(
    formatTable(
      ["app/type", "questions", "correct", "accuracy"],
      Object.entries(r.types).map(([k, t]) => [k, t.n, t.correct, pct(t.accuracy)]),
    ),
  );
  console.log(
    `\n${r.mode}: ${r.overall.correct}/${r.overall.n} correct (${pct(r.overall.accuracy)}) in ${(r.wallMs / 1000).toFixed(1)} s`,
  );
  const wrong = r.results.filter((q) => !q.correct);
  for (const q of wrong.slice(0, 10))
    console.log(
      `  wrong: ${q.app} #${q.index} (${q.type}): ${q.status}${q.message ? ` (${q.message})` : ""}`,
    );
}

/** `athanor optiguide ...`: OptiGuide's apps, edits and benchmark. */
export function registerOptiguide(program: Command): void {
  const group = program
    .command("optiguide")
    .description("OptiGuide: what-if questions over optimization models (six benchmark apps)");

  group
    .command("apps")
    .description("list the apps, their baselines and edit points")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      const rows = Object.values(APPS).map((a) => ({
        app: a.name,
        title: a.title,
        baseline: a.baseline,
        variables: a.variableFamilies,
        constraints: a.constraintFamilies,
        editPoints: a.editPoints,
      }));
      if (opts.json) printJson(rows);
      else
        console.log(
          formatTable(
            ["app", "baseline", "title"],
            rows.map((r) => [r.app, String(r.baseline), r.title]),
          ),
        );
    });

  group
    .command("bench")
    .description(
      "run benchmark questions and report accuracy per app and per question type, with latency",
    )
    .option(
      "--oracle",
      "apply each question's ground-truth snippet (translated into the edit form)",
    )
    .option("--app <app>", "an app name or all", "all")
    .option(
      "--model <name>",
      "where edits come from without --oracle: endpoint (the configured OpenAI-compatible endpoint), default (the embedded task model), or a task-model folder",
    )
    .option("--debug-rounds <n>", "pipeline: extra tries after a failed edit", "3")
    .option(
      "--questions <file>",
      "a question file in the benchmark's format (default: the dev split)",
    )
    .option("--concurrency <n>", "questions in flight at once", "4")
    .option("--memo", "solve each distinct edit once and reuse it for its paraphrases")
    .option("--json", "print the report as JSON")
    .action(
      async (opts: {
        oracle?: boolean;
        model?: string;
        debugRounds: string;
        app: string;
        questions?: string;
        concurrency: string;
        memo?: boolean;
        json?: boolean;
      }) => {
        try {
          let source: ReturnType<typeof pipelineSource> | undefined;
          let mode = "oracle";
          if (!opts.oracle && opts.model && opts.model !== "endpoint") {
            const slm = await SlmModel.load(opts.model === "default" ? undefined : opts.model);
            source = slmEditSource(slm);
            mode = `slm (${opts.model})`;
          } else if (!opts.oracle) {
            const client = modelClientFromEnv();
            if (!client) {
              throw new Error(
                "no model endpoint is configured: set ATHANOR_BASE_URL and ATHANOR_MODEL (see docs/agents.md), or use --oracle",
              );
            }
            source = pipelineSource({ writer: client, debugRounds: Number(opts.debugRounds) });
            mode = `pipeline (${client.modelId})`;
          }
          const concurrency = Number(opts.concurrency);
          if (!Number.isInteger(concurrency) || concurrency < 1)
            throw new Error(`--concurrency must be a positive integer, got ${opts.concurrency}`);
          const report = await runBenchmark({
            apps: appsOf(opts.app),
            questionsFile: opts.questions,
            concurrency,
            memo: opts.memo,
            source,
            mode,
          });
          if (opts.json)
            printJson({ ...report, results: report.results.map(({ edit: _e, ...rest }) => rest) });
          else printReport(report);
        } finally {
          await closeDefaultSolver();
        }
      },
    );

  group
    .command("ask")
    .description("answer a what-if question with the writer / safeguard / interpreter agents")
    .argument("<question...>", "the question, in plain language")
    .option("--app <app>", `the application (${APP_NAMES.join(", ")})`, "coffee")
    .option("--no-safeguard", "skip the safeguard review (the sandbox still confines the edit)")
    .option("--debug-rounds <n>", "extra tries after a failed edit", "3")
    .option("--json", "print the answer as JSON")
    .action(
      async (
        words: string[],
        opts: { app: string; safeguard: boolean; debugRounds: string; json?: boolean },
      ) => {
        const [app] = appsOf(opts.app);
        // Without an endpoint, the embedded task model (packages/slm) plays the agents.
        const client =
          modelClientFromEnv() ??
          (SlmModel.exists() ? new SlmClient(await SlmModel.load(), { app }) : undefined);
        if (!client) {
          throw new Error(
            "no model endpoint is configured: set ATHANOR_BASE_URL and ATHANOR_MODEL (any OpenAI-compatible endpoint; see docs/agents.md)",
          );
        }
        try {
          const og = new OptiGuide(getApp(app!), {
            writer: client,
            interpreter: client,
            skipSafeguard: !opts.safeguard,
            debugRounds: Number(opts.debugRounds),
          });
          const a = await og.ask(words.join(" "), {
            onEvent: (e) => {
              if (opts.json) return;
              if (e.type === "edit")
                console.log(
                  `[writer] ${e.edit.kind} edit:\n  ${e.edit.code.split("\n").join("\n  ")}`,
                );
              if (e.type === "safeguard") console.log(`[safeguard] ${e.verdict}: ${e.reason}`);
              if (e.type === "retry") console.log(`[retry] ${e.error}`);
            },
          });
          if (opts.json) printJson(a);
          else {
            console.log(`\n${a.explanation}`);
            console.log(
              `(${a.status} in ${(a.ms.total / 1000).toFixed(2)} s; solver ${(a.ms.solve / 1000).toFixed(2)} s; tokens ${a.usage.promptTokens}+${a.usage.completionTokens})`,
            );
          }
        } finally {
          await closeDefaultSolver();
        }
      },
    );

  group
    .command("translate")
    .description(
      "translate a gurobipy what-if snippet (DATA CODE / CONSTRAINT CODE) into the edit form",
    )
    .requiredOption("--app <app>", "the app the snippet edits")
    .argument("<snippet>", "the Python snippet, or @file to read it from a file")
    .option("--json", "print JSON")
    .action((snippet: string, opts: { app: string; json?: boolean }) => {
      const app = getApp(opts.app);
      const code = snippet.startsWith("@") ? readFileSync(snippet.slice(1), "utf8") : snippet;
      const edit = translateSnippet(code, translateContext(app));
      if (opts.json) printJson(edit);
      else console.log(`// ${edit.kind} edit\n${edit.code}`);
    });

  group
    .command("run")
    .description(
      "run one edit (JavaScript in the edit form) on an app and compare with the baseline",
    )
    .requiredOption("--app <app>", "the app")
    .argument("<code>", "the edit's code, or @file to read it from a file")
    .option(
      "--kind <kind>",
      "data or constraint (default: constraint when the code calls addConstr/addVar)",
    )
    .option("--json", "print JSON")
    .action(async (codeArg: string, opts: { app: string; kind?: string; json?: boolean }) => {
      try {
        const app = getApp(opts.app);
        const code = codeArg.startsWith("@") ? readFileSync(codeArg.slice(1), "utf8") : codeArg;
        if (opts.kind && opts.kind !== "data" && opts.kind !== "constraint")
          throw new Error(`--kind must be data or constraint, got ${opts.kind}`);
        const edit: Edit = { kind: (opts.kind as Edit["kind"]) ?? inferEditKind(code), code };
        const [base, what] = await Promise.all([runApp(app), runApp(app, edit)]);
        const changes =
          base.status === "optimal" && what.status === "optimal"
            ? planChanges(base.plan, what.plan)
            : [];
        if (opts.json) printJson({ edit, baseline: base, outcome: what, changes });
        else {
          console.log(
            `baseline: ${base.status}${base.objective !== undefined ? ` ${base.objective}` : ""}`,
          );
          console.log(
            `what-if:  ${what.status}${what.objective !== undefined ? ` ${what.objective}` : ""}`,
          );
          if (what.message) console.log(what.message);
          if (changes.length)
            console.log(
              formatTable(
                ["decision", "before", "after"],
                changes.map((c) => [c.name, c.before, c.after]),
              ),
            );
        }
        if (what.status === "error") process.exitCode = 1;
      } finally {
        await closeDefaultSolver();
      }
    });
}
