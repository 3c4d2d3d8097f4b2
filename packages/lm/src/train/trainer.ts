/**
 * One optimizer step at a time over a causal LM: full fine-tuning or LoRA (only the adapter's
 * tensors train), gradient accumulation over micro-batches (exactly the large batch's mean
 * loss), AdamW with warmup-cosine and gradient clipping, evaluation loss / perplexity, and
 * checkpoints that resume bit-for-bit (weights or adapter, optimizer moments, step, data state).
 */

import {
  ActivationStore,
  AdamW,
  type Capture,
  capture,
  clipGradNorm,
  full,
  keep,
  noGrad,
  type OptimizerState,
  ops,
  serializeSafetensorsAsync,
  type Tensor,
  tidy,
  warmupCosine,
  zeros,
} from "@athanor/tensor";
import { saveModel } from "../checkpoint/model-io.js";
import {
  CheckpointError,
  matchWeights,
  readSafetensorsFile,
  readWeights,
} from "../checkpoint/weights.js";
import type { LoraAdapter } from "../lora/adapter.js";
import { adapterParameters, saveAdapter } from "../lora/peft.js";
import type { Model } from "../model/create.js";
import { existsSync, join, mkdir, readFile, writeFile } from "../node.js";
import type { Batch } from "./data.js";
import { causalLMLoss, countLabelTokens } from "./loss.js";

export interface TrainerOptions {
  /** Peak learning rate. */
  lr: number;
  /** Optimizer steps in the whole run (the cosine reaches `minLr` there). */
  totalSteps: number;
  /** Linear warmup steps (default 0). */
  warmupSteps?: number;
  /** Final learning rate (default 0). */
  minLr?: number;
  /** AdamW decoupled weight decay on matrices (default 0.01; never on norms and biases). */
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
  /** Clip the global gradient norm to this (default 1; 0 = no clipping). */
  maxGradNorm?: number;
  /** Train this LoRA adapter only (attached to the model if it is not yet). */
  adapter?: LoraAdapter;
  /** Recompute block activations in backward instead of storing them (less memory). */
  gradientCheckpointing?: boolean;
  /**
   * Storage of the activations kept for backward: "f32" (default) or "f16" (half their bytes
   * on a GPU; backward uses the rounded values, as in mixed-precision training). See
   * `ActivationStore`'s `deviceDType`.
   */
  activationDType?: "f32" | "f16";
  /**
   * Record each step once per micro-batch shape and replay it for later steps of that shape
   * (default false): a replay issues the step's kernels without running the model code, which
   * on a GPU costs the host far less than recording them (see `capture` in @athanor/tensor).
   * Needs a backend that can record (webgpu). The first step runs eagerly (it creates AdamW's
   * moments); batch data is copied into the captured inputs; each captured shape keeps its
   * working memory (at most {@link MAX_STEP_CAPTURES} shapes; the least recently used goes).
   * Pays off when batches have few shapes (packed sequences of a fixed length).
   */
  captureSteps?: boolean;
  /** Called after every optimizer step. */
  onProgress?: (metrics: StepMetrics) => void;
}

/** Batch shapes a trainer keeps captured steps for (`captureSteps`). */
export const MAX_STEP_CAPTURES = 4;

/** A captured step for one micro-batch shape: its input tensors and the recording. */
interface StepCapture {
  inputs: { inputIds: Tensor; labels: Tensor }[];
  /** The label-token count the loss is divided by (a device scalar, written every step). */
  count: Tensor;
  capture: Capture<{ loss: Tensor; gradNorm: Tensor }>;
}

export interface StepMetrics {
  /** Optimizer steps done (1 after the first). */
  step: number;
  totalSteps: number;
  /** Mean loss over the step's label tokens. */
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Real tokens processed by this step (all micro-batches). */
  tokens: number;
  /** Label tokens the loss counted. */
  labelTokens: number;
  tokensPerSecond: number;
  ms: number;
}

export interface EvalResult {
  loss: number;
  perplexity: number;
  labelTokens: number;
}

/** What a checkpoint holds besides tensors (trainer_state.json). */
interface TrainerStateFile {
  step: number;
  mode: "full" | "lora";
  optimizers: { kind: string; step: number; hyper: Record<string, number | boolean> }[];
  extra?: unknown;
}

export class Trainer {
  /** Optimizer steps done. */
  get step(): number {
    return this._step;
  }
  readonly trainable: Map<string, Tensor>;
  private _step = 0;
  /** When the last step's metrics were read back (performance.now()). */
  private lastDone = 0;
  private readonly optimizers: AdamW[];
  /** Keeps the activations as f16 (`activationDType`), else null. */
  private readonly activations: ActivationStore | null;
  private readonly schedule: (step: number) => number;
  /** Captured steps by micro-batch shapes, least recently used first (`captureSteps`). */
  private readonly captures = new Map<string, StepCapture>();

  constructor(
    readonly model: Model,
    readonly options: TrainerOptions,
  ) {
    if (!(options.lr > 0)) throw new Error(`Trainer: lr must be positive, got ${options.lr}`);
    if (!Number.isInteger(options.totalSteps) || options.totalSteps < 1)
      throw new Error(`Trainer: totalSteps must be a positive integer, got ${options.totalSteps}`);
    const { backend } = model;
    if (options.captureSteps && !backend.beginCapture)
      throw new Error(
        `Trainer: captureSteps needs a backend that can record work for replay (webgpu); the model is on ${backend.name}`,
      );
    if (options.activationDType === "f16" && backend.bytesPerElement?.("f16") !== 2)
      throw new Error(
        `Trainer: activationDType "f16" saves memory only where f16 takes 2 bytes (webgpu); the ${backend.name} backend keeps f16 in 4-byte slots, so the f16 copies would add memory`,
      );
    const warmup = options.warmupSteps ?? 0;
    this.schedule =
      options.totalSteps > warmup
        ? warmupCosine({
            peak: options.lr,
            warmup,
            total: options.totalSteps,
            min: options.minLr ?? 0,
          })
        : (s) => (options.lr * Math.min(s, warmup)) / Math.max(warmup, 1);
    if (options.adapter) {
      if (model.adapter && model.adapter !== options.adapter)
        throw new Error(`Trainer: the model already has adapter "${model.adapter.name}" attached`);
      if (!model.adapter) model.attachAdapter(options.adapter);
      if (model.merged) throw new Error("Trainer: unmerge the adapter before training it");
      for (const p of model.parameters().values()) p.requireGrad(false);
      this.trainable = adapterParameters(options.adapter);
    } else {
      if (model.adapter)
        throw new Error(
          "Trainer: the model has an adapter attached; pass it as options.adapter to train it, or detach it",
        );
      this.trainable = model.parameters();
      if (model.weightDType === "f16")
        throw new Error(
          "Trainer: the model's weights are f16 storage, which cannot take gradients; train a LoRA adapter (options.adapter) or load the model with dtype f32",
        );
    }
    for (const p of this.trainable.values()) p.requireGrad(true);
    if (options.gradientCheckpointing !== undefined)
      model.gradientCheckpointing = options.gradientCheckpointing;
    const hyper = {
      lr: options.lr,
      betas: options.betas ?? [0.9, 0.999],
      eps: options.eps ?? 1e-8,
    } as const;
    const all = [...this.trainable.values()];
    const decay = all.filter((p) => p.rank >= 2);
    const rest = all.filter((p) => p.rank < 2);
    this.activations =
      options.activationDType === "f16" ? new ActivationStore({ deviceDType: "f16" }) : null;
    this.optimizers = [
      new AdamW(decay, {
        ...hyper,
        betas: [...hyper.betas],
        weightDecay: options.weightDecay ?? 0.01,
      }),
      ...(rest.length
        ? [new AdamW(rest, { ...hyper, betas: [...hyper.betas], weightDecay: 0 })]
        : []),
    ];
  }

  /** The learning rate step `step` (1-based) uses. */
  lrAt(step: number): number {
    return this.schedule(step);
  }

  /**
   * One optimizer step over `microBatches` (gradient accumulation): gradients of the summed
   * token losses divided by the total label-token count, so the update equals one step on all
   * of them at once. Synchronous: backends with synchronous reads (cpu); `trainStepAsync`
   * works on every backend.
   */
  trainStep(microBatches: Batch[]): StepMetrics {
    const step = this.recordStep(microBatches);
    try {
      return this.finishStep(step, step.loss.item(), step.gradNorm.item());
    } finally {
      step.loss.dispose();
      step.gradNorm.dispose();
    }
  }

  /** {@link trainStep} on any backend: the loss and norm are read back once, asynchronously. */
  trainStepAsync(microBatches: Batch[]): Promise<StepMetrics> {
    return this.beginStep(microBatches).metrics();
  }

  /**
   * Records one optimizer step (as {@link trainStep}) and returns at once; `metrics()` reads its
   * loss and gradient norm back later. A loop that records step k + 1 before awaiting step k's
   * metrics keeps a GPU busy while the CPU records (`fit` does this): the updates are the same,
   * only the read-back waits less. `metrics()` may be called once; steps must be read in order.
   */
  beginStep(microBatches: Batch[]): { step: number; metrics(): Promise<StepMetrics> } {
    const p = this.recordStep(microBatches);
    let read: Promise<StepMetrics> | null = null;
    return {
      step: p.step,
      metrics: () => {
        read ??= (async () => {
          try {
            const [loss, norm] = await Promise.all([p.loss.itemAsync(), p.gradNorm.itemAsync()]);
            return this.finishStep(p, loss, norm);
          } finally {
            p.loss.dispose();
            p.gradNorm.dispose();
          }
        })();
        return read;
      },
    };
  }

  /**
   * Records one step's work (forwards, backwards, clipping, optimizer updates) without reading
   * anything back; returns the summed loss and the gradient norm as device scalars.
   */
  private recordStep(microBatches: Batch[]): PendingStep {
    if (microBatches.length === 0) throw new Error("trainStep: no batches");
    const t0 = performance.now();
    const labelTokens = microBatches.reduce(
      (s, b) => s + (b.labelTokens ?? countLabelTokens(b.labels)),
      0,
    );
    if (labelTokens === 0) throw new Error("trainStep: no label tokens (every label is −100)");
    const step = this._step + 1;
    const lr = this.schedule(step);
    for (const o of this.optimizers) o.lr = lr; // read by AdamW's step (and its replays)
    const tokens = microBatches.reduce((s, b) => s + b.tokens, 0);
    let out: { loss: Tensor; gradNorm: Tensor };
    // Captured steps replay once AdamW has its moments (its first step creates them).
    if (this.options.captureSteps && this.optimizers.every((o) => o.stepCount > 0)) {
      const { loss, gradNorm } = this.replayStep(microBatches, labelTokens);
      // copies: a pipelined caller reads them after the next replay has rewritten the originals
      out = { loss: noGrad(() => ops.clone(loss)), gradNorm: ops.clone(gradNorm) };
    } else out = this.stepWork(microBatches, labelTokens);
    this._step = step; // only once the step's work is recorded
    // A backend with synchronous reads (cpu) has done the work by now; a GPU's is only queued.
    const done = out.loss.backend.syncRead ? performance.now() : null;
    return { ...out, lr, t0, done, tokens, labelTokens, step };
  }

  /**
   * A step's device work: forwards and backwards (the summed token losses divided by `count`,
   * the label tokens), clipping, optimizer updates. Returns the summed loss and the gradient
   * norm as device scalars.
   */
  private stepWork(
    batches: { inputIds: Tensor; labels: Tensor }[],
    count: number | Tensor,
  ): { loss: Tensor; gradNorm: Tensor } {
    let loss: Tensor | null = null;
    for (const b of batches) {
      const sum = tidy(() => {
        const forward = () =>
          causalLMLoss(this.model.forward(b.inputIds).logits, b.labels, { reduction: "sum" });
        const sum = this.activations ? this.activations.capture("step", forward) : forward();
        sum.div(count).backward();
        return sum;
      });
      if (loss) {
        const next = noGrad(() => ops.add(loss!, sum));
        loss.dispose();
        sum.dispose();
        loss = next;
      } else loss = sum;
    }
    const params = [...this.trainable.values()];
    const maxNorm = this.options.maxGradNorm ?? 1;
    const gradNorm = maxNorm > 0 ? clipGradNorm(params, maxNorm) : gradientNorm(params);
    for (const o of this.optimizers) {
      o.step();
      o.zeroGrad();
    }
    return { loss: loss!, gradNorm };
  }

  /** Runs a step through the capture of its micro-batch shapes (captured on first use). */
  private replayStep(batches: Batch[], labelTokens: number): { loss: Tensor; gradNorm: Tensor } {
    const key = batches.map((b) => b.inputIds.shape.join("x")).join(",");
    const fill = (c: Omit<StepCapture, "capture">) => {
      batches.forEach((b, i) => {
        c.inputs[i].inputIds.write(b.inputIds);
        c.inputs[i].labels.write(b.labels);
      });
      c.count.write([labelTokens]);
    };
    const entry = this.captures.get(key);
    if (entry) {
      this.captures.delete(key); // re-inserted: most recently used last
      this.captures.set(key, entry);
      fill(entry);
      return entry.capture.replay();
    }
    if (this.captures.size >= MAX_STEP_CAPTURES) {
      const [oldest, old] = this.captures.entries().next().value!;
      this.captures.delete(oldest);
      disposeCapture(old);
    }
    const backend = batches[0].inputIds.backend;
    const zerosLike = (t: Tensor) => keep(zeros(t.shape, { dtype: t.dtype, backend }));
    const inputs = batches.map((b) => ({
      inputIds: zerosLike(b.inputIds),
      labels: zerosLike(b.labels),
    }));
    const count = keep(zeros([], { backend }));
    const made = { inputs, count };
    fill(made);
    let recorded: StepCapture["capture"];
    try {
      recorded = capture(backend, () => this.stepWork(inputs, count));
    } catch (e) {
      disposeInputs(made);
      throw e;
    }
    this.captures.set(key, { ...made, capture: recorded });
    return recorded.result;
  }

  private finishStep(p: PendingStep, lossSum: number, gradNorm: number): StepMetrics {
    // From the step's start, or from the end of the previous step when steps overlap
    // (`beginStep`), to the end of this one: in a pipelined loop, the time each step adds. A
    // step ends when its work is done: at its read-back on a GPU, at the end of its recording
    // on a synchronous backend (there a pipelined loop records the next step before reading
    // this one, so the read-back would count the next step's work as this one's).
    const end = p.done ?? performance.now();
    const ms = end - Math.max(p.t0, this.lastDone);
    this.lastDone = end;
    const metrics: StepMetrics = {
      step: p.step,
      totalSteps: this.options.totalSteps,
      loss: lossSum / p.labelTokens,
      lr: p.lr,
      gradNorm,
      tokens: p.tokens,
      labelTokens: p.labelTokens,
      tokensPerSecond: p.tokens / (ms / 1000),
      ms,
    };
    this.options.onProgress?.(metrics);
    return metrics;
  }

  /** Mean loss over the label tokens of `batches`, and its perplexity (no gradients). */
  evaluate(batches: Iterable<Batch>): EvalResult {
    return evaluate(this.model, batches);
  }

  /** {@link evaluate} on any backend. */
  evaluateAsync(batches: Iterable<Batch>): Promise<EvalResult> {
    return evaluateAsync(this.model, batches);
  }

  /**
   * Writes a checkpoint: the model (HF folder `model/`) or the adapter (PEFT folder
   * `adapter/`), `optimizer.safetensors` (AdamW moments) and `trainer_state.json` (step,
   * optimizer hyper-parameters, and `extra`, e.g. the data loader's state).
   */
  async save(dir: string, extra?: unknown): Promise<void> {
    await mkdir(dir, { recursive: true });
    const lora = this.options.adapter;
    if (lora)
      await saveAdapter(lora, join(dir, "adapter"), { modelType: this.model.config.modelType });
    else await saveModel(this.model, join(dir, "model"));
    const tensors: Record<string, Tensor> = {};
    const states: OptimizerState[] = this.optimizers.map((o) => o.state());
    states.forEach((s, i) => {
      for (const [k, t] of Object.entries(s.tensors)) tensors[`${i}.${k}`] = t;
    });
    await writeFile(
      join(dir, "optimizer.safetensors"),
      await serializeSafetensorsAsync(tensors, { metadata: { format: "athanor-adamw" } }),
    );
    const state: TrainerStateFile = {
      step: this._step,
      mode: lora ? "lora" : "full",
      optimizers: states.map((s) => ({ kind: s.kind, step: s.step, hyper: s.hyper })),
      extra,
    };
    await writeFile(join(dir, "trainer_state.json"), `${JSON.stringify(state, null, 2)}\n`);
  }

  /** Frees the captured steps (`captureSteps`); later steps capture again. */
  disposeCaptures(): void {
    for (const c of this.captures.values()) disposeCapture(c);
    this.captures.clear();
  }

  /** Restores a checkpoint written by `save` into this trainer's model / adapter. Returns `extra`. */
  async restore(dir: string): Promise<unknown> {
    this.disposeCaptures();
    const stateFile = join(dir, "trainer_state.json");
    if (!existsSync(stateFile))
      throw new CheckpointError(`${stateFile}: not found (not a training checkpoint)`);
    const state = JSON.parse(await readFile(stateFile, "utf8")) as TrainerStateFile;
    const mode = this.options.adapter ? "lora" : "full";
    if (state.mode !== mode)
      throw new CheckpointError(
        `${stateFile}: a ${state.mode} fine-tuning checkpoint cannot resume ${mode} training`,
      );
    // Weights: copy into the live tensors (the optimizer holds them).
    const expected = new Map([...this.trainable].map(([n, t]) => [n, [...t.shape]]));
    const files =
      mode === "lora"
        ? await (async () => {
            const path = join(dir, "adapter", "adapter_model.safetensors");
            const tensors = await readSafetensorsFile(path);
            return { tensors, fileOf: new Map([...tensors.keys()].map((k) => [k, path])) };
          })()
        : await readWeights(join(dir, "model"));
    const { params } = matchWeights(files, expected, dir);
    noGrad(() => {
      for (const [name, src] of params) {
        const dst = this.trainable.get(name)!;
        dst.backend.copy(src._view("restore"), dst._view("restore"));
        src.dispose();
      }
    });
    const opt = await readSafetensorsFile(join(dir, "optimizer.safetensors"));
    if (state.optimizers.length !== this.optimizers.length)
      throw new CheckpointError(
        `${stateFile}: ${state.optimizers.length} optimizer groups, this trainer has ${this.optimizers.length}`,
      );
    this.optimizers.forEach((o, i) => {
      const tensors: Record<string, Tensor> = {};
      for (const [k, t] of opt) if (k.startsWith(`${i}.`)) tensors[k.slice(`${i}.`.length)] = t;
      o.loadState({ ...state.optimizers[i], tensors });
    });
    for (const t of opt.values()) t.dispose();
    this._step = state.step;
    return state.extra;
  }

  /**
   * Ends training: frees the optimizer state and gradients and stops the trained tensors
   * requiring gradients (so later forwards record nothing). The model and adapter stay.
   */
  dispose(): void {
    this.disposeCaptures();
    for (const o of this.optimizers) o.dispose();
    for (const p of this.trainable.values()) {
      p.zeroGrad();
      p.requireGrad(false);
    }
  }
}

/** What a recorded step leaves to read back. */
interface PendingStep {
  /** The optimizer step this is (1-based). */
  step: number;
  /** Σ token losses over the micro-batches (device scalar). */
  loss: Tensor;
  gradNorm: Tensor;
  lr: number;
  /** When the step began (performance.now()). */
  t0: number;
  /** When its work was done, on a backend that runs it at once (else null: at its read-back). */
  done: number | null;
  tokens: number;
  labelTokens: number;
}

function disposeCapture(c: StepCapture): void {
  c.capture.dispose();
  disposeInputs(c);
}

function disposeInputs(c: Omit<StepCapture, "capture">): void {
  for (const i of c.inputs) {
    i.inputIds.dispose();
    i.labels.dispose();
  }
  c.count.dispose();
}

/** The global L2 norm of the gradients, as a scalar on their backend. */
function gradientNorm(params: Tensor[]): Tensor {
  const grads = params.flatMap((p) => (p.grad ? [p.grad] : []));
  if (grads.length === 0) return full([], 0);
  return noGrad(() =>
    tidy(() => {
      let acc = ops.sum(ops.square(grads[0]));
      for (const g of grads.slice(1)) acc = ops.add(acc, ops.sum(ops.square(g)));
      return ops.sqrt(acc);
    }),
  );
}

/** Per batch: the summed token loss (device scalar) and the label-token count. */
function* evalLosses(model: Model, batches: Iterable<Batch>): Generator<[Tensor, number]> {
  for (const b of batches) {
    const count = b.labelTokens ?? countLabelTokens(b.labels);
    if (count === 0) continue;
    yield [
      noGrad(() =>
        tidy(() => causalLMLoss(model.forward(b.inputIds).logits, b.labels, { reduction: "sum" })),
      ),
      count,
    ];
  }
}

function evalResult(sum: number, n: number): EvalResult {
  if (n === 0) throw new Error("evaluate: no label tokens");
  const loss = sum / n;
  return { loss, perplexity: Math.exp(loss), labelTokens: n };
}

/** Mean next-token loss over the label tokens of `batches` and its perplexity (cpu backends). */
export function evaluate(model: Model, batches: Iterable<Batch>): EvalResult {
  let sum = 0;
  let n = 0;
  for (const [loss, count] of evalLosses(model, batches)) {
    sum += loss.item();
    loss.dispose();
    n += count;
  }
  return evalResult(sum, n);
}

/** {@link evaluate} on any backend (one asynchronous read per batch, overlapped). */
export async function evaluateAsync(model: Model, batches: Iterable<Batch>): Promise<EvalResult> {
  const reads: Promise<number>[] = [];
  let n = 0;
  for (const [loss, count] of evalLosses(model, batches)) {
    reads.push(loss.itemAsync().finally(() => loss.dispose()));
    n += count;
  }
  const values = await Promise.all(reads);
  return evalResult(
    values.reduce((a, b) => a + b, 0),
    n,
  );
}
