/**
 * CodeExecutorAgent: runs the fenced code blocks of the messages it receives (AutoGen's
 * CodeExecutorAgent). With a model client it writes the code itself: the model answers the
 * conversation, its code blocks run, and (optionally) the model reads the output and answers.
 */
import { type AgentResponse, BaseChatAgent, type JsonValue, type TurnContext } from "../agent.js";
import type { CodeBlock, CodeExecutor, CodeResult } from "../code/executor.js";
import { extractCodeBlocks } from "../code/extract.js";
import { canonicalLanguage } from "../code/languages.js";
import {
  type AgentEvent,
  addUsage,
  type ChatMessage,
  type LLMMessage,
  message,
  messageText,
  toLLMMessage,
  type Usage,
  ZERO_USAGE,
} from "../messages.js";
import type { ModelClient } from "../model-client.js";
import { ModelOutputError } from "./errors.js";
import { UnboundedContext } from "./model-context.js";

export type ApprovalFunction = (
  blocks: CodeBlock[],
) => Promise<{ approved: boolean; reason?: string }>;

export interface CodeExecutorAgentOptions {
  executor: CodeExecutor;
  description?: string;
  /** Asked before any code runs; a refusal becomes the result (exit code 1) instead. */
  approval?: ApprovalFunction;
  /** Only messages from these sources are searched for code (default: all). */
  sources?: string[];
  /** A model that writes the code itself. */
  modelClient?: ModelClient;
  /** The model's instructions (default CODE_WRITER_SYSTEM_MESSAGE). */
  systemMessage?: string;
  /** With a model: times it may fix code that failed (default 0). */
  maxRetriesOnError?: number;
  /** With a model: a last call that answers from the execution result (default true). */
  reflectOnCodeExecution?: boolean;
}

export const CODE_WRITER_SYSTEM_MESSAGE =
  "You are a coding assistant. Solve the task by writing code in fenced markdown blocks tagged with their language; the blocks run in order and you will see their output. Print the results you need. When you can answer without code, answer in plain text.";

export const NO_CODE_BLOCKS =
  "No code blocks found in the thread. Please provide at least one markdown-encoded code block to execute.";

const STATE_TYPE = "CodeExecutorAgentState";

export class CodeExecutorAgent extends BaseChatAgent {
  readonly executor: CodeExecutor;
  private readonly options: CodeExecutorAgentOptions;
  private readonly context = new UnboundedContext();

  constructor(name: string, options: CodeExecutorAgentOptions) {
    super(name, options.description ?? "An agent that runs code blocks and reports their output.");
    this.executor = options.executor;
    this.options = options;
    const retries = options.maxRetriesOnError ?? 0;
    if (!Number.isInteger(retries) || retries < 0) {
      throw new Error(`${name}: maxRetriesOnError must be an integer >= 0, got ${retries}`);
    }
  }

  override async onMessages(
    messages: ChatMessage[],
    ctx: TurnContext = {},
  ): Promise<AgentResponse> {
    ctx.signal?.throwIfAborted();
    const inner: AgentEvent[] = [];
    if (this.options.modelClient)
      return this.writeAndRun(this.options.modelClient, messages, inner, ctx.signal);

    const blocks = messages
      .filter((m) => !this.options.sources || this.options.sources.includes(m.source))
      .filter((m) => m.type === "text" || m.type === "multimodal")
      .flatMap((m) => extractCodeBlocks(messageText(m)));
    if (blocks.length === 0) {
      return { message: message("text", { source: this.name, content: NO_CODE_BLOCKS }), inner };
    }
    const { text } = await this.runBlocks(blocks, inner, ctx.signal);
    return { message: message("text", { source: this.name, content: text }), inner };
  }

  override async reset(): Promise<void> {
    this.context.clear();
  }

  override async saveState(): Promise<JsonValue> {
    return { type: STATE_TYPE, version: 1, llmContext: this.context.all() as unknown as JsonValue };
  }

  override async loadState(state: JsonValue): Promise<void> {
    const s = state as { type?: unknown; llmContext?: unknown } | null;
    if (!s || typeof s !== "object" || s.type !== STATE_TYPE || !Array.isArray(s.llmContext)) {
      throw new Error(
        `${this.name}: not a CodeExecutorAgent state (expected { type: "${STATE_TYPE}", llmContext: [...] })`,
      );
    }
    this.context.replace(s.llmContext as LLMMessage[]);
  }

  /** Approves, runs and describes blocks, recording a code_execution event. */
  private async runBlocks(
    blocks: CodeBlock[],
    inner: AgentEvent[],
    signal?: AbortSignal,
  ): Promise<{ text: string; ok: boolean; refused: boolean }> {
    const supported = new Set(this.executor.languages);
    const runnable = blocks.filter((b) => supported.has(canonicalLanguage(b.language)));
    const skipped = blocks.length - runnable.length;
    const skippedNote =
      skipped > 0
        ? `Skipped ${skipped} block(s) in languages this executor does not run (${unique(
            blocks.filter((b) => !runnable.includes(b)).map((b) => b.language || "untagged"),
          ).join(", ")}); it runs: ${this.executor.languages.join(", ")}.`
        : "";
    if (runnable.length === 0) return { text: skippedNote, ok: false, refused: false };

    let result: CodeResult;
    const verdict = this.options.approval
      ? await this.options.approval(runnable)
      : { approved: true };
    signal?.throwIfAborted();
    if (!verdict.approved) {
      result = {
        exitCode: 1,
        output: `Code execution was not approved.${verdict.reason ? ` Reason: ${verdict.reason}` : ""}`,
      };
    } else {
      result = await this.executor.execute(runnable, { signal });
    }
    inner.push(
      message("code_execution", {
        source: this.name,
        exitCode: result.exitCode,
        output: result.output,
      }),
    );
    const text = describeResult(result, verdict.approved);
    return {
      text: skippedNote ? `${text}\n\n${skippedNote}` : text,
      ok: verdict.approved && result.exitCode === 0,
      refused: !verdict.approved,
    };
  }

  private async writeAndRun(
    model: ModelClient,
    messages: ChatMessage[],
    inner: AgentEvent[],
    signal?: AbortSignal,
  ): Promise<AgentResponse> {
    for (const m of messages) this.context.add(toLLMMessage(m));
    let usage: Usage = { ...ZERO_USAGE };
    const call = async () => {
      const result = await model.create({
        messages: [
          { role: "system", content: this.options.systemMessage ?? CODE_WRITER_SYSTEM_MESSAGE },
          ...this.context.messages(),
        ],
        signal,
      });
      usage = addUsage(usage, result.usage);
      const content = result.content ?? "";
      if (content.trim() === "") {
        throw new ModelOutputError(
          `${this.name}: model ${model.modelId} returned an empty response (finish reason: ${result.finishReason})`,
          result.content,
        );
      }
      this.context.add({ role: "assistant", content });
      return content;
    };

    const retries = this.options.maxRetriesOnError ?? 0;
    let executed = "";
    for (let attempt = 0; attempt <= retries; attempt++) {
      const content = await call();
      const blocks = extractCodeBlocks(content);
      if (blocks.length === 0) {
        return { message: message("text", { source: this.name, content, usage }), inner };
      }
      inner.push(message("code_generation", { source: this.name, blocks }));
      const run = await this.runBlocks(blocks, inner, signal);
      executed = run.text;
      this.context.add({
        role: "user",
        name: this.name,
        content: `Execution result:\n${executed}`,
      });
      if (run.ok || run.refused) break;
    }
    const content = (this.options.reflectOnCodeExecution ?? true) ? await call() : executed;
    return { message: message("text", { source: this.name, content, usage }), inner };
  }
}

/** The text an execution result reads as in the conversation. */
export function describeResult(result: CodeResult, approved = true): string {
  if (!approved) return result.output;
  const output = result.output.trimEnd();
  const cut = result.truncated ? "\n[output truncated]" : "";
  if (result.exitCode === 0)
    return output === "" ? "The code ran successfully and printed nothing." : output + cut;
  const why = result.timedOut ? " (it timed out)" : "";
  return output === ""
    ? `The code exited with code ${result.exitCode}${why} and printed nothing.`
    : `The code exited with code ${result.exitCode}${why}. Output:\n${output}${cut}`;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
