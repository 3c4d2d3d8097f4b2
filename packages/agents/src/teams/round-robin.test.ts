import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AssistantAgent } from "../agents/assistant-agent.js";
import { type ChatMessage, message, messageText } from "../messages.js";
import { ReplayModelClient } from "../models/replay.js";
import {
  ExternalTermination,
  MaxMessageTermination,
  TextMentionTermination,
} from "../termination/conditions.js";
import { tool } from "../tools/tool.js";
import { RoundRobinGroupChat } from "./round-robin.js";
import { ScriptedAgent } from "./scripted.js";
import type { TeamStreamItem } from "./team.js";

const counter = (name: string, options = {}) =>
  new ScriptedAgent(
    name,
    (_in, turn) => ({
      message: `${name}#${turn}`,
      usage: { promptTokens: 10, completionTokens: 1 },
    }),
    options,
  );

const texts = (ms: readonly { type: string }[]) =>
  ms
    .filter((m) => m.type !== "speaker_change" && m.type !== "token_delta")
    .map((m) => messageText(m as ChatMessage));

describe("RoundRobinGroupChat", () => {
  it("takes turns in order until the termination condition fires", async () => {
    const team = new RoundRobinGroupChat([counter("a"), counter("b")], {
      termination: new MaxMessageTermination(4),
    });
    const result = await team.run("go");
    expect(texts(result.messages)).toEqual([
      "go",
      "a#0",
      "b#0",
      "a#1",
      expect.stringMatching(/Maximum number of messages 4/),
    ]);
    expect(result.stopReason).toMatch(/Maximum number of messages 4 reached/);
    expect(result.usage).toEqual({
      a: { promptTokens: 20, completionTokens: 2 },
      b: { promptTokens: 10, completionTokens: 1 },
    });
    expect(team.transcript.map((m) => m.source)).toEqual(["user", "a", "b", "a"]);
  });

  it("delivers everything said since an agent's last turn, except its own messages", async () => {
    const a = counter("a");
    const b = counter("b");
    const c = counter("c");
    const team = new RoundRobinGroupChat([a, b, c], { maxTurns: 4 });
    const result = await team.run("task");
    expect(result.stopReason).toBe("Maximum number of turns 4 reached");
    expect(a.received.map(messageText)).toEqual(["task", "a#0", "b#0", "c#0", "a#1"]);
    expect(b.received.map(messageText)).toEqual(["task", "a#0", "b#0"]);
  });

  it("continues where it stopped on the next run, and starts over after reset", async () => {
    const team = new RoundRobinGroupChat([counter("a"), counter("b")], {
      termination: new MaxMessageTermination(2),
    });
    await team.run("one");
    const second = await team.run();
    expect(texts(second.messages).slice(0, 2)).toEqual(["b#0", "a#1"]);
    await team.reset();
    expect(team.transcript).toEqual([]);
    const third = await team.run("again");
    expect(texts(third.messages).slice(0, 2)).toEqual(["again", "a#0"]);
  });

  it("streams speaker changes, token deltas, messages, the stop message and the result, in order", async () => {
    const team = new RoundRobinGroupChat([new ScriptedAgent("a", ["hello world"])], {
      termination: new TextMentionTermination("world"),
    });
    const items: TeamStreamItem[] = [];
    for await (const item of team.runStream({ task: "hi" })) items.push(item);
    expect(items.map((i) => i.type)).toEqual([
      "text",
      "speaker_change",
      "token_delta",
      "token_delta",
      "text",
      "stop",
      "task_result",
    ]);
    const deltas = items
      .filter((i) => i.type === "token_delta")
      .map((i) => (i as { delta: string }).delta);
    expect(deltas.join("")).toBe("hello world");
  });

  it("cancels by AbortSignal mid-turn, rolls back that turn, and continues cleanly later", async () => {
    const a = counter("a", { delayMs: 5 });
    const b = counter("b", { delayMs: 200 });
    const team = new RoundRobinGroupChat([a, b], { termination: new MaxMessageTermination(4) });
    const controller = new AbortController();
    const seen: string[] = [];
    const run = (async () => {
      for await (const item of team.runStream({ task: "go", signal: controller.signal })) {
        if (item.type === "text") seen.push(item.content);
        if (item.type === "text" && item.content === "a#0")
          setTimeout(() => controller.abort(), 10);
      }
    })();
    await expect(run).rejects.toThrow();
    expect(seen).toEqual(["go", "a#0"]);
    expect(team.transcript.map(messageText)).toEqual(["go", "a#0"]);
    expect(b.turnCount).toBe(0);
    const result = await team.run();
    expect(texts(result.messages)).toEqual(["b#0", "a#1", expect.stringMatching(/Maximum/)]);
  });

  it("pauses after the turn in progress and resumes on request", async () => {
    const team = new RoundRobinGroupChat([counter("a"), counter("b")], {
      termination: new MaxMessageTermination(4),
    });
    const order: string[] = [];
    const done = (async () => {
      for await (const item of team.runStream("go")) {
        if (item.type !== "text") continue;
        order.push(item.content);
        if (item.content === "a#0") {
          team.pause();
          setTimeout(() => {
            order.push("resumed");
            team.resume();
          }, 30);
        }
      }
    })();
    await done;
    expect(order).toEqual(["go", "a#0", "resumed", "b#0", "a#1"]);
    expect(team.paused).toBe(false);
  });

  it("an external trigger stops the team after the current turn", async () => {
    const stop = new ExternalTermination();
    const team = new RoundRobinGroupChat([counter("a"), counter("b")], { termination: stop });
    const result = await (async () => {
      for await (const item of team.runStream("go")) {
        if (item.type === "text" && item.content === "b#0") stop.set();
        if (item.type === "task_result") return item.result;
      }
    })();
    expect(result?.stopReason).toBe("External termination requested");
    expect(team.transcript.map(messageText)).toEqual(["go", "a#0", "b#0"]);
  });

  it("saves its state as plain JSON and a fresh team continues from it", async () => {
    const make = () =>
      new RoundRobinGroupChat([counter("a"), counter("b")], {
        termination: new MaxMessageTermination(3),
      });
    const first = make();
    await first.run("go");
    const state = JSON.parse(JSON.stringify(await first.saveState()));
    const second = make();
    await second.loadState(state);
    expect(second.transcript).toEqual(first.transcript);
    expect(second.usage).toEqual(first.usage);
    const r = await second.run();
    expect(texts(r.messages).slice(0, 2)).toEqual(["a#1", "b#1"]);
    const other = new RoundRobinGroupChat([counter("x")]);
    await expect(other.loadState(state)).rejects.toThrow(/participants \[a, b\].*\[x\]/);
  });

  it("rejects duplicate names, bad maxTurns, and concurrent runs", async () => {
    expect(() => new RoundRobinGroupChat([counter("a"), counter("a")])).toThrow(
      /two participants are named "a"/,
    );
    expect(() => new RoundRobinGroupChat([counter("a")], { maxTurns: 0 })).toThrow(/maxTurns/);
    const team = new RoundRobinGroupChat([counter("a", { delayMs: 20 })], { maxTurns: 1 });
    const first = team.run("x");
    await expect(team.run("y")).rejects.toThrow(/already running/);
    await first;
  });

  it("a team takes part in another team as one agent (nested chat)", async () => {
    const inner = new RoundRobinGroupChat([counter("writer"), counter("critic")], {
      name: "writing_team",
      description: "writes and reviews",
      // The task it receives is two messages (the user's and the planner's), then two turns.
      termination: new MaxMessageTermination(4),
    });
    const outer = new RoundRobinGroupChat([counter("planner"), inner], { maxTurns: 2 });
    const result = await outer.run("write a poem");
    const chat = result.messages.filter((m) => m.type === "text");
    expect(chat.map((m) => `${m.source}:${messageText(m)}`)).toEqual([
      "user:write a poem",
      "planner:planner#0",
      "writer:writer#0",
      "critic:critic#0",
      "writing_team:critic#0",
    ]);
    expect(outer.transcript.map((m) => m.source)).toEqual(["user", "planner", "writing_team"]);
    // The inner team's tokens count once, under its own name.
    expect(result.usage).toEqual({
      planner: { promptTokens: 10, completionTokens: 1 },
      writing_team: { promptTokens: 20, completionTokens: 2 },
    });
    expect(inner.usage).toEqual({
      writer: { promptTokens: 10, completionTokens: 1 },
      critic: { promptTokens: 10, completionTokens: 1 },
    });
  });

  it("accepts a list of messages or a multimodal message as the task", async () => {
    const a = counter("a");
    const team = new RoundRobinGroupChat([a], { maxTurns: 1 });
    await team.run([
      message("text", { source: "user", content: "one" }),
      message("multimodal", {
        source: "user",
        content: [{ type: "image", url: "http://x/y.png" }],
      }),
    ]);
    expect(a.received.map((m) => m.type)).toEqual(["text", "multimodal", "text"]);
  });

  it("counts each model call of an assistant's turn once (tool call + reflection)", async () => {
    const model = ReplayModelClient.fromResults([
      {
        toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }],
        usage: { promptTokens: 10, completionTokens: 5 },
      },
      { content: "3", usage: { promptTokens: 20, completionTokens: 3 } },
    ]);
    const add = tool({
      name: "add",
      description: "adds",
      parameters: z.object({ a: z.number(), b: z.number() }),
      execute: ({ a, b }) => a + b,
    });
    const agent = new AssistantAgent("calc", {
      modelClient: model,
      tools: [add],
      reflectOnToolUse: true,
    });
    const team = new RoundRobinGroupChat([agent], { maxTurns: 1 });
    const result = await team.run("1 + 2?");
    expect(result.usage).toEqual({ calc: { promptTokens: 30, completionTokens: 8 } });
  });
});

describe("saveState", () => {
  it("returns a snapshot that does not change as the conversation goes on", async () => {
    const team = new RoundRobinGroupChat([new ScriptedAgent("a", (_in, t) => `a#${t}`)], {
      maxTurns: 1,
    });
    await team.run("one");
    const state = (await team.saveState()) as {
      thread: unknown[];
      agents: { a: { history: unknown[] } };
    };
    await team.run("two");
    expect(state.thread).toHaveLength(2);
    expect(state.agents.a.history).toHaveLength(2);
  });
});
