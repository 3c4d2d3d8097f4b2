/**
 * UserProxyAgent: a human in the conversation. Input comes from any async function
 * `(prompt, signal) => Promise<string>`; the default reads a line from the terminal.
 */
import { createInterface } from "node:readline/promises";
import { type AgentResponse, BaseChatAgent, type JsonValue, type TurnContext } from "../agent.js";
import { type AgentEvent, type ChatMessage, message, messageText } from "../messages.js";

export type InputFunction = (prompt: string, signal?: AbortSignal) => Promise<string>;

/**
 * When the human is asked (AutoGen's `human_input_mode`):
 *
 * - `ALWAYS`: every turn. An empty answer sends the automatic reply, except when the incoming
 *   message is a termination message, where it ends the conversation.
 * - `TERMINATE` (default): only when the incoming message is a termination message or
 *   `maxConsecutiveAutoReplies` automatic replies were sent in a row; otherwise the automatic
 *   reply goes out. An empty answer then ends the conversation.
 * - `NEVER`: never. Automatic replies until a termination message arrives or
 *   `maxConsecutiveAutoReplies` is reached, which end the conversation.
 *
 * The human ends the conversation at any prompt by answering `exit`. Ending sends a
 * StopMessage; a human's answer is a TextMessage; the automatic reply is `defaultAutoReply`.
 */
export type HumanInputMode = "ALWAYS" | "TERMINATE" | "NEVER";

export interface UserProxyAgentOptions {
  description?: string;
  /** Default: `terminalInput`. */
  inputFunc?: InputFunction;
  /** Default "TERMINATE"; see HumanInputMode. */
  humanInputMode?: HumanInputMode;
  /** Default: the message's text, trimmed, ends with "TERMINATE". */
  isTerminationMessage?: (m: ChatMessage) => boolean;
  /** Default 100. */
  maxConsecutiveAutoReplies?: number;
  /** What an automatic reply says (default ""). */
  defaultAutoReply?: string;
  /** The answer that ends the conversation (default "exit"). */
  exitCommand?: string;
}

/** Reads one line from the terminal; the prompt shows the latest message. */
export const terminalInput: InputFunction = async (prompt, signal) => {
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: process.stdin.isTTY,
  });
  try {
    return await rl.question(prompt.endsWith(" ") ? prompt : `${prompt} `, { signal });
  } finally {
    rl.close();
  }
};

const STATE_TYPE = "UserProxyAgentState";

export class UserProxyAgent extends BaseChatAgent {
  readonly humanInputMode: HumanInputMode;
  private readonly input: InputFunction;
  private readonly isTermination: (m: ChatMessage) => boolean;
  private readonly maxAuto: number;
  private readonly autoReply: string;
  private readonly exitCommand: string;
  private consecutiveAutoReplies = 0;

  constructor(name: string, options: UserProxyAgentOptions = {}) {
    super(name, options.description ?? "A human user.");
    this.input = options.inputFunc ?? terminalInput;
    this.humanInputMode = options.humanInputMode ?? "TERMINATE";
    if (!["ALWAYS", "TERMINATE", "NEVER"].includes(this.humanInputMode)) {
      throw new Error(
        `${name}: humanInputMode must be ALWAYS, TERMINATE or NEVER, got ${JSON.stringify(this.humanInputMode)}`,
      );
    }
    this.isTermination =
      options.isTerminationMessage ?? ((m) => messageText(m).trimEnd().endsWith("TERMINATE"));
    this.maxAuto = options.maxConsecutiveAutoReplies ?? 100;
    this.autoReply = options.defaultAutoReply ?? "";
    this.exitCommand = options.exitCommand ?? "exit";
  }

  override async onMessages(
    messages: ChatMessage[],
    ctx: TurnContext = {},
  ): Promise<AgentResponse> {
    ctx.signal?.throwIfAborted();
    const last = messages.at(-1);
    const terminating = last !== undefined && this.isTermination(last);
    const inner: AgentEvent[] = [];
    const stop = (content: string) => ({
      message: message("stop", { source: this.name, content }),
      inner,
    });

    const ask = async (): Promise<string> => {
      const prompt = last ? `${last.source}: ${messageText(last)}\n${this.name}>` : `${this.name}>`;
      inner.push(message("user_input_requested", { source: this.name, prompt }));
      const answer = await this.input(prompt, ctx.signal);
      ctx.signal?.throwIfAborted();
      return answer.trim();
    };

    let reply: string | undefined;
    if (this.humanInputMode === "ALWAYS") {
      reply = await ask();
      if (reply === "" && terminating) reply = this.exitCommand;
    } else if (this.consecutiveAutoReplies >= this.maxAuto || terminating) {
      if (this.humanInputMode === "NEVER") {
        return stop(
          terminating
            ? "conversation ended: termination message received"
            : `conversation ended: ${this.maxAuto} automatic replies in a row`,
        );
      }
      reply = await ask();
      if (reply === "") reply = this.exitCommand;
    }

    if (reply === this.exitCommand) return stop("conversation ended by the user");
    if (reply) {
      this.consecutiveAutoReplies = 0;
      return { message: message("text", { source: this.name, content: reply }), inner };
    }
    this.consecutiveAutoReplies++;
    return {
      message: message("text", {
        source: this.name,
        content: this.autoReply,
        metadata: { autoReply: "true" },
      }),
      inner,
    };
  }

  override async reset(): Promise<void> {
    this.consecutiveAutoReplies = 0;
  }

  override async saveState(): Promise<JsonValue> {
    return { type: STATE_TYPE, version: 1, consecutiveAutoReplies: this.consecutiveAutoReplies };
  }

  override async loadState(state: JsonValue): Promise<void> {
    const s = state as { type?: unknown; consecutiveAutoReplies?: unknown } | null;
    if (
      !s ||
      typeof s !== "object" ||
      s.type !== STATE_TYPE ||
      typeof s.consecutiveAutoReplies !== "number"
    ) {
      throw new Error(
        `${this.name}: not a UserProxyAgent state (expected { type: "${STATE_TYPE}", consecutiveAutoReplies })`,
      );
    }
    this.consecutiveAutoReplies = s.consecutiveAutoReplies;
  }
}
