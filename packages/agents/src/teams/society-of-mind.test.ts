import { describe, expect, it } from "vitest";
import { llmMessageText, messageText } from "../messages.js";
import { ReplayModelClient } from "../models/replay.js";
import { MaxMessageTermination } from "../termination/conditions.js";
import { RoundRobinGroupChat } from "./round-robin.js";
import { ScriptedAgent } from "./scripted.js";
import { SocietyOfMindAgent } from "./society-of-mind.js";

describe("SocietyOfMindAgent", () => {
  it("runs its inner team, then answers once from the inner transcript, counting all tokens", async () => {
    const inner = new RoundRobinGroupChat(
      [
        new ScriptedAgent("drafter", [
          { message: "Draft: the answer is 42.", usage: { promptTokens: 10, completionTokens: 5 } },
        ]),
        new ScriptedAgent("checker", [
          { message: "Checked: 42 is right.", usage: { promptTokens: 7, completionTokens: 2 } },
        ]),
      ],
      { name: "inner", termination: new MaxMessageTermination(3) },
    );
    const model = ReplayModelClient.fromResults([
      { content: "42.", usage: { promptTokens: 30, completionTokens: 1 } },
    ]);
    const som = new SocietyOfMindAgent("thinker", { team: inner, model });
    const outer = new RoundRobinGroupChat([som, new ScriptedAgent("user_proxy", ["thanks"])], {
      maxTurns: 1,
    });
    const result = await outer.run("What is 6 x 7?");
    expect(outer.transcript.map((m) => `${m.source}: ${messageText(m)}`)).toEqual([
      "user: What is 6 x 7?",
      "thinker: 42.",
    ]);
    expect(result.usage).toEqual({ thinker: { promptTokens: 47, completionTokens: 8 } });
    const prompt = llmMessageText(model.requests[0].messages.at(-1)!);
    expect(prompt).toContain("drafter: Draft: the answer is 42.\nchecker: Checked: 42 is right.");
    expect(prompt).not.toContain("What is 6 x 7?\ndrafter");
    // State: a fresh agent continues with the same inner team state and history.
    const state = JSON.parse(JSON.stringify(await som.saveState()));
    const fresh = new SocietyOfMindAgent("thinker", {
      team: new RoundRobinGroupChat(
        [new ScriptedAgent("drafter", []), new ScriptedAgent("checker", [])],
        { name: "inner" },
      ),
      model,
    });
    await fresh.loadState(state);
    expect((state.history as unknown[]).length).toBe(2);
  });
});
