import { describe, expect, it } from "vitest";
import { type AnyMessage, message } from "../messages.js";
import {
  ExternalTermination,
  FunctionalTermination,
  FunctionCallTermination,
  HandoffTermination,
  MaxMessageTermination,
  SourceMatchTermination,
  StopMessageTermination,
  TextMentionTermination,
  TimeoutTermination,
  TokenUsageTermination,
} from "./conditions.js";
import { and, or } from "./termination.js";

const text = (
  source: string,
  content: string,
  usage?: { promptTokens: number; completionTokens: number },
) => message("text", { source, content, ...(usage ? { usage } : {}) });

describe("termination conditions", () => {
  it("MaxMessageTermination counts chat messages, not events, and resets", async () => {
    const t = new MaxMessageTermination(3);
    const event = message("speaker_change", { source: "team", speakers: ["a"] });
    expect(await t.check([text("user", "x"), event])).toBeNull();
    expect(await t.check([text("a", "y")])).toBeNull();
    const stop = await t.check([text("b", "z")]);
    expect(stop?.content).toMatch(/Maximum number of messages 3 reached/);
    expect(t.terminated).toBe(true);
    await expect(t.check([])).rejects.toThrow(/already fired/);
    t.reset();
    expect(t.terminated).toBe(false);
    expect(await t.check([text("a", "y")])).toBeNull();
    expect(() => new MaxMessageTermination(0)).toThrow(/positive integer/);
  });

  it("MaxMessageTermination can count events too", async () => {
    const t = new MaxMessageTermination(2, { includeAgentEvents: true });
    expect(
      await t.check([text("a", "x"), message("token_delta", { source: "a", delta: "x" })]),
    ).not.toBeNull();
  });

  it("TextMentionTermination matches text, optionally by source", async () => {
    const t = new TextMentionTermination("TERMINATE", { sources: ["critic"] });
    expect(await t.check([text("writer", "TERMINATE")])).toBeNull();
    expect((await t.check([text("critic", "ok. TERMINATE")]))?.content).toMatch(/critic/);
  });

  it("TokenUsageTermination sums usage over turns, including events", async () => {
    const t = new TokenUsageTermination({ maxTotalTokens: 100 });
    expect(await t.check([text("a", "x", { promptTokens: 40, completionTokens: 10 })])).toBeNull();
    const selector = message("speaker_change", {
      source: "team/selector",
      speakers: ["a"],
      usage: { promptTokens: 45, completionTokens: 5 },
    });
    expect((await t.check([selector]))?.content).toMatch(/total_tokens=100 >= 100/);
    expect(() => new TokenUsageTermination({})).toThrow(/at least one/);
    const p = new TokenUsageTermination({ maxCompletionTokens: 5 });
    expect(
      await p.check([text("a", "x", { promptTokens: 1000, completionTokens: 5 })]),
    ).not.toBeNull();
  });

  it("TimeoutTermination measures from its first check", async () => {
    let now = 1000;
    const t = new TimeoutTermination(2, () => now);
    expect(await t.check([])).toBeNull();
    now += 1999;
    expect(await t.check([])).toBeNull();
    const resumed = new TimeoutTermination(2, () => now);
    resumed.loadState(JSON.parse(JSON.stringify(t.saveState())));
    now += 1;
    expect((await t.check([]))?.content).toMatch(/Timeout of 2s/);
    expect((await resumed.check([]))?.content).toMatch(/Timeout of 2s/);
  });

  it("HandoffTermination fires on a handoff to its target only", async () => {
    const t = new HandoffTermination("user");
    expect(
      await t.check([message("handoff", { source: "a", target: "b", content: "" })]),
    ).toBeNull();
    expect(
      await t.check([message("handoff", { source: "a", target: "user", content: "" })]),
    ).not.toBeNull();
  });

  it("SourceMatchTermination fires when a source speaks", async () => {
    const t = new SourceMatchTermination(["judge"]);
    expect(await t.check([text("a", "x")])).toBeNull();
    expect((await t.check([text("judge", "x")]))?.content).toBe("'judge' answered");
  });

  it("FunctionCallTermination fires on a successful execution of the function", async () => {
    const t = new FunctionCallTermination("approve");
    const exec = (isError: boolean) =>
      message("tool_call_execution", {
        source: "a",
        results: [{ callId: "1", name: "approve", content: "ok", isError }],
      });
    expect(await t.check([exec(true)])).toBeNull();
    expect(await t.check([exec(false)])).not.toBeNull();
  });

  it("StopMessageTermination, ExternalTermination and FunctionalTermination", async () => {
    const s = new StopMessageTermination();
    expect(await s.check([message("stop", { source: "a", content: "done" })])).not.toBeNull();
    const e = new ExternalTermination();
    expect(await e.check([])).toBeNull();
    e.set();
    expect((await e.check([]))?.content).toBe("External termination requested");
    const f = new FunctionalTermination(
      (ms: readonly AnyMessage[]) => ms.length === 2,
      "two at once",
    );
    expect(await f.check([text("a", "x"), text("b", "y")])).not.toBeNull();
  });

  it("or stops on either; and waits for both, across turns", async () => {
    const either = new MaxMessageTermination(10).or(new TextMentionTermination("DONE"));
    expect((await either.check([text("a", "DONE")]))?.content).toMatch(/DONE/);

    const both = and(new MaxMessageTermination(2), new TextMentionTermination("DONE"));
    expect(await both.check([text("a", "DONE")])).toBeNull();
    const stop = await both.check([text("a", "more")]);
    expect(stop?.content).toMatch(/DONE.*Maximum|Maximum.*DONE/s);
    both.reset();
    expect(both.terminated).toBe(false);
    expect(await both.check([text("a", "x")])).toBeNull();
  });

  it("state round-trips through JSON, nested combinators included", async () => {
    const make = () =>
      or(
        and(new MaxMessageTermination(3), new TextMentionTermination("X")),
        new TokenUsageTermination({ maxTotalTokens: 50 }),
      );
    const a = make();
    await a.check([text("a", "X", { promptTokens: 20, completionTokens: 0 })]);
    await a.check([text("a", "y", { promptTokens: 20, completionTokens: 0 })]);
    const b = make();
    b.loadState(JSON.parse(JSON.stringify(a.saveState())));
    // Third message: max 3 fires, X fired before, so the and-branch completes.
    expect((await b.check([text("a", "z")]))?.content).toMatch(/Maximum/);
  });
});

describe("TokenUsageTermination and per-turn totals", () => {
  it("does not count an agent's events again when its message carries the turn's total", async () => {
    const t = new TokenUsageTermination({ maxTotalTokens: 31 });
    const call = message("tool_call_request", {
      source: "a",
      calls: [],
      usage: { promptTokens: 10, completionTokens: 5 },
    });
    const final = text("a", "done", { promptTokens: 25, completionTokens: 5 });
    expect(await t.check([call, final])).toBeNull();
    expect(
      await t.check([text("b", "x", { promptTokens: 1, completionTokens: 0 })]),
    ).not.toBeNull();
  });
});
