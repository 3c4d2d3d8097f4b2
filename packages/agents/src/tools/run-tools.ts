import type { ToolCall, ToolResult } from "../messages.js";
import { serializeToolOutput } from "./serialize.js";
import { type Tool, ToolError } from "./tool.js";

export interface RunToolCallsOptions {
  /** Cancels every call; `runToolCalls` then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Time limit for tools that declare none (default: none). */
  defaultTimeoutMs?: number;
}

/**
 * Runs a model's tool calls in parallel and returns one result per call, in call order. Never
 * throws for bad input: unparsable JSON, arguments that fail validation, unknown tool names,
 * tools that throw and tools that pass their time limit all become error results the model
 * can read. Only cancellation (the `signal`) rejects.
 */
export async function runToolCalls(
  calls: readonly ToolCall[],
  tools: readonly Tool[],
  options: RunToolCallsOptions = {},
): Promise<ToolResult[]> {
  options.signal?.throwIfAborted();
  const byName = new Map(tools.map((t) => [t.name, t]));
  const results = await Promise.all(calls.map((call) => runOne(call, byName, options)));
  options.signal?.throwIfAborted();
  return results;
}

async function runOne(
  call: ToolCall,
  tools: Map<string, Tool>,
  options: RunToolCallsOptions,
): Promise<ToolResult> {
  const error = (content: string): ToolResult => ({
    callId: call.id,
    name: call.name,
    content,
    isError: true,
  });
  const t = tools.get(call.name);
  if (!t) {
    const available = [...tools.keys()].sort().join(", ") || "(none)";
    return error(`unknown tool ${JSON.stringify(call.name)}; available tools: ${available}`);
  }
  let args: unknown;
  try {
    args = call.arguments.trim() === "" ? {} : JSON.parse(call.arguments);
  } catch (e) {
    return error(
      `arguments for tool ${t.name} are not valid JSON (${(e as Error).message}): ${truncate(call.arguments, 200)}`,
    );
  }
  if (typeof args !== "object" || args === null || Array.isArray(args)) {
    return error(
      `arguments for tool ${t.name} must be a JSON object, got ${Array.isArray(args) ? "an array" : typeof args === "object" ? "null" : `a ${typeof args}`}`,
    );
  }

  const timeoutMs = t.timeoutMs ?? options.defaultTimeoutMs;
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener("abort", onOuterAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  // A tool may ignore its signal: the race makes sure neither a timeout nor a cancellation
  // waits for it.
  const stop = new Promise<"timeout" | "abort">((resolve) => {
    if (timeoutMs !== undefined) timer = setTimeout(() => resolve("timeout"), timeoutMs);
    controller.signal.addEventListener("abort", () => resolve("abort"), { once: true });
  });
  try {
    const outcome = await Promise.race([
      // An async wrapper, so a `run` that throws synchronously also becomes an error result.
      (async () => t.run(args, { signal: controller.signal, callId: call.id }))().then(
        (value) => ({ ok: true as const, value }),
        (err: unknown) => ({ ok: false as const, err }),
      ),
      stop,
    ]);
    if (outcome === "timeout") {
      controller.abort(new Error(`tool ${t.name} timed out`));
      return error(`tool ${t.name} timed out after ${timeoutMs} ms`);
    }
    if (outcome === "abort") throw outer?.reason ?? new Error("aborted");
    if (!outcome.ok) {
      if (outer?.aborted) throw outer.reason;
      const err = outcome.err;
      if (err instanceof ToolError) return error(err.message);
      const msg = err instanceof Error ? err.message : String(err);
      return error(`tool ${t.name} failed: ${msg}`);
    }
    return {
      callId: call.id,
      name: call.name,
      content: serializeToolOutput(outcome.value),
      isError: false,
    };
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener("abort", onOuterAbort);
  }
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n)}... (${s.length} characters)`;
}
