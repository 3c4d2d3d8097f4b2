import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CreateRequest, StreamChunk } from "../model-client.js";
import { collectStream } from "../model-client.js";
import { ChatCompletionsTestServer } from "../testing/index.js";
import { ModelClientError, ModelConfigError } from "./errors.js";
import {
  AzureOpenAIChatClient,
  OpenAIChatClient,
  type OpenAIChatClientConfig,
  type RetryEvent,
} from "./openai-client.js";

let server: ChatCompletionsTestServer;
beforeAll(async () => {
  server = await ChatCompletionsTestServer.start();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => server.reset());

const fast = { initialDelayMs: 1, maxDelayMs: 5, random: () => 0.5 };

function client(config: Partial<OpenAIChatClientConfig> = {}) {
  return new OpenAIChatClient({
    baseURL: server.baseURL,
    model: "test-model",
    apiKey: "sk-test",
    retry: fast,
    ...config,
  });
}

const hello: CreateRequest = { messages: [{ role: "user", content: "Say hello" }] };

const addTool = {
  name: "add",
  description: "Adds two numbers",
  parameters: {
    type: "object",
    properties: { a: { type: "number" }, b: { type: "number" } },
    required: ["a", "b"],
  },
};

async function drain(stream: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const chunks: StreamChunk[] = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

async function failure(promise: Promise<unknown>): Promise<ModelClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelClientError);
  return error as ModelClientError;
}

describe("OpenAIChatClient against a loopback Chat Completions server", () => {
  it("creates a plain text completion and reports usage and model", async () => {
    server.enqueue({
      type: "reply",
      content: "Hello there!",
      usage: { promptTokens: 12, completionTokens: 3 },
      model: "test-model-0613",
    });
    const result = await client().create(hello);
    expect(result).toEqual({
      content: "Hello there!",
      toolCalls: [],
      finishReason: "stop",
      usage: { promptTokens: 12, completionTokens: 3 },
      model: "test-model-0613",
    });
    const [req] = server.requests;
    expect(req.path).toBe("/v1/chat/completions");
    expect(req.headers.authorization).toBe("Bearer sk-test");
    expect(req.body).toEqual({
      model: "test-model",
      messages: [{ role: "user", content: "Say hello" }],
    });
  });

  it("sends the full wire format: names, images, tool results, tools, format, sampling", async () => {
    server.enqueue({ type: "reply", content: "{}" });
    await client().create({
      messages: [
        { role: "system", content: "Be brief." },
        {
          role: "user",
          name: "alice",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image", data: "iVBORw0KGgo=", mimeType: "image/png" },
            { type: "image", url: "https://example.com/cat.jpg" },
          ],
        },
        {
          role: "assistant",
          name: "calc",
          content: null,
          toolCalls: [
            { id: "c1", name: "add", arguments: '{"a":1,"b":2}' },
            { id: "c2", name: "add", arguments: '{"a":3,"b":4}' },
          ],
        },
        {
          role: "tool",
          results: [
            { callId: "c1", name: "add", content: "3", isError: false },
            { callId: "c2", name: "add", content: "7", isError: false },
          ],
        },
      ],
      tools: [addTool],
      toolChoice: { name: "add" },
      parallelToolCalls: false,
      responseFormat: {
        type: "json_schema",
        name: "answer",
        schema: { type: "object" },
        strict: true,
      },
      temperature: 0.2,
      topP: 0.9,
      maxTokens: 64,
      stop: ["END"],
      seed: 7,
    });
    expect(server.requests[0].body).toEqual({
      model: "test-model",
      messages: [
        { role: "system", content: "Be brief." },
        {
          role: "user",
          name: "alice",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
          ],
        },
        {
          role: "assistant",
          name: "calc",
          content: null,
          tool_calls: [
            { id: "c1", type: "function", function: { name: "add", arguments: '{"a":1,"b":2}' } },
            { id: "c2", type: "function", function: { name: "add", arguments: '{"a":3,"b":4}' } },
          ],
        },
        { role: "tool", tool_call_id: "c1", content: "3" },
        { role: "tool", tool_call_id: "c2", content: "7" },
      ],
      tools: [{ type: "function", function: addTool }],
      tool_choice: { type: "function", function: { name: "add" } },
      parallel_tool_calls: false,
      response_format: {
        type: "json_schema",
        json_schema: { name: "answer", schema: { type: "object" }, strict: true },
      },
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 64,
      stop: ["END"],
      seed: 7,
    });
  });

  it("returns tool calls from a non-streamed answer", async () => {
    server.enqueue({
      type: "reply",
      toolCalls: [
        { id: "call_a", name: "add", arguments: { a: 1, b: 2 } },
        { id: "call_b", name: "add", arguments: '{"a":5,"b":6}' },
      ],
    });
    const result = await client().create({ ...hello, tools: [addTool] });
    expect(result.content).toBeNull();
    expect(result.finishReason).toBe("tool_calls");
    expect(result.toolCalls).toEqual([
      { id: "call_a", name: "add", arguments: '{"a":1,"b":2}' },
      { id: "call_b", name: "add", arguments: '{"a":5,"b":6}' },
    ]);
  });

  it("streams text deltas and ends with the full result and usage", async () => {
    server.enqueue({
      type: "reply",
      content: "The quick brown fox",
      usage: { promptTokens: 5, completionTokens: 4 },
    });
    const chunks = await drain(client().stream(hello));
    const deltas = chunks.flatMap((c) => (c.type === "text-delta" ? [c.delta] : []));
    expect(deltas).toEqual(["The", " quick", " brown", " fox"]);
    expect(chunks.at(-1)).toEqual({
      type: "finish",
      result: {
        content: "The quick brown fox",
        toolCalls: [],
        finishReason: "stop",
        usage: { promptTokens: 5, completionTokens: 4 },
        model: "test-model",
      },
    });
    const body = server.requests[0].body as Record<string, unknown>;
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
  });

  it("assembles streamed tool-call deltas into complete calls", async () => {
    const args = { a: 123456, b: 654321, note: "long enough to span several chunks" };
    server.enqueue({
      type: "reply",
      content: "Let me add.",
      toolCalls: [
        { id: "call_1", name: "add", arguments: args },
        { id: "call_2", name: "add", arguments: { a: 1, b: 1 } },
      ],
      argumentsChunkSize: 5,
    });
    const chunks = await drain(client().stream({ ...hello, tools: [addTool] }));
    const callDeltas = chunks.filter((c) => c.type === "tool-call-delta");
    expect(callDeltas.length).toBeGreaterThan(10);
    expect(callDeltas[0]).toEqual({
      type: "tool-call-delta",
      index: 0,
      id: "call_1",
      name: "add",
      argumentsDelta: "",
    });
    const finish = chunks.at(-1);
    expect(finish?.type).toBe("finish");
    if (finish?.type !== "finish") return;
    expect(finish.result.content).toBe("Let me add.");
    expect(finish.result.finishReason).toBe("tool_calls");
    expect(finish.result.toolCalls).toEqual([
      { id: "call_1", name: "add", arguments: JSON.stringify(args) },
      { id: "call_2", name: "add", arguments: '{"a":1,"b":1}' },
    ]);
  });

  it("requests structured output and returns the JSON text", async () => {
    server.enqueue({ type: "reply", content: '{"city":"Paris","population":2100000}' });
    const result = await client().create({
      ...hello,
      responseFormat: {
        type: "json_schema",
        name: "city",
        schema: { type: "object", properties: { city: { type: "string" } } },
      },
    });
    expect(JSON.parse(result.content ?? "")).toEqual({ city: "Paris", population: 2100000 });
    expect((server.requests[0].body as Record<string, unknown>).response_format).toEqual({
      type: "json_schema",
      json_schema: {
        name: "city",
        schema: { type: "object", properties: { city: { type: "string" } } },
      },
    });
    server.enqueue({ type: "reply", content: "{}" });
    await client().create({ ...hello, responseFormat: { type: "json_object" } });
    expect((server.requests[1].body as Record<string, unknown>).response_format).toEqual({
      type: "json_object",
    });
  });

  it("retries a 429/500 storm with backoff, honouring retry-after-ms, then succeeds", async () => {
    server.enqueue(
      {
        type: "error",
        status: 429,
        times: 2,
        headers: { "retry-after-ms": "30" },
        message: "slow down",
      },
      { type: "error", status: 500, times: 2 },
      { type: "disconnect" },
      { type: "reply", content: "finally" },
    );
    const retries: RetryEvent[] = [];
    const result = await client({
      retry: { ...fast, maxRetries: 5 },
      onRetry: (e) => retries.push(e),
    }).create(hello);
    expect(result.content).toBe("finally");
    expect(server.requests).toHaveLength(6);
    expect(retries.map((r) => r.error.kind)).toEqual([
      "http",
      "http",
      "http",
      "http",
      "connection",
    ]);
    expect(retries.map((r) => r.error.status)).toEqual([429, 429, 500, 500, undefined]);
    expect(retries[0].delayMs).toBeGreaterThanOrEqual(30);
    expect(retries[0].error.serverMessage).toBe("slow down");
    expect(retries[2].delayMs).toBeLessThan(30);
  });

  it("retries a stream that fails before it starts", async () => {
    server.enqueue({ type: "error", status: 503, times: 2 }, { type: "reply", content: "ok now" });
    const result = await collectStream(client().stream(hello));
    expect(result.content).toBe("ok now");
    expect(server.requests).toHaveLength(3);
  });

  it("gives up after the retries with a clear error", async () => {
    server.enqueue({ type: "error", status: 500, times: 3, message: "upstream overloaded" });
    const error = await failure(client({ retry: { ...fast, maxRetries: 2 } }).create(hello));
    expect(error.kind).toBe("http");
    expect(error.status).toBe(500);
    expect(error.attempts).toBe(3);
    expect(error.model).toBe("test-model");
    expect(error.endpoint).toBe(`${server.baseURL}/chat/completions`);
    expect(error.serverMessage).toBe("upstream overloaded");
    expect(error.message).toContain("HTTP 500");
    expect(error.message).toContain("3 attempts");
    expect(error.message).toContain("upstream overloaded");
    expect(server.requests).toHaveLength(3);
  });

  it("does not retry a 400, and reports the server's message", async () => {
    server.enqueue({ type: "error", status: 400, message: "messages: field required" });
    const error = await failure(client().create(hello));
    expect(error.attempts).toBe(1);
    expect(error.status).toBe(400);
    expect(error.message).toContain("messages: field required");
  });

  it("stops at a Retry-After beyond the limit instead of sleeping", async () => {
    server.enqueue({ type: "error", status: 429, headers: { "retry-after": "3600" } });
    const error = await failure(client().create(hello));
    expect(error.attempts).toBe(1);
    expect(error.message).toContain("Retry-After 3600 s exceeds");
  });

  it("times out a hanging request, retries, and reports the timeout", async () => {
    server.enqueue({ type: "hang" }, { type: "hang" });
    const error = await failure(
      client({ timeoutMs: 100, retry: { ...fast, maxRetries: 1 } }).create(hello),
    );
    expect(error.kind).toBe("timeout");
    expect(error.attempts).toBe(2);
    expect(error.message).toContain("timed out");
  });

  it("times out a stream that stalls mid-way", async () => {
    server.enqueue({
      type: "reply",
      content: "one two three four",
      interrupt: { afterChunks: 2, mode: "hang" },
    });
    const c = client({ timeoutMs: 300 });
    const seen: StreamChunk[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of c.stream(hello)) seen.push(chunk);
      })(),
    );
    expect(error.kind).toBe("timeout");
    expect(seen).toEqual([{ type: "text-delta", delta: "one" }]);
  });

  it("reports a stream cut by a dropped connection", async () => {
    server.enqueue({
      type: "reply",
      content: "one two three",
      interrupt: { afterChunks: 2, mode: "disconnect" },
    });
    const error = await failure(collectStream(client().stream(hello)));
    expect(["connection", "invalid_response"]).toContain(error.kind);
    expect(server.requests).toHaveLength(1); // a started stream is never replayed
  });

  it("aborts mid-stream with an AbortError and makes no further request", async () => {
    server.enqueue({
      type: "reply",
      content: "one two three four",
      interrupt: { afterChunks: 2, mode: "hang" },
    });
    const controller = new AbortController();
    const seen: string[] = [];
    const error = await (async () => {
      for await (const chunk of client().stream({ ...hello, signal: controller.signal })) {
        if (chunk.type === "text-delta") {
          seen.push(chunk.delta);
          controller.abort();
        }
      }
    })().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe("AbortError");
    expect(seen).toEqual(["one"]);
    expect(server.requests).toHaveLength(1);
  });

  it("aborts a request that hangs", async () => {
    server.enqueue({ type: "hang" });
    const controller = new AbortController();
    const pending = client().create({ ...hello, signal: controller.signal });
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    expect(server.requests).toHaveLength(1);
  });

  it("honours a per-call deadline given as AbortSignal.timeout", async () => {
    server.enqueue({ type: "hang" });
    const error = await client()
      .create({ ...hello, signal: AbortSignal.timeout(50) })
      .catch((e: Error) => e);
    expect((error as Error).name).toBe("TimeoutError");
    expect(server.requests).toHaveLength(1);
  });

  it("aborts a waiting retry loop at once", async () => {
    server.enqueue({ type: "error", status: 503, times: 10 });
    const controller = new AbortController();
    const c = client({
      retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      onRetry: () => setTimeout(() => controller.abort(), 5),
    });
    const error = await c.create({ ...hello, signal: controller.signal }).catch((e: Error) => e);
    expect((error as Error).name).toBe("AbortError");
    expect(server.requests).toHaveLength(1);
  });

  it("rejects at once when the signal is already aborted", async () => {
    const error = await client()
      .create({ ...hello, signal: AbortSignal.abort() })
      .catch((e: Error) => e);
    expect((error as Error).name).toBe("AbortError");
    expect(server.requests).toHaveLength(0);
  });

  it.each([
    [
      "a non-JSON body",
      { type: "raw", body: "<html>502 Bad Gateway</html>", contentType: "text/html" },
      /JSON object/,
    ],
    ["truncated JSON", { type: "raw", body: '{"choices": [' }, /not valid JSON/],
    ["no choices", { type: "raw", body: '{"id":"x","choices":[]}' }, /no "choices"/],
    [
      "a tool call without a name",
      {
        type: "raw",
        body: '{"choices":[{"message":{"role":"assistant","tool_calls":[{"id":"c","function":{}}]}}]}',
      },
      /tool_calls\[0\] has no function name/,
    ],
  ] as const)(
    "turns %s into an invalid_response error without retrying",
    async (_name, step, pattern) => {
      server.enqueue(step);
      const error = await failure(client().create(hello));
      expect(error.kind).toBe("invalid_response");
      expect(error.attempts).toBe(1);
      expect(error.message).toMatch(pattern);
    },
  );

  it.each([
    ["a non-JSON data line", "data: {not json\n\n"],
    [
      "a stream with no finish_reason",
      'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n',
    ],
    ["an error event", 'data: {"error":{"message":"model crashed"}}\n\n'],
    [
      "a nameless tool call",
      'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"finish_reason":"tool_calls"}]}\n\ndata: [DONE]\n\n',
    ],
  ])("turns a garbage stream (%s) into an invalid_response error", async (_name, body) => {
    server.enqueue({ type: "raw", body, contentType: "text/event-stream" });
    const error = await failure(collectStream(client().stream(hello)));
    expect(error.kind).toBe("invalid_response");
  });

  it("reports an unreachable endpoint as a connection error after retries", async () => {
    const dead = await ChatCompletionsTestServer.start();
    const baseURL = dead.baseURL;
    await dead.close();
    const error = await failure(
      client({ baseURL, retry: { ...fast, maxRetries: 1 } }).create(hello),
    );
    expect(error.kind).toBe("connection");
    expect(error.attempts).toBe(2);
    expect(error.endpoint).toBe(`${baseURL}/chat/completions`);
  });

  it("falls back to create when streaming is declared off", async () => {
    server.enqueue({ type: "reply", content: "whole" });
    const chunks = await drain(client({ capabilities: { streaming: false } }).stream(hello));
    expect(chunks.map((c) => c.type)).toEqual(["text-delta", "finish"]);
    expect(server.requests[0].stream).toBe(false);
  });

  it("declares capabilities from config over the defaults", () => {
    expect(client().capabilities).toEqual({
      tools: true,
      vision: false,
      structuredOutput: true,
      streaming: true,
    });
    expect(client({ model: "gpt-4o-mini" }).capabilities.vision).toBe(true);
    expect(client({ capabilities: { tools: false, vision: true } }).capabilities).toEqual({
      tools: false,
      vision: true,
      structuredOutput: true,
      streaming: true,
    });
  });

  it("sends extra body fields, headers, and max_completion_tokens when asked", async () => {
    server.enqueue({ type: "reply", content: "x" });
    await client({
      extraBody: { top_k: 20 },
      defaultHeaders: { "x-tenant": "acme" },
      maxTokensParam: "max_completion_tokens",
      streamUsage: false,
    }).create({ ...hello, maxTokens: 10 });
    const req = server.requests[0];
    expect(req.headers["x-tenant"]).toBe("acme");
    expect(req.body).toMatchObject({ top_k: 20, max_completion_tokens: 10 });
  });

  it("rejects a bad configuration clearly", () => {
    expect(() => new OpenAIChatClient({ model: "" })).toThrow(ModelConfigError);
    expect(() => new OpenAIChatClient({ model: "gpt-4o" })).toThrow(/apiKey is required/);
    expect(() => new OpenAIChatClient({ model: "m", baseURL: "localhost:8000" })).toThrow(
      /baseURL/,
    );
    expect(() => client({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => client({ retry: { maxRetries: -1 } })).toThrow(/maxRetries/);
  });
});

describe("AzureOpenAIChatClient", () => {
  it("calls the deployment URL with api-version and the api-key header", async () => {
    server.enqueue({ type: "reply", content: "from azure" });
    const azure = new AzureOpenAIChatClient({
      endpoint: `${server.url}/`,
      deployment: "gpt4o-prod",
      apiKey: "azure-key",
      apiVersion: "2024-10-21",
    });
    const result = await azure.create({ ...hello, maxTokens: 5 });
    expect(result.content).toBe("from azure");
    expect(azure.modelId).toBe("gpt4o-prod");
    const req = server.requests[0];
    expect(req.path).toBe("/openai/deployments/gpt4o-prod/chat/completions");
    expect(req.query).toEqual({ "api-version": "2024-10-21" });
    expect(req.headers["api-key"]).toBe("azure-key");
    expect(req.body).toMatchObject({ max_completion_tokens: 5 });
  });

  it("names the deployment URL in errors", async () => {
    server.enqueue({ type: "error", status: 404, message: "DeploymentNotFound" });
    const azure = new AzureOpenAIChatClient({
      endpoint: server.url,
      deployment: "nope",
      apiKey: "k",
    });
    const error = await failure(azure.create(hello));
    expect(error.endpoint).toBe(`${server.url}/openai/deployments/nope/chat/completions`);
    expect(error.message).toContain("DeploymentNotFound");
  });

  it("requires credentials", () => {
    expect(() => new AzureOpenAIChatClient({ endpoint: server.url, deployment: "d" })).toThrow(
      /apiKey/,
    );
  });
});
