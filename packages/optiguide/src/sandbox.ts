/**
 * Runs untrusted edit code in QuickJS (WebAssembly): no host objects, no I/O, a memory cap and a
 * wall-clock deadline enforced by QuickJS's interrupt handler. JSON goes in as `__input`; the
 * code's completion value (a JSON string) comes out.
 */
import { getQuickJS, type QuickJSWASMModule, shouldInterruptAfterDeadline } from "quickjs-emscripten";

export interface SandboxOptions {
  /** Wall-clock limit for the code (default 1000 ms). */
  timeoutMs?: number;
  /** Heap limit (default 32 MiB). */
  memoryBytes?: number;
}

export type SandboxResult =
  | { ok: true; output: unknown }
  | { ok: false; error: string; timedOut: boolean; outOfMemory: boolean };

let quickjs: Promise<QuickJSWASMModule> | undefined;

/** Evaluates `code` (which must end with an expression producing a JSON string) with `input` bound. */
export async function runInSandbox(code: string, input: unknown, opts: SandboxOptions = {}): Promise<SandboxResult> {
  quickjs ??= getQuickJS();
  const qjs = await quickjs;
  const timeoutMs = opts.timeoutMs ?? 1000;
  const runtime = qjs.newRuntime();
  runtime.setMemoryLimit(opts.memoryBytes ?? 32 * 2 ** 20);
  runtime.setMaxStackSize(1024 * 1024);
  const deadline = Date.now() + timeoutMs;
  runtime.setInterruptHandler(shouldInterruptAfterDeadline(deadline));
  const vm = runtime.newContext();
  try {
    const inputJs = `const __input = ${JSON.stringify(input)};\n`;
    const result = vm.evalCode(inputJs + code, "edit.js");
    if (result.error) {
      const err = vm.dump(result.error) as { name?: string; message?: string } | string;
      result.error.dispose();
      const message = typeof err === "string" ? err : `${err?.name ?? "Error"}: ${err?.message ?? String(err)}`;
      const timedOut = Date.now() >= deadline || /interrupted/i.test(message);
      const outOfMemory = /out of memory/i.test(message);
      return {
        ok: false,
        error: timedOut ? `the edit ran past its ${timeoutMs} ms time limit` : message,
        timedOut,
        outOfMemory,
      };
    }
    const raw = vm.dump(result.value);
    result.value.dispose();
    return { ok: true, output: typeof raw === "string" ? JSON.parse(raw) : raw };
  } finally {
    vm.dispose();
    runtime.dispose();
  }
}
