/**
 * A synchronous worker-thread pool over the shared kernel memory.
 *
 * `run(fn, parts)` runs kernel export `fn` once per part: part 0 on the calling thread, the
 * others on workers, and returns when all are done. Workers instantiate the same kernels over
 * the same `WebAssembly.Memory`, so no data is copied; a job is a function id plus up to 16
 * numeric arguments per worker in a small control buffer, signalled with `Atomics.notify`.
 * Workers spin briefly before sleeping in `Atomics.wait`, so back-to-back kernels (a training
 * step) do not pay a wake-up each time. Workers are `unref`ed: an idle pool never keeps the
 * process alive.
 */

import { Worker } from "node:worker_threads";
import { POOL_FUNCTIONS, type PoolFunction, type WasmMemory, type WasmModule } from "./kernels.js";

const MAX_ARGS = 16;
const SLOT = MAX_ARGS + 1;
// Control words: [0] job sequence number, [1] finished workers, [2] ready workers, [3] workers
// that failed to start.
const SEQ = 0;
const DONE = 1;
const READY = 2;
const FAILED = 3;
const EXIT = -1;
const IDLE = -2;

const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { module, memory, ctrl, args, id, names, spin } = workerData;
const c = new Int32Array(ctrl);
let fns;
try {
  const instance = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error("kernel aborted"); } } });
  fns = names.map((n) => instance.exports[n]);
} catch (e) {
  Atomics.add(c, ${FAILED}, 1);
  Atomics.notify(c, ${READY});
  throw e;
}
const a = new Float64Array(args);
const base = id * ${SLOT};
Atomics.add(c, ${READY}, 1);
Atomics.notify(c, ${READY});
let seen = 0;
for (;;) {
  let s = Atomics.load(c, ${SEQ});
  for (let i = 0; s === seen && i < spin; i++) s = Atomics.load(c, ${SEQ});
  if (s === seen) {
    Atomics.wait(c, ${SEQ}, seen);
    continue;
  }
  seen = s;
  const f = a[base];
  if (f === ${EXIT}) break;
  if (f >= 0) {
    try {
      fns[f](a[base + 1], a[base + 2], a[base + 3], a[base + 4], a[base + 5], a[base + 6], a[base + 7],
        a[base + 8], a[base + 9], a[base + 10], a[base + 11], a[base + 12], a[base + 13], a[base + 14],
        a[base + 15], a[base + 16]);
    } catch (e) {
      console.error("athanor cpu worker: " + (e && e.message));
    }
  }
  Atomics.add(c, ${DONE}, 1);
  Atomics.notify(c, ${DONE});
}
`;

export interface PoolOptions {
  module: WasmModule;
  memory: WasmMemory;
  /** Kernel instance of the calling thread (runs part 0). */
  local: Record<string, unknown>;
  /** Iterations a worker polls for the next job before sleeping (default 20000). */
  spin?: number;
}

export class WorkerPool {
  private workers: Worker[] = [];
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(4 * 4));
  private args = new Float64Array(new SharedArrayBuffer(8 * SLOT));
  private readonly options: PoolOptions;
  private readonly ids = new Map<string, number>(POOL_FUNCTIONS.map((n, i) => [n, i]));
  private threadsWanted = 1;

  constructor(options: PoolOptions) {
    this.options = options;
  }

  /** Threads that run a job (the calling thread included). */
  get threads(): number {
    return this.threadsWanted;
  }

  /** Sets the number of threads (≥ 1, the calling thread included); workers start lazily. */
  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`setThreads: expected a positive integer, got ${n}`);
    }
    this.threadsWanted = n;
    if (this.workers.length > n - 1) this.shrink(n - 1);
  }

  /**
   * Runs `fn(...parts[i])` for every part, part 0 on this thread, and waits for all of them.
   * `parts.length` must not exceed `threads`.
   */
  run(fn: PoolFunction, parts: readonly (readonly number[])[]): void {
    const local = this.options.local[fn] as (...a: number[]) => void;
    if (parts.length <= 1) {
      if (parts.length === 1) local(...parts[0]);
      return;
    }
    if (parts.length > this.threadsWanted) {
      throw new Error(`worker pool: ${parts.length} parts for ${this.threadsWanted} threads`);
    }
    this.ensureWorkers(parts.length - 1);
    const id = this.ids.get(fn);
    if (id === undefined) throw new Error(`worker pool: ${fn} is not a pool function`);
    const nw = this.workers.length;
    for (let w = 0; w < nw; w++) {
      const base = w * SLOT;
      const part = parts[w + 1];
      if (!part) {
        this.args[base] = IDLE;
        continue;
      }
      if (part.length > MAX_ARGS)
        throw new Error(`worker pool: ${fn} takes at most ${MAX_ARGS} arguments`);
      this.args[base] = id;
      for (let i = 0; i < part.length; i++) this.args[base + 1 + i] = part[i];
    }
    Atomics.store(this.ctrl, DONE, 0);
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
    try {
      local(...parts[0]);
    } finally {
      this.waitFor(DONE, nw);
    }
  }

  /** Stops every worker (the pool restarts them on the next parallel job). */
  close(): void {
    this.shrink(0);
  }

  private waitFor(word: number, count: number, timeoutMs = Number.POSITIVE_INFINITY): void {
    for (let i = 0; i < 200_000; i++) if (Atomics.load(this.ctrl, word) >= count) return;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = Atomics.load(this.ctrl, word);
      if (v >= count) return;
      if (Atomics.load(this.ctrl, FAILED) > 0 || Date.now() > deadline) {
        this.shrink(0);
        throw new Error(
          "cpu backend: worker threads failed to start; use setThreads(1) to run without them",
        );
      }
      Atomics.wait(this.ctrl, word, v, 100);
    }
  }

  private ensureWorkers(n: number): void {
    if (this.workers.length >= n) return;
    // Workers never outnumber the wanted threads; grow the argument slots to match.
    const want = this.threadsWanted - 1;
    this.shrink(0);
    this.args = new Float64Array(new SharedArrayBuffer(8 * SLOT * want));
    Atomics.store(this.ctrl, SEQ, 0);
    Atomics.store(this.ctrl, READY, 0);
    Atomics.store(this.ctrl, FAILED, 0);
    for (let id = 0; id < want; id++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        // The worker is plain CommonJS: do not inherit flags such as --input-type=module.
        execArgv: [],
        workerData: {
          module: this.options.module,
          memory: this.options.memory,
          ctrl: this.ctrl.buffer,
          args: this.args.buffer,
          id,
          names: POOL_FUNCTIONS,
          spin: this.options.spin ?? 20_000,
        },
      });
      worker.unref();
      worker.on("error", (e) => console.error(`athanor cpu worker ${id}: ${e.message}`));
      this.workers.push(worker);
    }
    this.waitFor(READY, want, 30_000);
  }

  private shrink(n: number): void {
    if (this.workers.length <= n) return;
    const all = this.workers;
    this.workers = [];
    for (let w = 0; w < all.length; w++) this.args[w * SLOT] = EXIT;
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
    for (const w of all) void w.terminate();
    if (n > 0) this.ensureWorkers(n);
  }
}
