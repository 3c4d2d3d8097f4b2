import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { AssistantAgent } from "../agents/assistant-agent.js";
import { CodeExecutorAgent } from "../agents/code-executor-agent.js";
import { UserProxyAgent } from "../agents/user-proxy-agent.js";
import type { CodeBlock, CodeExecutor } from "../code/executor.js";
import { messageText } from "../messages.js";
import { ReplayModelClient } from "../models/replay.js";
import { RoundRobinGroupChat } from "../teams/round-robin.js";
import { ScriptedAgent } from "../teams/scripted.js";
import { MaxMessageTermination, TextMentionTermination } from "../termination/conditions.js";
import { tool } from "../tools/tool.js";
import { approvalFromInput, codeExecutionApproval, requireApproval } from "./approval.js";
import { HumanInputQueue } from "./input-queue.js";

// A human at the other end of HTTP: GET /pending lists questions, POST /reply answers one.
const queue = new HumanInputQueue();
let server: Server;
let base = "";
beforeAll(async () => {
  server = createServer(async (req, res) => {
    if (req.method === "GET" && req.url === "/pending") {
      res.end(JSON.stringify(queue.pending()));
      return;
    }
    let body = "";
    for await (const chunk of req) body += chunk;
    const { id, answer } = JSON.parse(body) as { id: string; answer: string };
    res.end(JSON.stringify({ answered: queue.reply(answer, id) }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Answers each question that appears, in order, over HTTP. */
function humanAnswers(answers: string[]): () => void {
  return queue.onRequest(async (request) => {
    const answer = answers.shift() ?? "no";
    await fetch(`${base}/reply`, {
      method: "POST",
      body: JSON.stringify({ id: request.id, answer }),
    });
  });
}

describe("approval of tool calls", () => {
  it("asks a human over HTTP before each call; a refusal goes back to the model, not a crash", async () => {
    const deleted: string[] = [];
    const deleteFile = tool({
      name: "delete_file",
      description: "Deletes a file",
      parameters: z.object({ path: z.string() }),
      execute: ({ path }) => {
        deleted.push(path);
        return `deleted ${path}`;
      },
    });
    const model = ReplayModelClient.fromResults([
      { toolCalls: [{ name: "delete_file", arguments: { path: "/etc/passwd" } }] },
      { toolCalls: [{ name: "delete_file", arguments: { path: "/tmp/scratch.txt" } }] },
    ]);
    const prompts: string[] = [];
    const stop = humanAnswers(["no, that is a system file", "yes"]);
    const unsubscribe = queue.onRequest((r) => prompts.push(r.prompt));
    const agent = new AssistantAgent("janitor", {
      modelClient: model,
      tools: [requireApproval(deleteFile, approvalFromInput(queue.ask))],
    });
    const team = new RoundRobinGroupChat([agent], { maxTurns: 2 });
    const result = await team.run("clean up");
    stop();
    unsubscribe();
    expect(deleted).toEqual(["/tmp/scratch.txt"]);
    expect(prompts[0]).toContain('delete_file({"path":"/etc/passwd"})');
    const executions = result.messages.filter((m) => m.type === "tool_call_execution");
    expect(executions.map((m) => messageText(m))).toEqual([
      "The call to delete_file was not approved. Reason: no, that is a system file",
      "deleted /tmp/scratch.txt",
    ]);
    expect(queue.pending()).toEqual([]);
  });
});

describe("approval of code execution", () => {
  it("runs only approved code", async () => {
    const ran: CodeBlock[][] = [];
    const executor: CodeExecutor = {
      languages: ["python"],
      async execute(blocks) {
        ran.push(blocks);
        return { exitCode: 0, output: "4\n" };
      },
      async dispose() {},
    };
    const stop = humanAnswers(["shutil.rmtree looks dangerous", "y"]);
    const writer = new ScriptedAgent("writer", [
      "```python\nimport shutil; shutil.rmtree('/')\n```",
      "```python\nprint(2 + 2)\n```",
    ]);
    const runner = new CodeExecutorAgent("runner", {
      executor,
      approval: codeExecutionApproval(approvalFromInput(queue.ask)),
    });
    const team = new RoundRobinGroupChat([writer, runner], { maxTurns: 4 });
    await team.run("compute 2 + 2");
    stop();
    expect(ran).toEqual([[{ language: "python", code: "print(2 + 2)" }]]);
    const replies = team.transcript.filter((m) => m.source === "runner").map(messageText);
    expect(replies[0]).toContain("not approved. Reason: shutil.rmtree looks dangerous");
    expect(replies[1]).toContain("4");
  });
});

describe("human input from any async source", () => {
  it("a user proxy in a team takes its answers from HTTP requests", async () => {
    const stop = humanAnswers(["Make it about the sea.", "TERMINATE"]);
    const poet = new ScriptedAgent("poet", ["A poem about cats.", "A poem about the sea."]);
    const human = new UserProxyAgent("human", { inputFunc: queue.ask, humanInputMode: "ALWAYS" });
    const team = new RoundRobinGroupChat([poet, human], {
      termination: new TextMentionTermination("TERMINATE").or(new MaxMessageTermination(10)),
    });
    const result = await team.run("write a poem");
    stop();
    expect(team.transcript.map((m) => `${m.source}: ${messageText(m)}`)).toEqual([
      "user: write a poem",
      "poet: A poem about cats.",
      "human: Make it about the sea.",
      "poet: A poem about the sea.",
      "human: TERMINATE",
    ]);
    expect(result.stopReason).toMatch(/TERMINATE/);
  });

  it("buffers early answers, answers by id, rejects unknown ids, and honours cancellation", async () => {
    const q = new HumanInputQueue();
    expect(q.reply("early")).toBeNull();
    expect(await q.ask("?")).toBe("early");
    const a = q.ask("first");
    const b = q.ask("second");
    const [, second] = q.pending();
    expect(q.reply("to second", second.id)).toBe(second.id);
    q.reply("to first");
    expect(await Promise.all([a, b])).toEqual(["to first", "to second"]);
    expect(() => q.reply("x", "input_999")).toThrow(/no question "input_999" is waiting/);
    const controller = new AbortController();
    const c = q.ask("cancel me", controller.signal);
    controller.abort(new Error("gone"));
    await expect(c).rejects.toThrow("gone");
    expect(q.pending()).toEqual([]);
  });
});
