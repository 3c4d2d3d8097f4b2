/**
 * SocietyOfMindAgent (AutoGen's): an agent whose "thinking" is a whole inner team. Given the
 * messages of its turn, it runs the team on them, then a model reads the inner conversation
 * and writes the one answer the outside world sees. (A team placed directly in another team
 * answers with its last message instead; use this when the inner transcript needs distilling.)
 */
import { type AgentResponse, BaseChatAgent, type JsonValue, type TurnContext } from "../agent.js";
import {
  type AgentEvent,
  addUsage,
  type ChatMessage,
  isChatMessage,
  type LLMMessage,
  message,
  messageText,
  toLLMMessage,
  type Usage,
  ZERO_USAGE,
} from "../messages.js";
import type { ModelClient } from "../model-client.js";
import { asRecord } from "../termination/termination.js";
import type { Team } from "./team.js";

export const DEFAULT_SOM_INSTRUCTION =
  "Earlier you were asked to fulfill a request. You and your team worked diligently to address that request. Here is a transcript of that conversation:";

export const DEFAULT_SOM_RESPONSE_PROMPT =
  "Output a standalone response to the original request, without mentioning any of the intermediate discussion.";

export interface SocietyOfMindAgentOptions {
  team: Team;
  model: ModelClient;
  description?: string;
  instruction?: string;
  responsePrompt?: string;
}

export class SocietyOfMindAgent extends BaseChatAgent {
  private readonly team: Team;
  private readonly model: ModelClient;
  private readonly instruction: string;
  private readonly responsePrompt: string;
  /** What this agent has seen and said, as its model reads it next time. */
  private history: LLMMessage[] = [];

  constructor(name: string, options: SocietyOfMindAgentOptions) {
    super(name, options.description ?? `An agent that thinks with a team (${options.team.name}).`);
    this.team = options.team;
    this.model = options.model;
    this.instruction = options.instruction ?? DEFAULT_SOM_INSTRUCTION;
    this.responsePrompt = options.responsePrompt ?? DEFAULT_SOM_RESPONSE_PROMPT;
  }

  async onMessages(messages: ChatMessage[], ctx: TurnContext = {}): Promise<AgentResponse> {
    const result = await this.team.run({ task: messages, signal: ctx.signal });
    const given = new Set(messages.map((m) => m.id));
    const inner = result.messages.filter((m) => !given.has(m.id));
    const transcript = inner
      .filter((m): m is ChatMessage => isChatMessage(m) && m.type !== "stop")
      .map((m) => `${m.source}: ${messageText(m)}`)
      .join("\n");
    this.history.push(...messages.map(toLLMMessage));
    const response = await this.model.create({
      messages: [
        { role: "system", content: this.instruction },
        ...this.history,
        { role: "user", content: `${transcript}\n\n${this.responsePrompt}` },
      ],
      signal: ctx.signal,
    });
    let usage: Usage = addUsage(ZERO_USAGE, response.usage);
    for (const u of Object.values(result.usage)) usage = addUsage(usage, u);
    const content = response.content ?? "";
    this.history.push({ role: "assistant", content, name: this.name });
    const events = inner
      .filter((m): m is AgentEvent => !isChatMessage(m))
      .map(({ usage: _, ...e }) => e as AgentEvent);
    return { message: message("text", { source: this.name, content, usage }), inner: events };
  }

  async reset(): Promise<void> {
    this.history = [];
    await this.team.reset();
  }

  async saveState(): Promise<JsonValue> {
    return {
      history: structuredClone(this.history) as unknown as JsonValue,
      team: await this.team.saveState(),
    };
  }

  async loadState(state: JsonValue): Promise<void> {
    const s = asRecord(state, `${this.name}.loadState`);
    if (!Array.isArray(s.history))
      throw new Error(`${this.name}.loadState: history must be an array`);
    this.history = structuredClone(s.history) as unknown as LLMMessage[];
    await this.team.loadState(s.team ?? null);
  }
}
