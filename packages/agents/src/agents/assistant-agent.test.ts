import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isResponseItem } from "../agent.js";
import type { Memory, MemoryItem } from "../memory/memory.js";
import { type ChatMessage, type LLMMessage, llmMessageText, message } from "../messages.js";
import type { CreateRequest, CreateResult, ModelClient, StreamChunk } from "../model-client.js";
import { OpenAIChatClient } from "../models/openai-client.js";
import { ReplayModelClient } from "../models/replay.js";
import { ChatCompletionsTestServer } from "../testing/chat-completions-server.js";
import { tool } from "../tools/tool.js";
import { AssistantAgent } from "./assistant-agent.js";
import { ModelOutputError } from "./errors.js";

const add = tool({
  name: "add",
  description: "Adds two numbers",
  parameters: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => a + b,
});

const usage = (p: number, c: number) => ({ promptTokens: p, completionTokens: c });
const user = (content: string): ChatMessage => message("text", { source: "user", content });

describe("AssistantAgent", () => {
  it("answers with text, sending the system message and history", async () => {
    const model = ReplayModelClient.fromResults([
      { content: "Hello!", usage: usage(10, 2) },
      { content: "Again.", usage: usage(15, 2) },
    ]);
    const agent = new AssistantAgent("helper", { modelClient: model, systemMessage: "Be brief." });
    const r = await agent.run("Hi");
    expect(r.message).toMatchObject({ type: "text", source: "helper", content: "Hello!" });
    expect(r.message.usage).toEqual(usage(10, 2));
    expect(r.inner).toEqual([]);
    await agent.run("Hi again");
    expect(model.requests[1].messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi", name: "user" },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "Hi again", name: "user" },
    ]);
    expect(model.requests[0].tools).toBeUndefined();
  });

  it("runs tools and ends with a ToolCallSummaryMessage by default", async () => {
    const model = ReplayModelClient.fromResults([
      {
        toolCalls: [
          { id: "c1", name: "add", arguments: { a: 1, b: 2 } },
          { id: "c2", name: "add", arguments: { a: 10, b: 20 } },
        ],
        usage: usage(20, 5),
      },
    ]);
    const agent = new AssistantAgent("calc", { modelClient: model, tools: [add] });
    const r = await agent.run("1+2 and 10+20?");
    expect(r.message).toMatchObject({ type: "tool_call_summary", content: "3\n30" });
    expect(r.message.usage).toEqual(usage(20, 5));
    expect(r.inner.map((e) => e.type)).toEqual(["tool_call_request", "tool_call_execution"]);
    expect(model.requests[0].tools?.[0].name).toBe("add");
  });

  it("reflects on tool use with a second call, summing usage", async () => {
    const model = ReplayModelClient.fromResults([
      { toolCalls: [{ id: "c1", name: "add", arguments: { a: 1, b: 2 } }], usage: usage(20, 5) },
      { content: "1 + 2 = 3", usage: usage(30, 6) },
    ]);
    const agent = new AssistantAgent("calc", {
      modelClient: model,
      tools: [add],
      reflectOnToolUse: true,
    });
    const r = await agent.run("1+2?");
    expect(r.message).toMatchObject({ type: "text", content: "1 + 2 = 3" });
    expect(r.message.usage).toEqual(usage(50, 11));
    // The reflection call carries the tool results and offers no tools.
    const second = model.requests[1];
    expect(second.tools).toBeUndefined();
    expect(second.messages.at(-1)).toEqual({
      role: "tool",
      results: [{ callId: "c1", name: "add", content: "3", isError: false }],
    });
  });

  it("loops up to maxToolIterations, then answers", async () => {
    const model = ReplayModelClient.fromResults([
      { toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }] },
      { toolCalls: [{ name: "add", arguments: { a: 3, b: 3 } }] },
      "The answer is 6.",
    ]);
    const agent = new AssistantAgent("calc", {
      modelClient: model,
      tools: [add],
      maxToolIterations: 5,
    });
    const r = await agent.run("(1+2)+3?");
    expect(r.message).toMatchObject({ type: "text", content: "The answer is 6." });
    expect(r.inner).toHaveLength(4);
  });

  it("sends malformed arguments and unknown tools back to the model as error results", async () => {
    const model = ReplayModelClient.fromResults([
      {
        toolCalls: [
          { id: "a", name: "add", arguments: '{"a": 1, "b":' },
          { id: "b", name: "add", arguments: { a: "one", b: 2 } },
          { id: "c", name: "multiply", arguments: {} },
        ],
      },
      "Sorry, I could not compute that.",
    ]);
    const agent = new AssistantAgent("calc", {
      modelClient: model,
      tools: [add],
      reflectOnToolUse: true,
    });
    const r = await agent.run("?");
    expect(r.message.type).toBe("text");
    const results = (model.requests[1].messages.at(-1) as Extract<LLMMessage, { role: "tool" }>)
      .results;
    expect(results.map((x) => x.isError)).toEqual([true, true, true]);
    expect(results[0].content).toMatch(/^arguments for tool add are not valid JSON/);
    expect(results[1].content).toBe(
      "invalid arguments for tool add: a: Invalid input: expected number, received string",
    );
    expect(results[2].content).toBe('unknown tool "multiply"; available tools: add');
  });

  it("ends a model that keeps calling unknown tools after maxToolIterations", async () => {
    const model = ReplayModelClient.fromResults(
      Array.from({ length: 3 }, () => ({ toolCalls: [{ name: "nope", arguments: {} }] })),
    );
    const agent = new AssistantAgent("calc", {
      modelClient: model,
      tools: [add],
      maxToolIterations: 3,
    });
    const r = await agent.run("?");
    expect(r.message).toMatchObject({
      type: "tool_call_summary",
      content: 'unknown tool "nope"; available tools: add',
    });
    expect(model.remaining).toBe(0);
  });

  it("returns a tool that hangs past its timeout as an error result", async () => {
    const hang = tool({
      name: "hang",
      description: "never returns",
      parameters: z.object({}),
      execute: () => new Promise(() => {}),
    });
    const model = ReplayModelClient.fromResults([{ toolCalls: [{ name: "hang" }] }]);
    const agent = new AssistantAgent("a", { modelClient: model, tools: [hang], toolTimeoutMs: 20 });
    const r = await agent.run("go");
    expect(r.message).toMatchObject({ content: "tool hang timed out after 20 ms" });
  });

  it("throws a clear error for an empty response", async () => {
    const model = ReplayModelClient.fromResults([{ content: "", finishReason: "length" }]);
    const agent = new AssistantAgent("a", { modelClient: model });
    const err = await agent.run("?").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelOutputError);
    expect((err as Error).message).toBe(
      "a: model replay returned an empty response (no text and no tool calls; finish reason: length)",
    );
  });

  it("gives distinct ids to tool calls that lack them or repeat them", async () => {
    const model = ReplayModelClient.fromResults([
      {
        toolCalls: [
          { id: "x", name: "add", arguments: { a: 1, b: 1 } },
          { id: "x", name: "add", arguments: { a: 2, b: 2 } },
        ],
      },
    ]);
    const agent = new AssistantAgent("a", { modelClient: model, tools: [add] });
    const r = await agent.run("?");
    const results = (r.message as Extract<ChatMessage, { type: "tool_call_summary" }>).results;
    expect(results[0].callId).toBe("x");
    expect(results[1].callId).not.toBe("x");
  });

  describe("structured output", () => {
    const Answer = z.object({ city: z.string(), population: z.number().int() });

    it("requests a JSON schema and returns a StructuredMessage", async () => {
      const model = ReplayModelClient.fromResults([
        '```json\n{"city":"Paris","population":2100000}\n```',
      ]);
      const agent = new AssistantAgent("geo", { modelClient: model, outputSchema: Answer });
      const r = await agent.run("Largest French city?");
      expect(r.message).toMatchObject({
        type: "structured",
        content: { city: "Paris", population: 2100000 },
        text: '{"city":"Paris","population":2100000}',
      });
      expect(model.requests[0].responseFormat).toEqual({
        type: "json_schema",
        name: "output",
        strict: true,
        schema: {
          type: "object",
          properties: {
            city: { type: "string" },
            population: { type: "integer", maximum: 9007199254740991, minimum: -9007199254740991 },
          },
          required: ["city", "population"],
          additionalProperties: false,
        },
      });
    });

    it("reports invalid JSON and schema mismatches precisely", async () => {
      const notJson = new AssistantAgent("geo", {
        modelClient: ReplayModelClient.fromResults(["Paris, about 2 million"]),
        outputSchema: Answer,
      });
      await expect(notJson.run("?")).rejects.toThrow(
        /^geo: structured output of model replay is not valid JSON \(.+\): Paris, about 2 million$/,
      );
      const wrong = new AssistantAgent("geo", {
        modelClient: ReplayModelClient.fromResults(['{"city":"Paris","population":"many"}']),
        outputSchema: Answer,
      });
      await expect(wrong.run("?")).rejects.toThrow(
        "geo: structured output of model replay does not match the schema: population: Invalid input: expected number, received string",
      );
    });

    it("refuses a model without structured output", () => {
      const model = ReplayModelClient.fromResults([], {
        capabilities: { structuredOutput: false },
      });
      expect(() => new AssistantAgent("geo", { modelClient: model, outputSchema: Answer })).toThrow(
        /does not support structured output/,
      );
    });
  });

  it("streams token deltas, then the message and the response", async () => {
    const chunks: StreamChunk[] = [
      { type: "text-delta", delta: "Hel" },
      { type: "text-delta", delta: "lo" },
      {
        type: "finish",
        result: { content: "Hello", toolCalls: [], finishReason: "stop", usage: usage(3, 2) },
      },
    ];
    const streamer: ModelClient = {
      modelId: "streamer",
      capabilities: { tools: true, vision: false, structuredOutput: true, streaming: true },
      create: () => Promise.reject(new Error("create must not be called when streaming")),
      stream: async function* () {
        yield* chunks;
      },
    };
    const agent = new AssistantAgent("s", { modelClient: streamer, streaming: true });
    const items = [];
    for await (const item of agent.onMessagesStream([user("hi")])) items.push(item);
    expect(items.map((i) => (i.type === "token_delta" ? i.delta : i.type))).toEqual([
      "Hel",
      "lo",
      "text",
      "response",
    ]);
    const last = items.at(-1)!;
    expect(isResponseItem(last) && last.response.message).toMatchObject({ content: "Hello" });
  });

  it("hands off through transfer_to_<name> tools", async () => {
    const model = ReplayModelClient.fromResults([
      { toolCalls: [{ id: "h", name: "transfer_to_planner", arguments: {} }] },
    ]);
    const agent = new AssistantAgent("triage", {
      modelClient: model,
      handoffs: ["planner", { target: "coder", description: "For code questions." }],
    });
    const r = await agent.run("plan my week");
    expect(model.requests[0].tools?.map((t) => [t.name, t.description])).toEqual([
      ["transfer_to_planner", "Hand off to planner."],
      ["transfer_to_coder", "For code questions."],
    ]);
    expect(r.message).toMatchObject({
      type: "handoff",
      target: "planner",
      content: "Transferred to planner, adopting the role of planner immediately.",
    });
    const context = (r.message as Extract<ChatMessage, { type: "handoff" }>).context;
    expect(context?.map((m) => m.role)).toEqual(["assistant", "tool"]);

    // The target adds the handoff context to its own history.
    const planner = new AssistantAgent("planner", {
      modelClient: ReplayModelClient.fromResults(["Here is a plan."]),
      systemMessage: null,
    });
    await planner.onMessages([r.message]);
    const sent = (planner.modelClient as ReplayModelClient).requests[0].messages;
    expect(sent.map((m) => m.role)).toEqual(["assistant", "tool", "user"]);
  });

  it("consults memory before every model call", async () => {
    const seen: number[] = [];
    const memory: Memory = {
      name: "facts",
      add: async () => {},
      query: async () => [],
      clear: async () => {},
      saveState: async () => null,
      loadState: async () => {},
      updateContext: async (context) => {
        seen.push(context.length);
        const item: MemoryItem = { content: "The user's name is Ada." };
        context.splice(1, 0, { role: "system", content: `Relevant memory:\n${item.content}` });
        return [item];
      },
    };
    const model = ReplayModelClient.fromResults([
      { toolCalls: [{ name: "add", arguments: { a: 1, b: 1 } }] },
      "Hi Ada, 2.",
    ]);
    const agent = new AssistantAgent("a", {
      modelClient: model,
      tools: [add],
      memory: [memory],
      reflectOnToolUse: true,
    });
    await agent.run("hello");
    expect(seen).toEqual([2, 4]);
    expect(model.requests[1].messages[1]).toEqual({
      role: "system",
      content: "Relevant memory:\nThe user's name is Ada.",
    });
  });

  it("saves its memories with its state and restores them", async () => {
    const { ListMemory } = await import("../memory/list-memory.js");
    const facts = new ListMemory({ name: "facts" });
    await facts.add({ content: "The user's name is Ada." });
    const a = new AssistantAgent("a", {
      modelClient: ReplayModelClient.fromResults(["hi"]),
      memory: [facts],
    });
    await a.run("hello");
    const state = JSON.parse(JSON.stringify(await a.saveState()));
    const restored = new ListMemory({ name: "facts" });
    const b = new AssistantAgent("a", {
      modelClient: ReplayModelClient.fromResults([]),
      memory: [restored],
    });
    await b.loadState(state);
    expect((await restored.query("Ada")).map((r) => r.item.content)).toEqual([
      "The user's name is Ada.",
    ]);
  });

  it("sends only the last N messages with a buffered context, never starting at tool results", async () => {
    const model = ReplayModelClient.fromResults([
      "one",
      { toolCalls: [{ name: "add", arguments: { a: 1, b: 1 } }] },
      "three",
    ]);
    const agent = new AssistantAgent("a", {
      modelClient: model,
      tools: [add],
      systemMessage: "sys",
      modelContext: { bufferSize: 3 },
      reflectOnToolUse: true,
    });
    await agent.run("first");
    await agent.run("second");
    // History: user, assistant, user, assistant(toolCalls), tool -> last 3 = user, assistant, tool.
    expect(model.requests[2].messages.map((m) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "tool",
    ]);
    // A window of 1 would start at the tool results: they are dropped rather than orphaned.
    const tiny = new AssistantAgent("b", {
      modelClient: ReplayModelClient.fromResults([
        { toolCalls: [{ name: "add", arguments: { a: 1, b: 1 } }] },
        "two",
      ]),
      tools: [add],
      systemMessage: null,
      modelContext: { bufferSize: 1 },
      reflectOnToolUse: true,
    });
    await tiny.run("x");
    expect((tiny.modelClient as ReplayModelClient).requests[1].messages).toEqual([]);
  });

  it("saves and loads its state as plain JSON", async () => {
    const a = new AssistantAgent("a", { modelClient: ReplayModelClient.fromResults(["first"]) });
    await a.run("hello");
    const state = JSON.parse(JSON.stringify(await a.saveState()));
    const model = ReplayModelClient.fromResults(["second"]);
    const b = new AssistantAgent("a", { modelClient: model, systemMessage: null });
    await b.loadState(state);
    await b.run("again");
    expect(model.requests[0].messages.map(llmMessageText)).toEqual(["hello", "first", "again"]);
    await expect(b.loadState({ llmContext: 3 })).rejects.toThrow(/not an AssistantAgent state/);
    await b.reset();
    expect(b.modelContext.all()).toEqual([]);
  });

  it("cancels a turn", async () => {
    const slow: ModelClient = {
      modelId: "slow",
      capabilities: { tools: true, vision: false, structuredOutput: false, streaming: false },
      create: (req: CreateRequest) =>
        new Promise<CreateResult>((_, reject) =>
          req.signal?.addEventListener("abort", () => reject(req.signal?.reason)),
        ),
      stream: () => {
        throw new Error("unused");
      },
    };
    const agent = new AssistantAgent("a", { modelClient: slow });
    const ac = new AbortController();
    const p = agent.run("?", { signal: ac.signal });
    ac.abort(new Error("stop now"));
    await expect(p).rejects.toThrow("stop now");
  });

  it("validates its configuration", () => {
    const model = ReplayModelClient.fromResults([], { capabilities: { tools: false } });
    expect(() => new AssistantAgent("a", { modelClient: model, tools: [add] })).toThrow(
      "a: model replay does not support tools (capabilities.tools is false)",
    );
    const ok = ReplayModelClient.fromResults([]);
    expect(() => new AssistantAgent("a", { modelClient: ok, tools: [add, add] })).toThrow(
      "a: two tools are named add",
    );
    expect(() => new AssistantAgent("a", { modelClient: ok, maxToolIterations: 0 })).toThrow(
      /maxToolIterations must be an integer >= 1/,
    );
  });

  it("streams tool calls and text end to end over the Chat Completions wire format", async () => {
    const server = await ChatCompletionsTestServer.start();
    try {
      server.enqueue({
        type: "reply",
        toolCalls: [{ id: "c1", name: "add", arguments: { a: 19, b: 23 } }],
        usage: { promptTokens: 40, completionTokens: 10 },
      });
      server.enqueue({
        type: "reply",
        content: "19 + 23 is 42.",
        usage: { promptTokens: 60, completionTokens: 8 },
      });
      const agent = new AssistantAgent("calc", {
        modelClient: new OpenAIChatClient({ baseURL: server.baseURL, model: "test-model" }),
        tools: [add],
        streaming: true,
        reflectOnToolUse: true,
      });
      const deltas: string[] = [];
      let final: ChatMessage | undefined;
      for await (const item of agent.onMessagesStream([user("19 + 23?")])) {
        if (item.type === "token_delta") deltas.push(item.delta);
        if (isResponseItem(item)) final = item.response.message;
      }
      expect(final).toMatchObject({ type: "text", content: "19 + 23 is 42." });
      expect(final?.usage).toEqual(usage(100, 18));
      expect(deltas.join("")).toBe("19 + 23 is 42.");
      expect(server.requests.every((r) => r.stream)).toBe(true);
      const second = server.requests[1].body as { messages: { role: string; content: string }[] };
      expect(second.messages.at(-1)).toMatchObject({ role: "tool", content: "42" });
    } finally {
      await server.close();
    }
  });
});
