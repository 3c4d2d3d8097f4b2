/**
 * `athanor agents run <file> --task "..."`: loads a team (or agent) declared in YAML/JSON,
 * runs it on the task and prints the conversation as it happens. With `--checkpoint`, the run
 * checkpoints after every turn into a SQLite file and `--resume` continues a run that was
 * interrupted (Ctrl-C, a crash, kill -9) from its last completed turn.
 */
import {
  type AnyMessage,
  type ChatAgent,
  type InputFunction,
  isChatMessage,
  loadComponentFile,
  message,
  messageText,
  SqliteCheckpointer,
  type TaskResult,
  type Team,
  type Usage,
} from "@athanor/agents";
import type { Command } from "commander";
import { formatTable, printJson } from "../output.js";

export interface RunFileOptions {
  task?: string;
  json?: boolean;
  checkpoint?: string;
  thread?: string;
  resume?: boolean;
  /** Where human input comes from (default: the terminal). */
  input?: InputFunction;
  write?: (text: string) => void;
  signal?: AbortSignal;
}

function isTeam(c: Team | ChatAgent): c is Team {
  return typeof (c as Team).runStream === "function";
}

/** Runs a declaration file; returns the result (and prints as it goes unless `json`). */
export async function runComponentFile(file: string, options: RunFileOptions): Promise<TaskResult> {
  const write = options.write ?? ((t: string) => process.stdout.write(t));
  const checkpointer = options.checkpoint ? new SqliteCheckpointer(options.checkpoint) : undefined;
  const loaded = loadComponentFile(file, {
    ...(options.input ? { input: options.input } : {}),
    ...(checkpointer ? { checkpointer } : {}),
    ...(options.thread ? { threadId: options.thread } : {}),
  });
  try {
    const show = (m: AnyMessage) => {
      if (options.json) return;
      if (isChatMessage(m))
        write(
          `---------- ${m.type === "stop" ? "stop" : m.source} ----------\n${messageText(m)}\n`,
        );
      else if (
        m.type === "tool_call_request" ||
        m.type === "tool_call_execution" ||
        m.type === "code_execution"
      ) {
        write(`  [${m.type} by ${m.source}] ${messageText(m).slice(0, 500)}\n`);
      }
    };
    const component = loaded.component;
    let result: TaskResult | undefined;
    if (isTeam(component)) {
      if (!options.task && !options.resume)
        throw new Error("give --task (or --resume to continue a checkpointed run)");
      for await (const item of component.runStream({
        task: options.task,
        resume: options.resume,
        signal: options.signal,
      })) {
        if (item.type === "task_result") result = item.result;
        else show(item);
      }
    } else {
      if (!options.task) throw new Error("give --task");
      const task = message("text", { source: "user", content: options.task });
      show(task);
      const response = await component.onMessages([task], { signal: options.signal });
      for (const e of response.inner) show(e);
      show(response.message);
      result = {
        messages: [task, ...response.inner, response.message],
        stopReason: null,
        usage: response.message.usage ? { [component.name]: response.message.usage } : {},
      };
    }
    if (!result) throw new Error("the run ended without a result");
    if (options.json) {
      printJson({
        stopReason: result.stopReason,
        messages: result.messages.filter(isChatMessage),
        usage: result.usage,
      });
    } else {
      write(`\nstopped: ${result.stopReason ?? "(no termination condition fired)"}\n`);
      const rows = Object.entries(result.usage).map(([agent, u]: [string, Usage]) => [
        agent,
        u.promptTokens,
        u.completionTokens,
        u.promptTokens + u.completionTokens,
      ]);
      if (rows.length > 0)
        write(`${formatTable(["agent", "prompt", "completion", "total"], rows)}\n`);
    }
    return result;
  } finally {
    await loaded.dispose();
    await checkpointer?.close();
  }
}

export function registerAgentsRun(group: Command): void {
  group
    .command("run <file>")
    .description("run a team or agent declared in a YAML/JSON file on a task")
    .option("--task <text>", "what the team should do")
    .option("--json", "print the result (chat messages, stop reason, usage per agent) as JSON")
    .option("--checkpoint <db>", "checkpoint after every turn into this SQLite file")
    .option("--thread <id>", "the checkpoint thread (default: the team's name)")
    .option("--resume", "continue the thread's last run from its last completed turn")
    .action(async (file: string, opts: Omit<RunFileOptions, "write" | "signal" | "input">) => {
      const controller = new AbortController();
      const onSigint = () => controller.abort(new Error("interrupted"));
      process.once("SIGINT", onSigint);
      try {
        await runComponentFile(file, { ...opts, signal: controller.signal });
      } finally {
        process.off("SIGINT", onSigint);
      }
    });
}
