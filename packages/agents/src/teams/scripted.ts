/**
 * ScriptedAgent: a deterministic participant for tests, demos and docs. It answers from a
 * script (text, whole messages, or functions of what it received), streams its text as token
 * deltas, and keeps its turn count and history in `saveState()` like a real agent.
 */
import {
  type AgentResponse,
  type AgentStreamItem,
  BaseChatAgent,
  type JsonValue,
  type TurnContext,
} from "../agent.js";
import { type AgentEvent, type ChatMessage, message, type Usage } from "../messages.js";

export interface ScriptedReply {
  /** The reply: text, or a complete message (a handoff, a stop, ...). */
  message: string | ChatMessage;
  /** Events to report before the reply (tool calls, code execution). */
  inner?: AgentEvent[];
  usage?: Usage;
}

export type ScriptStep =
  | string
  | ScriptedReply
  | ((
      incoming: ChatMessage[],
      turn: number,
    ) => string | ScriptedReply | Promise<string | ScriptedReply>);

export interface ScriptedAgentOptions {
  description?: string;
  /** Wait this long per turn (cancellable), to simulate a model. */
  delayMs?: number;
  /** Start the script again when it runs out (default: an error). */
  loop?: boolean;
}

export class ScriptedAgent extends BaseChatAgent {
  private turns = 0;
  private history: ChatMessage[] = [];

  constructor(
    name: string,
    private readonly script:
      | ScriptStep[]
      | ((
          incoming: ChatMessage[],
          turn: number,
        ) => string | ScriptedReply | Promise<string | ScriptedReply>),
    private readonly options: ScriptedAgentOptions = {},
  ) {
    super(name, options.description ?? `scripted agent ${name}`);
  }

  /** Messages received so far, in order. */
  get received(): readonly ChatMessage[] {
    return this.history;
  }

  get turnCount(): number {
    return this.turns;
  }

  async onMessages(messages: ChatMessage[], ctx?: TurnContext): Promise<AgentResponse> {
    let response: AgentResponse | undefined;
    for await (const item of this.onMessagesStream(messages, ctx)) {
      if (item.type === "response") response = item.response;
    }
    return response as AgentResponse;
  }

  override async *onMessagesStream(
    messages: ChatMessage[],
    ctx?: TurnContext,
  ): AsyncIterable<AgentStreamItem> {
    const signal = ctx?.signal;
    signal?.throwIfAborted();
    if (this.options.delayMs) await sleep(this.options.delayMs, signal);
    const turn = this.turns;
    const step = this.stepFor(turn);
    const raw = typeof step === "function" ? await step(messages, turn) : step;
    const reply: ScriptedReply = typeof raw === "string" ? { message: raw } : raw;
    const inner = reply.inner ?? [];
    for (const e of inner) yield e;
    let final: ChatMessage;
    if (typeof reply.message === "string") {
      const words = reply.message.split(/(?<=\s)/);
      for (const delta of words) yield message("token_delta", { source: this.name, delta });
      final = message("text", {
        source: this.name,
        content: reply.message,
        ...(reply.usage ? { usage: reply.usage } : {}),
      });
    } else {
      final = reply.usage ? { ...reply.message, usage: reply.usage } : reply.message;
    }
    signal?.throwIfAborted();
    this.history.push(...messages, final);
    this.turns++;
    yield { type: "response", response: { message: final, inner } };
  }

  private stepFor(turn: number): ScriptStep {
    if (typeof this.script === "function") return this.script;
    if (turn >= this.script.length && !this.options.loop) {
      throw new Error(`${this.name}: script exhausted after ${this.script.length} replies`);
    }
    return this.script[turn % this.script.length];
  }

  async reset(): Promise<void> {
    this.turns = 0;
    this.history = [];
  }

  async saveState(): Promise<JsonValue> {
    return { turns: this.turns, history: [...this.history] as unknown as JsonValue };
  }

  async loadState(state: JsonValue): Promise<void> {
    const s = state as { turns?: number; history?: ChatMessage[] } | null;
    this.turns = s?.turns ?? 0;
    this.history = structuredClone(s?.history ?? []);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
