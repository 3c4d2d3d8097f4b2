/**
 * Edit code runs in `@athanor/agents`'s QuickJS sandbox (`runSandboxed`): no host objects, no I/O,
 * a memory cap and a wall-clock deadline. JSON goes in as the global `input`; the script's
 * completion value comes out as JSON.
 */
import { runSandboxed } from "@athanor/agents";

export interface SandboxOptions {
  /** Wall-clock limit for the code (default 1000 ms). */
  timeoutMs?: number;
  /** Heap limit (default 32 MiB). */
  memoryBytes?: number;
}

export type SandboxResult =
  | { ok: true; output: unknown }
  | { ok: false; error: string; line?: number; timedOut: boolean; outOfMemory: boolean };

/** Evaluates `code` with `input` bound; its completion value is the output. */
export async function runInSandbox(
  code: string,
  input: unknown,
  opts: SandboxOptions = {},
): Promise<SandboxResult> {
  const timeoutMs = opts.timeoutMs ?? 1000;
  const r = await runSandboxed(code, {
    input,
    timeoutMs,
    memoryBytes: opts.memoryBytes ?? 32 * 2 ** 20,
    filename: "edit.js",
  });
  if (!r.error) return { ok: true, output: r.value };
  const timedOut = r.error.kind === "timeout";
  const error = timedOut
    ? `the edit ran past its ${timeoutMs} ms time limit`
    : `${r.error.name}: ${r.error.message}`;
  return { ok: false, error, line: r.error.line, timedOut, outOfMemory: r.error.kind === "memory" };
}
