import { describe, expect, it } from "vitest";
import { llmMessageText } from "../messages.js";
import { ReplayModelClient } from "../models/replay.js";
import { MaxMessageTermination } from "../termination/conditions.js";
import { RoundRobinGroupChat } from "./round-robin.js";
import { ScriptedAgent } from "./scripted.js";
import { runSequentialChats } from "./sequential.js";

describe("runSequentialChats", () => {
  it("carries each chat's summary into the next task", async () => {
    const researcher = new ScriptedAgent("researcher", ["Prices rose 3% in Q3."]);
    const team = new RoundRobinGroupChat([researcher], {
      termination: new MaxMessageTermination(2),
    });
    const writer = new ScriptedAgent(
      "writer",
      (incoming) => `Article about: ${incoming[0].type === "text" ? incoming[0].content : ""}`,
    );
    const summarizer = ReplayModelClient.fromResults([
      { content: " Q3 prices: +3%. ", usage: { promptTokens: 9, completionTokens: 4 } },
    ]);
    const results = await runSequentialChats([
      { chat: team, task: "Research prices", summary: { model: summarizer } },
      { chat: writer, task: "Write an article" },
    ]);
    expect(results[0].summary).toBe("Q3 prices: +3%.");
    expect(results[1].task).toBe("Write an article\nContext: \nQ3 prices: +3%.");
    expect(results[1].summary).toBe("Article about: Write an article\nContext: \nQ3 prices: +3%.");
    expect(llmMessageText(summarizer.requests[0].messages[1]!)).toContain(
      "researcher: Prices rose 3% in Q3.",
    );
  });

  it("supports custom summaries and turning carryover off", async () => {
    const results = await runSequentialChats([
      {
        chat: new ScriptedAgent("a", ["alpha"]),
        task: "one",
        summary: (r) => `n=${r.messages.length}`,
      },
      { chat: new ScriptedAgent("b", ["beta"]), task: "two", carryover: false },
    ]);
    expect(results.map((r) => r.summary)).toEqual(["n=2", "beta"]);
    expect(results[1].task).toBe("two");
  });
});
