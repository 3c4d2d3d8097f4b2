import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ESM fixture without type declarations
import { createMcpServer } from "../../test/fixtures/mcp-server.mjs";
import { AssistantAgent } from "../agents/assistant-agent.js";
import { ReplayModelClient } from "../models/replay.js";
import { McpSession, mcpTools } from "./mcp.js";
import { runToolCalls } from "./run-tools.js";

const fixture = fileURLToPath(new URL("../../test/fixtures/mcp-server.mjs", import.meta.url));

async function exercise(session: McpSession, tools: Awaited<ReturnType<McpSession["listTools"]>>) {
  expect(tools.map((t) => t.name).sort()).toEqual(["add", "fail", "sleep"]);
  const add = tools.find((t) => t.name === "add")!;
  expect(add.description).toBe("Adds two numbers");
  expect(add.parameters).toMatchObject({
    type: "object",
    properties: { a: { type: "number" }, b: { type: "number" } },
    required: ["a", "b"],
  });
  const results = await runToolCalls(
    [
      { id: "1", name: "add", arguments: '{"a":2,"b":40}' },
      { id: "2", name: "fail", arguments: '{"why":"because"}' },
      { id: "3", name: "add", arguments: '{"a":"x"}' },
    ],
    tools,
  );
  expect(results[0]).toEqual({ callId: "1", name: "add", content: "42", isError: false });
  expect(results[1]).toEqual({
    callId: "2",
    name: "fail",
    content: "failed: because",
    isError: true,
  });
  // The server validates; its message comes back as an error result.
  expect(results[2].isError).toBe(true);
  expect(results[2].content).toMatch(/Invalid arguments|expected number/i);
  expect(await session.callTool("add", { a: 1, b: 1 })).toBe("2");
}

describe("MCP over stdio", () => {
  it("spawns the server, lists and calls its tools, closes", async () => {
    const { tools, session } = await mcpTools(
      { transport: "stdio", command: process.execPath, args: [fixture], stderr: "ignore" },
      { toolTimeoutMs: 2000 },
    );
    try {
      expect(session.serverName).toBe("athanor-test");
      await exercise(session, tools);
      // An assistant uses the server's tools like any other.
      const model = ReplayModelClient.fromResults([
        { toolCalls: [{ name: "add", arguments: { a: 20, b: 22 } }] },
        "20 + 22 = 42",
      ]);
      const agent = new AssistantAgent("a", { modelClient: model, tools, reflectOnToolUse: true });
      const r = await agent.run("20 + 22?");
      expect(r.message).toMatchObject({ type: "text", content: "20 + 22 = 42" });
      expect(r.inner[1]).toMatchObject({ results: [{ content: "42", isError: false }] });
    } finally {
      await session.close();
    }
  });

  it("reports a server that cannot start", async () => {
    await expect(
      McpSession.connect(
        { transport: "stdio", command: "/nonexistent/mcp-server", stderr: "ignore" },
        { timeoutMs: 5000 },
      ),
    ).rejects.toThrow(/cannot connect to MCP server \(stdio: \/nonexistent\/mcp-server\)/);
  });
});

describe("MCP over streamable HTTP", () => {
  let http: Server;
  let url: string;
  beforeAll(async () => {
    // Stateless: a fresh server and transport per request, as the SDK's examples do.
    http = createServer(async (req, res) => {
      const server = createMcpServer();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on("close", () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res);
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  });
  afterAll(async () => {
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
  });

  it("lists and calls tools, and a slow tool hits its timeout", async () => {
    const { tools, session } = await mcpTools({ transport: "http", url }, { toolTimeoutMs: 1000 });
    try {
      await exercise(session, tools);
      const [r] = await runToolCalls(
        [{ id: "s", name: "sleep", arguments: '{"ms":10000}' }],
        tools,
      );
      expect(r).toMatchObject({ isError: true, content: "tool sleep timed out after 1000 ms" });
    } finally {
      await session.close();
    }
  });

  it("prefixes tool names to keep servers apart, calling the server by its own names", async () => {
    const { tools, session } = await mcpTools(
      { transport: "http", url },
      { toolNamePrefix: "calc.", toolTimeoutMs: 5000 },
    );
    try {
      expect(tools.map((t) => t.name).sort()).toEqual(["calc_add", "calc_fail", "calc_sleep"]);
      const [r] = await runToolCalls(
        [{ id: "1", name: "calc_add", arguments: '{"a":1,"b":2}' }],
        tools,
      );
      expect(r).toMatchObject({ content: "3", isError: false });
    } finally {
      await session.close();
    }
  });
});
