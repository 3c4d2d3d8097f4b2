import { createInterface } from "node:readline/promises";
import { modelClientFromEnv } from "@athanor/agents";
import { closeDefaultSolver } from "@athanor/opt";
import {
  type Answer,
  APP_NAMES,
  type AppName,
  comparePlans,
  describeChange,
  devQuestionsPath,
  getApp,
  isAppName,
  loadQuestions,
  OptiGuide,
  oracleEdit,
  runApp,
} from "@athanor/optiguide";
import { SlmModel } from "@athanor/slm";
import type { Command } from "commander";
import { printJson } from "../output.js";
import { showSlmAnswer } from "./slm.js";

/**
 * `athanor start` (what `npm start` runs): what-if questions over the six OptiGuide
 * applications. With a model endpoint configured (ATHANOR_BASE_URL / ATHANOR_MODEL, or Azure),
 * the OptiGuide agents answer; without one, the embedded small model (`packages/slm/model`)
 * does. `--tour` runs one benchmark question per app with its ground-truth edit (oracle mode)
 * through the same sandbox, solver and explanation.
 */
export function registerStart(program: Command): void {
  program
    .command("start")
    .description("what-if questions over the OptiGuide apps (the main job)")
    .argument("[question...]", "a question to answer once (otherwise: interactive, or the tour)")
    .option("--app <name>", `the application (${APP_NAMES.join(", ")})`, "coffee")
    .option("--tour", "run the oracle tour (ground-truth edits) instead of asking a model")
    .option("--json", "print answers as JSON")
    .action(async (words: string[], o: { app: string; tour?: boolean; json?: boolean }) => {
      if (!isAppName(o.app))
        throw new Error(`unknown app "${o.app}" (apps: ${APP_NAMES.join(", ")})`);
      try {
        const client = o.tour ? undefined : modelClientFromEnv();
        if (!client && !o.tour && SlmModel.exists()) {
          await embedded(o.app, words, o.json ?? false);
          return;
        }
        if (!client) {
          if (words.length > 0) {
            throw new Error(
              "answering your own question needs a model: set ATHANOR_BASE_URL and ATHANOR_MODEL (any OpenAI-compatible endpoint; see docs/agents.md), or train the embedded one with `athanor slm train --app all`. Without one, `npm start` runs the oracle tour.",
            );
          }
          await tour(o.json ?? false);
          return;
        }
        const og = new OptiGuide(getApp(o.app), { writer: client, interpreter: client });
        if (words.length > 0) {
          show(await og.ask(words.join(" ")), o.json ?? false);
          return;
        }
        const rl = createInterface({ input: process.stdin, output: process.stdout });
        console.log(
          `OptiGuide on ${o.app} with ${client.modelId}. Ask a what-if question (empty line to quit).`,
        );
        try {
          for (;;) {
            const q = (await rl.question("? ")).trim();
            if (!q) break;
            try {
              show(await og.ask(q), o.json ?? false);
            } catch (err) {
              console.error(`error: ${(err as Error).message}`);
            }
          }
        } finally {
          rl.close();
        }
      } finally {
        await closeDefaultSolver();
      }
    });
}

function show(a: Answer, json: boolean): void {
  if (json) {
    printJson(a);
    return;
  }
  if (a.edit) console.log(`edit (${a.edit.kind}):\n  ${a.edit.code.split("\n").join("\n  ")}`);
  console.log(a.explanation);
  console.log(
    `(${a.status}; ${a.rounds.length} round${a.rounds.length === 1 ? "" : "s"}; ${(a.ms.total / 1000).toFixed(2)} s, solver ${(a.ms.solve / 1000).toFixed(2)} s)`,
  );
}

/** One dev question per app, answered with its ground-truth edit. */
async function tour(json: boolean): Promise<void> {
  const results: unknown[] = [];
  if (!json) {
    console.log("Athanor: what-if analysis over optimization models (OptiGuide).");
    console.log(
      "No model endpoint is configured, so each question below is answered with the benchmark's",
    );
    console.log(
      "ground-truth edit (oracle mode), run in the sandbox, solved with HiGHS, and explained",
    );
    console.log(
      "against the baseline plan. Set ATHANOR_BASE_URL and ATHANOR_MODEL to ask your own.\n",
    );
  }
  for (const name of APP_NAMES as readonly AppName[]) {
    const app = getApp(name);
    const { questions } = loadQuestions(devQuestionsPath(name), name);
    const q = questions[0]!;
    const t0 = performance.now();
    const edit = oracleEdit(app, q);
    const [baseline, outcome] = await Promise.all([runApp(app), runApp(app, edit)]);
    const change = comparePlans(baseline, outcome);
    const ms = performance.now() - t0;
    if (json) {
      results.push({
        app: name,
        question: q.QUESTION,
        edit,
        status: outcome.status,
        objective: outcome.objective,
        change,
        ms,
      });
      continue;
    }
    console.log(`[${name}] ${q.QUESTION.trim()}`);
    console.log(`  edit (${edit.kind}): ${edit.code.replace(/\s*\n\s*/g, " ").slice(0, 160)}`);
    console.log(`  ${describeChange(change, 4).split("\n").join("\n  ")}`);
    console.log(`  (${(ms / 1000).toFixed(2)} s including baseline and what-if solves)\n`);
  }
  if (json) printJson(results);
}

/**
 * The embedded default: the small task model shipped in packages/slm/model answers (no
 * endpoint, no network). One question from the arguments, or a session reading stdin.
 */
async function embedded(app: AppName, words: string[], json: boolean): Promise<void> {
  const model = await SlmModel.load();
  const ask = async (q: string) => {
    const a = await model.answer(app, q);
    if (json) printJson(a);
    else showSlmAnswer(a);
  };
  if (words.length > 0) {
    await ask(words.join(" "));
    return;
  }
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: process.stdin.isTTY,
  });
  console.log(
    `OptiGuide on ${app} with the embedded task model (${model.meta.parameters.toLocaleString("en-US")} parameters, no endpoint). Ask a question about the plan, a what-if or a why (empty line to quit; --app picks another app).`,
  );
  if (process.stdin.isTTY) process.stdout.write("? ");
  let asked = 0;
  try {
    for await (const line of rl) {
      const q = line.trim();
      if (!q) break;
      asked++;
      try {
        await ask(q);
      } catch (err) {
        console.error(`error: ${(err as Error).message}`);
      }
      if (process.stdin.isTTY) process.stdout.write("? ");
    }
  } finally {
    rl.close();
  }
  // Not a terminal and nothing piped in (CI, `npm start < /dev/null`): show what it does.
  if (!process.stdin.isTTY && asked === 0) {
    console.log("No questions on standard input; answering one example per app:\n");
    for (const [exampleApp, q] of EXAMPLES) {
      console.log(`[${exampleApp}] ${q}`);
      const a = await model.answer(exampleApp, q);
      if (json) printJson(a);
      else showSlmAnswer(a);
      console.log();
    }
  }
}

/** One question per app, written for this demo (not from the OptiGuide benchmark). */
const EXAMPLES: [AppName, string][] = [
  ["coffee", "What if light coffee demand at cafe2 grew by 29%?"],
  ["diet", "What if we could buy at most 2 hamburgers?"],
  ["facility", "What if plant 3 were closed?"],
  ["netflow", "What if shipping pens from Detroit to Boston cost 20% more?"],
  ["tsp", "What if we had to travel directly from point 2 to point 5?"],
  ["workforce1", "What if Amy could not work on Tue2?"],
];
