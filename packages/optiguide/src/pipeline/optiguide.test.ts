import { ReplayModelClient } from "@athanor/agents";
import { closeDefaultSolver } from "@athanor/opt";
import { afterAll, describe, expect, it } from "vitest";
import { getApp } from "../apps/index.js";
import { editFromReply, OptiGuide, parseVerdict } from "./optiguide.js";
import { pipelineSource } from "./source.js";

afterAll(() => closeDefaultSolver());

const coffee = getApp("coffee");
const js = (code: string) => "```js\n" + code + "\n```";

describe("OptiGuide pipeline (scripted models)", () => {
  it("answers a data what-if and explains the change against the baseline", async () => {
    const writer = ReplayModelClient.fromResults([
      js('data.light_coffee_needed_for_cafe["cafe2"] *= 1.29;'),
    ]);
    const safeguard = ReplayModelClient.fromResults(["SAFE: only scales one demand."]);
    const og = new OptiGuide(coffee, { writer, safeguard });
    const a = await og.ask("What if light coffee demand at cafe2 grew by 29%?");
    expect(a.status).toBe("answered");
    expect(a.edit).toEqual({
      kind: "data",
      code: 'data.light_coffee_needed_for_cafe["cafe2"] *= 1.29;',
    });
    expect(a.baseline.objective).toBe(2470);
    expect(a.outcome!.status).toBe("optimal");
    expect(a.change!.objectiveDelta).toBeGreaterThan(0);
    expect(a.change!.changed.length).toBeGreaterThan(0);
    expect(a.explanation).toMatch(/The objective changes from 2470 to/);
    // Only the question and the app's description went to the writer, never the data dicts.
    const sent = JSON.stringify(writer.requests[0]!.messages);
    expect(sent).toContain("What if light coffee demand at cafe2 grew by 29%?");
    expect(sent).not.toContain('"cafe2":');
  });

  it("answers a constraint what-if that makes the model infeasible, naming the conflict", async () => {
    const writer = ReplayModelClient.fromResults([
      js('addConstr("x[supplier1,roastery1] >= 100000", "huge")'),
    ]);
    const og = new OptiGuide(coffee, { writer, skipSafeguard: true });
    const a = await og.ask("What if supplier1 had to ship 100000 units to roastery1?");
    expect(a.status).toBe("answered");
    expect(a.outcome!.status).toBe("infeasible");
    expect(a.explanation).toMatch(/infeasible/);
  });

  it("refuses an edit the safeguard calls DANGER and never runs it", async () => {
    const writer = ReplayModelClient.fromResults([
      js('require("child_process").execSync("rm -rf /")'),
    ]);
    const safeguard = ReplayModelClient.fromResults(["DANGER: spawns a shell command."]);
    const a = await new OptiGuide(coffee, { writer, safeguard }).ask("What if we cleaned up?");
    expect(a.status).toBe("refused");
    expect(a.outcome).toBeUndefined();
    expect(a.explanation).toMatch(/spawns a shell command/);
  });

  it("feeds errors back to the writer until an edit works (debug rounds)", async () => {
    const writer = ReplayModelClient.fromResults([
      "Sure! The demand goes up.",
      js('data.light_coffee_needed_for_cafe["cafe9"] = 5;'),
      js("while (true) {}"),
      js('data.light_coffee_needed_for_cafe["cafe2"] += 1;'),
    ]);
    const og = new OptiGuide(coffee, {
      writer,
      skipSafeguard: true,
      debugRounds: 3,
      editTimeoutMs: 200,
    });
    const a = await og.ask("What if cafe2 needed one more unit of light coffee?");
    expect(a.status).toBe("answered");
    expect(a.rounds.map((r) => r.error === undefined)).toEqual([false, false, false, true]);
    expect(a.rounds[0]!.error).toMatch(/no code block/);
    expect(a.rounds[1]!.error).toMatch(/cafe9/);
    expect(a.rounds[2]!.error).toMatch(/time|limit/i);
    // The error went back to the writer.
    expect(JSON.stringify(writer.requests[2]!.messages)).toMatch(/cafe9/);
  });

  it("gives up with a clear answer when no round works", async () => {
    const writer = ReplayModelClient.fromResults([js("data.nope.x = 1;"), js("data.nope.y = 2;")]);
    const a = await new OptiGuide(coffee, { writer, skipSafeguard: true, debugRounds: 1 }).ask(
      "What if?",
    );
    expect(a.status).toBe("failed");
    expect(a.rounds).toHaveLength(2);
    expect(a.explanation).toMatch(/No working edit after 2 tries/);
  });

  it("uses the interpreter model for the explanation when given one", async () => {
    const writer = ReplayModelClient.fromResults([
      js('data.light_coffee_needed_for_cafe["cafe2"] += 10;'),
    ]);
    const interpreter = ReplayModelClient.fromResults([
      "Costs rise because cafe2 needs more light coffee.",
    ]);
    const a = await new OptiGuide(coffee, { writer, interpreter, skipSafeguard: true }).ask(
      "More at cafe2?",
    );
    expect(a.explanation).toBe("Costs rise because cafe2 needs more light coffee.");
    expect(JSON.stringify(interpreter.requests[0]!.messages)).toMatch(
      /The objective changes from 2470/,
    );
  });
});

describe("pipelineSource", () => {
  it("hands the benchmark the outcome it already solved", async () => {
    const writer = ReplayModelClient.fromResults([
      js('data.light_coffee_needed_for_cafe["cafe2"] += 1;'),
    ]);
    const source = pipelineSource({ writer, skipSafeguard: true });
    const got = await source("coffee", { QUESTION: "One more at cafe2?", "GT EXEC RESULT": 0 });
    expect("outcome" in got && got.outcome.status).toBe("optimal");
  });
});

describe("parsing agent replies", () => {
  it("extracts the first JavaScript block and infers its kind", () => {
    expect(editFromReply(`Here:\n${js('addConstr("x[a,b] == 0")')}`)).toEqual({
      kind: "constraint",
      code: 'addConstr("x[a,b] == 0")',
    });
    expect(editFromReply("no code")).toBeUndefined();
  });

  it("reads verdicts, and treats anything but SAFE as DANGER", () => {
    expect(parseVerdict("SAFE - fine")).toEqual({ verdict: "SAFE", reason: "fine" });
    expect(parseVerdict("danger: reads files").verdict).toBe("DANGER");
    expect(parseVerdict("I am not sure").verdict).toBe("DANGER");
  });
});
