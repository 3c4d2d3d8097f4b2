import { describe, expect, it } from "vitest";
import {
  InvalidResponseError,
  parseCompletion,
  StreamAssembler,
  toFinishReason,
  toWireParams,
} from "./openai-wire.js";

const wire = { model: "m", maxTokensParam: "max_tokens" as const };

describe("toWireParams", () => {
  it("omits what was not asked for", () => {
    expect(
      toWireParams(
        { messages: [{ role: "user", content: "x" }], parallelToolCalls: true, stop: [] },
        wire,
      ),
    ).toEqual({
      model: "m",
      messages: [{ role: "user", content: "x" }],
    });
  });

  it("sends an empty string for an assistant message without content or calls", () => {
    const params = toWireParams({ messages: [{ role: "assistant", content: null }] }, wire);
    expect(params.messages).toEqual([{ role: "assistant", content: "" }]);
  });

  it("lets the config pick max_completion_tokens and add vendor fields", () => {
    const params = toWireParams(
      { messages: [], maxTokens: 9, toolChoice: "required" },
      {
        model: "m",
        maxTokensParam: "max_completion_tokens",
        extraBody: { top_k: 5, model: "overridden" },
      },
    );
    expect(params).toEqual({
      model: "m",
      messages: [],
      max_completion_tokens: 9,
      tool_choice: "required",
      top_k: 5,
    });
  });

  it("names a message with an unknown role", () => {
    expect(() => toWireParams({ messages: [{ role: "robot" } as never] }, wire)).toThrow(
      'messages[0]: unknown role "robot"',
    );
  });
});

describe("parseCompletion", () => {
  it("tolerates servers' variations: missing usage, object arguments, missing ids, content parts", () => {
    const result = parseCompletion({
      choices: [
        {
          message: {
            content: [
              { type: "text", text: "a" },
              { type: "text", text: "b" },
            ],
            tool_calls: [
              { function: { name: "f", arguments: { x: 1 } } },
              { id: "k", function: { name: "g" } },
            ],
          },
          finish_reason: "stop",
        },
      ],
    });
    expect(result).toEqual({
      content: "ab",
      toolCalls: [
        { id: "call_0", name: "f", arguments: '{"x":1}' },
        { id: "k", name: "g", arguments: "{}" },
      ],
      finishReason: "tool_calls",
      usage: { promptTokens: 0, completionTokens: 0 },
    });
  });

  it.each([
    [null, /expected a JSON object, got null/],
    ["<html>", /expected a JSON object/],
    [{ error: { message: "boom" } }, /error in a 2xx answer: "boom"/],
    [{ choices: "x" }, /no "choices"/],
    [{ choices: [{}] }, /choices\[0\] has no "message"/],
    [{ choices: [{ message: { content: 42 } }] }, /message.content is not text/],
    [{ choices: [{ message: { tool_calls: {} } }] }, /tool_calls is not an array/],
    [
      { choices: [{ message: { tool_calls: [{ function: { name: "f", arguments: 3 } }] } }] },
      /arguments is 3/,
    ],
  ])("rejects garbage %j", (body, pattern) => {
    expect(() => parseCompletion(body)).toThrow(InvalidResponseError);
    expect(() => parseCompletion(body)).toThrow(pattern);
  });

  it("maps finish reasons", () => {
    expect(toFinishReason("length", false)).toBe("length");
    expect(toFinishReason("function_call", false)).toBe("tool_calls");
    expect(toFinishReason("eos", false)).toBe("unknown");
    expect(toFinishReason("content_filter", true)).toBe("content_filter");
  });
});

describe("StreamAssembler", () => {
  const chunk = (delta: unknown, finish: string | null = null) => ({
    choices: [{ index: 0, delta, finish_reason: finish }],
  });

  it("assembles calls whose deltas lack an index, repeat the name, or carry object arguments", () => {
    const a = new StreamAssembler();
    a.push(chunk({ tool_calls: [{ id: "x", function: { name: "f", arguments: '{"a":' } }] }));
    a.push(chunk({ tool_calls: [{ id: "x", function: { name: "f", arguments: "1}" } }] }));
    a.push(chunk({ tool_calls: [{ id: "y", function: { name: "g", arguments: { b: 2 } } }] }));
    a.push(chunk({}, "tool_calls"));
    a.push({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 6 }, model: "served" });
    expect(a.result()).toEqual({
      content: null,
      toolCalls: [
        { id: "x", name: "f", arguments: '{"a":1}' },
        { id: "y", name: "g", arguments: '{"b":2}' },
      ],
      finishReason: "tool_calls",
      usage: { promptTokens: 4, completionTokens: 6 },
      model: "served",
    });
  });

  it("ignores other choices (n > 1) and keeps text", () => {
    const a = new StreamAssembler();
    expect(
      a.push({
        choices: [
          { index: 1, delta: { content: "other" } },
          { index: 0, delta: { content: "mine" } },
        ],
      }),
    ).toEqual([{ type: "text-delta", delta: "mine" }]);
    a.push(chunk({}, "stop"));
    expect(a.result().content).toBe("mine");
  });

  it.each([
    ["a non-object chunk", [42]],
    ["choices that are not an array", [{ choices: {} }]],
    ["a non-text content delta", [chunk({ content: 5 })]],
    [
      "an implausible tool index",
      [chunk({ tool_calls: [{ index: 999, function: { name: "f" } }] })],
    ],
  ])("rejects %s", (_name, chunks) => {
    const a = new StreamAssembler();
    expect(() => {
      for (const c of chunks) a.push(c);
    }).toThrow(InvalidResponseError);
  });

  it("rejects a stream that never finished", () => {
    const a = new StreamAssembler();
    a.push(chunk({ content: "partial" }));
    expect(() => a.result()).toThrow(/ended before a finish_reason/);
  });
});
