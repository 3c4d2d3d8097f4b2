import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { ToolCall } from "../messages.js";
import { runToolCalls } from "./run-tools.js";
import { serializeToolOutput } from "./serialize.js";
import { type Tool, ToolError, tool, toolSpec } from "./tool.js";

const add = tool({
  name: "add",
  description: "Adds two numbers",
  parameters: z.object({ a: z.number(), b: z.number().describe("second") }),
  execute: ({ a, b }) => a + b,
});

const call = (name: string, args: string, id = `call_${name}`): ToolCall => ({
  id,
  name,
  arguments: args,
});

describe("tool()", () => {
  it("exports JSON Schema without the $schema header", () => {
    expect(toolSpec(add)).toEqual({
      name: "add",
      description: "Adds two numbers",
      parameters: {
        type: "object",
        properties: { a: { type: "number" }, b: { type: "number", description: "second" } },
        required: ["a", "b"],
        additionalProperties: false,
      },
    });
  });

  it("rejects bad definitions", () => {
    expect(() =>
      tool({ name: "bad name", description: "", parameters: z.object({}), execute: () => 1 }),
    ).toThrow(/tool name "bad name" is not valid/);
    expect(() =>
      tool({ name: "s", description: "", parameters: z.string(), execute: () => 1 }),
    ).toThrow(/must be a z.object/);
  });
});

describe("runToolCalls", () => {
  it("runs valid calls", async () => {
    const [r] = await runToolCalls([call("add", '{"a":2,"b":3}')], [add]);
    expect(r).toEqual({ callId: "call_add", name: "add", content: "5", isError: false });
  });

  it("returns malformed JSON as an error result", async () => {
    const [r] = await runToolCalls([call("add", '{"a":2,')], [add]);
    expect(r.isError).toBe(true);
    expect(r.content).toMatch(/^arguments for tool add are not valid JSON \(.+\): \{"a":2,$/);
  });

  it("returns non-object arguments as an error result", async () => {
    const [r] = await runToolCalls([call("add", "[1,2]")], [add]);
    expect(r.content).toBe("arguments for tool add must be a JSON object, got an array");
  });

  it("returns validation errors with the path of each problem", async () => {
    const [r] = await runToolCalls([call("add", '{"a":"2"}')], [add]);
    expect(r.isError).toBe(true);
    expect(r.content).toBe(
      "invalid arguments for tool add: a: Invalid input: expected number, received string; b: Invalid input: expected number, received undefined",
    );
  });

  it("lists the available tools for an unknown name", async () => {
    const [r] = await runToolCalls([call("mul", "{}")], [add]);
    expect(r).toMatchObject({ isError: true, content: 'unknown tool "mul"; available tools: add' });
  });

  it("treats empty arguments as {}", async () => {
    const now = tool({
      name: "ping",
      description: "",
      parameters: z.object({}),
      execute: () => "pong",
    });
    const [r] = await runToolCalls([call("ping", "")], [now]);
    expect(r.content).toBe("pong");
  });

  it("turns thrown errors into error results", async () => {
    const boom = tool({
      name: "boom",
      description: "",
      parameters: z.object({}),
      execute: () => {
        throw new Error("disk on fire");
      },
    });
    const verbatim = tool({
      name: "verbatim",
      description: "",
      parameters: z.object({}),
      execute: () => {
        throw new ToolError("no such city: Atlantis");
      },
    });
    const rs = await runToolCalls([call("boom", "{}"), call("verbatim", "{}")], [boom, verbatim]);
    expect(rs.map((r) => r.content)).toEqual([
      "tool boom failed: disk on fire",
      "no such city: Atlantis",
    ]);
  });

  it("catches a hand-written Tool whose run throws synchronously", async () => {
    const sync: Tool = {
      name: "sync",
      description: "",
      parameters: { type: "object" },
      run: () => {
        throw new Error("thrown before any promise");
      },
    };
    const [r] = await runToolCalls([call("sync", "{}")], [sync]);
    expect(r).toMatchObject({
      isError: true,
      content: "tool sync failed: thrown before any promise",
    });
  });

  it("stops a tool that hangs past its timeout, even one that ignores its signal", async () => {
    let aborted = false;
    const hang = tool({
      name: "hang",
      description: "",
      parameters: z.object({}),
      timeoutMs: 30,
      execute: (_args, { signal }) => {
        signal.addEventListener("abort", () => {
          aborted = true;
        });
        return new Promise(() => {});
      },
    });
    const [r] = await runToolCalls([call("hang", "{}")], [hang]);
    expect(r).toMatchObject({ isError: true, content: "tool hang timed out after 30 ms" });
    expect(aborted).toBe(true);
  });

  it("runs the calls of one response in parallel, results in call order", async () => {
    const order: string[] = [];
    const slow = (name: string, ms: number): Tool =>
      tool({
        name,
        description: "",
        parameters: z.object({}),
        execute: async () => {
          order.push(`start ${name}`);
          await new Promise((r) => setTimeout(r, ms));
          order.push(`end ${name}`);
          return name;
        },
      });
    const rs = await runToolCalls(
      [call("a", "{}"), call("b", "{}")],
      [slow("a", 40), slow("b", 5)],
    );
    expect(rs.map((r) => r.content)).toEqual(["a", "b"]);
    expect(order).toEqual(["start a", "start b", "end b", "end a"]);
  });

  it("rejects when cancelled", async () => {
    const ac = new AbortController();
    let sawAbort = false;
    const wait = tool({
      name: "wait",
      description: "",
      parameters: z.object({}),
      execute: (_a, { signal }) =>
        new Promise((_, reject) =>
          signal.addEventListener("abort", () => {
            sawAbort = true;
            reject(new Error("stopped"));
          }),
        ),
    });
    const p = runToolCalls([call("wait", "{}")], [wait], { signal: ac.signal });
    setTimeout(() => ac.abort(new Error("user cancelled")), 10);
    await expect(p).rejects.toThrow("user cancelled");
    expect(sawAbort).toBe(true);
  });
});

describe("serializeToolOutput", () => {
  it("is deterministic: strings as is, JSON with sorted keys", () => {
    expect(serializeToolOutput("hi")).toBe("hi");
    expect(serializeToolOutput(undefined)).toBe("");
    expect(serializeToolOutput(42)).toBe("42");
    expect(serializeToolOutput({ b: 1, a: { d: [1, undefined], c: 10n } })).toBe(
      '{"a":{"c":"10","d":[1,null]},"b":1}',
    );
    expect(
      serializeToolOutput(
        new Map<string, unknown>([
          ["z", 1],
          ["y", new Set([2])],
        ]),
      ),
    ).toBe('{"y":[2],"z":1}');
    expect(serializeToolOutput({ t: new Date(0), n: Number.NaN })).toBe(
      '{"n":"NaN","t":"1970-01-01T00:00:00.000Z"}',
    );
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = loop;
    expect(serializeToolOutput(loop)).toBe('{"a":1,"self":"[Circular]"}');
  });
});
