import { AsyncLocalStorage } from "node:async_hooks";
import {
  type Attributes,
  type Context,
  type ContextManager,
  context,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ReplayModelClient } from "../models/replay.js";
import { ScriptedAgent } from "../teams/scripted.js";
import { SelectorGroupChat } from "../teams/selector.js";
import { tool } from "../tools/tool.js";
import { tracedModelClient, tracedTool } from "./traced.js";

/** A minimal in-memory OpenTelemetry SDK: enough to record spans and their parents. */
interface Recorded {
  name: string;
  id: string;
  parentId?: string;
  attributes: Attributes;
  status?: SpanStatus;
  ended: boolean;
}

const spans: Recorded[] = [];
let nextId = 1;

class RecordingSpan implements Span {
  constructor(readonly record: Recorded) {}
  spanContext(): SpanContext {
    return { traceId: "t".repeat(32), spanId: this.record.id, traceFlags: 1 };
  }
  setAttribute(key: string, value: Attributes[string]) {
    this.record.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes) {
    Object.assign(this.record.attributes, attributes);
    return this;
  }
  addEvent() {
    return this;
  }
  addLink() {
    return this;
  }
  addLinks() {
    return this;
  }
  setStatus(status: SpanStatus) {
    this.record.status = status;
    return this;
  }
  updateName(name: string) {
    this.record.name = name;
    return this;
  }
  end() {
    this.record.ended = true;
  }
  isRecording() {
    return true;
  }
  recordException() {}
}

class RecordingTracer implements Tracer {
  startSpan(name: string, options: SpanOptions = {}, ctx: Context = context.active()): Span {
    const parent = trace.getSpan(ctx);
    const record: Recorded = {
      name,
      id: (nextId++).toString(16).padStart(16, "0"),
      parentId: parent?.spanContext().spanId,
      attributes: { ...options.attributes },
      ended: false,
    };
    spans.push(record);
    return new RecordingSpan(record);
  }
  // biome-ignore lint/suspicious/noExplicitAny: the API's overloads
  startActiveSpan(name: string, ...args: any[]): any {
    const fn = args.at(-1) as (span: Span) => unknown;
    const options = (args.length > 1 ? args[0] : {}) as SpanOptions;
    const span = this.startSpan(name, options);
    return context.with(trace.setSpan(context.active(), span), fn, undefined, span);
  }
}

class AsyncLocalStorageContextManager implements ContextManager {
  private readonly als = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.als.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.als.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable() {
    return this;
  }
  disable() {
    this.als.disable();
    return this;
  }
}

const provider: TracerProvider = { getTracer: () => new RecordingTracer() };

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager());
  trace.setGlobalTracerProvider(provider);
});

const byName = (prefix: string) => spans.filter((s) => s.name.startsWith(prefix));
const parentOf = (s: Recorded) => spans.find((p) => p.id === s.parentId);

describe("tracing", () => {
  it("records team runs, turns, model calls (the selector's too) and tool calls, nested", async () => {
    spans.length = 0;
    const model = tracedModelClient(
      ReplayModelClient.fromResults(
        [{ content: "42", usage: { promptTokens: 7, completionTokens: 2 } }],
        { modelId: "m-agent" },
      ),
      "solver",
    );
    const add = tracedTool(
      tool({
        name: "add",
        description: "adds",
        parameters: z.object({ a: z.number(), b: z.number() }),
        execute: ({ a, b }) => a + b,
      }),
    );
    const solver = new ScriptedAgent("solver", async () => {
      const sum = await add.run(
        { a: 40, b: 2 },
        { signal: new AbortController().signal, callId: "c1" },
      );
      const answer = await model.create({ messages: [{ role: "user", content: `sum is ${sum}` }] });
      return answer.content ?? "";
    });
    const checker = new ScriptedAgent("checker", ["fine"]);
    const selector = ReplayModelClient.fromResults(
      [{ content: "solver", usage: { promptTokens: 11, completionTokens: 1 } }],
      { modelId: "m-selector" },
    );
    const team = new SelectorGroupChat([solver, checker], {
      model: selector,
      maxTurns: 1,
      name: "math",
    });
    await team.run("what is 40 + 2?");

    const [run] = byName("team.run");
    expect(run.attributes).toMatchObject({
      "athanor.team.name": "math",
      "athanor.team.type": "SelectorGroupChat",
      "athanor.turns": 1,
    });
    const [turn] = byName("agent.turn solver");
    expect(parentOf(turn)).toBe(run);
    expect(turn.attributes).toMatchObject({ "athanor.agent.name": "solver", "athanor.turn": 1 });

    const [selectorCall] = byName("chat m-selector");
    expect(parentOf(selectorCall)).toBe(run);
    expect(selectorCall.attributes).toMatchObject({
      "athanor.agent.name": "math/selector",
      "gen_ai.usage.input_tokens": 11,
      "gen_ai.usage.output_tokens": 1,
    });

    const [agentCall] = byName("chat m-agent");
    expect(parentOf(agentCall)).toBe(turn);
    expect(agentCall.attributes).toMatchObject({
      "gen_ai.request.model": "m-agent",
      "gen_ai.usage.input_tokens": 7,
    });

    const [toolCall] = byName("execute_tool add");
    expect(parentOf(toolCall)).toBe(turn);
    expect(toolCall.attributes).toMatchObject({
      "gen_ai.tool.name": "add",
      "gen_ai.tool.call.id": "c1",
    });
    expect(spans.every((s) => s.ended)).toBe(true);
  });

  it("streams through a traced model client and marks failures", async () => {
    spans.length = 0;
    const model = tracedModelClient(ReplayModelClient.fromResults(["hello"], { modelId: "m" }));
    const chunks: string[] = [];
    for await (const c of model.stream({ messages: [{ role: "user", content: "hi" }] }))
      chunks.push(c.type);
    expect(chunks.at(-1)).toBe("finish");
    expect(byName("chat m")[0].attributes["gen_ai.request.stream"]).toBe(true);
    await expect(
      model.create({ messages: [{ role: "user", content: "again" }] }),
    ).rejects.toThrow();
    expect(byName("chat m")[1].status?.code).toBe(2);
  });
});
