import { describe, expect, it } from "vitest";
import type { CodeBlock, CodeExecutor, CodeResult } from "../code/executor.js";
import { LocalCommandLineExecutor } from "../code/local.js";
import { type ChatMessage, message } from "../messages.js";
import { ReplayModelClient } from "../models/replay.js";
import { CodeExecutorAgent, NO_CODE_BLOCKS } from "./code-executor-agent.js";

/** Records what it was asked to run and answers from a script. */
class ScriptedExecutor implements CodeExecutor {
  readonly languages = ["python", "bash"];
  readonly runs: CodeBlock[][] = [];
  constructor(private readonly results: CodeResult[]) {}
  async execute(blocks: CodeBlock[]): Promise<CodeResult> {
    this.runs.push(blocks);
    const r = this.results.shift();
    if (!r) throw new Error("no scripted result left");
    return r;
  }
  async dispose(): Promise<void> {}
}

const say = (content: string, source = "coder"): ChatMessage =>
  message("text", { source, content });

describe("CodeExecutorAgent", () => {
  it("runs the fenced blocks of the incoming messages and reports the output", async () => {
    const exec = new ScriptedExecutor([{ exitCode: 0, output: "4\n" }]);
    const agent = new CodeExecutorAgent("runner", { executor: exec });
    const r = await agent.onMessages([
      say("First:\n```python\nprint(2+2)\n```"),
      say("Then:\n```sh\necho hi\n```\n```ruby\nputs 1\n```"),
    ]);
    expect(exec.runs).toEqual([[{ language: "python", code: "print(2+2)" }]]);
    expect(r.message).toMatchObject({ type: "text", source: "runner" });
    expect((r.message as { content: string }).content).toBe(
      "4\n\nSkipped 2 block(s) in languages this executor does not run (sh, ruby); it runs: python, bash.",
    );
    expect(r.inner).toEqual([
      expect.objectContaining({ type: "code_execution", exitCode: 0, output: "4\n" }),
    ]);
  });

  it("says so when there is no code, and filters by source", async () => {
    const exec = new ScriptedExecutor([]);
    const agent = new CodeExecutorAgent("runner", { executor: exec, sources: ["coder"] });
    const r = await agent.onMessages([say("```python\nprint(1)\n```", "someone_else")]);
    expect(r.message).toMatchObject({ content: NO_CODE_BLOCKS });
    expect(exec.runs).toEqual([]);
  });

  it("describes failures and timeouts", async () => {
    const exec = new ScriptedExecutor([
      { exitCode: 1, output: "Traceback...\nZeroDivisionError\n" },
      { exitCode: 124, output: "", timedOut: true },
    ]);
    const agent = new CodeExecutorAgent("runner", { executor: exec });
    const a = await agent.onMessages([say("```python\n1/0\n```")]);
    expect(a.message).toMatchObject({
      content: "The code exited with code 1. Output:\nTraceback...\nZeroDivisionError",
    });
    const b = await agent.onMessages([say("```bash\nsleep 100\n```")]);
    expect(b.message).toMatchObject({
      content: "The code exited with code 124 (it timed out) and printed nothing.",
    });
  });

  it("asks for approval and does not run refused code", async () => {
    const exec = new ScriptedExecutor([{ exitCode: 0, output: "ok" }]);
    const asked: CodeBlock[][] = [];
    const agent = new CodeExecutorAgent("runner", {
      executor: exec,
      approval: async (blocks) => {
        asked.push(blocks);
        return blocks[0].code.includes("rm -rf")
          ? { approved: false, reason: "deletes files" }
          : { approved: true };
      },
    });
    const refused = await agent.onMessages([say("```bash\nrm -rf /tmp/x\n```")]);
    expect(refused.message).toMatchObject({
      content: "Code execution was not approved. Reason: deletes files",
    });
    expect(refused.inner[0]).toMatchObject({ type: "code_execution", exitCode: 1 });
    expect(exec.runs).toEqual([]);
    const ok = await agent.onMessages([say("```bash\necho ok\n```")]);
    expect(ok.message).toMatchObject({ content: "ok" });
    expect(asked).toHaveLength(2);
  });

  it("runs real code through the local executor", async () => {
    const exec = new LocalCommandLineExecutor({ timeoutMs: 10_000 });
    try {
      const agent = new CodeExecutorAgent("runner", { executor: exec });
      const r = await agent.onMessages([say("```js\nconsole.log(6 * 7)\n```")]);
      expect(r.message).toMatchObject({ content: "42" });
    } finally {
      await exec.dispose();
    }
  });

  describe("with a model that writes code", () => {
    it("generates, runs, retries on error and reflects", async () => {
      const model = ReplayModelClient.fromResults([
        { content: "```python\nprint(1/0)\n```", usage: { promptTokens: 10, completionTokens: 5 } },
        {
          content: "Fixed:\n```python\nprint(1/1)\n```",
          usage: { promptTokens: 20, completionTokens: 5 },
        },
        { content: "The result is 1.0.", usage: { promptTokens: 30, completionTokens: 5 } },
      ]);
      const exec = new ScriptedExecutor([
        { exitCode: 1, output: "ZeroDivisionError" },
        { exitCode: 0, output: "1.0" },
      ]);
      const agent = new CodeExecutorAgent("coder", {
        executor: exec,
        modelClient: model,
        maxRetriesOnError: 1,
      });
      const r = await agent.onMessages([say("Compute 1/1 in Python", "user")]);
      expect(r.message).toMatchObject({ content: "The result is 1.0." });
      expect(r.message.usage).toEqual({ promptTokens: 60, completionTokens: 15 });
      expect(r.inner.map((e) => e.type)).toEqual([
        "code_generation",
        "code_execution",
        "code_generation",
        "code_execution",
      ]);
      // The second call saw the failure.
      expect(model.requests[1].messages.at(-1)).toEqual({
        role: "user",
        name: "coder",
        content: "Execution result:\nThe code exited with code 1. Output:\nZeroDivisionError",
      });
      const saved = JSON.parse(JSON.stringify(await agent.saveState()));
      const copy = new CodeExecutorAgent("coder", { executor: exec, modelClient: model });
      await copy.loadState(saved);
      await expect(copy.loadState({ type: "nope" })).rejects.toThrow(
        /not a CodeExecutorAgent state/,
      );
    });

    it("returns the model's text when it writes no code, and rejects an empty answer", async () => {
      const exec = new ScriptedExecutor([]);
      const talk = new CodeExecutorAgent("coder", {
        executor: exec,
        modelClient: ReplayModelClient.fromResults(["No code needed: 2."]),
      });
      expect((await talk.onMessages([say("1+1?", "user")])).message).toMatchObject({
        content: "No code needed: 2.",
      });
      const mute = new CodeExecutorAgent("coder", {
        executor: exec,
        modelClient: ReplayModelClient.fromResults([""]),
      });
      await expect(mute.onMessages([say("?", "user")])).rejects.toThrow(
        "coder: model replay returned an empty response (finish reason: stop)",
      );
    });
  });
});
