/**
 * One suite, every model client in this folder: what an agent may rely on whatever the
 * backend (create and stream agree, deltas add up to the result, aborts are AbortErrors).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ToolCall } from "../messages.js";
import type { CreateResult, ModelClient, StreamChunk } from "../model-client.js";
import { ChatCompletionsTestServer } from "../testing/index.js";
import { CachedModelClient } from "./cache.js";
import { OpenAIChatClient } from "./openai-client.js";
import { RecordingModelClient } from "./recording.js";
import { ReplayModelClient } from "./replay.js";

interface Scripted {
  content: string | null;
  toolCalls: ToolCall[];
}

let server: ChatCompletionsTestServer;
beforeAll(async () => {
  server = await ChatCompletionsTestServer.start();
});
afterAll(async () => {
  await server.close();
});

const factories: Record<string, (script: Scripted) => ModelClient> = {
  OpenAIChatClient: (s) => {
    server.reset();
    server.enqueue({
      type: "reply",
      content: s.content,
      toolCalls: s.toolCalls,
      argumentsChunkSize: 3,
    });
    return new OpenAIChatClient({
      baseURL: server.baseURL,
      model: "test-model",
      retry: { maxRetries: 0 },
    });
  },
  ReplayModelClient: (s) => ReplayModelClient.fromResults([s]),
  RecordingModelClient: (s) => new RecordingModelClient(ReplayModelClient.fromResults([s])),
  CachedModelClient: (s) =>
    new CachedModelClient(ReplayModelClient.fromResults([s]), { path: ":memory:" }),
};

const scripts: Record<string, Scripted> = {
  text: { content: "Hello, streaming world!", toolCalls: [] },
  "tool calls": {
    content: null,
    toolCalls: [
      { id: "c1", name: "add", arguments: '{"a":1,"b":2}' },
      { id: "c2", name: "lookup", arguments: '{"query":"capital of France"}' },
    ],
  },
};

const request = { messages: [{ role: "user" as const, content: "go" }] };

function assemble(chunks: StreamChunk[]): Scripted {
  const text = chunks.flatMap((c) => (c.type === "text-delta" ? [c.delta] : [])).join("");
  const calls: ToolCall[] = [];
  for (const c of chunks) {
    if (c.type !== "tool-call-delta") continue;
    calls[c.index] ??= { id: "", name: "", arguments: "" };
    const call = calls[c.index];
    if (c.id) call.id = c.id;
    if (c.name) call.name = c.name;
    call.arguments += c.argumentsDelta;
  }
  return { content: text === "" ? null : text, toolCalls: calls };
}

const essence = (r: CreateResult) => ({
  content: r.content,
  toolCalls: r.toolCalls,
  finishReason: r.finishReason,
});

describe.each(Object.entries(factories))("%s conformance", (_name, make) => {
  it.each(Object.entries(scripts))("create returns the %s answer", async (_s, script) => {
    const result = await make(script).create(request);
    expect(result.content).toEqual(script.content);
    expect(result.toolCalls).toEqual(script.toolCalls);
    expect(result.finishReason).toBe(script.toolCalls.length > 0 ? "tool_calls" : "stop");
    expect(result.usage.promptTokens).toBeGreaterThanOrEqual(0);
  });

  it.each(Object.entries(scripts))(
    "stream deltas add up to its finish result (%s)",
    async (_s, script) => {
      const chunks: StreamChunk[] = [];
      for await (const c of make(script).stream(request)) chunks.push(c);
      const finish = chunks.at(-1);
      expect(finish?.type).toBe("finish");
      expect(chunks.filter((c) => c.type === "finish")).toHaveLength(1);
      if (finish?.type !== "finish") return;
      expect(assemble(chunks)).toEqual({
        content: finish.result.content,
        toolCalls: finish.result.toolCalls,
      });
      const created = await make(script).create(request);
      expect(essence(finish.result)).toEqual(essence(created));
    },
  );

  it("rejects an aborted call with an AbortError", async () => {
    const client = make(scripts.text);
    const signal = AbortSignal.abort();
    await expect(client.create({ ...request, signal })).rejects.toMatchObject({
      name: "AbortError",
    });
    const streaming = (async () => {
      for await (const _ of client.stream({ ...request, signal })) {
        // nothing arrives
      }
    })();
    await expect(streaming).rejects.toMatchObject({ name: "AbortError" });
  });
});
