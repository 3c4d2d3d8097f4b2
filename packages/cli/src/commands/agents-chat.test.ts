import {
  ChatCompletionsTestServer,
  type CodeBlock,
  type CodeExecutor,
  type CodeResult,
  ReplayModelClient,
} from "@athanor/agents";
import { afterEach, describe, expect, it, vi } from "vitest";
import { buildProgram } from "../program.js";
import { ChatSession, NO_ENDPOINT_MESSAGE } from "./agents-chat.js";

class ScriptedExecutor implements CodeExecutor {
  readonly languages = ["bash", "python", "javascript"];
  readonly runs: CodeBlock[][] = [];
  async execute(blocks: CodeBlock[]): Promise<CodeResult> {
    this.runs.push(blocks);
    return { exitCode: 0, output: "Linux\n" };
  }
  async dispose(): Promise<void> {}
}

describe("ChatSession", () => {
  it("runs approved code and gives the output back to the assistant", async () => {
    const model = ReplayModelClient.fromResults([
      "Let me check.\n```bash\nuname\n```",
      "You are on Linux.",
    ]);
    const executor = new ScriptedExecutor();
    let out = "";
    const session = new ChatSession({
      modelClient: model,
      executor,
      approval: async () => ({ approved: true }),
      write: (t) => {
        out += t;
      },
    });
    const exchange = await session.send("Which OS is this?");
    expect(exchange.map((m) => [m.source, m.type])).toEqual([
      ["assistant", "text"],
      ["executor", "text"],
      ["assistant", "text"],
    ]);
    expect(executor.runs).toEqual([[{ language: "bash", code: "uname" }]]);
    expect(model.requests[1].messages.at(-1)).toEqual({
      role: "user",
      name: "executor",
      content: "Linux",
    });
    expect(out).toBe(
      "assistant> Let me check.\n```bash\nuname\n```\nexecutor> Linux\nassistant> You are on Linux.\n",
    );
  });

  it("reports refused code to the assistant and stops after maxCodeRounds", async () => {
    const model = ReplayModelClient.fromResults([
      "```bash\nrm -rf ~\n```",
      "```bash\nrm -rf ~ # again\n```",
    ]);
    const executor = new ScriptedExecutor();
    let out = "";
    const session = new ChatSession({
      modelClient: model,
      executor,
      approval: async () => ({ approved: false, reason: "the user declined" }),
      maxCodeRounds: 1,
      write: (t) => {
        out += t;
      },
    });
    const exchange = await session.send("clean up");
    expect(executor.runs).toEqual([]);
    expect(exchange[1]).toMatchObject({
      content: "Code execution was not approved. Reason: the user declined",
    });
    expect(out).toMatch(/\(stopped after 1 code runs for one message\)\n$/);
  });

  it("does not run code without an executor", async () => {
    const model = ReplayModelClient.fromResults(["```bash\nls\n```"]);
    const session = new ChatSession({ modelClient: model, write: () => {} });
    expect(await session.send("list files")).toHaveLength(1);
    expect(model.requests[0].messages[0]).toEqual({
      role: "system",
      content: "You are a helpful assistant. Keep answers short and precise.",
    });
  });
});

describe("athanor agents chat", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    vi.restoreAllMocks();
  });
  const clearEnv = () => {
    for (const k of Object.keys(process.env)) {
      if (/^(ATHANOR_|OPENAI_|AZURE_OPENAI_)/.test(k)) delete process.env[k];
    }
  };

  it("says which variables to set when no endpoint is configured", async () => {
    clearEnv();
    await expect(
      buildProgram().parseAsync(["agents", "chat", "--message", "hi"], { from: "user" }),
    ).rejects.toThrow(NO_ENDPOINT_MESSAGE);
  });

  it("answers one message against an OpenAI-compatible endpoint (--message --json)", async () => {
    const server = await ChatCompletionsTestServer.start();
    try {
      server.enqueue({ type: "reply", content: "Hello from the loopback model." });
      clearEnv();
      process.env.ATHANOR_BASE_URL = server.baseURL;
      let out = "";
      vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
        out += String(chunk);
        return true;
      });
      await buildProgram().parseAsync(
        [
          "agents",
          "chat",
          "--model",
          "test-model",
          "--no-code",
          "--system",
          "Be terse.",
          "--message",
          "hi",
          "--json",
        ],
        { from: "user" },
      );
      vi.restoreAllMocks();
      const exchange = JSON.parse(out);
      expect(exchange).toHaveLength(1);
      expect(exchange[0]).toMatchObject({
        type: "text",
        source: "assistant",
        content: "Hello from the loopback model.",
      });
      const body = server.requests[0].body as { model: string; messages: { content: string }[] };
      expect(body.model).toBe("test-model");
      expect(body.messages[0].content).toBe("Be terse.");
    } finally {
      await server.close();
    }
  });
});
