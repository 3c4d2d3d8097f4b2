/**
 * How the examples get their model. Offline (the default, and in tests): a ReplayModelClient
 * plays the example's fixture back, checking that every request is the one recorded. Live
 * (`--live`): the OpenAI-compatible endpoint the environment configures (ATHANOR_BASE_URL +
 * ATHANOR_MODEL, OpenAI or Azure variables); add `--record` to rewrite the fixture from it.
 */
import { existsSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type ModelClient,
  messageText,
  modelClientFromEnv,
  RecordingModelClient,
  ReplayModelClient,
  type ReplayResult,
  type TaskResult,
  type Team,
  type TeamStreamItem,
} from "../src/index.js";

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}.jsonl`, import.meta.url));
}

export interface ModelChoice {
  live?: boolean;
  record?: boolean;
  /** Answers written for the example, recorded into the fixture by `--author`. */
  author?: ReplayResult[];
}

export function exampleModel(name: string, choice: ModelChoice): ModelClient {
  const path = fixturePath(name);
  if (choice.author) {
    if (existsSync(path)) rmSync(path);
    return new RecordingModelClient(
      ReplayModelClient.fromResults(choice.author, { modelId: "authored" }),
      { path },
    );
  }
  if (choice.live) {
    const live = modelClientFromEnv();
    if (!live)
      throw new Error(
        "--live: no endpoint configured (set ATHANOR_BASE_URL and ATHANOR_MODEL, or OPENAI_API_KEY and ATHANOR_MODEL)",
      );
    if (!choice.record) return live;
    if (existsSync(path)) rmSync(path);
    return new RecordingModelClient(live, { path });
  }
  return ReplayModelClient.fromFile(path);
}

export function parseArgs(argv: string[]): {
  live: boolean;
  record: boolean;
  author: boolean;
  task?: string;
} {
  const taskAt = argv.indexOf("--task");
  return {
    live: argv.includes("--live"),
    record: argv.includes("--record"),
    author: argv.includes("--author"),
    ...(taskAt >= 0 ? { task: argv[taskAt + 1] } : {}),
  };
}

/** Runs a team, printing the conversation as it happens; returns the result. */
export async function printRun(
  team: Team,
  task: string,
  write = (t: string) => process.stdout.write(t),
): Promise<TaskResult> {
  let result: TaskResult | undefined;
  for await (const item of team.runStream(task) as AsyncIterable<TeamStreamItem>) {
    if (item.type === "task_result") result = item.result;
    else if (item.type === "speaker_change") write(`\n>>> ${item.speakers.join(" + ")}\n`);
    else if (item.type === "tool_call_request" || item.type === "tool_call_execution") {
      write(`  (${item.type} by ${item.source}) ${messageText(item)}\n`);
    } else if ("content" in item && typeof item.content === "string")
      write(`[${item.source}] ${item.content}\n`);
  }
  if (!result) throw new Error("run ended without a result");
  write(`\nstopped: ${result.stopReason}\nusage: ${JSON.stringify(result.usage)}\n`);
  return result;
}

export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(url) === process.argv[1];
}
