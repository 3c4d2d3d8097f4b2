/**
 * Capture and replay: record the kernels a function issues once, then issue them again
 * without running the function, the idea of CUDA Graphs. Recording a training step's forward
 * and backward pass costs the host far more than the GPU takes to run small kernels (the
 * engine's ops, autograd and kernel selection run for each of hundreds of kernels); a replay
 * only encodes the recorded kernels.
 *
 * ```ts
 * const step = capture(gpu, () => {
 *   const loss = model.forward(ids, targets);
 *   loss.backward();
 *   return loss;
 * }); // runs once, as it records
 * for (let i = 0; i < steps; i++) {
 *   ids.write(nextBatch()); // new inputs go into the tensors the capture reads
 *   opt.step(); // eager: its step count and learning rate change every step
 *   const loss = await step.replay().dataAsync();
 * }
 * ```
 *
 * A replay repeats exactly what was recorded, so everything the function decided on the host
 * is frozen: shapes, which kernels run, scalar arguments, and the bytes of tensors it created
 * from host data (constants are fine; host random numbers are refused). The function may not
 * read data back. Only `backend`'s work is recorded: work on another backend runs once, at
 * capture, and never again.
 *
 * An `AdamW` step may be part of it (its step count and learning rate advance with every
 * replay: see `onReplay`), once the optimizer has taken one eager step (which creates its
 * moments); other optimizers refuse.
 *
 * Tensors it reads (weights, inputs) must stay alive and on the device, and are read again by
 * every replay; its result's tensors, and gradients it accumulates, are rewritten by every
 * replay. The backend keeps every buffer the recording uses until `dispose`, so a replay never
 * touches memory given to another tensor; a replay after a tensor it uses was disposed throws.
 */

import type { Backend, CapturedWork } from "./backend.js";
import { endScope, keep, scopeTensors, startScope, tensorsIn } from "./scope.js";
import type { Tensor } from "./tensor.js";

/** Work recorded by {@link capture}. */
export interface Capture<T> {
  /**
   * What the function returned; the tensors in it that the function created belong to the
   * capture (rewritten by every replay, freed by `dispose`).
   */
  readonly result: T;
  /** Kernels one replay issues. */
  readonly kernels: number;
  /** Issues the recorded work again (after everything issued so far) and returns `result`. */
  replay(): T;
  /** Frees the recording, what the backend kept for it, and the tensors it owns in `result`. */
  dispose(): void;
}

/** The open capture: its backend and the replay hooks registered so far. */
let open: { backend: Backend; hooks: (() => void)[] } | null = null;

/**
 * True while {@link capture} runs its function (on `backend`, when given: work on other
 * backends is not recorded).
 */
export function isCapturing(backend?: Backend): boolean {
  return open !== null && (backend === undefined || open.backend === backend);
}

/**
 * Registers `fn` to run before each replay of the open capture (before its work is issued):
 * host state that must advance with every replay, e.g. an optimizer's step count. Nothing
 * happens outside a capture.
 */
export function onReplay(fn: () => void): void {
  open?.hooks.push(fn);
}

/**
 * Throws when called inside {@link capture}: `op` draws host random numbers (they would be the
 * same in every replay) or reads data back (a replay cannot rerun the host code that uses it).
 */
export function refuseInCapture(op: string, what: "random" | "read"): void {
  if (open === null) return;
  throw new Error(
    what === "random"
      ? `${op}: host random numbers drawn inside capture() would be the same in every replay; ` +
          "draw them before the capture and write them into a tensor it reads between replays"
      : `${op}: reading tensor data inside capture() is not possible (a replay does not rerun ` +
          "the host code that would use it); read the capture's result after it returns or after a replay",
  );
}

/**
 * Runs `fn` (synchronously, in a scope of its own: the tensors it creates and does not return
 * are disposed, as in `tidy`) while `backend` records the work it issues, and returns the
 * recording. Only backends with `beginCapture` (webgpu) can record.
 */
export function capture<T>(backend: Backend, fn: () => T): Capture<T> {
  if (!backend.beginCapture || !backend.endCapture) {
    throw new Error(
      `capture: the ${backend.name} backend cannot record work for replay (the webgpu backend can)`,
    );
  }
  if (open !== null) {
    throw new Error(
      `capture: a capture on ${open.backend.name} is already running (captures do not nest)`,
    );
  }
  backend.beginCapture();
  const hooks: (() => void)[] = [];
  open = { backend, hooks };
  let result: T;
  let work: CapturedWork;
  // fn runs in a scope of its own (as in `tidy`); the result's tensors it created belong to the
  // capture (tensors it merely returns, such as an input, stay the caller's)
  let tensors: Tensor[];
  startScope();
  let scoped = true;
  try {
    result = fn();
    if (result instanceof Promise) {
      throw new Error("capture: the function returned a Promise; it must be synchronous");
    }
    const created = scopeTensors();
    tensors = [...tensorsIn(result)].filter((t) => created.has(t));
    for (const t of tensors) keep(t);
    scoped = false;
    endScope();
  } catch (e) {
    if (scoped) endScope();
    open = null;
    backend.endCapture().dispose();
    throw e;
  }
  open = null;
  try {
    work = backend.endCapture();
  } catch (e) {
    for (const t of tensors) t.dispose();
    throw e;
  }
  let disposed = false;
  return {
    result,
    kernels: work.kernels,
    replay() {
      if (disposed) throw new Error("capture: replay after dispose");
      work.replay(() => {
        for (const h of hooks) h();
      });
      return result;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      work.dispose();
      for (const t of tensors) t.dispose();
    },
  };
}
