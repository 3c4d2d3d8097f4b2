import { describe, expect, it } from "vitest";
import { ORDER_TASK, orderTeam } from "../examples/dynamic-group-chat.js";
import { MATH_TASK, mathTeam } from "../examples/math-code-execution.js";
import { exampleModel } from "../examples/shared.js";
import { WHAT_IF_TASK, whatIfTeam } from "../examples/writer-safeguard.js";
import { messageText } from "../src/index.js";

const lines = (ms: readonly { source: string }[]) =>
  ms.map((m) => `${m.source}: ${messageText(m as never)}`);

describe("examples replay offline from their recorded fixtures", () => {
  it("math problem solving with code execution", async () => {
    const { team, dispose } = mathTeam(exampleModel("math-code-execution", {}));
    try {
      const result = await team.run(MATH_TASK);
      const transcript = lines(team.transcript);
      expect(transcript.map((l) => l.split(":")[0])).toEqual([
        "user",
        "solver",
        "code_runner",
        "solver",
      ]);
      // The sandbox really ran the solver's code.
      expect(transcript[2]).toBe("code_runner: 2000");
      expect(transcript[3]).toContain("\\boxed{2000}");
      expect(result.stopReason).toBe("Text 'TERMINATE' mentioned by solver");
    } finally {
      await dispose();
    }
  });

  it("dynamic group chat: the model picks each speaker; the analyst's tool runs", async () => {
    const team = orderTeam(exampleModel("dynamic-group-chat", {}));
    const result = await team.run(ORDER_TASK);
    expect(team.transcript.map((m) => m.source)).toEqual([
      "user",
      "planner",
      "inventory_analyst",
      "writer",
    ]);
    const execution = result.messages.find((m) => m.type === "tool_call_execution");
    expect(
      execution &&
        JSON.parse(messageText(execution)).map((w: { warehouse: string }) => w.warehouse),
    ).toEqual(["south", "east"]);
    expect(Object.keys(result.usage)).toContain("order_desk/selector");
    expect(result.stopReason).toMatch(/TERMINATE/);
  });

  it("writer / safeguard: unsafe code goes back to the writer and never runs", async () => {
    const { team, dispose } = whatIfTeam(exampleModel("writer-safeguard", {}));
    try {
      const result = await team.run(WHAT_IF_TASK);
      expect(team.transcript.map((m) => m.source)).toEqual([
        "user",
        "writer",
        "safeguard",
        "writer",
        "safeguard",
        "runner",
        "writer",
      ]);
      const runs = result.messages.filter((m) => m.type === "code_execution");
      expect(runs).toHaveLength(1);
      expect(messageText(runs[0])).toContain("total cost: 538");
      expect(messageText(team.transcript.at(-1) as never)).toContain("538");
      expect(result.stopReason).toBe("Graph execution is complete");
    } finally {
      await dispose();
    }
  });
});
