import type { ChatAgent, JsonValue } from "../agent.js";
import {
  addUsage,
  type ChatMessage,
  type LLMMessage,
  messageText,
  type Usage,
  ZERO_USAGE,
} from "../messages.js";
import type { ModelClient } from "../model-client.js";
import { tracedModelClient } from "../tracing/traced.js";
import { BaseGroupChat, type GroupChatOptions, type SpeakerSelection } from "./base-group-chat.js";

export const DEFAULT_SELECTOR_PROMPT = `You are in a role play game. The following roles are available:
{roles}.
Read the following conversation. Then select the next role from {participants} to play. Only return the role.

{history}

Read the above conversation. Then select the next role from {participants} to play. Only return the role.`;

export interface SelectorGroupChatOptions extends GroupChatOptions {
  /** The model that picks the next speaker. */
  model: ModelClient;
  /** The prompt, with {roles}, {participants} and {history} placeholders. */
  selectorPrompt?: string;
  /** May the same agent speak twice in a row? (default false) */
  allowRepeatedSpeaker?: boolean;
  /** Model attempts before falling back (default 3). */
  maxSelectorAttempts?: number;
  /**
   * Picks the speaker without the model; return null to let the model choose. A name that
   * is not a participant is an error.
   */
  selectorFunc?: (thread: readonly ChatMessage[]) => string | null | Promise<string | null>;
  /** Narrows the candidates the model chooses from (before transitions apply). */
  candidateFunc?: (thread: readonly ChatMessage[]) => string[] | Promise<string[]>;
  /** Who may follow whom: `allowed[a]` lists who may speak after `a`; `disallowed[a]` who may not. */
  transitions?: {
    allowed?: Record<string, string[]>;
    disallowed?: Record<string, string[]>;
  };
  /**
   * Who speaks when the model names nobody valid after every attempt: the previous speaker
   * (default; the first candidate on the first turn), the first candidate, or the next
   * candidate in round-robin order.
   */
  fallback?: "previous" | "first" | "round_robin";
  /** Only the last N messages go into {history} (default: all). */
  historyLimit?: number;
}

/**
 * A model reads the conversation and names the next speaker (AutoGen's SelectorGroupChat).
 * The selector's own token usage is counted under `<team>/selector` and streamed on the
 * speaker-change event, so token-usage termination sees it too.
 */
export class SelectorGroupChat extends BaseGroupChat {
  private previous: string | null = null;
  private readonly model: ModelClient;
  private readonly options: SelectorGroupChatOptions;

  constructor(participants: readonly ChatAgent[], options: SelectorGroupChatOptions) {
    super(participants, { ...options, defaultName: "selector_group_chat" });
    if (!options.model) throw new Error(`${this.name}: a SelectorGroupChat needs a model`);
    if (participants.length < 2 && !options.allowRepeatedSpeaker) {
      throw new Error(
        `${this.name}: a SelectorGroupChat with one participant needs allowRepeatedSpeaker: true`,
      );
    }
    for (const [kind, table] of Object.entries(options.transitions ?? {})) {
      for (const [from, tos] of Object.entries(table ?? {})) {
        for (const n of [from, ...tos]) {
          if (!this.byName.has(n)) {
            throw new Error(
              `${this.name}: transitions.${kind} names ${JSON.stringify(n)}, which is not a participant`,
            );
          }
        }
      }
    }
    this.options = options;
    this.model = tracedModelClient(options.model, `${this.name}/selector`);
  }

  protected async selectSpeakers(
    thread: readonly ChatMessage[],
    signal?: AbortSignal,
  ): Promise<SpeakerSelection> {
    const pick = await this.choose(thread, signal);
    this.previous = pick.speakers[0] ?? this.previous;
    return pick;
  }

  private async choose(
    thread: readonly ChatMessage[],
    signal?: AbortSignal,
  ): Promise<SpeakerSelection> {
    const { selectorFunc } = this.options;
    if (selectorFunc) {
      const chosen = await selectorFunc(thread);
      if (chosen !== null) {
        if (!this.byName.has(chosen)) {
          throw new Error(
            `${this.name}: selectorFunc returned ${JSON.stringify(chosen)}, which is not a participant (${[...this.byName.keys()].join(", ")})`,
          );
        }
        return { speakers: [chosen] };
      }
    }
    const candidates = await this.candidates(thread);
    if (candidates.length === 1) return { speakers: [candidates[0]] };

    const roles = candidates
      .map((n) => `${n}: ${(this.byName.get(n) as ChatAgent).description}`)
      .join("\n");
    const recent = this.options.historyLimit ? thread.slice(-this.options.historyLimit) : thread;
    const history = recent.map((m) => `${m.source}: ${messageText(m)}`).join("\n");
    const prompt = (this.options.selectorPrompt ?? DEFAULT_SELECTOR_PROMPT)
      .replaceAll("{roles}", roles)
      .replaceAll("{participants}", `[${candidates.join(", ")}]`)
      .replaceAll("{history}", history);
    const messages: LLMMessage[] = [{ role: "user", content: prompt }];
    const attempts = this.options.maxSelectorAttempts ?? 3;
    let usage: Usage = { ...ZERO_USAGE };
    for (let attempt = 0; attempt < attempts; attempt++) {
      const result = await this.model.create({ messages, signal });
      usage = addUsage(usage, result.usage);
      const text = result.content ?? "";
      const mentioned = mentionedAgents(text, candidates);
      if (mentioned.length === 1) return { speakers: mentioned, usage };
      messages.push({ role: "assistant", content: text });
      messages.push({
        role: "user",
        content:
          mentioned.length === 0
            ? `No valid name was mentioned. Please select exactly one name from: [${candidates.join(", ")}].`
            : `Expected exactly one name, but got [${mentioned.join(", ")}]. Please select exactly one name from: [${candidates.join(", ")}].`,
      });
    }
    return { speakers: [this.fallback(candidates)], usage };
  }

  private async candidates(thread: readonly ChatMessage[]): Promise<string[]> {
    let names = this.options.candidateFunc
      ? await this.options.candidateFunc(thread)
      : this.participants.map((p) => p.name);
    for (const n of names) {
      if (!this.byName.has(n)) {
        throw new Error(
          `${this.name}: candidateFunc returned ${JSON.stringify(n)}, which is not a participant`,
        );
      }
    }
    const prev = this.previous;
    if (prev !== null) {
      const allowed = this.options.transitions?.allowed?.[prev];
      const disallowed = this.options.transitions?.disallowed?.[prev] ?? [];
      if (allowed) names = names.filter((n) => allowed.includes(n));
      names = names.filter((n) => !disallowed.includes(n));
      if (!this.options.allowRepeatedSpeaker && names.length > 1)
        names = names.filter((n) => n !== prev);
    }
    if (names.length === 0) {
      throw new Error(
        `${this.name}: no participant may speak after ${prev ?? "the task"}: the candidates and transitions leave nobody`,
      );
    }
    return names;
  }

  private fallback(candidates: string[]): string {
    const mode = this.options.fallback ?? "previous";
    if (mode === "previous" && this.previous !== null && candidates.includes(this.previous))
      return this.previous;
    if (mode === "round_robin" && this.previous !== null) {
      const order = this.participants.map((p) => p.name);
      for (let i = 1; i <= order.length; i++) {
        const n = order[(order.indexOf(this.previous) + i) % order.length];
        if (candidates.includes(n)) return n;
      }
    }
    return candidates[0];
  }

  protected saveManagerState(): JsonValue {
    return { previous: this.previous };
  }

  protected loadManagerState(state: JsonValue): void {
    const prev = (state as { previous?: unknown } | null)?.previous;
    this.previous = typeof prev === "string" && this.byName.has(prev) ? prev : null;
  }

  protected resetManager(): void {
    this.previous = null;
  }
}

/**
 * The candidates a selector's answer names. An answer that is exactly one name wins;
 * otherwise names are matched as whole words (an agent named `code_writer` also matches
 * "code writer"), and a longer name hides a shorter one it contains.
 */
export function mentionedAgents(text: string, candidates: readonly string[]): string[] {
  const trimmed = text.trim().replace(/^["'`*]+|["'`*.]+$/g, "");
  const exact = candidates.find((c) => c.toLowerCase() === trimmed.toLowerCase());
  if (exact) return [exact];
  const found: { name: string; start: number; end: number }[] = [];
  for (const name of candidates) {
    const variants = new Set([name, name.replaceAll("_", " "), name.replaceAll("-", " ")]);
    for (const v of variants) {
      const re = new RegExp(`(?<![A-Za-z0-9_-])${escapeRegExp(v)}(?![A-Za-z0-9_-])`, "gi");
      for (const m of text.matchAll(re))
        found.push({ name, start: m.index, end: m.index + m[0].length });
    }
  }
  const kept = found.filter(
    (f) =>
      !found.some(
        (g) => g !== f && g.name.length > f.name.length && g.start <= f.start && g.end >= f.end,
      ),
  );
  return [...new Set(kept.map((f) => f.name))];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
