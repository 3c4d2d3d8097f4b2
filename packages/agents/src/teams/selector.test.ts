import { describe, expect, it } from "vitest";
import { type ChatMessage, llmMessageText, messageText } from "../messages.js";
import { ReplayModelClient } from "../models/replay.js";
import { MaxMessageTermination, TokenUsageTermination } from "../termination/conditions.js";
import { ScriptedAgent } from "./scripted.js";
import { mentionedAgents, SelectorGroupChat } from "./selector.js";

const agent = (name: string, description = `the ${name}`) =>
  new ScriptedAgent(name, (_in, turn) => `${name}#${turn}`, { description });

const speakers = (ms: readonly { type: string; source: string }[]) =>
  ms.filter((m) => m.type === "text" && m.source !== "user").map((m) => m.source);

const usage = (promptTokens: number, completionTokens = 1) => ({ promptTokens, completionTokens });

describe("SelectorGroupChat", () => {
  it("lets the model pick each speaker, and counts the selector's tokens", async () => {
    const model = ReplayModelClient.fromResults([
      { content: "planner", usage: usage(30) },
      { content: "I think the coder should go next.", usage: usage(40) },
      { content: "reviewer", usage: usage(50) },
    ]);
    const team = new SelectorGroupChat(
      [agent("planner", "makes plans"), agent("coder"), agent("reviewer")],
      {
        model,
        termination: new MaxMessageTermination(4),
      },
    );
    const result = await team.run("build it");
    expect(speakers(result.messages)).toEqual(["planner", "coder", "reviewer"]);
    expect(result.usage["selector_group_chat/selector"]).toEqual({
      promptTokens: 120,
      completionTokens: 3,
    });
    const prompt = llmMessageText(model.requests[0].messages[0]!);
    expect(prompt).toContain("planner: makes plans");
    expect(prompt).toContain("[planner, coder, reviewer]");
    expect(prompt).toContain("user: build it");
    // Without allowRepeatedSpeaker the previous speaker is not offered again.
    expect(llmMessageText(model.requests[1].messages[0]!)).toContain("[coder, reviewer]");
  });

  it("token-usage termination sees the selector's own calls", async () => {
    const model = ReplayModelClient.fromResults([{ content: "a", usage: usage(100, 0) }]);
    const team = new SelectorGroupChat([agent("a"), agent("b")], {
      model,
      termination: new TokenUsageTermination({ maxPromptTokens: 100 }),
    });
    const result = await team.run("x");
    expect(result.stopReason).toMatch(/prompt_tokens=100/);
    expect(speakers(result.messages)).toEqual(["a"]);
  });

  it("retries with feedback, then falls back when the model names nobody valid", async () => {
    const model = ReplayModelClient.fromResults(["a", "nobody", "both a and b", "still nobody"]);
    const team = new SelectorGroupChat([agent("a"), agent("b"), agent("c")], {
      model,
      maxTurns: 2,
      allowRepeatedSpeaker: true,
    });
    const result = await team.run("x");
    // Turn 2: three failed attempts, so the previous speaker (a) speaks again.
    expect(speakers(result.messages)).toEqual(["a", "a"]);
    const retry = model.requests[3].messages;
    expect(llmMessageText(retry.at(-1)!)).toMatch(/Expected exactly one name, but got \[a, b\]/);
    expect(llmMessageText(model.requests[2].messages.at(-1)!)).toMatch(
      /No valid name was mentioned/,
    );
  });

  it("honours allowed and disallowed transitions; a single candidate needs no model call", async () => {
    const model = ReplayModelClient.fromResults(["writer", "publisher"]);
    const team = new SelectorGroupChat([agent("writer"), agent("editor"), agent("publisher")], {
      model,
      maxTurns: 4,
      transitions: {
        allowed: { writer: ["editor"], editor: ["writer", "publisher"] },
        disallowed: { publisher: ["editor"] },
      },
    });
    const result = await team.run("x");
    // writer (model) -> editor (the only one allowed: no call) -> publisher (model, from
    // [writer, publisher]) -> writer (editor disallowed, publisher may not repeat: no call).
    expect(speakers(result.messages)).toEqual(["writer", "editor", "publisher", "writer"]);
    expect(model.requests.length).toBe(2);
    expect(llmMessageText(model.requests[1].messages[0]!)).toContain("[writer, publisher]");
  });

  it("uses a custom selector function first, and the model when it returns null", async () => {
    const model = ReplayModelClient.fromResults(["b"]);
    const team = new SelectorGroupChat([agent("a"), agent("b")], {
      model,
      maxTurns: 3,
      allowRepeatedSpeaker: true,
      selectorFunc: (thread: readonly ChatMessage[]) =>
        thread.at(-1)?.source === "user" ? "a" : thread.length === 2 ? null : "a",
    });
    const result = await team.run("x");
    expect(speakers(result.messages)).toEqual(["a", "b", "a"]);
    expect(model.requests.length).toBe(1);
    const bad = new SelectorGroupChat([agent("a"), agent("b")], {
      model,
      selectorFunc: () => "zed",
    });
    await expect(bad.run("x")).rejects.toThrow(/selectorFunc returned "zed"/);
  });

  it("fallback round_robin and candidateFunc", async () => {
    const model = ReplayModelClient.fromResults(["?", "?", "?"]);
    const team = new SelectorGroupChat([agent("a"), agent("b"), agent("c")], {
      model,
      maxTurns: 2,
      maxSelectorAttempts: 1,
      fallback: "round_robin",
      candidateFunc: (thread) => (thread.length === 1 ? ["b"] : ["a", "b", "c"]),
    });
    const result = await team.run("x");
    expect(speakers(result.messages)).toEqual(["b", "c"]);
  });

  it("validates its configuration", () => {
    const model = ReplayModelClient.fromResults([]);
    expect(() => new SelectorGroupChat([agent("a")], { model })).toThrow(/allowRepeatedSpeaker/);
    expect(
      () =>
        new SelectorGroupChat([agent("a"), agent("b")], {
          model,
          transitions: { allowed: { a: ["zz"] } },
        }),
    ).toThrow(/transitions.allowed names "zz"/);
  });

  it("state round-trips (the previous speaker included)", async () => {
    const make = (results: string[]) =>
      new SelectorGroupChat([agent("a"), agent("b"), agent("c")], {
        model: ReplayModelClient.fromResults(results),
        maxTurns: 1,
      });
    const first = make(["b"]);
    await first.run("x");
    const second = make(["c, please"]);
    await second.loadState(JSON.parse(JSON.stringify(await first.saveState())));
    const r = await second.run();
    expect(speakers(r.messages)).toEqual(["c"]);
    expect(messageText(second.transcript.at(-1) as ChatMessage)).toBe("c#0");
  });
});

describe("mentionedAgents", () => {
  it("finds whole-word mentions, exact answers, and prefers longer names", () => {
    expect(mentionedAgents("coder", ["coder", "code_reviewer"])).toEqual(["coder"]);
    expect(mentionedAgents("The code reviewer, please.", ["coder", "code_reviewer"])).toEqual([
      "code_reviewer",
    ]);
    expect(mentionedAgents("**Planner**", ["planner"])).toEqual(["planner"]);
    expect(mentionedAgents("a_b then a", ["a", "a_b"])).toEqual(["a", "a_b"]);
    expect(mentionedAgents("nobody here", ["alice"])).toEqual([]);
  });
});
