/**
 * A loopback HTTP server that speaks the OpenAI Chat Completions wire format, scripted per
 * request. Tests (and offline examples) point any OpenAI-compatible client at `baseURL`:
 *
 *   const server = await ChatCompletionsTestServer.start();
 *   server.enqueue({ type: "reply", content: "Hello!" });
 *   server.enqueue({ type: "error", status: 429, times: 2, headers: { "retry-after-ms": "10" } });
 *   ... new OpenAIChatClient({ baseURL: server.baseURL, model: "test-model" }) ...
 *   server.requests[0].body; // what the client sent
 *   await server.close();
 *
 * Each request consumes the next scripted step (a step with `times: K` serves K requests).
 * When the script is empty the `fallback` answers (by default a 500 that says so).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A tool call in a scripted reply; `arguments` may be an object (sent as its JSON). */
export interface ServerToolCall {
  id?: string;
  name: string;
  arguments: string | Record<string, unknown>;
}

/** Answers with a completion: JSON, or SSE chunks when the request asked for `stream: true`. */
export interface ServerReplyStep {
  type: "reply";
  content?: string | null;
  toolCalls?: ServerToolCall[];
  /** Defaults to "tool_calls" when there are tool calls, "stop" otherwise. */
  finishReason?: string;
  /** Token counts; by default estimated from the request and reply lengths (1 token ≈ 4 chars). */
  usage?: { promptTokens: number; completionTokens: number };
  /** The model named in the response; defaults to the request's `model`. */
  model?: string;
  /** Streaming: characters of tool-call arguments per chunk (text is split at words). Default 8. */
  argumentsChunkSize?: number;
  /** Streaming: stop after this many SSE events, then hang or drop the connection. */
  interrupt?: { afterChunks: number; mode: "hang" | "disconnect" };
}

/** Answers with an HTTP error and an OpenAI-style error body. */
export interface ServerErrorStep {
  type: "error";
  status: number;
  message?: string;
  headers?: Record<string, string>;
  /** Serve this error for this many consecutive requests. Default 1. */
  times?: number;
}

/** Sends a hand-written body: garbage, truncated JSON, malformed SSE, an HTML error page... */
export interface ServerRawStep {
  type: "raw";
  body: string;
  status?: number;
  /** Default "application/json". Use "text/event-stream" for hand-written SSE. */
  contentType?: string;
  headers?: Record<string, string>;
}

/** Never answers (until the client gives up or the server closes). */
export interface ServerHangStep {
  type: "hang";
}

/** Drops the connection without an answer (a connection error on the client side). */
export interface ServerDisconnectStep {
  type: "disconnect";
}

export type ServerStep = (
  | ServerReplyStep
  | ServerErrorStep
  | ServerRawStep
  | ServerHangStep
  | ServerDisconnectStep
) & {
  /** Wait this long before answering. */
  delayMs?: number;
};

/** A request the server received. */
export interface ServerRequest {
  /** 0-based arrival order. */
  index: number;
  method: string;
  /** The path without the query, e.g. "/v1/chat/completions". */
  path: string;
  query: Record<string, string>;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** True when the body asked for `stream: true`. */
  stream: boolean;
}

export interface ChatCompletionsTestServerOptions {
  /** Port to listen on (127.0.0.1). Default 0: any free port. */
  port?: number;
  /** Answers requests when the script is empty. Default: a 500 "no scripted response". */
  fallback?: (request: ServerRequest) => ServerStep;
  /** Model ids listed by GET /v1/models. Default ["test-model"]. */
  models?: string[];
}

interface QueuedStep {
  step: ServerStep;
  remaining: number;
}

export class ChatCompletionsTestServer {
  /** Every request received, in arrival order. */
  readonly requests: ServerRequest[] = [];
  private readonly queue: QueuedStep[] = [];
  private readonly sockets = new Set<import("node:net").Socket>();
  private completionCounter = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: ChatCompletionsTestServerOptions,
  ) {
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  /** Starts a server on 127.0.0.1. */
  static async start(
    options: ChatCompletionsTestServerOptions = {},
  ): Promise<ChatCompletionsTestServer> {
    let self: ChatCompletionsTestServer | undefined;
    const server = createServer((req, res) => {
      self!.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(`test server error: ${String(error)}`);
      });
    });
    self = new ChatCompletionsTestServer(server, options);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    return self;
  }

  /** The server's root, e.g. "http://127.0.0.1:38211". */
  get url(): string {
    const address = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /** The OpenAI-style base URL, `${url}/v1`. */
  get baseURL(): string {
    return `${this.url}/v1`;
  }

  /** Appends steps to the script. */
  enqueue(...steps: ServerStep[]): this {
    for (const step of steps) {
      const times = step.type === "error" ? (step.times ?? 1) : 1;
      if (!Number.isInteger(times) || times < 1) {
        throw new Error(
          `ChatCompletionsTestServer: "times" must be a positive integer, got ${times}`,
        );
      }
      this.queue.push({ step, remaining: times });
    }
    return this;
  }

  /** Requests not yet answered by the script (a step with `times: K` counts K). */
  get pending(): number {
    return this.queue.reduce((n, q) => n + q.remaining, 0);
  }

  /** Forgets the script and the recorded requests. */
  reset(): void {
    this.queue.length = 0;
    this.requests.length = 0;
  }

  /** Stops listening and drops every open connection (hanging ones included). */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private nextStep(request: ServerRequest): ServerStep {
    const head = this.queue[0];
    if (!head) {
      return (
        this.options.fallback?.(request) ?? {
          type: "error",
          status: 500,
          message: `ChatCompletionsTestServer: no scripted response left for request #${request.index}`,
        }
      );
    }
    head.remaining -= 1;
    if (head.remaining === 0) this.queue.shift();
    return head.step;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = text;
    try {
      body = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      // keep the raw text
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }

    if (req.method === "GET" && url.pathname.endsWith("/models")) {
      const data = (this.options.models ?? ["test-model"]).map((id) => ({
        id,
        object: "model",
        created: 0,
        owned_by: "athanor-test",
      }));
      sendJson(res, 200, { object: "list", data });
      return;
    }
    if (req.method !== "POST" || !url.pathname.endsWith("/chat/completions")) {
      sendJson(res, 404, errorBody(`no route for ${req.method} ${url.pathname}`, 404));
      return;
    }

    const record: ServerRequest = {
      index: this.requests.length,
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
      stream: isObject(body) && body.stream === true,
    };
    this.requests.push(record);
    const step = this.nextStep(record);
    if (step.delayMs) await delay(step.delayMs);
    if (res.destroyed) return;

    switch (step.type) {
      case "hang":
        return; // the socket stays open until the client aborts or the server closes
      case "disconnect":
        res.socket?.destroy();
        return;
      case "error":
        sendJson(
          res,
          step.status,
          errorBody(step.message ?? `scripted ${step.status}`, step.status),
          step.headers,
        );
        return;
      case "raw":
        res.writeHead(step.status ?? 200, {
          "content-type": step.contentType ?? "application/json",
          ...step.headers,
        });
        res.end(step.body);
        return;
      case "reply":
        if (record.stream) await this.streamReply(res, record, step);
        else sendJson(res, 200, this.completion(record, step));
        return;
    }
  }

  private completion(request: ServerRequest, step: ServerReplyStep) {
    const n = ++this.completionCounter;
    const toolCalls = this.toolCalls(step, n);
    const content = step.content ?? (toolCalls.length > 0 ? null : "");
    return {
      id: `chatcmpl-test-${n}`,
      object: "chat.completion",
      created: 0,
      model: step.model ?? requestModel(request),
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          },
          finish_reason: finishReason(step, toolCalls.length),
          logprobs: null,
        },
      ],
      usage: usage(request, step, toolCalls),
    };
  }

  private async streamReply(res: ServerResponse, request: ServerRequest, step: ServerReplyStep) {
    const n = ++this.completionCounter;
    const toolCalls = this.toolCalls(step, n);
    const id = `chatcmpl-test-${n}`;
    const model = step.model ?? requestModel(request);
    const chunk = (delta: unknown, finish: string | null = null) => ({
      id,
      object: "chat.completion.chunk",
      created: 0,
      model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    });
    const events: unknown[] = [chunk({ role: "assistant", content: "" })];
    for (const piece of splitWords(step.content ?? "")) events.push(chunk({ content: piece }));
    const size = step.argumentsChunkSize ?? 8;
    for (const [index, call] of toolCalls.entries()) {
      events.push(
        chunk({
          tool_calls: [
            {
              index,
              id: call.id,
              type: "function",
              function: { name: call.function.name, arguments: "" },
            },
          ],
        }),
      );
      const args = call.function.arguments;
      for (let i = 0; i < args.length; i += size) {
        events.push(
          chunk({ tool_calls: [{ index, function: { arguments: args.slice(i, i + size) } }] }),
        );
      }
    }
    events.push(chunk({}, finishReason(step, toolCalls.length)));
    const streamOptions = isObject(request.body) ? request.body.stream_options : undefined;
    if (isObject(streamOptions) && streamOptions.include_usage === true) {
      events.push({
        id,
        object: "chat.completion.chunk",
        created: 0,
        model,
        choices: [],
        usage: usage(request, step, toolCalls),
      });
    }

    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    const lines = [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), "data: [DONE]\n\n"];
    for (const [i, line] of lines.entries()) {
      if (step.interrupt && i >= step.interrupt.afterChunks) {
        if (step.interrupt.mode === "disconnect") res.socket?.destroy();
        return; // "hang": keep the socket open, send nothing more
      }
      if (res.destroyed) return;
      res.write(line);
      // Let each event leave in its own TCP segment, as real servers do.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    res.end();
  }

  private toolCalls(step: ServerReplyStep, n: number) {
    return (step.toolCalls ?? []).map((call, i) => ({
      id: call.id ?? `call_test_${n}_${i}`,
      type: "function" as const,
      function: {
        name: call.name,
        arguments:
          typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments),
      },
    }));
  }
}

function finishReason(step: ServerReplyStep, toolCalls: number): string {
  return step.finishReason ?? (toolCalls > 0 ? "tool_calls" : "stop");
}

function usage(
  request: ServerRequest,
  step: ServerReplyStep,
  toolCalls: { function: { name: string; arguments: string } }[],
) {
  if (step.usage) {
    const { promptTokens, completionTokens } = step.usage;
    return {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
  }
  const messages = isObject(request.body) ? request.body.messages : undefined;
  const prompt = Math.max(1, Math.ceil(JSON.stringify(messages ?? "").length / 4));
  const output =
    (step.content ?? "") + toolCalls.map((c) => c.function.name + c.function.arguments).join("");
  const completion = Math.max(1, Math.ceil(output.length / 4));
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
}

function requestModel(request: ServerRequest): string {
  return isObject(request.body) && typeof request.body.model === "string"
    ? request.body.model
    : "test-model";
}

/** "Hello big world" -> ["Hello", " big", " world"]. */
function splitWords(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

function errorBody(message: string, status: number) {
  const type =
    status === 429
      ? "rate_limit_exceeded"
      : status >= 500
        ? "server_error"
        : "invalid_request_error";
  return { error: { message, type, param: null, code: null } };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
