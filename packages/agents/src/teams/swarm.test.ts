import { describe, expect, it } from "vitest";
import { AssistantAgent } from "../agents/assistant-agent.js";
import { message, messageText } from "../messages.js";
import { ReplayModelClient } from "../models/replay.js";
import {
  HandoffTermination,
  MaxMessageTermination,
  TextMentionTermination,
} from "../termination/conditions.js";
import { ScriptedAgent } from "./scripted.js";
import { Swarm } from "./swarm.js";

const handoff = (source: string, target: string) =>
  message("handoff", {
    source,
    target,
    content: `Transferred to ${target}, adopting the role of ${target} immediately.`,
  });

describe("Swarm", () => {
  it("follows handoffs; an agent keeps the floor until it hands off", async () => {
    const triage = new ScriptedAgent("triage", [{ message: handoff("triage", "refunds") }]);
    const refunds = new ScriptedAgent("refunds", [
      "looking up the order",
      { message: handoff("refunds", "triage") },
    ]);
    const team = new Swarm([triage, refunds], { maxTurns: 3 });
    const result = await team.run("I want a refund");
    expect(team.transcript.map((m) => `${m.source}:${m.type}`)).toEqual([
      "user:text",
      "triage:handoff",
      "refunds:text",
      "refunds:handoff",
    ]);
    expect(result.stopReason).toMatch(/Maximum number of turns 3/);
    // refunds saw the handoff that brought it in.
    expect(refunds.received[1].type).toBe("handoff");
  });

  it("stops on a handoff to the user, then continues with the user's handoff back", async () => {
    const agentA = new ScriptedAgent("agent_a", [
      { message: handoff("agent_a", "user") },
      "thanks, done",
      { message: handoff("agent_a", "user") },
    ]);
    const team = new Swarm([new ScriptedAgent("other", ["unused"]), agentA], {
      termination: new HandoffTermination("user").or(new MaxMessageTermination(10)),
    });
    const first = await team.run(handoff("user", "agent_a"));
    expect(first.stopReason).toBe("Handoff to user from agent_a detected");
    const second = await team.run({
      task: message("handoff", { source: "user", target: "agent_a", content: "my order is 42" }),
      signal: undefined,
    });
    const replies = second.messages
      .filter((m) => m.type === "text" && m.source === "agent_a")
      .map(messageText);
    expect(replies[0]).toBe("thanks, done");
    expect(second.stopReason).toBe("Handoff to user from agent_a detected");
  });

  it("reports a handoff to an agent outside the team clearly", async () => {
    const team = new Swarm([new ScriptedAgent("a", [{ message: handoff("a", "ghost") }])], {
      maxTurns: 3,
    });
    await expect(team.run("x")).rejects.toThrow(
      /handed off to "ghost", which is not a participant/,
    );
    // The team keeps what it completed: the task and the turn that handed off.
    expect(team.transcript.map((m) => m.type)).toEqual(["text", "handoff"]);
  });

  it("works with AssistantAgent handoffs: the model calls transfer_to_<agent>", async () => {
    const model = ReplayModelClient.fromResults([
      { toolCalls: [{ name: "transfer_to_refunds", arguments: {} }] },
      "Refund issued for order 42. TERMINATE",
    ]);
    const triage = new AssistantAgent("triage", { modelClient: model, handoffs: ["refunds"] });
    const refunds = new AssistantAgent("refunds", { modelClient: model, handoffs: ["triage"] });
    const team = new Swarm([triage, refunds], {
      termination: new TextMentionTermination("TERMINATE"),
    });
    const result = await team.run("Refund order 42, please.");
    expect(team.transcript.map((m) => `${m.source}:${m.type}`)).toEqual([
      "user:text",
      "triage:handoff",
      "refunds:text",
    ]);
    expect(result.stopReason).toMatch(/TERMINATE/);
    // The refunds agent's model saw the conversation, the handoff included.
    expect(JSON.stringify(model.requests[1].messages)).toContain("Refund order 42");
  });
});
