/**
 * The code that runs one sandboxed evaluation: a QuickJS runtime and context, the console,
 * grants, `input`, the script, its value as JSON, and its error described. It runs inside the
 * sandbox's worker threads and, for a caller's own `module`, on the calling thread.
 *
 * `sandboxCore` must stay SELF-CONTAINED: workers are started from its source text
 * (`sandboxCore.toString()`), so it may use only its parameters, globals and type imports,
 * never a module-level value. That keeps one implementation for both paths and lets the worker
 * run from `src` under Vitest and from `dist` in production alike (see `sandbox-worker.ts`).
 */

import type * as QuickJs from "quickjs-emscripten";
import type { QuickJSContext, QuickJSHandle, QuickJSWASMModule } from "quickjs-emscripten";
import type { JsonValue } from "../agent.js";

/** The subset of a `QuickJSWASMModule` the sandbox uses; pass a `TestQuickJSWASMModule` to check for leaks. */
export type SandboxModule = Pick<QuickJSWASMModule, "newRuntime">;

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

/** Resolved limits of one run. */
export interface CoreLimits {
  timeoutMs: number;
  memoryBytes: number;
  stackBytes: number;
  maxOutputBytes: number;
}

/**
 * The shape of the caller's grants with the functions left out (`{ db: { get: true } }`): what
 * crosses to a worker, where each leaf becomes a function that calls back into the host.
 */
export interface GrantShape {
  [name: string]: true | GrantShape;
}

/** Calls the granted function at `path` with JSON arguments; returns its result as JSON text. */
export type GrantCall = (path: string[], args: JsonValue[]) => string | undefined;

/** One evaluation's inputs (plain data: it crosses to a worker as is). */
export interface CoreJob {
  code: string;
  inputJson: string | undefined;
  grants: GrantShape | undefined;
  filename: string;
  limits: CoreLimits;
}

export interface CoreOutcome {
  value?: JsonValue;
  error?: SandboxError;
}

/**
 * Console output, written as UTF-8 into `bytes` (sized `maxOutputBytes`); `state[LENGTH]` is
 * the byte count and `state[TRUNCATED]` 1 once output was cut. Shared memory in a worker, so
 * the host still has the output of a worker it had to terminate.
 */
export interface OutputSink {
  bytes: Uint8Array;
  state: Int32Array;
}

export function sandboxCore() {
  /** Indices into the control words (`Int32Array`) shared by the host and a worker. */
  const CONTROL = {
    /** 1 once the run's signal fired. */
    ABORT: 0,
    /** A grant call's reply is ready (1) or awaited (0). */
    CALL: 1,
    /** Bytes of output written. */
    LENGTH: 2,
    /** 1 when output was cut at maxOutputBytes. */
    TRUNCATED: 3,
    /** Number of control words. */
    SIZE: 4,
  } as const;
  const { ABORT, LENGTH, TRUNCATED } = CONTROL;
  /** Pages (64 KiB) in the QuickJS build's initial heap: its data, C stack and malloc arena start. */
  const BASE_PAGES = 256;

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

  const utf8 = new TextEncoder();

  /** Appends `text` to the sink, cutting on a character boundary at the cap. */
  function write(out: OutputSink, text: string): void {
    if (Atomics.load(out.state, TRUNCATED) === 1) return;
    const length = Atomics.load(out.state, LENGTH);
    const bytes = utf8.encode(text);
    const room = out.bytes.length - length;
    let end = bytes.length;
    if (end > room) {
      end = room;
      // Back off to the start of the character that straddles the cap.
      while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
    }
    out.bytes.set(bytes.subarray(0, end), length);
    Atomics.store(out.state, LENGTH, length + end);
    if (end < bytes.length) Atomics.store(out.state, TRUNCATED, 1);
  }

  /**
   * A WebAssembly instance of QuickJS whose memory cannot grow past `memoryBytes` beyond the
   * base image: QuickJS's own limit counts allocations, not their sizes, in this build
   * ("malloc_usable_size unavailable"), so the hard ceiling is the WebAssembly memory's maximum.
   */
  function newInstance(
    quickjs: typeof QuickJs,
    wasmModule: object,
    memoryBytes: number,
  ): Promise<QuickJSWASMModule> {
    const pages = BASE_PAGES + Math.ceil(memoryBytes / 65536);
    const wasm = (
      globalThis as unknown as {
        WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => object };
      }
    ).WebAssembly;
    const wasmMemory = new wasm.Memory({ initial: BASE_PAGES, maximum: pages });
    return quickjs.newQuickJSWASMModule(
      quickjs.newVariant(quickjs.RELEASE_SYNC, {
        wasmModule,
        wasmMemory,
      } as Parameters<typeof quickjs.newVariant>[1]),
    );
  }

  /**
   * Runs the granted function `fn` (named `name`) with JSON arguments and returns its result as
   * JSON text; throws when it throws, or when it returns a promise.
   */
  function callGrant(name: string, fn: (...args: JsonValue[]) => unknown, args: JsonValue[]) {
    const result = fn(...args);
    if (
      result !== null &&
      typeof result === "object" &&
      typeof (result as { then?: unknown }).then === "function"
    ) {
      throw new TypeError(
        `granted function ${name} returned a Promise; granted functions must be synchronous`,
      );
    }
    return result === undefined ? undefined : (JSON.stringify(result) as string | undefined);
  }

  /**
   * Runs one job in a fresh runtime and context of `module`. Returns the value or the error the
   * code produced; throws only when the WebAssembly instance itself failed (a trap, the host's
   * stack running out), in which case the instance is inconsistent and must be discarded.
   */
  function evaluate(
    module: SandboxModule,
    job: CoreJob,
    call: GrantCall,
    out: OutputSink,
    control: Int32Array,
  ): CoreOutcome {
    const { code, inputJson, filename, limits } = job;
    const runtime = module.newRuntime();
    let healthy = true;
    try {
      runtime.setMemoryLimit(limits.memoryBytes);
      runtime.setMaxStackSize(limits.stackBytes);
      const deadline = Date.now() + limits.timeoutMs;
      let stopped: "timeout" | "aborted" | undefined;
      // Armed when the code starts: the setup below (console, grants, input) must not be cut
      // halfway, which would leave a host-side exception rather than a described error.
      let armed = false;
      runtime.setInterruptHandler(() => {
        if (!armed) return false;
        if (Date.now() > deadline) stopped = "timeout";
        else if (Atomics.load(control, ABORT) === 1) stopped = "aborted";
        return stopped !== undefined;
      });
      const vm = runtime.newContext();
      const owned: QuickJSHandle[] = [];
      const own = (h: QuickJSHandle) => {
        owned.push(h);
        return h;
      };
      const fail = (handle: QuickJSHandle): CoreOutcome => ({
        error: describeError(vm, own(handle), filename, limits, stopped),
      });
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
            write(out, `${vm.getString(line)}\n`);
          }),
        );
        own(vm.unwrapResult(vm.callFunction(prelude, vm.undefined, print)));
        if (job.grants) installGrants(vm, vm.global, job.grants, [], call, fromJson, own);
        if (inputJson !== undefined) {
          const input = own(fromJson(inputJson));
          vm.setProp(vm.global, "input", input);
        }

        armed = true;
        const evaluated = vm.evalCode(code, filename, { type: "global" });
        if (evaluated.error) return fail(evaluated.error);
        let value = own(evaluated.value);

        // Run queued promise jobs; await a promise completion value.
        const jobs = runtime.executePendingJobs();
        if (jobs.error) return fail(jobs.error);
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
        if (state.type === "rejected") return fail(state.error);
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
      // After a host-level failure the instance is inconsistent (freeing would abort inside
      // QuickJS); it is discarded instead.
      if (healthy) runtime.dispose();
    }
  }

  function installGrants(
    vm: QuickJSContext,
    target: QuickJSHandle,
    grants: GrantShape,
    path: string[],
    call: GrantCall,
    fromJson: (text: string) => QuickJSHandle,
    own: (h: QuickJSHandle) => QuickJSHandle,
  ): void {
    for (const [name, grant] of Object.entries(grants)) {
      const at = [...path, name];
      if (grant === true) {
        const fn = own(
          vm.newFunction(name, (...args) => {
            const text = call(
              at,
              args.map((a) => vm.dump(a) as JsonValue),
            );
            return text === undefined ? undefined : fromJson(text);
          }),
        );
        vm.setProp(target, name, fn);
      } else {
        const obj = own(vm.newObject());
        installGrants(vm, obj, grant, at, call, fromJson, own);
        vm.setProp(target, name, obj);
      }
    }
  }

  function describeError(
    vm: QuickJSContext,
    handle: QuickJSHandle,
    filename: string,
    limits: CoreLimits,
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
    const e = dumped as {
      name?: unknown;
      message?: unknown;
      stack?: unknown;
      lineNumber?: unknown;
    };
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
      return {
        ...base,
        kind: "stack",
        message: `stack overflow (limit ${limits.stackBytes} bytes)`,
      };
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

  return { CONTROL, evaluate, newInstance, callGrant, write };
}
