/**
 * The sandbox's worker threads: each evaluation runs in a worker that the host terminates when
 * the deadline has passed by `HARD_STOP_GRACE_MS`, so no script can overrun its time limit, not
 * even one that defeats QuickJS's interrupt handler (the fast, graceful path, which still ends
 * almost every run). One warm worker is kept between runs (unref'd, so it never keeps the
 * process alive); a worker that was terminated or crashed is replaced by a fresh one.
 *
 * The worker's program is built from `sandboxCore`'s source text, like the HiGHS pool in
 * `@athanor/opt`: it runs the same code from `src` under Vitest or tsx and from `dist`.
 * Granted host functions stay on the host: the worker posts a call and sleeps in
 * `Atomics.wait` until the host has run it and posted the reply. Console output is written
 * into shared memory, so the output of a terminated run is still there.
 */

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import type { JsonValue } from "../agent.js";
import { type CoreJob, type CoreOutcome, type GrantCall, sandboxCore } from "./sandbox-core.js";

/** Time past `timeoutMs` (or past an abort) the interrupt handler gets before the worker is terminated. */
export const HARD_STOP_GRACE_MS = 100;

/** What a worker run ended with: the core's outcome, a crash, or a hard stop. */
export interface WorkerRun {
  outcome?: CoreOutcome;
  /** The worker's QuickJS instance or the worker itself failed; both were discarded. */
  crash?: string;
  /** The worker was terminated: the deadline (plus grace) passed, or the signal fired. */
  stopped?: "timeout" | "aborted";
  output: string;
  truncated: boolean;
}

const { CONTROL } = sandboxCore();
const require = createRequire(import.meta.url);

let compiled: Promise<object> | undefined;

/** The QuickJS WebAssembly module (release build), compiled once per process and shared with every worker. */
function compiledQuickJs(): Promise<object> {
  compiled ??= (async () => {
    // Resolved through quickjs-emscripten's own dependencies, so any install layout works.
    const fromQuickJs = createRequire(require.resolve("quickjs-emscripten"));
    const bytes = await readFile(fromQuickJs.resolve("@jitl/quickjs-wasmfile-release-sync/wasm"));
    const wasm = (
      globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<object> } }
    ).WebAssembly;
    return wasm.compile(bytes);
  })().catch((err: unknown) => {
    compiled = undefined;
    throw err;
  });
  return compiled;
}

/**
 * Helpers a transpiler may have injected into `sandboxCore`'s source: esbuild with `keepNames`
 * (tsx, some bundlers) wraps nested functions in `__name(fn, "name")` (`__name2`, ... on a
 * clash). They live at the top of the transpiled module, so the worker defines them itself.
 */
function helperPrelude(source: string): string {
  const names = new Set(["__name", ...(source.match(/\b__name\d*(?=\s*\()/g) ?? [])]);
  return [...names]
    .map(
      (name) =>
        `const ${name} = (fn, value) => Object.defineProperty(fn, "name", { value, configurable: true });`,
    )
    .join("\n");
}

let source: string | undefined;

/** The worker's program: the self-contained core, a QuickJS instance per memory ceiling, a message loop. */
function workerSource(): string {
  if (source) return source;
  const core = sandboxCore.toString();
  source = `"use strict";
${helperPrelude(core)}
const { parentPort, workerData, receiveMessageOnPort } = require("node:worker_threads");
const quickjs = require(workerData.quickjsPath);
const core = (${core})();
const { CALL } = core.CONTROL;
// Instances are kept per memory ceiling (at most 4) and reused: each run still gets a fresh
// runtime and context and frees what it allocated. One that ran out of memory or crashed is dropped.
const instances = new Map();
function instanceFor(key, memoryBytes) {
  let module = instances.get(key);
  if (!module) {
    module = core.newInstance(quickjs, workerData.wasmModule, memoryBytes);
    instances.set(key, module);
    if (instances.size > 4) instances.delete(instances.keys().next().value);
  }
  return module;
}
const keyOf = (memoryBytes) => Math.ceil(memoryBytes / 65536);
// A replacement worker readies the instance its predecessor used before the next run asks for it.
if (workerData.prewarm !== undefined) {
  const key = keyOf(workerData.prewarm);
  instanceFor(key, workerData.prewarm).catch(() => instances.delete(key));
}
parentPort.on("message", async ({ job, control, output }) => {
  const words = new Int32Array(control);
  const out = { bytes: new Uint8Array(output), state: words };
  const key = keyOf(job.limits.memoryBytes);
  let module;
  try {
    module = await instanceFor(key, job.limits.memoryBytes);
  } catch (e) {
    instances.delete(key);
    parentPort.postMessage({ type: "failed", error: e });
    return;
  }
  const call = (path, args) => {
    Atomics.store(words, CALL, 0);
    parentPort.postMessage({ type: "call", path, args });
    Atomics.wait(words, CALL, 0);
    const reply = receiveMessageOnPort(workerData.replies).message;
    if ("error" in reply) throw Object.assign(new Error(reply.error.message), { name: reply.error.name });
    if ("thrown" in reply) throw reply.thrown;
    return reply.text;
  };
  parentPort.postMessage({ type: "start" });
  try {
    const outcome = core.evaluate(module, job, call, out, words);
    if (outcome.error && outcome.error.kind === "memory") instances.delete(key);
    parentPort.postMessage({ type: "done", outcome });
  } catch (e) {
    instances.delete(key);
    parentPort.postMessage({ type: "crash", message: e instanceof Error ? e.name + ": " + e.message : String(e) });
  }
});`;
  return source;
}

interface Thread {
  worker: Worker;
  /** The host's end of the channel grant replies travel on. */
  replies: MessagePort;
  /** While the thread is kept warm: forgets it if it dies on its own. */
  onIdleExit?: () => void;
}

let idle: Thread | undefined;
/** A replacement for a worker that was terminated, starting in the background. */
let replacing: Promise<void> | undefined;

async function acquire(): Promise<Thread> {
  if (!idle && replacing) await replacing;
  const warm = idle;
  idle = undefined;
  if (warm) {
    if (warm.onIdleExit) warm.worker.off("exit", warm.onIdleExit);
    warm.onIdleExit = undefined;
    warm.worker.ref();
    return warm;
  }
  return spawn();
}

/** A new worker; `prewarm`: the memory ceiling whose QuickJS instance it creates at once. */
async function spawn(prewarm?: number): Promise<Thread> {
  const wasmModule = await compiledQuickJs();
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(workerSource(), {
    eval: true,
    // The worker is plain CommonJS: do not inherit flags such as a loader's --import.
    execArgv: [],
    workerData: {
      quickjsPath: require.resolve("quickjs-emscripten"),
      wasmModule,
      replies: port2,
      prewarm,
    },
    transferList: [port2],
  });
  // Errors are reported by the run in progress; an idle or discarded worker's are dropped.
  worker.on("error", () => {});
  port1.unref();
  return { worker, replies: port1 };
}

/**
 * Starts a worker in the background after one was terminated, with the instance for
 * `memoryBytes` ready, so the next run need not wait for either (about 70 ms together).
 */
function replenish(memoryBytes: number): void {
  if (idle || replacing) return;
  replacing = spawn(memoryBytes).then(
    (thread) => {
      replacing = undefined;
      release(thread);
    },
    () => {
      replacing = undefined;
    },
  );
}

/** Keeps `thread` as the warm worker, or ends it when one is already kept. */
function release(thread: Thread): void {
  if (idle) {
    discard(thread);
    return;
  }
  thread.worker.unref();
  thread.onIdleExit = () => {
    if (idle === thread) idle = undefined;
  };
  thread.worker.once("exit", thread.onIdleExit);
  idle = thread;
}

function discard(thread: Thread): void {
  thread.replies.close();
  thread.worker.terminate().catch(() => {});
}

type Reply =
  | { text: string | undefined }
  | { error: { name: string; message: string } }
  | { thrown: unknown };

/** What a host function threw, in a form that crosses to the worker and is rethrown there. */
function thrownReply(err: unknown): Reply {
  if (err instanceof Error) return { error: { name: err.name, message: err.message } };
  try {
    return { thrown: structuredClone(err) };
  } catch {
    return { thrown: String(err) };
  }
}

/**
 * Runs `job` in a worker thread. `call` runs granted host functions for it. The deadline is
 * `job.limits.timeoutMs` from the moment the worker starts the evaluation; the worker is
 * terminated `HARD_STOP_GRACE_MS` after it (or after `signal` fires) if it has not finished.
 * Rejects only when QuickJS itself cannot be loaded.
 */
export async function runInWorker(
  job: CoreJob,
  call: GrantCall,
  signal?: AbortSignal,
): Promise<WorkerRun> {
  const control = new Int32Array(new SharedArrayBuffer(CONTROL.SIZE * 4));
  const output = new Uint8Array(new SharedArrayBuffer(job.limits.maxOutputBytes));
  const thread = await acquire();
  const { worker } = thread;

  return new Promise<WorkerRun>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    /** Detaches this run from the worker, then keeps the worker warm or ends it. */
    const detach = (keep: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
      if (keep) {
        release(thread);
      } else {
        discard(thread);
        replenish(job.limits.memoryBytes);
      }
    };
    const finish = (run: Omit<WorkerRun, "output" | "truncated">, keep: boolean) => {
      detach(keep);
      resolve({
        ...run,
        output: new TextDecoder().decode(output.slice(0, Atomics.load(control, CONTROL.LENGTH))),
        truncated: Atomics.load(control, CONTROL.TRUNCATED) === 1,
      });
    };
    const hardStop = (reason: "timeout" | "aborted", ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish({ stopped: reason }, false), ms);
    };
    const onAbort = () => {
      Atomics.store(control, CONTROL.ABORT, 1);
      hardStop("aborted", HARD_STOP_GRACE_MS);
    };
    const onMessage = (msg: WorkerMessage) => {
      switch (msg.type) {
        case "start":
          if (Atomics.load(control, CONTROL.ABORT) === 0)
            hardStop("timeout", job.limits.timeoutMs + HARD_STOP_GRACE_MS);
          return;
        case "call": {
          let reply: Reply;
          try {
            reply = { text: call(msg.path, msg.args) };
          } catch (err) {
            reply = thrownReply(err);
          }
          thread.replies.postMessage(reply);
          Atomics.store(control, CONTROL.CALL, 1);
          Atomics.notify(control, CONTROL.CALL);
          return;
        }
        case "done":
          finish({ outcome: msg.outcome }, true);
          return;
        case "crash":
          finish({ crash: msg.message }, false);
          return;
        case "failed":
          detach(true);
          reject(msg.error);
      }
    };
    const onError = (err: Error) => finish({ crash: `${err.name}: ${err.message}` }, false);
    const onExit = (code: number) =>
      finish({ crash: `the worker exited with code ${code}` }, false);

    signal?.addEventListener("abort", onAbort, { once: true });
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
    if (signal?.aborted) onAbort();
    worker.postMessage({ job, control: control.buffer, output: output.buffer });
  });
}

type WorkerMessage =
  | { type: "start" }
  | { type: "call"; path: string[]; args: JsonValue[] }
  | { type: "done"; outcome: CoreOutcome }
  | { type: "crash"; message: string }
  | { type: "failed"; error: unknown };
