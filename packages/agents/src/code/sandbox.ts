/**
 * A JavaScript sandbox on QuickJS compiled to WebAssembly (`quickjs-emscripten`): no file system,
 * network, timers, modules or host objects, only what the caller grants as explicit functions;
 * memory, stack and time limits; values in and out as JSON.
 */

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import {
  newQuickJSWASMModule,
  newVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSWASMModule,
  RELEASE_SYNC,
} from "quickjs-emscripten";
import type { JsonValue } from "../agent.js";

/** A host function granted to sandboxed code. Arguments and return value cross as JSON; it must be synchronous. */
export type HostFunction = (...args: JsonValue[]) => JsonValue | undefined;

/** Capabilities granted to sandboxed code: global functions, or objects of them (`{ db: { get } }` → `db.get(...)`). */
export interface Grants {
  [name: string]: HostFunction | Grants;
}

export interface SandboxLimits {
  /** Wall-clock limit in ms, checked by QuickJS's interrupt handler. Default 1 000. */
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
  /** Cap on console output in bytes (UTF-8); later output is dropped. Default 64 KiB. */
  maxOutputBytes?: number;
}

/** The subset of a `QuickJSWASMModule` the sandbox uses; pass a `TestQuickJSWASMModule` to check for leaks. */
export type SandboxModule = Pick<QuickJSWASMModule, "newRuntime">;

export interface SandboxOptions extends SandboxLimits {
  /** The global `input`: a deep copy made through JSON. The host object itself is never exposed. */
  input?: unknown;
  /** Host functions the code may call. Nothing else from the host is reachable. */
  grants?: Grants;
  /** File name in error positions and stack traces. Default "sandbox.js". */
  filename?: string;
  /** Checked by the interrupt handler and before the run; an aborted run ends with kind "aborted". */
  signal?: AbortSignal;
  /**
   * The QuickJS module to run in (e.g. a debug build, to check for leaks). Default: a
   * WebAssembly instance whose memory is capped at 16 MiB (QuickJS's base image) + memoryBytes,
   * reused across runs with the same cap. A module passed here gets no such cap.
   */
  module?: SandboxModule;
}

export type SandboxErrorKind =
  | "syntax" // the code does not parse
  | "thrown" // the code threw (or its promise rejected)
  | "timeout" // ran past timeoutMs
  | "aborted" // the signal fired
  | "memory" // ran past memoryBytes
  | "stack" // ran past stackBytes
  | "result" // the result is not JSON-serializable, or its promise never settled
  | "crash"; // the WebAssembly instance failed (e.g. the host's stack ran out); it was discarded

export interface SandboxError {
  kind: SandboxErrorKind;
  /** The error's name in the sandbox (`TypeError`, `SyntaxError`, ...), or a host-side name. */
  name: string;
  message: string;
  /** 1-based position in the code, where known. */
  line?: number;
  column?: number;
  stack?: string;
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

/** Pages (64 KiB) in the QuickJS build's initial heap: its data, C stack and malloc arena start. */
const BASE_PAGES = 256;

// The WebAssembly API, typed here because this package's lib (ES2023, no DOM) does not declare it.
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  Memory: new (descriptor: { initial: number; maximum: number }) => object;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: Promise<object> | undefined;

/** The QuickJS WebAssembly module (release build), compiled once per process. */
function compiledQuickJs(): Promise<object> {
  compiled ??= (async () => {
    // Resolved through quickjs-emscripten's own dependencies, so any install layout works.
    const fromQuickJs = createRequire(createRequire(import.meta.url).resolve("quickjs-emscripten"));
    const bytes = await readFile(fromQuickJs.resolve("@jitl/quickjs-wasmfile-release-sync/wasm"));
    return wasm.compile(bytes);
  })().catch((err: unknown) => {
    compiled = undefined;
    throw err;
  });
  return compiled;
}

/**
 * A WebAssembly instance of QuickJS whose memory cannot grow past `memoryBytes` beyond the base
 * image: QuickJS's own limit counts allocations, not their sizes, in this build
 * ("malloc_usable_size unavailable"), so the hard ceiling is the WebAssembly memory's maximum.
 * Instances are kept per ceiling and reused (each run still gets a fresh runtime and context,
 * and frees everything it allocated); one whose run ran out of memory or crashed is discarded.
 */
const instances = new Map<number, Promise<QuickJSWASMModule>>();
const MAX_INSTANCES = 4;

function instanceFor(memoryBytes: number): { pages: number; module: Promise<QuickJSWASMModule> } {
  const pages = BASE_PAGES + Math.ceil(memoryBytes / 65536);
  let module = instances.get(pages);
  if (!module) {
    module = (async () => {
      const wasmModule = await compiledQuickJs();
      const wasmMemory = new wasm.Memory({ initial: BASE_PAGES, maximum: pages });
      return newQuickJSWASMModule(
        newVariant(RELEASE_SYNC, { wasmModule, wasmMemory } as Parameters<typeof newVariant>[1]),
      );
    })();
    module.catch(() => instances.delete(pages));
    instances.set(pages, module);
    if (instances.size > MAX_INSTANCES) instances.delete(instances.keys().next().value as number);
  }
  return { pages, module };
}

/**
 * Runs `code` as a script in a fresh QuickJS runtime and context, and returns its value as JSON.
 * Never throws for anything the code does; throws a `TypeError`/`RangeError` for bad options
 * (an `input` that is not JSON-serializable, a non-function grant, a non-positive limit).
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
  if (options.grants !== undefined) checkGrants(options.grants, "grants");
  const out = new OutputBuffer(limits.maxOutputBytes);
  if (options.signal?.aborted) return { output: "", truncated: false, error: abortedError() };
  const own = options.module ? undefined : instanceFor(limits.memoryBytes);
  const module = options.module ?? (await (own as { module: Promise<QuickJSWASMModule> }).module);
  try {
    const outcome = evaluate(module, code, inputJson, options, limits, out);
    if (own && outcome.error?.kind === "memory") instances.delete(own.pages);
    return { ...outcome, output: out.text(), truncated: out.truncated };
  } catch (err) {
    // A failure outside QuickJS's own error handling (a WebAssembly trap, the host stack running
    // out inside the interpreter) can leave the instance inconsistent: never reuse it.
    if (own) instances.delete(own.pages);
    const ownModule = own !== undefined;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return {
      output: out.text(),
      truncated: out.truncated,
      error: {
        kind: "crash",
        name: "SandboxCrash",
        message: `the sandbox's WebAssembly instance failed (${message}); ${ownModule ? "it was discarded" : "discard the module you passed"}. Lower stackBytes if the code recursed deeply.`,
      },
    };
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

function checkGrants(grants: Grants, path: string): void {
  if (grants === null || typeof grants !== "object" || Array.isArray(grants)) {
    throw new TypeError(`runSandboxed: ${path} must be an object of functions`);
  }
  for (const [name, value] of Object.entries(grants)) {
    if (typeof value === "function") continue;
    if (value !== null && typeof value === "object" && !Array.isArray(value))
      checkGrants(value, `${path}.${name}`);
    else
      throw new TypeError(
        `runSandboxed: ${path}.${name} must be a function or an object of functions, got ${value === null ? "null" : typeof value}`,
      );
  }
}

const utf8 = new TextEncoder();

class OutputBuffer {
  #parts: string[] = [];
  #bytes = 0;
  truncated = false;
  constructor(readonly maxBytes: number) {}
  write(text: string): void {
    if (this.truncated) return;
    const bytes = utf8.encode(text).length;
    if (this.#bytes + bytes <= this.maxBytes) {
      this.#parts.push(text);
      this.#bytes += bytes;
      return;
    }
    const room = this.maxBytes - this.#bytes;
    // Cut on a character boundary.
    this.#parts.push(
      new TextDecoder().decode(utf8.encode(text).subarray(0, room)).replace(/\uFFFD$/, ""),
    );
    this.#bytes = this.maxBytes;
    this.truncated = true;
  }
  text(): string {
    return this.#parts.join("");
  }
}

// The console, installed by calling this with a host `print(line)`; formatting runs inside the sandbox.
const CONSOLE_PRELUDE = `(function (print) {
  const fmt = (v) => {
    if (typeof v === "string") return v;
    if (v instanceof Error) return v.name + ": " + v.message;
    if (typeof v === "function") return "[Function " + (v.name || "anonymous") + "]";
    if (typeof v === "object" && v !== null) { try { return JSON.stringify(v); } catch (e) { return String(v); } }
    return String(v);
  };
  const line = (...args) => { print(args.map(fmt).join(" ")); };
  globalThis.console = Object.freeze({ log: line, info: line, debug: line, warn: line, error: line });
})`;

interface Outcome {
  value?: JsonValue;
  error?: SandboxError;
}

function evaluate(
  module: SandboxModule,
  code: string,
  inputJson: string | undefined,
  options: SandboxOptions,
  limits: Limits,
  out: OutputBuffer,
): Outcome {
  const filename = options.filename ?? "sandbox.js";
  const runtime = module.newRuntime();
  let healthy = true;
  try {
    runtime.setMemoryLimit(limits.memoryBytes);
    runtime.setMaxStackSize(limits.stackBytes);
    const deadline = Date.now() + limits.timeoutMs;
    let stopped: "timeout" | "aborted" | undefined;
    runtime.setInterruptHandler(() => {
      if (Date.now() > deadline) stopped = "timeout";
      else if (options.signal?.aborted) stopped = "aborted";
      return stopped !== undefined;
    });
    const vm = runtime.newContext();
    const owned: QuickJSHandle[] = [];
    const own = (h: QuickJSHandle) => {
      owned.push(h);
      return h;
    };
    try {
      const json = own(vm.getProp(vm.global, "JSON"));
      const parse = own(vm.getProp(json, "parse"));
      const stringify = own(vm.getProp(json, "stringify"));
      // JSON text → a fresh value inside the sandbox (a deep copy, never a host reference).
      const fromJson = (text: string): QuickJSHandle => {
        const str = vm.newString(text);
        try {
          return vm.unwrapResult(vm.callFunction(parse, vm.undefined, str));
        } finally {
          str.dispose();
        }
      };

      const prelude = own(
        vm.unwrapResult(vm.evalCode(CONSOLE_PRELUDE, "<console>", { type: "global" })),
      );
      const print = own(
        vm.newFunction("print", (line) => {
          out.write(`${vm.getString(line)}\n`);
        }),
      );
      own(vm.unwrapResult(vm.callFunction(prelude, vm.undefined, print)));
      if (options.grants) installGrants(vm, vm.global, options.grants, fromJson, own);
      if (inputJson !== undefined) {
        const input = own(fromJson(inputJson));
        vm.setProp(vm.global, "input", input);
      }

      const evaluated = vm.evalCode(code, filename, { type: "global" });
      if (evaluated.error)
        return { error: describeError(vm, own(evaluated.error), filename, limits, stopped) };
      let value = own(evaluated.value);

      // Run queued promise jobs; await a promise completion value.
      const jobs = runtime.executePendingJobs();
      if (jobs.error)
        return { error: describeError(vm, own(jobs.error), filename, limits, stopped) };
      const state = vm.getPromiseState(value);
      if (state.type === "pending") {
        return {
          error: {
            kind: "result",
            name: "PendingPromise",
            message: "the code's promise never settled (the sandbox has no timers or I/O)",
          },
        };
      }
      if (state.type === "rejected")
        return { error: describeError(vm, own(state.error), filename, limits, stopped) };
      if (state.value !== value) value = own(state.value);

      // An explicit global `result` wins over the completion value.
      const explicit = vm.evalCode(
        "typeof result === 'undefined' ? undefined : result",
        "<result>",
        { type: "global" },
      );
      if (explicit.error) {
        own(explicit.error);
      } else {
        own(explicit.value);
        if (vm.typeof(explicit.value) !== "undefined") value = explicit.value;
      }

      const text = vm.callFunction(stringify, vm.undefined, value);
      if (text.error) {
        const error = describeError(vm, own(text.error), filename, limits, stopped);
        if (error.kind !== "thrown") return { error };
        return {
          error: {
            ...error,
            kind: "result",
            message: `the result is not JSON-serializable: ${error.message}`,
          },
        };
      }
      own(text.value);
      if (vm.typeof(text.value) !== "string") return {};
      return { value: JSON.parse(vm.getString(text.value)) as JsonValue };
    } catch (err) {
      healthy = false;
      throw err;
    } finally {
      if (healthy) {
        for (const h of owned.reverse()) if (h.alive) h.dispose();
        vm.dispose();
      }
    }
  } catch (err) {
    healthy = false;
    throw err;
  } finally {
    // After a host-level failure the instance is inconsistent (freeing would abort inside QuickJS);
    // it is discarded instead.
    if (healthy) runtime.dispose();
  }
}

function installGrants(
  vm: QuickJSContext,
  target: QuickJSHandle,
  grants: Grants,
  fromJson: (text: string) => QuickJSHandle,
  own: (h: QuickJSHandle) => QuickJSHandle,
): void {
  for (const [name, grant] of Object.entries(grants)) {
    if (typeof grant === "function") {
      const fn = own(
        vm.newFunction(name, (...args) => {
          const result = grant(...args.map((a) => vm.dump(a) as JsonValue));
          if (
            result !== null &&
            typeof result === "object" &&
            typeof (result as { then?: unknown }).then === "function"
          ) {
            throw new TypeError(
              `granted function ${name} returned a Promise; granted functions must be synchronous`,
            );
          }
          const text = result === undefined ? undefined : JSON.stringify(result);
          return text === undefined ? undefined : fromJson(text);
        }),
      );
      vm.setProp(target, name, fn);
    } else {
      const obj = own(vm.newObject());
      installGrants(vm, obj, grant, fromJson, own);
      vm.setProp(target, name, obj);
    }
  }
}

function describeError(
  vm: QuickJSContext,
  handle: QuickJSHandle,
  filename: string,
  limits: Limits,
  stopped: "timeout" | "aborted" | undefined,
): SandboxError {
  const dumped: unknown = vm.dump(handle);
  if (dumped === null || typeof dumped !== "object") {
    // `throw 5`, `throw "x"`, or an exception QuickJS could not allocate (null: out of memory).
    if (dumped === null)
      return {
        kind: "memory",
        name: "InternalError",
        message: `out of memory (limit ${limits.memoryBytes} bytes)`,
      };
    return {
      kind: "thrown",
      name: "Error",
      message: `uncaught ${typeof dumped === "string" ? JSON.stringify(dumped) : String(dumped)}`,
    };
  }
  const e = dumped as { name?: unknown; message?: unknown; stack?: unknown; lineNumber?: unknown };
  const name = typeof e.name === "string" ? e.name : "Error";
  const message = typeof e.message === "string" ? e.message : JSON.stringify(dumped);
  const stack = typeof e.stack === "string" ? e.stack : undefined;
  const position = positionOf(stack, filename);
  const base = { name, message, stack, ...position };
  if (name === "InternalError" && message === "interrupted") {
    if (stopped === "aborted")
      return { ...base, kind: "aborted", name: "AbortError", message: "the run was aborted" };
    return {
      ...base,
      kind: "timeout",
      name: "TimeoutError",
      message: `timed out after ${limits.timeoutMs} ms`,
    };
  }
  if (name === "InternalError" && message === "out of memory") {
    return {
      ...base,
      kind: "memory",
      message: `out of memory (limit ${limits.memoryBytes} bytes)`,
    };
  }
  if (name === "InternalError" && message === "stack overflow") {
    return { ...base, kind: "stack", message: `stack overflow (limit ${limits.stackBytes} bytes)` };
  }
  // A parse error's stack is just `at <filename>:line:column`; a SyntaxError thrown while
  // running (JSON.parse) has frames with function names.
  if (name === "SyntaxError" && stack?.trimStart().startsWith(`at ${filename}:`)) {
    return {
      ...base,
      kind: "syntax",
      line: typeof e.lineNumber === "number" ? e.lineNumber : position.line,
    };
  }
  return { ...base, kind: "thrown" };
}

/** The first `filename:line:column` in a QuickJS stack. */
function positionOf(
  stack: string | undefined,
  filename: string,
): { line?: number; column?: number } {
  if (!stack) return {};
  const escaped = filename.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`${escaped}:(\\d+)(?::(\\d+))?`).exec(stack);
  if (!match) return {};
  return { line: Number(match[1]), ...(match[2] ? { column: Number(match[2]) } : {}) };
}

function abortedError(): SandboxError {
  return { kind: "aborted", name: "AbortError", message: "the run was aborted" };
}
