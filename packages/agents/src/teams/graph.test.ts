import { describe, expect, it } from "vitest";
import { messageText } from "../messages.js";
import { MaxMessageTermination } from "../termination/conditions.js";
import { DiGraphBuilder, GraphFlow } from "./graph.js";
import { MessageFilterAgent } from "./message-filter.js";
import { ScriptedAgent } from "./scripted.js";

const echo = (name: string, options = {}) =>
  new ScriptedAgent(
    name,
    (incoming, turn) => `${name}#${turn} saw [${incoming.map((m) => m.source).join(",")}]`,
    options,
  );

const spoken = (team: GraphFlow) =>
  team.transcript.filter((m) => m.source !== "user").map((m) => m.source);

describe("GraphFlow", () => {
  it("runs a chain and completes", async () => {
    const [a, b, c] = [echo("a"), echo("b"), echo("c")];
    const graph = new DiGraphBuilder()
      .addNode(a)
      .addNode(b)
      .addNode(c)
      .addEdge(a, b)
      .addEdge(b, c)
      .build();
    const team = new GraphFlow([a, b, c], { graph });
    const result = await team.run("go");
    expect(spoken(team)).toEqual(["a", "b", "c"]);
    expect(result.stopReason).toBe("Graph execution is complete");
    // A second run starts again from the entry point.
    await team.run("again");
    expect(spoken(team)).toEqual(["a", "b", "c", "a", "b", "c"]);
  });

  it("fans out in parallel and joins: the join waits for every parent", async () => {
    const start = echo("start");
    const slow = echo("slow", { delayMs: 40 });
    const fast = echo("fast", { delayMs: 1 });
    const join = echo("join");
    const b = new DiGraphBuilder().addNode(start).addNode(slow).addNode(fast).addNode(join);
    b.addEdge(start, slow).addEdge(start, fast).addEdge(slow, join).addEdge(fast, join);
    const team = new GraphFlow(b.participants(), { graph: b.build() });
    const began = Date.now();
    const streamOrder: string[] = [];
    for await (const item of team.runStream("go")) {
      if (item.type === "speaker_change") streamOrder.push(item.speakers.join("+"));
    }
    expect(streamOrder).toEqual(["start", "slow+fast", "join"]);
    // Transcript order follows graph order, not completion order.
    expect(spoken(team)).toEqual(["start", "slow", "fast", "join"]);
    expect(messageText(team.transcript.at(-1) as never)).toBe("join#0 saw [user,start,slow,fast]");
    expect(Date.now() - began).toBeGreaterThanOrEqual(40);
  });

  it("follows conditional edges and loops until the exit condition holds", async () => {
    const writer = new ScriptedAgent("writer", ["draft 1", "draft 2", "draft 3"]);
    const reviewer = new ScriptedAgent("reviewer", ["REVISE", "REVISE", "APPROVE"]);
    const publisher = echo("publisher");
    const b = new DiGraphBuilder()
      .addNode(writer)
      .addNode(reviewer)
      .addNode(publisher)
      .addEdge(writer, reviewer)
      .addEdge(reviewer, writer, { condition: "REVISE", group: "loop" })
      .addEdge(reviewer, publisher, { condition: (m) => messageText(m).includes("APPROVE") })
      .setEntryPoint(writer);
    const team = new GraphFlow(b.participants(), { graph: b.build() });
    await team.run("write");
    expect(spoken(team)).toEqual([
      "writer",
      "reviewer",
      "writer",
      "reviewer",
      "writer",
      "reviewer",
      "publisher",
    ]);
  });

  it("'any' activation: the first parent to finish activates the node", async () => {
    const [a, b, c] = [echo("a"), echo("b"), echo("c")];
    const g = new DiGraphBuilder()
      .addNode(a)
      .addNode(b)
      .addNode(c, { activation: "any" })
      .addEdge(a, c)
      .addEdge(b, c)
      .setEntryPoint(a)
      .build();
    const team = new GraphFlow([a, b, c], { graph: g });
    await team.run("x");
    expect(spoken(team)).toEqual(["a", "c"]);
  });

  it("validates the graph", () => {
    const [a, b] = [echo("a"), echo("b")];
    expect(() =>
      new DiGraphBuilder().addNode(a).addNode(b).addEdge(a, b).addEdge(b, a).build(),
    ).toThrow(/no entry point/);
    expect(() =>
      new DiGraphBuilder()
        .addNode(a)
        .addNode(b)
        .addEdge(a, b)
        .addEdge(b, a)
        .setEntryPoint(a)
        .build(),
    ).toThrow(/cycle a -> b -> a has no conditional edge/);
    expect(() => new DiGraphBuilder().addNode(a).addEdge(a, "zz").build()).toThrow(
      /"zz", which is not a node/,
    );
    const g = new DiGraphBuilder().addNode(a).build();
    expect(() => new GraphFlow([a, b], { graph: g })).toThrow(/participant b is not a node/);
  });

  it("state round-trips mid-graph: a fresh team finishes the run", async () => {
    const make = () => {
      const [a, b, c] = [echo("a"), echo("b"), echo("c")];
      const g = new DiGraphBuilder()
        .addNode(a)
        .addNode(b)
        .addNode(c)
        .addEdge(a, b)
        .addEdge(b, c)
        .build();
      return new GraphFlow([a, b, c], { graph: g, termination: new MaxMessageTermination(100) });
    };
    const first = make();
    const controller = new AbortController();
    await expect(
      (async () => {
        for await (const item of first.runStream({ task: "go", signal: controller.signal })) {
          if (item.type === "text" && item.source === "b") controller.abort();
        }
      })(),
    ).rejects.toThrow();
    const second = make();
    await second.loadState(JSON.parse(JSON.stringify(await first.saveState())));
    await second.run();
    expect(spoken(second)).toEqual(["a", "b", "c"]);
  });
});

describe("MessageFilterAgent", () => {
  it("shows a participant only the last message of chosen sources", async () => {
    const writer = new ScriptedAgent("writer", ["draft A", "draft B"]);
    const reviewer = new ScriptedAgent("reviewer", ["REJECT", "ACCEPT"]);
    const runner = echo("runner");
    const filtered = new MessageFilterAgent(runner, [{ source: "writer" }]);
    const b = new DiGraphBuilder()
      .addNode(writer)
      .addNode(reviewer)
      .addNode(filtered)
      .addEdge(writer, reviewer)
      .addEdge(reviewer, writer, { condition: "REJECT", group: "retry" })
      .addEdge(reviewer, filtered, { condition: "ACCEPT" })
      .setEntryPoint(writer);
    const team = new GraphFlow(b.participants(), { graph: b.build() });
    await team.run("go");
    expect(runner.received.map((m) => messageText(m))).toEqual([
      "draft B",
      "runner#0 saw [writer]",
    ]);
    expect(() => new MessageFilterAgent(runner, [])).toThrow(/at least one filter/);
  });
});
