/**
 * The engine every group chat shares: a transcript, a turn loop, termination, streaming,
 * cancellation, pause/resume, per-agent token usage, tracing, and a checkpoint after every
 * completed turn. Subclasses only decide who speaks next (`selectSpeakers`).
 *
 * Delivery: every chat message is broadcast. When an agent speaks it receives the messages
 * added since its previous turn, except its own (it already holds those in its history).
 */
import type { Span } from "@opentelemetry/api";
import type {
  AgentResponse,
  AgentStreamItem,
  ChatAgent,
  JsonValue,
  TurnContext,
} from "../agent.js";
import {
  type AgentEvent,
  type AnyMessage,
  addUsage,
  type ChatMessage,
  isChatMessage,
  message,
  messageText,
  type StopMessage,
  type Usage,
  ZERO_USAGE,
} from "../messages.js";
import type { Checkpointer } from "../state/checkpointer.js";
import type { TerminationCondition } from "../termination/termination.js";
import { asRecord } from "../termination/termination.js";
import { setUsageAttributes, withSpanStream } from "../tracing/tracing.js";
import { mergeStreams } from "./merge.js";
import type { RunOptions, Task, TaskResult, Team, TeamStreamItem } from "./team.js";

export interface GroupChatOptions {
  /** The team's name when it takes part in another team (default: derived from the class). */
  name?: string;
  description?: string;
  termination?: TerminationCondition;
  /** Stops a run after this many turns (a turn: one speaker, or one fan-out of a graph). */
  maxTurns?: number;
  /** Where to write a checkpoint after every completed turn. */
  checkpointer?: Checkpointer;
  /** The checkpoint thread (default: the team's name). */
  threadId?: string;
}

/** A manager's choice: who speaks this turn, and what choosing cost. */
export interface SpeakerSelection {
  /** One name; several for a graph's fan-out; none when the team has nothing left to do. */
  speakers: string[];
  /** Why nobody can speak (with an empty `speakers`). */
  reason?: string;
  /** Tokens a model spent choosing (a selector's own calls). */
  usage?: Usage;
}

const STATE_VERSION = 1;

export abstract class BaseGroupChat implements Team {
  readonly name: string;
  readonly description: string;
  readonly participants: readonly ChatAgent[];
  protected readonly byName: ReadonlyMap<string, ChatAgent>;
  protected readonly termination?: TerminationCondition;
  protected readonly maxTurns?: number;
  readonly checkpointer?: Checkpointer;
  readonly threadId: string;

  private thread: ChatMessage[] = [];
  private cursors: Record<string, number> = {};
  private turn = 0;
  /** Index in `thread` where the current run began; null when no run is in progress. */
  private runStart: number | null = null;
  private runTurns = 0;
  private totalUsage: Record<string, Usage> = {};
  private runUsage: Record<string, Usage> = {};
  private running = false;
  private pauseGate: { promise: Promise<void>; release: () => void } | null = null;

  constructor(
    participants: readonly ChatAgent[],
    options: GroupChatOptions & { defaultName: string },
  ) {
    if (participants.length === 0)
      throw new Error(`${options.defaultName}: a team needs at least one participant`);
    const byName = new Map<string, ChatAgent>();
    for (const p of participants) {
      if (byName.has(p.name)) {
        throw new Error(
          `${options.defaultName}: two participants are named ${JSON.stringify(p.name)}; names must be unique`,
        );
      }
      byName.set(p.name, p);
    }
    if (
      options.maxTurns !== undefined &&
      !(Number.isInteger(options.maxTurns) && options.maxTurns > 0)
    ) {
      throw new Error(
        `${options.defaultName}: maxTurns must be a positive integer, got ${options.maxTurns}`,
      );
    }
    this.participants = [...participants];
    this.byName = byName;
    this.name = options.name ?? options.defaultName;
    this.description =
      options.description ?? `A team of ${participants.map((p) => p.name).join(", ")}`;
    this.termination = options.termination;
    this.maxTurns = options.maxTurns;
    this.checkpointer = options.checkpointer;
    this.threadId = options.threadId ?? this.name;
  }

  // ---------------------------------------------------------------------------------------------
  // What subclasses provide.
  // ---------------------------------------------------------------------------------------------

  /** Chooses who speaks next, given the conversation so far. */
  protected abstract selectSpeakers(
    thread: readonly ChatMessage[],
    signal?: AbortSignal,
  ): Promise<SpeakerSelection>;

  /** Called after every completed turn with the speakers' responses (before the checkpoint). */
  protected afterTurn(_responses: readonly { speaker: string; message: ChatMessage }[]): void {}

  /** Called when a run ends, whatever the reason. */
  protected onRunEnd(_completed: boolean): void {}

  protected abstract saveManagerState(): JsonValue;
  protected abstract loadManagerState(state: JsonValue): void;
  protected abstract resetManager(): void;

  // ---------------------------------------------------------------------------------------------
  // Running.
  // ---------------------------------------------------------------------------------------------

  get transcript(): readonly ChatMessage[] {
    return this.thread;
  }

  get usage(): Readonly<Record<string, Usage>> {
    return this.totalUsage;
  }

  get paused(): boolean {
    return this.pauseGate !== null;
  }

  pause(): void {
    if (this.pauseGate) return;
    let release = () => {};
    const promise = new Promise<void>((r) => {
      release = r;
    });
    this.pauseGate = { promise, release };
  }

  resume(): void {
    const gate = this.pauseGate;
    this.pauseGate = null;
    gate?.release();
  }

  async run(options?: RunOptions | Task): Promise<TaskResult> {
    for await (const item of this.runStream(options)) {
      if (item.type === "task_result") return item.result;
    }
    throw new Error(`${this.name}: run ended without a result`);
  }

  async *runStream(options?: RunOptions | Task): AsyncGenerator<TeamStreamItem, void, undefined> {
    const opts = normalizeRunOptions(options);
    if (this.running)
      throw new Error(`${this.name} is already running; wait for the run to end or cancel it`);
    this.running = true;
    try {
      yield* withSpanStream(
        `team.run ${this.name}`,
        { "athanor.team.name": this.name, "athanor.team.type": this.constructor.name },
        (span) => this.loop(opts, span),
      );
    } finally {
      this.running = false;
    }
  }

  private async *loop(
    opts: RunOptions,
    span: Span,
  ): AsyncGenerator<TeamStreamItem, void, undefined> {
    const { signal } = opts;
    signal?.throwIfAborted();
    let resumedRun = false;
    if (opts.resume && this.checkpointer) {
      const latest = await this.checkpointer.getLatest(this.threadId);
      if (latest) {
        await this.loadState(latest.state);
        resumedRun = this.runStart !== null;
        span.setAttribute("athanor.resumed_from_turn", latest.step);
      }
    }
    let lastCompleted = await this.saveState();
    const produced: AnyMessage[] = [];
    let stopMessage: StopMessage | null = null;
    let stopReason: string | null = null;

    let finished = false;
    try {
      if (this.runStart === null) {
        this.runStart = this.thread.length;
        this.runTurns = 0;
        this.runUsage = {};
      }
      const task = resumedRun ? [] : taskMessages(opts.task);
      if (task.length > 0) {
        this.thread.push(...task);
        for (const m of task) {
          produced.push(m);
          yield m;
        }
        stopMessage = (await this.termination?.check(task)) ?? null;
      }

      while (stopMessage === null) {
        await this.waitWhilePaused(signal);
        signal?.throwIfAborted();
        // Conditions that do not depend on messages (an external trigger, a timeout) may have
        // fired while the consumer was looking at the last turn, or while the team was paused.
        stopMessage = (await this.termination?.check([])) ?? null;
        if (stopMessage) break;
        if (this.maxTurns !== undefined && this.runTurns >= this.maxTurns) {
          stopReason = `Maximum number of turns ${this.maxTurns} reached`;
          break;
        }
        const selection = await this.selectSpeakers(this.thread, signal);
        if (selection.speakers.length === 0) {
          stopReason = selection.reason ?? "No speaker was selected";
          break;
        }
        for (const s of selection.speakers) {
          if (!this.byName.has(s)) {
            throw new Error(
              `${this.name}: selected speaker ${JSON.stringify(s)} is not a participant (${[...this.byName.keys()].join(", ")})`,
            );
          }
        }
        const delta: AnyMessage[] = [];
        const change = message("speaker_change", {
          source: selection.usage ? `${this.name}/selector` : this.name,
          speakers: selection.speakers,
          ...(selection.usage ? { usage: selection.usage } : {}),
        });
        this.countUsage(change.source, selection.usage);
        delta.push(change);
        produced.push(change);
        yield change;

        const responses: AgentResponse[] = new Array(selection.speakers.length);
        const streams = selection.speakers.map((s) => this.speak(s, signal));
        // Chat messages inside a stream wait for its response: an agent may stream its final
        // message before the response that carries it, and the team emits that one once.
        const held: ChatMessage[][] = selection.speakers.map(() => []);
        for await (const { index, item } of mergeStreams(streams)) {
          if (item.type === "response") {
            responses[index] = item.response;
            for (const m of held[index]) {
              if (m.id === item.response.message.id) continue;
              delta.push(m);
              produced.push(m);
              yield m;
            }
            continue;
          }
          if (isChatMessage(item)) {
            held[index].push(item);
            continue;
          }
          delta.push(item);
          produced.push(item);
          yield item;
        }

        const before = this.thread.length;
        const turnMessages: { speaker: string; message: ChatMessage }[] = [];
        for (const [i, speaker] of selection.speakers.entries()) {
          const response = responses[i];
          if (!response)
            throw new Error(`${this.name}: ${speaker} ended its turn without a response`);
          this.countUsage(response.message.source, turnUsage(response));
          this.thread.push(response.message);
          turnMessages.push({ speaker, message: response.message });
          delta.push(response.message);
        }
        for (const speaker of selection.speakers) this.cursors[speaker] = before;
        this.turn++;
        this.runTurns++;
        this.afterTurn(turnMessages);
        stopMessage = (await this.termination?.check(delta)) ?? null;
        if (stopMessage) this.endRun(true);
        lastCompleted = await this.saveState();
        await this.checkpointer?.put(this.threadId, this.turn, lastCompleted, {
          speakers: selection.speakers.join(","),
          team: this.name,
        });
        // Yielded after the checkpoint: a message a consumer has seen survives a crash.
        for (const { message: m } of turnMessages) {
          produced.push(m);
          yield m;
        }
      }
      if (this.runStart !== null) {
        // Stopped by the task itself, by maxTurns, or because nobody could speak.
        this.endRun(stopMessage !== null || stopReason !== null);
        await this.checkpointer?.put(this.threadId, this.turn, await this.saveState(), {
          team: this.name,
        });
      }
      finished = true;
    } finally {
      // Cancelled, failed, or abandoned by the consumer: roll back to the last completed turn,
      // so a later run (or a resume) redoes the interrupted turn cleanly instead of seeing half.
      if (!finished) await this.loadState(lastCompleted);
    }

    if (stopMessage) {
      stopReason = stopMessage.content;
      produced.push(stopMessage);
      yield stopMessage;
    }
    span.setAttribute("athanor.turns", this.turn);
    if (stopReason) span.setAttribute("athanor.stop_reason", stopReason);
    const result: TaskResult = {
      messages: produced,
      stopReason,
      usage: { ...this.runUsageSnapshot },
    };
    yield { type: "task_result", result };
  }

  private runUsageSnapshot: Record<string, Usage> = {};

  private endRun(completed: boolean): void {
    this.runUsageSnapshot = this.runUsage;
    this.runStart = null;
    this.runTurns = 0;
    this.runUsage = {};
    this.termination?.reset();
    this.onRunEnd(completed);
  }

  /** One agent's turn: its stream of events, inside an `agent.turn` span. */
  private speak(speaker: string, signal?: AbortSignal): AsyncIterable<AgentStreamItem> {
    const agent = this.byName.get(speaker) as ChatAgent;
    const from = this.cursors[speaker] ?? 0;
    const incoming = this.thread.slice(from).filter((m) => m.source !== speaker);
    const turn = this.turn + 1;
    return withSpanStream(
      `agent.turn ${speaker}`,
      { "athanor.agent.name": speaker, "athanor.turn": turn, "athanor.team.name": this.name },
      async function* (span) {
        for await (const item of agent.onMessagesStream(incoming, { signal })) {
          if (item.type === "response") setUsageAttributes(span, turnUsage(item.response));
          yield item;
        }
      },
    );
  }

  private countUsage(source: string, usage: Usage | undefined): void {
    if (!usage) return;
    this.totalUsage[source] = addUsage(this.totalUsage[source] ?? ZERO_USAGE, usage);
    this.runUsage[source] = addUsage(this.runUsage[source] ?? ZERO_USAGE, usage);
  }

  private async waitWhilePaused(signal?: AbortSignal): Promise<void> {
    while (this.pauseGate) {
      const gate = this.pauseGate.promise;
      if (!signal) {
        await gate;
        continue;
      }
      signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        gate.then(() => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // A team is a ChatAgent: nested chats.
  // ---------------------------------------------------------------------------------------------

  async onMessages(messages: ChatMessage[], ctx?: TurnContext): Promise<AgentResponse> {
    let response: AgentResponse | undefined;
    for await (const item of this.onMessagesStream(messages, ctx)) {
      if (item.type === "response") response = item.response;
    }
    if (!response) throw new Error(`${this.name}: nested run ended without a response`);
    return response;
  }

  /**
   * Runs the team on `messages` and answers with the last message of the run, as this team
   * (its usage is the run's total). Inner events stream through without usage, so an outer
   * team counts these tokens once, under this team's name.
   */
  async *onMessagesStream(
    messages: ChatMessage[],
    ctx?: TurnContext,
  ): AsyncIterable<AgentStreamItem> {
    const inner: AgentEvent[] = [];
    const given = new Set(messages.map((m) => m.id));
    for await (const item of this.runStream({ task: messages, signal: ctx?.signal })) {
      if (item.type === "task_result") {
        const last = [...item.result.messages]
          .reverse()
          .find((m): m is ChatMessage => isChatMessage(m) && m.type !== "stop" && !given.has(m.id));
        let usage: Usage = { ...ZERO_USAGE };
        for (const u of Object.values(item.result.usage)) usage = addUsage(usage, u);
        const reply = message("text", {
          source: this.name,
          content: last ? messageText(last) : "",
          usage,
          ...(item.result.stopReason ? { metadata: { stopReason: item.result.stopReason } } : {}),
        });
        yield { type: "response", response: { message: reply, inner } };
        return;
      }
      if (given.has(item.id)) continue;
      const { usage: _, ...rest } = item;
      if (!isChatMessage(item)) inner.push(rest as AgentEvent);
      yield rest as AgentStreamItem;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // State.
  // ---------------------------------------------------------------------------------------------

  async reset(): Promise<void> {
    if (this.running) throw new Error(`${this.name}: cannot reset while running`);
    this.thread = [];
    this.cursors = {};
    this.turn = 0;
    this.runStart = null;
    this.runTurns = 0;
    this.totalUsage = {};
    this.runUsage = {};
    this.termination?.reset();
    this.resetManager();
    await Promise.all(this.participants.map((p) => p.reset()));
  }

  async saveState(): Promise<JsonValue> {
    const agents: Record<string, JsonValue> = {};
    for (const p of this.participants) agents[p.name] = await p.saveState();
    return {
      type: this.constructor.name,
      version: STATE_VERSION,
      name: this.name,
      // Copies of the lists (messages themselves are never mutated), so a saved state does not
      // change when the conversation goes on.
      thread: [...this.thread] as unknown as JsonValue,
      cursors: { ...this.cursors },
      turn: this.turn,
      runStart: this.runStart,
      runTurns: this.runTurns,
      totalUsage: structuredClone(this.totalUsage) as unknown as JsonValue,
      runUsage: structuredClone(this.runUsage) as unknown as JsonValue,
      manager: this.saveManagerState(),
      termination: this.termination?.saveState() ?? null,
      agents,
    };
  }

  async loadState(state: JsonValue): Promise<void> {
    const s = asRecord(state, `${this.name}.loadState`);
    if (s.type !== this.constructor.name) {
      throw new Error(
        `${this.name}.loadState: state is from a ${String(s.type)}, not a ${this.constructor.name}`,
      );
    }
    if (s.version !== STATE_VERSION) {
      throw new Error(
        `${this.name}.loadState: unsupported state version ${String(s.version)} (expected ${STATE_VERSION})`,
      );
    }
    const agents = asRecord(s.agents ?? null, `${this.name}.loadState: agents`);
    const expected = this.participants.map((p) => p.name).sort();
    const got = Object.keys(agents).sort();
    if (expected.join(",") !== got.join(",")) {
      throw new Error(
        `${this.name}.loadState: state has participants [${got.join(", ")}], this team has [${expected.join(", ")}]`,
      );
    }
    if (!Array.isArray(s.thread))
      throw new Error(`${this.name}.loadState: thread must be an array`);
    for (const p of this.participants) await p.loadState(agents[p.name]);
    this.thread = structuredClone(s.thread) as unknown as ChatMessage[];
    this.cursors = { ...(asRecord(s.cursors ?? {}, "cursors") as Record<string, number>) };
    this.turn = Number(s.turn ?? 0);
    this.runStart = typeof s.runStart === "number" ? s.runStart : null;
    this.runTurns = Number(s.runTurns ?? 0);
    this.totalUsage = structuredClone(
      asRecord(s.totalUsage ?? {}, "totalUsage"),
    ) as unknown as Record<string, Usage>;
    this.runUsage = structuredClone(asRecord(s.runUsage ?? {}, "runUsage")) as unknown as Record<
      string,
      Usage
    >;
    this.loadManagerState(s.manager ?? null);
    if (this.termination) {
      if (s.termination === null || s.termination === undefined) this.termination.reset();
      else this.termination.loadState(s.termination);
    }
  }
}

/**
 * The tokens one turn used. A response message's usage is the total of the turn's model calls
 * (the convention in messages.ts); events carry the usage of single calls for information. When
 * the message has none, the events' usage is summed instead.
 */
export function turnUsage(response: AgentResponse): Usage | undefined {
  if (response.message.usage) return response.message.usage;
  let usage: Usage | undefined;
  for (const e of response.inner) if (e.usage) usage = addUsage(usage ?? ZERO_USAGE, e.usage);
  return usage;
}

function normalizeRunOptions(options: RunOptions | Task | undefined): RunOptions {
  if (options === undefined) return {};
  if (typeof options === "string" || Array.isArray(options)) return { task: options };
  if ("type" in options && typeof (options as ChatMessage).type === "string") {
    return { task: options as ChatMessage };
  }
  return options as RunOptions;
}

function taskMessages(task: Task | undefined): ChatMessage[] {
  if (task === undefined) return [];
  if (typeof task === "string") return [message("text", { source: "user", content: task })];
  const list = Array.isArray(task) ? task : [task];
  for (const m of list) {
    if (!isChatMessage(m))
      throw new Error(`task: ${(m as AnyMessage).type} is an event, not a chat message`);
  }
  return list;
}
