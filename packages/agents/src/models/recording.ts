/**
 * Records every exchange of a model client (request without its signal, and the result) as
 * one JSONL line, appended as soon as the call completes, so a crash loses nothing already
 * recorded. ReplayModelClient plays such a file back.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { CreateRequest, CreateResult, ModelClient, StreamChunk } from "../model-client.js";
import { type RequestData, requestData, requestHash } from "./canonical.js";

/** One line of a recording. */
export interface RecordedExchange {
  /** Format version. */
  v: 1;
  /** The recorded client's modelId. */
  model: string;
  /** How the call was made. */
  call: "create" | "stream";
  /** requestHash(request): what match-mode replay looks requests up by. */
  hash: string;
  request: RequestData;
  result: CreateResult;
}

export interface RecordingOptions {
  /** JSONL file to append to (created with its directory when missing). */
  path?: string;
  /** Called with each exchange once recorded. */
  onRecord?: (exchange: RecordedExchange) => void;
}

/** Wraps any client and records what passes through it; answers are the inner client's. */
export class RecordingModelClient implements ModelClient {
  /** Everything recorded by this instance, in order. */
  readonly exchanges: RecordedExchange[] = [];

  constructor(
    readonly inner: ModelClient,
    private readonly options: RecordingOptions = {},
  ) {
    if (options.path) mkdirSync(dirname(options.path), { recursive: true });
  }

  get modelId(): string {
    return this.inner.modelId;
  }

  get capabilities() {
    return this.inner.capabilities;
  }

  async create(request: CreateRequest): Promise<CreateResult> {
    const result = await this.inner.create(request);
    this.record("create", request, result);
    return result;
  }

  async *stream(request: CreateRequest): AsyncIterable<StreamChunk> {
    for await (const chunk of this.inner.stream(request)) {
      if (chunk.type === "finish") this.record("stream", request, chunk.result);
      yield chunk;
    }
  }

  private record(call: "create" | "stream", request: CreateRequest, result: CreateResult): void {
    const { cached: _cached, ...plain } = result;
    const exchange: RecordedExchange = {
      v: 1,
      model: this.inner.modelId,
      call,
      hash: requestHash(request),
      request: requestData(request),
      result: plain,
    };
    this.exchanges.push(exchange);
    if (this.options.path) appendFileSync(this.options.path, `${JSON.stringify(exchange)}\n`);
    this.options.onRecord?.(exchange);
  }
}
