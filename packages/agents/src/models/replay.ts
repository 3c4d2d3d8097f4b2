/**
 * Replays recorded model answers deterministically: the way tests run agents without a
 * network. Sequence mode answers call N with recorded result N (checking, when the recording
 * has requests, that call N asks what was recorded); match mode answers by request hash.
 *
 *   const model = ReplayModelClient.fromResults(["Hello!", { toolCalls: [{ name: "add", arguments: { a: 1 } }] }]);
 *   const model = ReplayModelClient.fromFile("fixtures/chat.jsonl", { mode: "match" });
 */
import { readFileSync } from "node:fs";
import type { ToolCall } from "../messages.js";
import type {
  CreateRequest,
  CreateResult,
  FinishReason,
  ModelCapabilities,
  ModelClient,
  StreamChunk,
} from "../model-client.js";
import { streamFromResult } from "../model-client.js";
import { firstDifference, type RequestData, requestData, requestHash } from "./canonical.js";
import { ReplayMismatchError, throwIfAborted } from "./errors.js";
import type { RecordedExchange } from "./recording.js";

/** A tool call in a scripted result: `id` defaults to "call_<n>", object arguments are JSON-encoded. */
export interface ReplayToolCall {
  id?: string;
  name: string;
  arguments?: string | Record<string, unknown>;
}

/**
 * A result to replay, with defaults filled in: a string is `{ content }`; finishReason is
 * "tool_calls" when there are tool calls, else "stop"; usage is zero unless given.
 */
export type ReplayResult =
  | string
  | (Partial<Omit<CreateResult, "toolCalls">> & { toolCalls?: ReplayToolCall[] });

/** What a replay answers from: a result, and optionally the request it answered. */
export interface ReplayEntry {
  result: CreateResult;
  request?: RequestData;
  /** Match key; computed from `request` when absent. */
  hash?: string;
  model?: string;
}

export interface ReplayOptions {
  /** "sequence" (default): call N gets entry N. "match": the entry whose request hashes the same. */
  mode?: "sequence" | "match";
  /** Default: the recording's model, else "replay". */
  modelId?: string;
  /** Default: everything on. */
  capabilities?: Partial<ModelCapabilities>;
  /** Sequence mode: fail when a request differs from the recorded one. Default true. */
  checkRequests?: boolean;
}

export class ReplayModelClient implements ModelClient {
  readonly modelId: string;
  readonly capabilities: ModelCapabilities;
  /** Every request received (without signals), in order: for assertions in tests. */
  readonly requests: RequestData[] = [];
  private readonly entries: ReplayEntry[];
  private readonly mode: "sequence" | "match";
  private readonly checkRequests: boolean;
  private position = 0;
  private readonly served = new Map<string, number>();

  constructor(entries: ReplayEntry[], options: ReplayOptions = {}) {
    this.entries = entries.map((e, i) => ({
      ...e,
      result: normalizeResult(e.result, `entry ${i}`),
    }));
    this.mode = options.mode ?? "sequence";
    if (this.mode !== "sequence" && this.mode !== "match") {
      throw new TypeError(
        `ReplayModelClient: mode must be "sequence" or "match", got ${JSON.stringify(this.mode)}`,
      );
    }
    if (this.mode === "match") {
      for (const [i, e] of this.entries.entries()) {
        if (!e.hash && !e.request) {
          throw new ReplayMismatchError(
            `ReplayModelClient: match mode needs recorded requests, entry ${i} has none`,
          );
        }
        // Recompute from the request: a recorded hash may predate a change in canonicalization.
        if (e.request) e.hash = requestHash(e.request);
      }
    }
    this.checkRequests = options.checkRequests ?? true;
    this.modelId = options.modelId ?? entries.find((e) => e.model)?.model ?? "replay";
    this.capabilities = {
      tools: true,
      vision: true,
      structuredOutput: true,
      streaming: true,
      ...options.capabilities,
    };
  }

  /** Replays these results in order (no request checks). */
  static fromResults(results: ReplayResult[], options: ReplayOptions = {}): ReplayModelClient {
    return new ReplayModelClient(
      results.map((r, i) => ({ result: scriptedResult(r, i) })),
      options,
    );
  }

  /** Replays exchanges recorded by RecordingModelClient. */
  static fromExchanges(
    exchanges: RecordedExchange[],
    options: ReplayOptions = {},
  ): ReplayModelClient {
    return new ReplayModelClient(
      exchanges.map((e) => ({
        result: e.result,
        request: e.request,
        hash: e.hash,
        model: e.model,
      })),
      options,
    );
  }

  /** Replays a JSONL recording. */
  static fromFile(path: string, options: ReplayOptions = {}): ReplayModelClient {
    return ReplayModelClient.fromExchanges(readRecording(path), options);
  }

  /** Entries not yet served (sequence mode). */
  get remaining(): number {
    return this.entries.length - this.position;
  }

  async create(request: CreateRequest): Promise<CreateResult> {
    throwIfAborted(request.signal);
    return this.next(request);
  }

  async *stream(request: CreateRequest): AsyncIterable<StreamChunk> {
    throwIfAborted(request.signal);
    const result = this.next(request);
    for await (const chunk of streamFromResult(result)) {
      throwIfAborted(request.signal);
      yield chunk;
    }
  }

  private next(request: CreateRequest): CreateResult {
    const data = requestData(request);
    this.requests.push(data);
    const call = this.requests.length;
    const entry =
      this.mode === "sequence" ? this.nextInSequence(data, call) : this.match(data, call);
    return structuredClone(entry.result);
  }

  private nextInSequence(data: RequestData, call: number): ReplayEntry {
    const entry = this.entries[this.position];
    if (!entry) {
      throw new ReplayMismatchError(
        `replay exhausted: the recording has ${this.entries.length} answer(s), this is call #${call} (${lastMessage(data)})`,
      );
    }
    if (this.checkRequests && entry.request) {
      const diff = firstDifference(entry.request, data);
      if (diff) {
        throw new ReplayMismatchError(`call #${call} diverges from the recording: ${diff}`);
      }
    }
    this.position += 1;
    return entry;
  }

  private match(data: RequestData, call: number): ReplayEntry {
    const hash = requestHash(data);
    const candidates = this.entries.filter((e) => e.hash === hash);
    if (candidates.length === 0) {
      const closest = closestEntry(this.entries, data);
      const detail = closest
        ? `; closest recorded request differs at ${firstDifference(closest.request, data)}`
        : "";
      throw new ReplayMismatchError(
        `call #${call} matches no recorded request (hash ${hash.slice(0, 12)}, ${lastMessage(data)})${detail}`,
      );
    }
    // Identical requests get their recorded answers in order; the last one repeats.
    const n = this.served.get(hash) ?? 0;
    this.served.set(hash, n + 1);
    return candidates[Math.min(n, candidates.length - 1)];
  }
}

/** Reads a JSONL recording, with file:line in every error. */
export function readRecording(path: string): RecordedExchange[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ReplayMismatchError(`cannot read recording ${path}: ${(error as Error).message}`);
  }
  const out: RecordedExchange[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new ReplayMismatchError(`${path}:${i + 1}: not a JSON line`);
    }
    if (typeof value !== "object" || value === null || !("result" in value)) {
      throw new ReplayMismatchError(`${path}:${i + 1}: not a recorded exchange (no "result")`);
    }
    const exchange = value as RecordedExchange;
    exchange.result = normalizeResult(exchange.result, `${path}:${i + 1}`);
    out.push(exchange);
  }
  return out;
}

function scriptedResult(r: ReplayResult, i: number): CreateResult {
  if (typeof r === "string") return normalizeResult({ content: r }, `result ${i}`);
  if (typeof r !== "object" || r === null) {
    throw new TypeError(`ReplayModelClient.fromResults: result ${i} must be a string or an object`);
  }
  const toolCalls: ToolCall[] = (r.toolCalls ?? []).map((c, j) => {
    if (!c || typeof c.name !== "string" || c.name === "") {
      throw new TypeError(
        `ReplayModelClient.fromResults: result ${i} toolCalls[${j}] needs a name`,
      );
    }
    const args = c.arguments ?? {};
    return {
      id: c.id ?? `call_${i}_${j}`,
      name: c.name,
      arguments: typeof args === "string" ? args : JSON.stringify(args),
    };
  });
  return normalizeResult({ ...r, toolCalls }, `result ${i}`);
}

const FINISH = new Set<FinishReason>(["stop", "length", "tool_calls", "content_filter", "unknown"]);

function normalizeResult(raw: Partial<CreateResult> | undefined, where: string): CreateResult {
  if (typeof raw !== "object" || raw === null)
    throw new ReplayMismatchError(`${where}: the result is not an object`);
  const toolCalls = raw.toolCalls ?? [];
  if (
    !Array.isArray(toolCalls) ||
    toolCalls.some((c) => typeof c?.name !== "string" || typeof c.arguments !== "string")
  ) {
    throw new ReplayMismatchError(`${where}: toolCalls must be [{ id, name, arguments: string }]`);
  }
  if (raw.content !== undefined && raw.content !== null && typeof raw.content !== "string") {
    throw new ReplayMismatchError(`${where}: content must be a string or null`);
  }
  const finishReason = raw.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop");
  if (!FINISH.has(finishReason))
    throw new ReplayMismatchError(`${where}: unknown finishReason ${JSON.stringify(finishReason)}`);
  return {
    ...raw,
    content: raw.content ?? null,
    toolCalls: toolCalls.map((c, j) => ({
      id: c.id || `call_${j}`,
      name: c.name,
      arguments: c.arguments,
    })),
    finishReason,
    usage: {
      promptTokens: raw.usage?.promptTokens ?? 0,
      completionTokens: raw.usage?.completionTokens ?? 0,
    },
  };
}

function closestEntry(entries: ReplayEntry[], data: RequestData): ReplayEntry | undefined {
  let best: ReplayEntry | undefined;
  let bestScore = -1;
  for (const e of entries) {
    if (!e.request) continue;
    const recorded = e.request.messages ?? [];
    let same = 0;
    while (
      same < recorded.length &&
      same < data.messages.length &&
      firstDifference(recorded[same], data.messages[same]) === undefined
    )
      same++;
    if (same > bestScore) {
      best = e;
      bestScore = same;
    }
  }
  return best;
}

function lastMessage(data: RequestData): string {
  const m = data.messages?.at(-1);
  if (!m) return "no messages";
  const text =
    m.role === "tool"
      ? m.results.map((r) => r.content).join(" ")
      : typeof m.content === "string"
        ? m.content
        : m.content === null
          ? ""
          : m.content.map((p) => (p.type === "text" ? p.text : "<image>")).join(" ");
  const flat = text.replace(/\s+/g, " ");
  return `last message ${m.role}: ${JSON.stringify(flat.length > 60 ? `${flat.slice(0, 57)}...` : flat)}`;
}
