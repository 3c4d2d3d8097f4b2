/**
 * Tools: functions a model may call. A `Tool` is the small interface every tool source
 * implements (Zod-typed functions made with `tool()`, MCP servers, handoffs); `runToolCalls`
 * turns a model's tool calls into tool results.
 */
import { z } from "zod";
import type { JsonSchema, ToolSpec } from "../model-client.js";

export interface ToolRunContext {
  /** Aborted when the turn is cancelled or the tool's time limit passes. */
  signal: AbortSignal;
  /** The id of the model's tool call being answered. */
  callId?: string;
}

export interface Tool {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the arguments object, as the model sees it. */
  readonly parameters: JsonSchema;
  /** Time limit of one call in milliseconds; `runToolCalls` enforces it. */
  readonly timeoutMs?: number;
  /**
   * Runs the tool on the model's (JSON-parsed) arguments. Throws `ToolError` for an error the
   * model should read verbatim (bad arguments, a failed lookup); any other throw also becomes
   * an error result. The returned value is serialised with `serializeToolOutput`.
   */
  run(args: unknown, ctx: ToolRunContext): Promise<unknown>;
}

/** An error whose message goes back to the model as the tool result, as is. */
export class ToolError extends Error {
  override name = "ToolError";
}

/** The model-facing description of a tool. */
export function toolSpec(t: Tool): ToolSpec {
  return { name: t.name, description: t.description, parameters: t.parameters };
}

export interface ToolOptions<S extends z.ZodType> {
  /** What models call it: [a-zA-Z0-9_-]{1,64}. */
  name: string;
  description: string;
  /** A Zod object schema of the arguments; exported as JSON Schema and used to validate. */
  parameters: S;
  execute: (args: z.output<S>, ctx: ToolRunContext) => unknown | Promise<unknown>;
  /** Per-call time limit in milliseconds (default: none). */
  timeoutMs?: number;
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export function assertToolName(name: string): void {
  if (!TOOL_NAME.test(name)) {
    throw new Error(
      `tool name ${JSON.stringify(name)} is not valid: use 1 to 64 letters, digits, '_' or '-'`,
    );
  }
}

/** The JSON Schema of a Zod schema, without the `$schema` header models do not need. */
export function zodToJsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema) as JsonSchema;
  return rest;
}

/** "a.b[2]: expected number, received string; c: required" */
export function formatZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path
        .map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
        .join("");
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

/**
 * Defines a tool from a Zod schema.
 *
 * ```ts
 * const add = tool({
 *   name: "add",
 *   description: "Adds two numbers",
 *   parameters: z.object({ a: z.number(), b: z.number() }),
 *   execute: ({ a, b }) => a + b,
 * });
 * ```
 */
export function tool<S extends z.ZodType>(options: ToolOptions<S>): Tool {
  assertToolName(options.name);
  const parameters = zodToJsonSchema(options.parameters);
  if (parameters.type !== "object") {
    throw new Error(
      `tool ${options.name}: parameters must be a z.object(...) schema (models pass arguments as a JSON object), got JSON Schema type ${JSON.stringify(parameters.type)}`,
    );
  }
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
    throw new Error(`tool ${options.name}: timeoutMs must be a positive number of milliseconds`);
  }
  return {
    name: options.name,
    description: options.description,
    parameters,
    timeoutMs: options.timeoutMs,
    async run(args, ctx) {
      const parsed = options.parameters.safeParse(args);
      if (!parsed.success) {
        throw new ToolError(
          `invalid arguments for tool ${options.name}: ${formatZodError(parsed.error)}`,
        );
      }
      return options.execute(parsed.data, ctx);
    },
  };
}
