/**
 * The built-in termination conditions (AutoGen's set): max messages, text mention, token
 * usage, timeout, handoff, source match, function call, and an external trigger.
 */
import type { JsonValue } from "../agent.js";
import { type AnyMessage, isChatMessage, messageText } from "../messages.js";
import { asRecord, BaseTermination } from "./termination.js";

/** Stops after `max` chat messages (the task counts; events count only when asked). */
export class MaxMessageTermination extends BaseTermination {
  private count = 0;

  constructor(
    readonly max: number,
    readonly options: { includeAgentEvents?: boolean } = {},
  ) {
    super();
    if (!Number.isInteger(max) || max < 1) {
      throw new Error(`MaxMessageTermination: max must be a positive integer, got ${max}`);
    }
  }

  protected evaluate(messages: readonly AnyMessage[]): string | null {
    for (const m of messages) {
      if (this.options.includeAgentEvents || isChatMessage(m)) this.count++;
    }
    return this.count >= this.max
      ? `Maximum number of messages ${this.max} reached, current message count: ${this.count}`
      : null;
  }

  override reset(): void {
    super.reset();
    this.count = 0;
  }

  override saveState(): JsonValue {
    return { fired: this.fired, count: this.count };
  }

  override loadState(state: JsonValue): void {
    const s = asRecord(state, "MaxMessageTermination");
    super.loadState(s);
    this.count = typeof s.count === "number" ? s.count : 0;
  }
}

/** Stops when a chat message contains `text` (optionally only from some sources). */
export class TextMentionTermination extends BaseTermination {
  constructor(
    readonly text: string,
    readonly options: { sources?: string[] } = {},
  ) {
    super();
    if (text.length === 0) throw new Error("TextMentionTermination: text must not be empty");
  }

  protected evaluate(messages: readonly AnyMessage[]): string | null {
    const { sources } = this.options;
    for (const m of messages) {
      if (!isChatMessage(m) || m.type === "stop") continue;
      if (sources && !sources.includes(m.source)) continue;
      if (messageText(m).includes(this.text)) return `Text '${this.text}' mentioned by ${m.source}`;
    }
    return null;
  }
}

export interface TokenLimits {
  maxTotalTokens?: number;
  maxPromptTokens?: number;
  maxCompletionTokens?: number;
}

/** Stops once the tokens reported on messages and events reach any of the limits. */
export class TokenUsageTermination extends BaseTermination {
  private prompt = 0;
  private completion = 0;

  constructor(readonly limits: TokenLimits) {
    super();
    const { maxTotalTokens, maxPromptTokens, maxCompletionTokens } = limits;
    if (
      maxTotalTokens === undefined &&
      maxPromptTokens === undefined &&
      maxCompletionTokens === undefined
    ) {
      throw new Error(
        "TokenUsageTermination: give at least one of maxTotalTokens, maxPromptTokens, maxCompletionTokens",
      );
    }
  }

  protected evaluate(messages: readonly AnyMessage[]): string | null {
    // A chat message's usage already includes the calls behind its source's events (see
    // turnUsage); events count on their own only when no chat message of theirs reports usage
    // (a selector's speaker change, or an agent that reports usage on events only).
    const reported = new Set(
      messages.filter((m) => isChatMessage(m) && m.usage).map((m) => m.source),
    );
    for (const m of messages) {
      if (!m.usage || (!isChatMessage(m) && reported.has(m.source))) continue;
      this.prompt += m.usage.promptTokens;
      this.completion += m.usage.completionTokens;
    }
    const total = this.prompt + this.completion;
    const { maxTotalTokens, maxPromptTokens, maxCompletionTokens } = this.limits;
    if (maxTotalTokens !== undefined && total >= maxTotalTokens) {
      return `Token usage limit reached, total_tokens=${total} >= ${maxTotalTokens}`;
    }
    if (maxPromptTokens !== undefined && this.prompt >= maxPromptTokens) {
      return `Token usage limit reached, prompt_tokens=${this.prompt} >= ${maxPromptTokens}`;
    }
    if (maxCompletionTokens !== undefined && this.completion >= maxCompletionTokens) {
      return `Token usage limit reached, completion_tokens=${this.completion} >= ${maxCompletionTokens}`;
    }
    return null;
  }

  override reset(): void {
    super.reset();
    this.prompt = 0;
    this.completion = 0;
  }

  override saveState(): JsonValue {
    return { fired: this.fired, prompt: this.prompt, completion: this.completion };
  }

  override loadState(state: JsonValue): void {
    const s = asRecord(state, "TokenUsageTermination");
    super.loadState(s);
    this.prompt = typeof s.prompt === "number" ? s.prompt : 0;
    this.completion = typeof s.completion === "number" ? s.completion : 0;
  }
}

/**
 * Stops when `seconds` have passed since the first check of this run (checked after each
 * turn; pair it with an AbortSignal to interrupt a turn that is itself too long).
 */
export class TimeoutTermination extends BaseTermination {
  private startedAt: number | null = null;

  constructor(
    readonly seconds: number,
    private readonly now: () => number = Date.now,
  ) {
    super();
    if (!(seconds > 0)) throw new Error(`TimeoutTermination: seconds must be > 0, got ${seconds}`);
  }

  protected evaluate(): string | null {
    const t = this.now();
    this.startedAt ??= t;
    const elapsed = (t - this.startedAt) / 1000;
    return elapsed >= this.seconds
      ? `Timeout of ${this.seconds}s reached after ${elapsed.toFixed(3)}s`
      : null;
  }

  override reset(): void {
    super.reset();
    this.startedAt = null;
  }

  /** The start time is saved, so a run resumed after a crash keeps its deadline. */
  override saveState(): JsonValue {
    return { fired: this.fired, startedAt: this.startedAt };
  }

  override loadState(state: JsonValue): void {
    const s = asRecord(state, "TimeoutTermination");
    super.loadState(s);
    this.startedAt = typeof s.startedAt === "number" ? s.startedAt : null;
  }
}

/** Stops when an agent hands off to `target` (e.g. "user" in a Swarm with a human). */
export class HandoffTermination extends BaseTermination {
  constructor(readonly target: string) {
    super();
  }

  protected evaluate(messages: readonly AnyMessage[]): string | null {
    for (const m of messages) {
      if (m.type === "handoff" && m.target === this.target) {
        return `Handoff to ${this.target} from ${m.source} detected`;
      }
    }
    return null;
  }
}

/** Stops as soon as one of `sources` has spoken. */
export class SourceMatchTermination extends BaseTermination {
  constructor(readonly sources: string[]) {
    super();
    if (sources.length === 0) throw new Error("SourceMatchTermination: give at least one source");
  }

  protected evaluate(messages: readonly AnyMessage[]): string | null {
    for (const m of messages) {
      if (isChatMessage(m) && this.sources.includes(m.source)) return `'${m.source}' answered`;
    }
    return null;
  }
}

/** Stops when a tool named `functionName` has been executed (successfully). */
export class FunctionCallTermination extends BaseTermination {
  constructor(readonly functionName: string) {
    super();
  }

  protected evaluate(messages: readonly AnyMessage[]): string | null {
    for (const m of messages) {
      const results =
        m.type === "tool_call_execution"
          ? m.results
          : m.type === "tool_call_summary"
            ? m.results
            : [];
      if (results.some((r) => r.name === this.functionName && !r.isError)) {
        return `Function '${this.functionName}' was executed`;
      }
    }
    return null;
  }
}

/** Stops when a StopMessage arrives from an agent. */
export class StopMessageTermination extends BaseTermination {
  protected evaluate(messages: readonly AnyMessage[]): string | null {
    const s = messages.find((m) => m.type === "stop");
    return s ? `Stop message received from ${s.source}` : null;
  }
}

/**
 * Stops when `set()` is called from outside the team (a button, a signal handler, an HTTP
 * request); the team stops after the turn in progress, so nothing is cut in half.
 */
export class ExternalTermination extends BaseTermination {
  private requested = false;

  set(): void {
    this.requested = true;
  }

  protected evaluate(): string | null {
    return this.requested ? "External termination requested" : null;
  }

  override reset(): void {
    super.reset();
    this.requested = false;
  }
}

/** Stops when `predicate` says so: the escape hatch for anything not built in. */
export class FunctionalTermination extends BaseTermination {
  constructor(
    private readonly predicate: (messages: readonly AnyMessage[]) => boolean | Promise<boolean>,
    readonly reason = "Functional termination condition met",
  ) {
    super();
  }

  protected async evaluate(messages: readonly AnyMessage[]): Promise<string | null> {
    return (await this.predicate(messages)) ? this.reason : null;
  }
}
