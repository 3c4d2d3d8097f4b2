/**
 * A JavaScript sandbox on QuickJS compiled to WebAssembly (`quickjs-emscripten`): no file system,
 * network, timers, modules or host objects, only what the caller grants as explicit functions;
 * memory, stack and time limits; values in and out as JSON.
 */

import type { JsonValue } from "../agent.js";
import {
  type CoreJob,
  type GrantCall,
  type GrantShape,
  type SandboxError,
  type SandboxModule,
  sandboxCore,
} from "./sandbox-core.js";
import { runInWorker } from "./sandbox-worker.js";

export type { SandboxError, SandboxErrorKind, SandboxModule } from "./sandbox-core.js";

/** A host function granted to sandboxed code. Arguments and return value cross as JSON; it must be synchronous. */
export type HostFunction = (...args: JsonValue[]) => JsonValue | undefined;

/** Capabilities granted to sandboxed code: global functions, or objects of them (`{ db: { get } }` → `db.get(...)`). */
export interface Grants {
  [name: string]: HostFunction | Grants;
}

export interface SandboxLimits {
  /**
   * Wall-clock limit in ms. QuickJS's interrupt handler stops the code at the deadline; a run
   * that defeats it is ended by terminating its worker thread 100 ms later. Default 1 000.
   */
  timeoutMs?: number;
  /**
   * Memory for the code in bytes: the QuickJS runtime's limit (no single allocation may pass it)
   * and the cap on the WebAssembly heap's growth (all allocations together). Default 64 MiB;
   * at least 256 KiB.
   */
  memoryBytes?: number;
  /**
   * QuickJS's stack limit in bytes. Default 256 KiB (about 1 500 frames of simple recursion),
   * small enough that QuickJS reports the overflow before the host's own stack runs out.
   */
  stackBytes?: number;
  /** Cap on console output in bytes (UTF-8); later output is dropped. Default 64 KiB, at most 1 GiB. */
  maxOutputBytes?: number;
}

export interface SandboxOptions extends SandboxLimits {
  /** The global `input`: a deep copy made through JSON. The host object itself is never exposed. */
  input?: unknown;
  /** Host functions the code may call. Nothing else from the host is reachable. */
  grants?: Grants;
  /** File name in error positions and stack traces. Default "sandbox.js". */
  filename?: string;
  /**
   * Checked before the run and by the interrupt handler; a run still going 100 ms after it fired
   * has its worker terminated. An aborted run ends with kind "aborted".
   */
  signal?: AbortSignal;
  /**
   * The QuickJS module to run in (e.g. a debug build, to check for leaks). Default: a
   * WebAssembly instance whose memory is capped at 16 MiB (QuickJS's base image) + memoryBytes,
   * reused across runs with the same cap, in a worker thread. A module passed here gets no such
   * cap and runs on the calling thread, where the interrupt handler is the only time limit.
   */
  module?: SandboxModule;
}

export interface SandboxResult {
  /**
   * The code's value, as JSON: the global `result` if the code set it, else the completion
   * value of the script (its last expression statement); a promise is awaited. Undefined when
   * there is none or on error.
   */
  value?: JsonValue;
  /** What the code printed with `console.log` / `info` / `warn` / `error` / `debug`, one line per call. */
  output: string;
  /** True when output was cut at `maxOutputBytes`. */
  truncated: boolean;
  error?: SandboxError;
}

const DEFAULTS = {
  timeoutMs: 1000,
  memoryBytes: 64 * 1024 * 1024,
  stackBytes: 256 * 1024,
  maxOutputBytes: 64 * 1024,
};

/** The output buffer is allocated up front (shared with the worker): this is its ceiling. */
const MAX_OUTPUT_BYTES = 2 ** 30;

/** The core on the host: the in-process path, and the grant calls of worker runs. */
const core = sandboxCore();

/**
 * Runs `code` as a script in a fresh QuickJS runtime and context, and returns its value as JSON.
 * Each run happens in a worker thread that is terminated if the code outlives `timeoutMs` (by a
 * grace of 100 ms), so the time limit holds whatever the code does. Never throws for anything
 * the code does; throws a `TypeError`/`RangeError` for bad options (an `input` that is not
 * JSON-serializable, a non-function grant, a non-positive limit).
 *
 * ```ts
 * const r = await runSandboxed("input.capacity.A *= 1.2; input", { input: data, timeoutMs: 500 });
 * if (r.error) console.error(r.error.message, "at line", r.error.line);
 * else use(r.value);
 * ```
 */
export async function runSandboxed(
  code: string,
  options: SandboxOptions = {},
): Promise<SandboxResult> {
  if (typeof code !== "string")
    throw new TypeError(`runSandboxed: code must be a string, got ${typeof code}`);
  const limits = resolveLimits(options);
  const inputJson = options.input === undefined ? undefined : toJsonText(options.input);
  const granted = new Map<string, HostFunction>();
  const grants =
    options.grants === undefined ? undefined : shapeOf(options.grants, "grants", [], granted);
  if (options.signal?.aborted) return { output: "", truncated: false, error: abortedError() };
  const job: CoreJob = {
    code,
    inputJson,
    grants,
    filename: options.filename ?? "sandbox.js",
    limits,
  };
  const call: GrantCall = (path, args) =>
    core.callGrant(path.at(-1) as string, granted.get(path.join("\0")) as HostFunction, args);
  if (options.module) return runInProcess(options.module, job, call, options.signal);

  const run = await runInWorker(job, call, options.signal);
  const { output, truncated } = run;
  if (run.stopped === "timeout") return { output, truncated, error: timeoutError(limits) };
  if (run.stopped === "aborted") return { output, truncated, error: abortedError() };
  if (run.crash !== undefined) return { output, truncated, error: crashError(run.crash, true) };
  return { ...run.outcome, output, truncated };
}

/**
 * Runs on the calling thread in a caller's module (a debug build, a browser's own instance):
 * the time limit is QuickJS's interrupt handler alone.
 */
function runInProcess(
  module: SandboxModule,
  job: CoreJob,
  call: GrantCall,
  signal: AbortSignal | undefined,
): SandboxResult {
  const control = new Int32Array(core.CONTROL.SIZE);
  const out = { bytes: new Uint8Array(job.limits.maxOutputBytes), state: control };
  // AbortSignal dispatches synchronously, so an abort from a grant is seen by the interrupt handler.
  const onAbort = () => Atomics.store(control, core.CONTROL.ABORT, 1);
  signal?.addEventListener("abort", onAbort, { once: true });
  const result = (): Pick<SandboxResult, "output" | "truncated"> => ({
    output: new TextDecoder().decode(
      out.bytes.subarray(0, Atomics.load(control, core.CONTROL.LENGTH)),
    ),
    truncated: Atomics.load(control, core.CONTROL.TRUNCATED) === 1,
  });
  try {
    const outcome = core.evaluate(module, job, call, out, control);
    return { ...outcome, ...result() };
  } catch (err) {
    // A failure outside QuickJS's own error handling (a WebAssembly trap, the host stack running
    // out inside the interpreter) can leave the instance inconsistent: it must not be reused.
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { ...result(), error: crashError(message, false) };
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/** One line describing a sandbox error: `TypeError: x is undefined (line 3, column 7)`. */
export function formatSandboxError(error: SandboxError): string {
  const where =
    error.line !== undefined
      ? ` (line ${error.line}${error.column !== undefined ? `, column ${error.column}` : ""})`
      : "";
  return `${error.name}: ${error.message}${where}`;
}

type Limits = Required<SandboxLimits>;

function resolveLimits(options: SandboxLimits): Limits {
  const limits = {
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
    memoryBytes: options.memoryBytes ?? DEFAULTS.memoryBytes,
    stackBytes: options.stackBytes ?? DEFAULTS.stackBytes,
    maxOutputBytes: options.maxOutputBytes ?? DEFAULTS.maxOutputBytes,
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!(Number.isFinite(value) && value >= 0 && (value > 0 || name === "maxOutputBytes"))) {
      throw new RangeError(`runSandboxed: ${name} must be a positive number, got ${value}`);
    }
  }
  if (limits.maxOutputBytes > MAX_OUTPUT_BYTES) {
    throw new RangeError(
      `runSandboxed: maxOutputBytes must be at most ${MAX_OUTPUT_BYTES} (1 GiB), got ${limits.maxOutputBytes}`,
    );
  }
  if (limits.memoryBytes < 256 * 1024) {
    throw new RangeError(
      `runSandboxed: memoryBytes must be at least 262144 (256 KiB), got ${limits.memoryBytes}`,
    );
  }
  return limits;
}

function toJsonText(input: unknown): string | undefined {
  try {
    return JSON.stringify(input);
  } catch (err) {
    throw new TypeError(
      `runSandboxed: input must be JSON-serializable (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

function shapeOf(
  grants: Grants,
  path: string,
  at: string[],
  granted: Map<string, HostFunction>,
): GrantShape {
  if (grants === null || typeof grants !== "object" || Array.isArray(grants)) {
    throw new TypeError(`runSandboxed: ${path} must be an object of functions`);
  }
  const shape: GrantShape = {};
  for (const [name, value] of Object.entries(grants)) {
    if (typeof value === "function") {
      granted.set([...at, name].join("\0"), value);
      shape[name] = true;
    } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      shape[name] = shapeOf(value, `${path}.${name}`, [...at, name], granted);
    } else {
      throw new TypeError(
        `runSandboxed: ${path}.${name} must be a function or an object of functions, got ${value === null ? "null" : typeof value}`,
      );
    }
  }
  return shape;
}

function abortedError(): SandboxError {
  return { kind: "aborted", name: "AbortError", message: "the run was aborted" };
}

function timeoutError(limits: Limits): SandboxError {
  return {
    kind: "timeout",
    name: "TimeoutError",
    message: `timed out after ${limits.timeoutMs} ms`,
  };
}

function crashError(message: string, ownModule: boolean): SandboxError {
  return {
    kind: "crash",
    name: "SandboxCrash",
    message: `the sandbox's WebAssembly instance failed (${message}); ${ownModule ? "it was discarded" : "discard the module you passed"}. Lower stackBytes if the code recursed deeply.`,
  };
}
