/**
 * Sequential chats (AutoGen's `initiate_chats`): a list of chats run one after another, and
 * each chat's summary is carried into the tasks of the chats after it.
 */
import type { ChatAgent, TurnContext } from "../agent.js";
import { type ChatMessage, isChatMessage, message, messageText, type Usage } from "../messages.js";
import type { ModelClient } from "../model-client.js";
import type { TaskResult, Team } from "./team.js";

export type SummaryMethod =
  /** The text of the chat's last message (default). */
  | "last"
  /** A model reads the chat and writes the summary (AutoGen's "reflection_with_llm"). */
  | { model: ModelClient; prompt?: string }
  | ((result: TaskResult) => string | Promise<string>);

export interface SequentialChat {
  /** A team, or a single agent answering once. */
  chat: Team | ChatAgent;
  task: string;
  summary?: SummaryMethod;
  /** Carry the summaries of earlier chats into this task (default true). */
  carryover?: boolean;
}

export interface SequentialChatResult {
  task: string;
  result: TaskResult;
  summary: string;
}

export const DEFAULT_SUMMARY_PROMPT =
  "Summarize the takeaway from the conversation. Do not add any introductory phrases.";

export async function runSequentialChats(
  chats: readonly SequentialChat[],
  ctx: TurnContext = {},
): Promise<SequentialChatResult[]> {
  const results: SequentialChatResult[] = [];
  for (const [i, step] of chats.entries()) {
    const carried =
      step.carryover === false ? [] : results.map((r) => r.summary).filter((s) => s.length > 0);
    const task = carried.length > 0 ? `${step.task}\nContext: \n${carried.join("\n")}` : step.task;
    let result: TaskResult;
    if (isTeam(step.chat)) {
      result = await step.chat.run({ task, signal: ctx.signal });
    } else {
      const taskMessage = message("text", { source: "user", content: task });
      const response = await step.chat.onMessages([taskMessage], ctx);
      const usage: Record<string, Usage> = {};
      if (response.message.usage) usage[response.message.source] = response.message.usage;
      result = {
        messages: [taskMessage, ...response.inner, response.message],
        stopReason: null,
        usage,
      };
    }
    let summary: string;
    try {
      summary = await summarize(result, step.summary ?? "last", ctx.signal);
    } catch (err) {
      throw new Error(`sequential chat ${i + 1}: summary failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    results.push({ task, result, summary });
  }
  return results;
}

async function summarize(
  result: TaskResult,
  method: SummaryMethod,
  signal?: AbortSignal,
): Promise<string> {
  const chat = result.messages.filter(
    (m): m is ChatMessage => isChatMessage(m) && m.type !== "stop",
  );
  if (method === "last") {
    const last = chat.at(-1);
    return last ? messageText(last) : "";
  }
  if (typeof method === "function") return method(result);
  const transcript = chat.map((m) => `${m.source}: ${messageText(m)}`).join("\n");
  const response = await method.model.create({
    messages: [
      { role: "system", content: method.prompt ?? DEFAULT_SUMMARY_PROMPT },
      { role: "user", content: transcript },
    ],
    signal,
  });
  return (response.content ?? "").trim();
}

function isTeam(x: Team | ChatAgent): x is Team {
  return typeof (x as Team).run === "function" && typeof (x as Team).runStream === "function";
}
