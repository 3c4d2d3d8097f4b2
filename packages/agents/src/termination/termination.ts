/**
 * Termination conditions: small stateful predicates a team consults after every turn. They
 * see the messages and events of that turn and answer with a StopMessage (stop, and why) or
 * null (go on). Combine them with `or` / `and`; a team resets its condition at the end of
 * each run, so `run()` can be called again to continue the conversation.
 */
import type { JsonValue } from "../agent.js";
import { type AnyMessage, message, type StopMessage } from "../messages.js";

export interface TerminationCondition {
  /** True once the condition has fired (until `reset`). */
  readonly terminated: boolean;
  /** Looks at the messages of one turn; returns a StopMessage when the team must stop. */
  check(messages: readonly AnyMessage[]): Promise<StopMessage | null>;
  reset(): void;
  /** Plain JSON, so a checkpointed team resumes with its counters intact. */
  saveState(): JsonValue;
  loadState(state: JsonValue): void;
  /** Stops when this condition or `other` fires. */
  or(other: TerminationCondition): TerminationCondition;
  /** Stops once this condition and `other` have both fired (not necessarily in the same turn). */
  and(other: TerminationCondition): TerminationCondition;
}

/** Shared plumbing: the `terminated` latch, `or`/`and`, and stop-message construction. */
export abstract class BaseTermination implements TerminationCondition {
  protected fired = false;

  get terminated(): boolean {
    return this.fired;
  }

  async check(messages: readonly AnyMessage[]): Promise<StopMessage | null> {
    if (this.fired) throw new Error(`${this.constructor.name} has already fired; reset it first`);
    const reason = await this.evaluate(messages);
    if (reason === null) return null;
    this.fired = true;
    return stop(reason);
  }

  /** Returns the reason to stop, or null. */
  protected abstract evaluate(
    messages: readonly AnyMessage[],
  ): Promise<string | null> | string | null;

  reset(): void {
    this.fired = false;
  }

  saveState(): JsonValue {
    return { fired: this.fired };
  }

  loadState(state: JsonValue): void {
    this.fired = Boolean(asRecord(state, this.constructor.name).fired);
  }

  or(other: TerminationCondition): TerminationCondition {
    return new OrTermination([this, other]);
  }

  and(other: TerminationCondition): TerminationCondition {
    return new AndTermination([this, other]);
  }
}

export function stop(reason: string): StopMessage {
  return message("stop", { source: "termination", content: reason });
}

export function asRecord(state: JsonValue, what: string): Record<string, JsonValue> {
  if (state === null || typeof state !== "object" || Array.isArray(state)) {
    throw new Error(`${what}: state must be a JSON object, got ${JSON.stringify(state)}`);
  }
  return state;
}

/** Stops as soon as any of its conditions fires. */
export class OrTermination extends BaseTermination {
  constructor(readonly conditions: TerminationCondition[]) {
    super();
    if (conditions.length === 0) throw new Error("OrTermination needs at least one condition");
  }

  protected async evaluate(messages: readonly AnyMessage[]): Promise<string | null> {
    const reasons: string[] = [];
    for (const c of this.conditions) {
      const s = await c.check(messages);
      if (s) reasons.push(s.content);
    }
    return reasons.length > 0 ? reasons.join("; ") : null;
  }

  override reset(): void {
    super.reset();
    for (const c of this.conditions) c.reset();
  }

  override saveState(): JsonValue {
    return { fired: this.fired, conditions: this.conditions.map((c) => c.saveState()) };
  }

  override loadState(state: JsonValue): void {
    const s = asRecord(state, "OrTermination");
    super.loadState(s);
    loadChildren(this.conditions, s.conditions, "OrTermination");
  }

  override or(other: TerminationCondition): TerminationCondition {
    return new OrTermination([...this.conditions, other]);
  }
}

/** Stops once every one of its conditions has fired; each latches when it fires. */
export class AndTermination extends BaseTermination {
  private readonly reasons: (string | null)[];

  constructor(readonly conditions: TerminationCondition[]) {
    super();
    if (conditions.length === 0) throw new Error("AndTermination needs at least one condition");
    this.reasons = conditions.map(() => null);
  }

  protected async evaluate(messages: readonly AnyMessage[]): Promise<string | null> {
    for (const [i, c] of this.conditions.entries()) {
      if (c.terminated) continue;
      const s = await c.check(messages);
      if (s) this.reasons[i] = s.content;
    }
    if (!this.conditions.every((c) => c.terminated)) return null;
    return this.reasons.map((r) => r ?? "(fired)").join("; ");
  }

  override reset(): void {
    super.reset();
    this.reasons.fill(null);
    for (const c of this.conditions) c.reset();
  }

  override saveState(): JsonValue {
    return {
      fired: this.fired,
      reasons: [...this.reasons],
      conditions: this.conditions.map((c) => c.saveState()),
    };
  }

  override loadState(state: JsonValue): void {
    const s = asRecord(state, "AndTermination");
    super.loadState(s);
    const reasons = Array.isArray(s.reasons) ? s.reasons : [];
    for (let i = 0; i < this.reasons.length; i++) {
      const r = reasons[i];
      this.reasons[i] = typeof r === "string" ? r : null;
    }
    loadChildren(this.conditions, s.conditions, "AndTermination");
  }

  override and(other: TerminationCondition): TerminationCondition {
    return new AndTermination([...this.conditions, other]);
  }
}

function loadChildren(
  children: TerminationCondition[],
  state: JsonValue | undefined,
  what: string,
) {
  if (!Array.isArray(state) || state.length !== children.length) {
    throw new Error(
      `${what}: state has ${Array.isArray(state) ? state.length : 0} conditions, expected ${children.length}`,
    );
  }
  for (const [i, c] of children.entries()) c.loadState(state[i] as JsonValue);
}

/** Stops when any of `conditions` fires. */
export function or(...conditions: TerminationCondition[]): TerminationCondition {
  return new OrTermination(conditions);
}

/** Stops once all of `conditions` have fired. */
export function and(...conditions: TerminationCondition[]): TerminationCondition {
  return new AndTermination(conditions);
}
