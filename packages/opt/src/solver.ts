/**
 * Solvers: `SolverPool` (HiGHS in worker threads: the event loop never blocks and several
 * models solve at once), `InProcessSolver` (same interface, on the calling thread: for tiny
 * models, tests and environments without workers), and `solve()` on a shared default pool.
 */

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Highs } from "highs";
import { highsCore, type JobOptions, type JobResult } from "./highs-core.js";
import { type CompiledModel, Model } from "./model.js";
import { Solution } from "./solution.js";

/** Options of one solve. */
export interface SolveOptions {
  /** Wall-clock limit in seconds; the best point found so far is returned (`time_limit`). */
  timeLimit?: number;
  /** Relative MIP gap at which to stop (HiGHS `mip_rel_gap`, default 1e-4). */
  mipGap?: number;
  /** Cancels the solve: a running worker is terminated and replaced; the promise rejects. */
  signal?: AbortSignal;
  /** Compute conflicting constraints when the model is infeasible (default true). */
  conflict?: boolean;
  /** MIP conflicts above this many candidate rows are not minimized (default 300). */
  conflictFilterLimit?: number;
  /** Seconds conflict analysis may take on top of the solve (default 30); past it the set is not minimized further and `irreducible` is false. */
  conflictTimeLimit?: number;
  /** Raw HiGHS options, applied last (e.g. `{ presolve: "off", random_seed: 1 }`). */
  highs?: Record<string, string | number | boolean>;
}

/** Anything that solves models. Both solvers implement it; so can a remote queue. */
export interface Solver {
  solve(model: Model | CompiledModel, opts?: SolveOptions): Promise<Solution>;
  /** Releases the solver's resources; later solves reject. */
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
/** A compiled `WebAssembly.Module` (the ES2023 lib this repo targets does not declare it). */
type WasmModule = object;
const WA = (
  globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<WasmModule> } }
).WebAssembly;
/** HiGHS's CommonJS loader, beside its `.wasm` (resolved by path: bundlers and test runners may map the bare name to the ESM build). */
const HIGHS_JS = require.resolve("highs/runtime").replace(/highs\.wasm$/, "highs.js");
type Loader = (o: object) => Promise<Highs>;
function loadHighs(wasm: WasmModule): Promise<Highs> {
  const mod = require(HIGHS_JS) as Loader | { default: Loader };
  return (typeof mod === "function" ? mod : mod.default)({ wasmModule: wasm });
}
let wasmModule: Promise<WasmModule> | undefined;
/** The HiGHS WebAssembly module, compiled once per process and shared with every worker. */
function highsWasm(): Promise<WasmModule> {
  wasmModule ??= WA.compile(readFileSync(require.resolve("highs/runtime")));
  return wasmModule;
}

function jobOptions(o: SolveOptions): JobOptions {
  if (o.timeLimit !== undefined && !(o.timeLimit > 0)) {
    throw new RangeError(`timeLimit must be a positive number of seconds, got ${o.timeLimit}`);
  }
  if (o.mipGap !== undefined && !(o.mipGap >= 0)) {
    throw new RangeError(`mipGap must be >= 0, got ${o.mipGap}`);
  }
  return {
    timeLimit: o.timeLimit,
    mipGap: o.mipGap,
    conflict: o.conflict ?? true,
    conflictFilterLimit: o.conflictFilterLimit,
    conflictTimeLimit: o.conflictTimeLimit,
    highs: o.highs,
  };
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The solve was aborted", "AbortError");
}

/** Solves on the calling thread (blocks it while HiGHS runs). Same results as the pool. */
export class InProcessSolver implements Solver {
  private highs?: Promise<Highs>;
  private loaded?: Highs;
  private readonly core = highsCore();
  private closed = false;

  /** An in-process solver with HiGHS already loaded, so `solveSync` works at once. */
  static async create(): Promise<InProcessSolver> {
    const s = new InProcessSolver();
    s.loaded = await s.load();
    return s;
  }

  /**
   * Solves synchronously on the calling thread: for tiny models in tight loops (black-box
   * searches, tests). Needs HiGHS loaded: use `InProcessSolver.create()` or await one `solve()`.
   */
  solveSync(model: Model | CompiledModel, opts: Omit<SolveOptions, "signal"> = {}): Solution {
    if (this.closed) throw new Error("solver is closed");
    if (!this.loaded)
      throw new Error("HiGHS is not loaded yet: create the solver with InProcessSolver.create()");
    const data = model instanceof Model ? model.compile() : model;
    const result = this.core.solve(this.loaded, data, jobOptions(opts));
    if (result.status === "error") {
      // After an error HiGHS's module may be in an aborted state: load a fresh one.
      this.loaded = undefined;
      this.highs = undefined;
    }
    return new Solution(data, result);
  }

  private load(): Promise<Highs> {
    this.highs ??= highsWasm().then(loadHighs);
    return this.highs;
  }

  async solve(model: Model | CompiledModel, opts: SolveOptions = {}): Promise<Solution> {
    if (this.closed) throw new Error("solver is closed");
    opts.signal?.throwIfAborted();
    const data = model instanceof Model ? model.compile() : model;
    jobOptions(opts); // bad options reject before HiGHS is loaded
    this.loaded = await this.load();
    opts.signal?.throwIfAborted();
    return this.solveSync(data, opts);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Options of a worker pool. */
export interface PoolOptions {
  /** Number of worker threads (default: available parallelism, at most 4). */
  size?: number;
  /** Replace a worker after this many solves (default 1000). */
  recycleAfter?: number;
  /** Replace a worker whose WebAssembly memory grew beyond this many bytes (default 512 MiB). */
  maxWasmMemory?: number;
}

interface Job {
  id: number;
  data: CompiledModel;
  transfer: ArrayBuffer[];
  options: JobOptions;
  signal?: AbortSignal;
  onAbort?: () => void;
  resolve(s: Solution): void;
  reject(e: unknown): void;
}

interface Slot {
  worker: Worker;
  job?: Job;
  solves: number;
}

/**
 * Helpers a transpiler may have injected into `highsCore`'s source: esbuild with `keepNames`
 * (tsx, some bundlers) wraps nested functions in `__name(fn, "name")`, renamed `__name2`, ...
 * on a clash. They live at the top of the transpiled module, not in the function, so the
 * worker defines them itself, with esbuild's meaning (set `fn.name`, return `fn`).
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

/** The worker's program: the self-contained core plus a message loop. */
function workerSource(): string {
  const core = highsCore.toString();
  return `"use strict";
${helperPrelude(core)}
const { parentPort, workerData } = require("node:worker_threads");
const core = (${core})();
const mod = require(workerData.highsPath);
const highs = (typeof mod === "function" ? mod : mod.default)({ wasmModule: workerData.wasmModule });
parentPort.on("message", async (msg) => {
  const h = await highs;
  const result = core.solve(h, msg.data, msg.options);
  const transfer = [];
  for (const k of ["colValue", "rowValue", "colDual", "rowDual"]) if (result[k]) transfer.push(result[k].buffer);
  parentPort.postMessage({ id: msg.id, result }, transfer);
});`;
}

/**
 * A pool of worker threads running HiGHS. Idle workers are unref'd, so an idle pool never
 * keeps the process alive; `close()` terminates them. Solves queue when all workers are busy.
 */
export class SolverPool implements Solver {
  readonly size: number;
  private readonly recycleAfter: number;
  private readonly maxWasmMemory: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private starting = 0;

  constructor(opts: PoolOptions = {}) {
    this.size = Math.max(1, Math.floor(opts.size ?? Math.min(availableParallelism(), 4)));
    this.recycleAfter = opts.recycleAfter ?? 1000;
    this.maxWasmMemory = opts.maxWasmMemory ?? 512 * 1024 * 1024;
  }

  /** Number of live worker threads. */
  get workers(): number {
    return this.slots.length;
  }

  solve(model: Model | CompiledModel, opts: SolveOptions = {}): Promise<Solution> {
    if (this.closed) return Promise.reject(new Error("solver pool is closed"));
    if (opts.signal?.aborted) return Promise.reject(abortError(opts.signal));
    let options: JobOptions;
    try {
      options = jobOptions(opts);
    } catch (e) {
      return Promise.reject(e);
    }
    const own = model instanceof Model;
    const data = own ? model.compile() : model;
    // Our own compiled arrays are moved to the worker; a caller's arrays are copied.
    const transfer = own
      ? [
          data.colCost,
          data.colLower,
          data.colUpper,
          data.rowLower,
          data.rowUpper,
          data.starts,
          data.indices,
          data.values,
        ]
          .concat(data.integrality ? [data.integrality] : [])
          .map((a) => a.buffer as ArrayBuffer)
      : [];
    return new Promise<Solution>((resolve, reject) => {
      const job: Job = {
        id: this.nextId++,
        data,
        transfer,
        options,
        signal: opts.signal,
        resolve: (s) => resolve(s),
        reject,
      };
      if (opts.signal) {
        job.onAbort = () => this.abort(job);
        opts.signal.addEventListener("abort", job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Terminates every worker; queued and running solves reject. */
  async close(): Promise<void> {
    this.closed = true;
    const err = new Error("solver pool closed");
    for (const job of this.queue.splice(0)) this.finish(job, err);
    await Promise.all(
      this.slots.splice(0).map(async (s) => {
        if (s.job) this.finish(s.job, err);
        await s.worker.terminate();
      }),
    );
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => s.job === undefined);
      if (slot) {
        this.run(slot, this.queue.shift()!);
        continue;
      }
      if (this.slots.length + this.starting >= this.size) return;
      this.starting++;
      highsWasm().then(
        (wasm) => {
          this.starting--;
          if (this.closed) return;
          this.slots.push(this.spawn(wasm));
          this.dispatch();
        },
        (e) => {
          this.starting--;
          for (const job of this.queue.splice(0)) this.finish(job, e);
        },
      );
      return;
    }
  }

  private spawn(wasm: WasmModule): Slot {
    const worker = new Worker(workerSource(), {
      eval: true,
      workerData: { highsPath: HIGHS_JS, wasmModule: wasm },
    });
    worker.unref();
    const slot: Slot = { worker, solves: 0 };
    worker.on("message", (msg: { id: number; result: JobResult }) => {
      const job = slot.job;
      if (!job || job.id !== msg.id) return;
      slot.job = undefined;
      slot.solves++;
      worker.unref();
      // After an error HiGHS's module may be in an aborted state: never reuse that worker.
      if (
        msg.result.status === "error" ||
        slot.solves >= this.recycleAfter ||
        msg.result.wasmMemory > this.maxWasmMemory
      ) {
        this.retire(slot);
      }
      this.finish(job, undefined, new Solution(job.data, msg.result));
      this.dispatch();
    });
    const fail = (e: unknown) => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return; // retired or terminated on purpose
      this.slots.splice(i, 1);
      const job = slot.job;
      slot.job = undefined;
      if (job) {
        const message = e instanceof Error ? e.message : String(e);
        this.finish(
          job,
          undefined,
          new Solution(job.data, {
            status: "error",
            highsStatus: -1,
            message: `solver worker failed: ${message}`,
            hasSolution: false,
            seconds: 0,
            wasmMemory: 0,
          }),
        );
      }
      this.dispatch();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`worker exited with code ${code}`)));
    return slot;
  }

  private run(slot: Slot, job: Job): void {
    slot.job = job;
    slot.worker.ref();
    slot.worker.postMessage({ id: job.id, data: job.data, options: job.options }, job.transfer);
  }

  private retire(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate();
  }

  private abort(job: Job): void {
    const err = abortError(job.signal!);
    const q = this.queue.indexOf(job);
    if (q >= 0) {
      this.queue.splice(q, 1);
      this.finish(job, err);
      return;
    }
    const slot = this.slots.find((s) => s.job === job);
    if (!slot) return;
    slot.job = undefined;
    this.retire(slot); // HiGHS cannot be interrupted from outside: terminate and replace
    this.finish(job, err);
    this.dispatch();
  }

  private finish(job: Job, err: unknown, sol?: Solution): void {
    if (job.onAbort) job.signal?.removeEventListener("abort", job.onAbort);
    if (sol) job.resolve(sol);
    else job.reject(err);
  }
}

let defaultPool: SolverPool | undefined;

/** The process-wide pool used by `solve()`; created on first use, idle workers unref'd. */
export function defaultSolver(): SolverPool {
  defaultPool ??= new SolverPool();
  return defaultPool;
}

/** Solves a model on the shared worker pool. */
export function solve(model: Model | CompiledModel, opts?: SolveOptions): Promise<Solution> {
  return defaultSolver().solve(model, opts);
}

/** Closes the shared pool (a later `solve()` starts a new one). */
export async function closeDefaultSolver(): Promise<void> {
  const p = defaultPool;
  defaultPool = undefined;
  await p?.close();
}
