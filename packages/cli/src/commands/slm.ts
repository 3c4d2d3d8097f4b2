import { writeFileSync } from "node:fs";
import { modelClientFromEnv } from "@athanor/agents";
import { progressLine } from "@athanor/lm";
import { closeDefaultSolver } from "@athanor/opt";
import { APP_NAMES, type AppName, isAppName } from "@athanor/optiguide";
import {
  DEFAULT_MODEL_DIR,
  type Example,
  evolveExamples,
  executePlan,
  generateExamples,
  planActions,
  promptText,
  type SlmAnswer,
  SlmModel,
  saveSlm,
  trainSlm,
} from "@athanor/slm";
import type { Command } from "commander";
import { formatTable, printJson } from "../output.js";

function appsOf(name: string): AppName[] {
  if (name === "all") return [...APP_NAMES];
  const apps = name.split(",").map((s) => s.trim());
  for (const a of apps)
    if (!isAppName(a))
      throw new Error(`unknown app "${a}" (apps: ${APP_NAMES.join(", ")}, or all)`);
  return apps as AppName[];
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${flag} must be a positive integer, got ${v}`);
  return n;
}

function appOf(name: string): AppName {
  if (!isAppName(name)) throw new Error(`unknown app "${name}" (apps: ${APP_NAMES.join(", ")})`);
  return name;
}

/** Prints an answer of the task model for people. */
export function showSlmAnswer(a: SlmAnswer): void {
  console.log(`action: ${a.prediction.line}`);
  if (a.error) console.log(`error: ${a.error}`);
  if (a.result?.plan.edit)
    console.log(
      `edit (${a.result.plan.edit.kind}):\n  ${a.result.plan.edit.code.split("\n").join("\n  ")}`,
    );
  if (a.result) console.log(a.result.text);
  console.log(
    `(${(a.ms.total / 1000).toFixed(2)} s: model ${(a.ms.model / 1000).toFixed(2)} s, solver ${(a.ms.solve / 1000).toFixed(2)} s)`,
  );
}

/** `athanor slm ...`: the small task model (train, ask, data, check actions). */
export function registerSlm(program: Command): void {
  const group = program
    .command("slm")
    .description("small task model for the OptiGuide apps: actions, task data, training, answers");

  group
    .command("train")
    .description(
      "generate task data, train the tokenizer and the model (from scratch, or LoRA on --base)",
    )
    .option("--app <apps>", "all, or a comma-separated list of apps", "all")
    .option("--seed <n>", "seed of data, tokenizer, weights and batch order", "0")
    .option("--steps <n>", "optimizer steps", "1500")
    .option("--per-template <n>", "generated examples per template", "80")
    .option("--batch <n>", "sequences per step", "32")
    .option("--lr <x>", "peak learning rate (default 3e-3 from scratch, 1e-3 LoRA)")
    .option("--out <dir>", "where to write the model folder", DEFAULT_MODEL_DIR)
    .option("--base <dir>", "a Hugging Face checkpoint folder to fine-tune with LoRA")
    .option("--lora-rank <n>", "LoRA rank with --base", "8")
    .option(
      "--evolve <n>",
      "paraphrase n questions with the configured endpoint first (prompt evolution)",
    )
    .option("--json", "print the training record as JSON")
    .action(
      async (o: {
        app: string;
        seed: string;
        steps: string;
        perTemplate: string;
        batch: string;
        lr?: string;
        out: string;
        base?: string;
        loraRank: string;
        evolve?: string;
        json?: boolean;
      }) => {
        const apps = appsOf(o.app);
        const seed = Number(o.seed);
        if (!Number.isInteger(seed) || seed < 0)
          throw new Error(`--seed must be an integer ≥ 0, got ${o.seed}`);
        const lr = o.lr === undefined ? undefined : Number(o.lr);
        if (lr !== undefined && !(lr > 0)) throw new Error(`--lr must be positive, got ${o.lr}`);
        let extra: Example[] | undefined;
        if (o.evolve) {
          const client = modelClientFromEnv();
          if (!client)
            throw new Error(
              "--evolve needs an endpoint: set ATHANOR_BASE_URL and ATHANOR_MODEL (see docs/agents.md)",
            );
          const n = positiveInt("--evolve", o.evolve);
          extra = await evolveExamples(generateExamples({ apps, seed }), client, {
            count: n,
            seed,
            onProgress: (d, t) => process.stderr.write(`\rparaphrasing ${d}/${t}`),
          });
          process.stderr.write(`\nkept ${extra.length} paraphrases\n`);
        }
        const tty = process.stderr.isTTY;
        const result = await trainSlm({
          apps,
          seed,
          steps: positiveInt("--steps", o.steps),
          perTemplate: positiveInt("--per-template", o.perTemplate),
          batchSize: positiveInt("--batch", o.batch),
          lr,
          base: o.base,
          loraRank: positiveInt("--lora-rank", o.loraRank),
          extra,
          onStage: (s) => process.stderr.write(`${s}\n`),
          onProgress: (m) => {
            if (tty) process.stderr.write(`\r${progressLine(m)}`);
            else if (m.step % 25 === 0 || m.step === m.totalSteps)
              process.stderr.write(`${progressLine(m)}\n`);
          },
        });
        if (tty) process.stderr.write("\n");
        await saveSlm(result, o.out);
        if (o.json) printJson({ out: o.out, ...result.meta });
        else
          console.log(
            `wrote ${o.out}: ${result.meta.parameters.toLocaleString("en-US")} parameters, ${result.meta.examples} examples, ${result.meta.steps} steps in ${result.meta.trainSeconds.toFixed(0)} s (loss ${result.meta.finalLoss.toFixed(4)})`,
          );
      },
    );

  group
    .command("ask")
    .description("answer a question with the task model (query, what-if, why, or decline)")
    .requiredOption("--app <name>", `the application (${APP_NAMES.join(", ")})`)
    .argument("<question...>", "the question")
    .option("--model <dir>", "a model folder (default: the shipped model)")
    .option("--json", "print the answer as JSON")
    .action(async (words: string[], o: { app: string; model?: string; json?: boolean }) => {
      try {
        const model = await SlmModel.load(o.model);
        const a = await model.answer(appOf(o.app), words.join(" "));
        if (o.json) printJson(a);
        else showSlmAnswer(a);
        if (a.error) process.exitCode = 1;
      } finally {
        await closeDefaultSolver();
      }
    });

  group
    .command("run")
    .description('validate and run an action line by hand (e.g. "set demand cafe3 +13%")')
    .requiredOption("--app <name>", "the application")
    .argument("<action...>", "the action line (actions joined by ;)")
    .option("--json", "print the result as JSON")
    .action(async (words: string[], o: { app: string; json?: boolean }) => {
      try {
        const plan = planActions(appOf(o.app), words.join(" "));
        const r = await executePlan(plan);
        if (o.json) printJson(r);
        else {
          if (plan.edit)
            console.log(`edit (${plan.edit.kind}):\n  ${plan.edit.code.split("\n").join("\n  ")}`);
          console.log(r.text);
        }
      } finally {
        await closeDefaultSolver();
      }
    });

  group
    .command("data")
    .description("print generated task data (JSON lines: app, kind, question, action, prompt)")
    .option("--app <apps>", "all, or a comma-separated list", "all")
    .option("--seed <n>", "seed", "0")
    .option("--count <n>", "how many to print (default all)")
    .option("--out <file>", "write to a file instead of stdout")
    .action((o: { app: string; seed: string; count?: string; out?: string }) => {
      let ex = generateExamples({ apps: appsOf(o.app), seed: Number(o.seed) });
      if (o.count) ex = ex.slice(0, positiveInt("--count", o.count));
      const lines = ex.map((e) => JSON.stringify({ ...e, prompt: promptText(e.app, e.question) }));
      if (o.out) writeFileSync(o.out, `${lines.join("\n")}\n`);
      else console.log(lines.join("\n"));
    });

  group
    .command("info")
    .description("how the model was made: size, data, steps, training time")
    .option("--model <dir>", "a model folder (default: the shipped model)")
    .option("--json", "print JSON")
    .action(async (o: { model?: string; json?: boolean }) => {
      const model = await SlmModel.load(o.model);
      const info = { dir: model.dir, bytes: model.bytes, ...model.meta };
      if (o.json) printJson(info);
      else
        console.log(
          formatTable(
            ["field", "value"],
            [
              ["folder", model.dir],
              ["parameters", model.meta.parameters],
              ["weights (MB)", Number((model.bytes / 1e6).toFixed(2))],
              ["apps", model.meta.apps.join(", ")],
              ["examples", model.meta.examples],
              ["steps", model.meta.steps],
              ["seed", model.meta.seed],
              ["training time (s)", Math.round(model.meta.trainSeconds)],
              ["final loss", Number(model.meta.finalLoss.toFixed(4))],
              ["base", model.meta.base],
              ["remake with", model.meta.command],
            ],
          ),
        );
    });
}
