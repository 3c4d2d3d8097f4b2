/**
 * `athanor agents chat`: a terminal chat with an AssistantAgent against the endpoint the
 * environment configures. Code the assistant writes (fenced bash/python/javascript blocks) runs
 * through the local executor after the user approves it, and the output goes back to the
 * assistant, the classic AutoGen two-agent loop.
 */
import { createInterface, type Interface } from "node:readline";
import {
  type ApprovalFunction,
  AssistantAgent,
  type ChatAgent,
  type ChatMessage,
  type CodeBlock,
  type CodeExecutor,
  CodeExecutorAgent,
  extractCodeBlocks,
  isResponseItem,
  LocalCommandLineExecutor,
  type ModelClient,
  message,
  messageText,
  modelClientFromEnv,
} from "@athanor/agents";
import type { Command } from "commander";
import { printJson } from "../output.js";

export const CHAT_SYSTEM_MESSAGE = "You are a helpful assistant. Keep answers short and precise.";

export const CODE_SYSTEM_MESSAGE =
  "You are a helpful assistant in a terminal. When running code helps, write one fenced code block tagged bash, python or javascript that prints what you need; it runs on the user's machine after they approve it, and you then see its output. Keep answers short and precise.";

export const NO_ENDPOINT_MESSAGE = [
  "no model endpoint is configured. Set one of:",
  "  ATHANOR_BASE_URL + ATHANOR_MODEL (+ ATHANOR_API_KEY if the server needs one): any OpenAI-compatible server (vLLM, Ollama, llama.cpp)",
  "  OPENAI_API_KEY + ATHANOR_MODEL: OpenAI",
  "  AZURE_OPENAI_ENDPOINT + AZURE_OPENAI_API_KEY + AZURE_OPENAI_DEPLOYMENT: Azure OpenAI",
  "e.g. ATHANOR_BASE_URL=http://localhost:11434/v1 ATHANOR_MODEL=llama3.2 athanor agents chat",
].join("\n");

export interface ChatOptions {
  modelClient: ModelClient;
  system?: string;
  /** Run the code the assistant writes (default: on when an executor is given). */
  executor?: CodeExecutor;
  approval?: ApprovalFunction;
  /** Code-execution round trips per user message (default 5). */
  maxCodeRounds?: number;
  /** Where text goes (default: stdout). */
  write?: (text: string) => void;
}

/** A chat session: the assistant, and the code runner when code execution is on. */
export class ChatSession {
  readonly assistant: AssistantAgent;
  readonly runner: CodeExecutorAgent | undefined;
  private readonly write: (text: string) => void;
  private readonly maxCodeRounds: number;

  constructor(options: ChatOptions) {
    this.write = options.write ?? ((t) => process.stdout.write(t));
    this.maxCodeRounds = options.maxCodeRounds ?? 5;
    this.assistant = new AssistantAgent("assistant", {
      modelClient: options.modelClient,
      systemMessage:
        options.system ?? (options.executor ? CODE_SYSTEM_MESSAGE : CHAT_SYSTEM_MESSAGE),
      streaming: options.modelClient.capabilities.streaming,
    });
    this.runner = options.executor
      ? new CodeExecutorAgent("executor", {
          executor: options.executor,
          approval: options.approval,
          sources: ["assistant"],
        })
      : undefined;
  }

  /** Sends one user message; returns the messages of the exchange, the assistant's last. */
  async send(text: string, signal?: AbortSignal): Promise<ChatMessage[]> {
    const transcript: ChatMessage[] = [];
    let incoming: ChatMessage[] = [message("text", { source: "user", content: text })];
    for (let round = 0; ; round++) {
      const reply = await this.speak(this.assistant, incoming, signal);
      transcript.push(reply);
      const hasCode = reply.type === "text" && extractCodeBlocks(reply.content).length > 0;
      if (!this.runner || !hasCode) return transcript;
      if (round >= this.maxCodeRounds) {
        this.write(`(stopped after ${this.maxCodeRounds} code runs for one message)\n`);
        return transcript;
      }
      const result = await this.speak(this.runner, [reply], signal);
      transcript.push(result);
      incoming = [result];
    }
  }

  async reset(): Promise<void> {
    await this.assistant.reset();
    await this.runner?.reset();
  }

  /** One agent turn, printing streamed text as it arrives. */
  private async speak(
    agent: ChatAgent,
    messages: ChatMessage[],
    signal?: AbortSignal,
  ): Promise<ChatMessage> {
    // The name goes out with the first text, after anything the turn asks (code approval).
    let started = false;
    const say = (text: string) => {
      if (!started) this.write(`${agent.name}> `);
      started = true;
      this.write(text);
    };
    let streamed = false;
    for await (const item of agent.onMessagesStream(messages, { signal })) {
      if (item.type === "token_delta") {
        say(item.delta);
        streamed = true;
      } else if (item.type === "tool_call_request" || item.type === "tool_call_execution") {
        say(`\n  [${item.type}] ${messageText(item)}\n`);
      } else if (isResponseItem(item)) {
        if (!streamed) say(messageText(item.response.message));
        this.write("\n");
        return item.response.message;
      }
    }
    throw new Error(`${agent.name} ended its turn without a response`);
  }
}

/** Reads lines one at a time from a readline interface; null at end of input. */
class LineReader {
  private readonly lines: AsyncIterator<string>;
  constructor(
    readonly rl: Interface,
    private readonly out: NodeJS.WritableStream,
  ) {
    this.lines = rl[Symbol.asyncIterator]();
  }
  async ask(prompt: string): Promise<string | null> {
    this.out.write(prompt);
    const next = await this.lines.next();
    return next.done ? null : next.value;
  }
}

/** An approval prompt on the terminal: shows the code, runs it on "y". */
function terminalApproval(
  reader: LineReader | undefined,
  autoApprove: boolean,
  display: NodeJS.WritableStream,
): ApprovalFunction {
  return async (blocks: CodeBlock[]) => {
    const shown = blocks.map((b) => `--- ${b.language || "code"} ---\n${b.code}`).join("\n");
    display.write(`${shown}\n---\n`);
    if (autoApprove) return { approved: true };
    if (!reader)
      return {
        approved: false,
        reason: "no terminal to approve it (use --yes to run code unattended)",
      };
    const answer = (await reader.ask("Run this code? [y/N] "))?.trim().toLowerCase();
    return answer === "y" || answer === "yes"
      ? { approved: true }
      : { approved: false, reason: "the user declined" };
  };
}

interface ChatCommandOptions {
  system?: string;
  model?: string;
  code: boolean;
  message?: string;
  yes?: boolean;
  json?: boolean;
}

export function registerAgentsChat(group: Command): void {
  group
    .command("chat")
    .description(
      "chat with an AssistantAgent against the configured endpoint (ATHANOR_BASE_URL/ATHANOR_MODEL, OpenAI or Azure variables); code it writes runs after you approve it",
    )
    .option("--system <text>", "the assistant's system message")
    .option("--model <name>", "the model (overrides ATHANOR_MODEL)")
    .option("--no-code", "do not run code the assistant writes")
    .option("--message <text>", "send one message, print the answer and exit")
    .option("-y, --yes", "run code without asking for approval")
    .option("--json", "with --message: print the exchange as JSON")
    .action(async (opts: ChatCommandOptions) => {
      const env = opts.model ? { ...process.env, ATHANOR_MODEL: opts.model } : process.env;
      const modelClient = modelClientFromEnv(env);
      if (!modelClient) throw new Error(NO_ENDPOINT_MESSAGE);
      const oneShot = opts.message !== undefined;
      const interactive = !oneShot || process.stdin.isTTY;
      const rl = interactive
        ? createInterface({
            input: process.stdin,
            output: process.stdout,
            terminal: process.stdin.isTTY,
          })
        : undefined;
      const reader = rl ? new LineReader(rl, process.stdout) : undefined;
      const executor = opts.code ? new LocalCommandLineExecutor({ timeoutMs: 60_000 }) : undefined;
      const quiet = oneShot && opts.json;
      const session = new ChatSession({
        modelClient,
        system: opts.system,
        executor,
        approval: terminalApproval(
          reader,
          opts.yes ?? false,
          quiet ? process.stderr : process.stdout,
        ),
        write: quiet ? () => {} : undefined,
      });
      try {
        if (oneShot) {
          const exchange = await session.send(opts.message ?? "");
          if (opts.json) printJson(exchange);
          return;
        }
        await chatLoop(session, reader!, modelClient.modelId, executor !== undefined);
      } finally {
        rl?.close();
        await executor?.dispose();
      }
    });
}

async function chatLoop(
  session: ChatSession,
  reader: LineReader,
  model: string,
  code: boolean,
): Promise<void> {
  process.stdout.write(
    `Chatting with ${model}${code ? " (code runs after your approval)" : ""}. /reset clears the history, /exit or Ctrl-D quits, Ctrl-C stops an answer.\n`,
  );
  let turn: AbortController | undefined;
  const onInterrupt = () => {
    if (turn) turn.abort(new Error("interrupted"));
    else reader.rl.close();
  };
  reader.rl.on("SIGINT", onInterrupt);
  for (;;) {
    const line = await reader.ask("you> ");
    if (line === null) break;
    const text = line.trim();
    if (text === "") continue;
    if (text === "/exit" || text === "/quit") break;
    if (text === "/reset") {
      await session.reset();
      process.stdout.write("(history cleared)\n");
      continue;
    }
    turn = new AbortController();
    try {
      await session.send(text, turn.signal);
    } catch (e) {
      // The chat goes on: a failed turn (network, garbage output, Ctrl-C) is reported, not fatal.
      process.stdout.write(`\nerror: ${(e as Error).message}\n`);
    } finally {
      turn = undefined;
    }
  }
  reader.rl.off("SIGINT", onInterrupt);
}
