/**
 * Tools from MCP servers, through the official `@modelcontextprotocol/sdk`: connect over stdio
 * (a command the session spawns) or streamable HTTP (a URL), list the server's tools as `Tool`s,
 * call them, close.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JsonSchema } from "../model-client.js";
import { type Tool, ToolError } from "./tool.js";

export type McpServerParams =
  | {
      transport: "stdio";
      command: string;
      args?: string[];
      /** Environment of the server process (default: the SDK's safe subset of ours). */
      env?: Record<string, string>;
      cwd?: string;
      /** The server's stderr: "inherit" (default), "ignore" or "pipe". */
      stderr?: "inherit" | "ignore" | "pipe";
    }
  | {
      transport: "http";
      url: string | URL;
      headers?: Record<string, string>;
    };

export interface McpConnectOptions {
  /** Name this client reports to the server (default "athanor"). */
  clientName?: string;
  /** Time limit of each request (connect, list, call), ms (default 60 000). */
  timeoutMs?: number;
  /** Time limit of each tool call made through the returned `Tool`s (default: `timeoutMs`). */
  toolTimeoutMs?: number;
  /**
   * Prepended to every tool name the model sees (e.g. "github_"), to keep the tools of several
   * servers apart. Characters models do not accept in names become "_" either way.
   */
  toolNamePrefix?: string;
}

interface McpContentPart {
  type: string;
  text?: string;
  mimeType?: string;
  uri?: string;
  resource?: { uri?: string; text?: string; mimeType?: string };
  name?: string;
}

/** A connection to one MCP server. */
export class McpSession {
  private constructor(
    private readonly client: Client,
    private readonly transport: Transport,
    private readonly options: McpConnectOptions,
    /** How the server named itself during initialisation. */
    readonly serverName: string,
  ) {}

  static async connect(
    params: McpServerParams,
    options: McpConnectOptions = {},
  ): Promise<McpSession> {
    const transport = await makeTransport(params);
    const client = new Client({ name: options.clientName ?? "athanor", version: "0.1.0" });
    try {
      await client.connect(transport, { timeout: options.timeoutMs ?? 60_000 });
    } catch (e) {
      await client.close().catch(() => {});
      const where =
        params.transport === "stdio"
          ? `${params.command} ${(params.args ?? []).join(" ")}`.trim()
          : String(params.url);
      throw new Error(
        `cannot connect to MCP server (${params.transport}: ${where}): ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    return new McpSession(client, transport, options, client.getServerVersion()?.name ?? "mcp");
  }

  /** The server's tools, as `Tool`s whose `run` calls the server. */
  async listTools(): Promise<Tool[]> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.client.listTools(cursor ? { cursor } : {}, {
        timeout: this.options.timeoutMs ?? 60_000,
      });
      for (const t of page.tools) {
        const name = modelToolName(`${this.options.toolNamePrefix ?? ""}${t.name}`);
        tools.push({
          name,
          description: t.description ?? t.title ?? t.name,
          parameters: t.inputSchema as JsonSchema,
          timeoutMs: this.toolTimeout(),
          // `runToolCalls` enforces `timeoutMs`; the SDK's own limit is only a backstop.
          run: (args, ctx) =>
            this.callTool(
              t.name,
              args as Record<string, unknown>,
              ctx.signal,
              this.toolTimeout() + 5000,
            ),
        });
      }
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  /**
   * Calls a tool and returns its output as text (text parts joined; other parts described;
   * structured content as JSON). A result the server marks as an error throws `ToolError`.
   */
  async callTool(
    name: string,
    args: Record<string, unknown>,
    signal?: AbortSignal,
    timeoutMs = this.toolTimeout(),
  ): Promise<string> {
    const result = await this.client.callTool({ name, arguments: args }, undefined, {
      signal,
      timeout: timeoutMs,
    });
    const parts = (result.content ?? []) as McpContentPart[];
    let text = parts.map(partText).join("\n");
    if (text === "" && result.structuredContent !== undefined) {
      text = JSON.stringify(result.structuredContent);
    }
    if (result.isError) throw new ToolError(text || `MCP tool ${name} reported an error`);
    return text;
  }

  private toolTimeout(): number {
    return this.options.toolTimeoutMs ?? this.options.timeoutMs ?? 60_000;
  }

  /** Closes the connection: ends an HTTP session on the server, stops a stdio server. */
  async close(): Promise<void> {
    const http = this.transport as { sessionId?: string; terminateSession?: () => Promise<void> };
    if (http.sessionId && http.terminateSession) await http.terminateSession().catch(() => {});
    await this.client.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Connects, lists the tools and returns them with the session that must be closed later. */
export async function mcpTools(
  params: McpServerParams,
  options?: McpConnectOptions,
): Promise<{ tools: Tool[]; session: McpSession }> {
  const session = await McpSession.connect(params, options);
  try {
    return { tools: await session.listTools(), session };
  } catch (e) {
    await session.close().catch(() => {});
    throw e;
  }
}

/** Transports load on first use, so importing the package does not load both clients. */
async function makeTransport(params: McpServerParams): Promise<Transport> {
  if (params.transport === "stdio") {
    const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
    return new StdioClientTransport({
      command: params.command,
      args: params.args,
      env: params.env,
      cwd: params.cwd,
      stderr: params.stderr ?? "inherit",
    });
  }
  if (params.transport === "http") {
    const { StreamableHTTPClientTransport } = await import(
      "@modelcontextprotocol/sdk/client/streamableHttp.js"
    );
    return new StreamableHTTPClientTransport(new URL(params.url), {
      requestInit: params.headers ? { headers: params.headers } : undefined,
    });
  }
  throw new Error(
    `unknown MCP transport ${JSON.stringify((params as { transport: unknown }).transport)}: use "stdio" or "http"`,
  );
}

/** OpenAI accepts tool names matching [a-zA-Z0-9_-]{1,64}. */
function modelToolName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64);
  return s.length > 0 ? s : "tool";
}

function partText(p: McpContentPart): string {
  switch (p.type) {
    case "text":
      return p.text ?? "";
    case "image":
    case "audio":
      return `[${p.type}: ${p.mimeType ?? "unknown type"}]`;
    case "resource":
      return p.resource?.text ?? `[resource: ${p.resource?.uri ?? "?"}]`;
    case "resource_link":
      return `[resource: ${p.uri ?? p.name ?? "?"}]`;
    default:
      return `[${p.type}]`;
  }
}
