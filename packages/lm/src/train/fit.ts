/**
 * `fit`: the training loop most callers want (the `athanor lm train` command, the from-scratch
 * model): batches from a seeded loader, gradient accumulation, periodic evaluation and
 * checkpoints, and resuming from the latest checkpoint.
 */

import type { Model } from "../model/create.js";
import { existsSync, join } from "../node.js";
import {
  type Batch,
  type BatchOptions,
  DataLoader,
  type LoaderState,
  lmBatch,
  type SftExample,
  sftBatch,
} from "./data.js";
import { type EvalResult, type StepMetrics, Trainer, type TrainerOptions } from "./trainer.js";

export interface FitOptions extends TrainerOptions, BatchOptions {
  /** SFT examples (loss on responses) or plain token sequences (loss on every token). */
  train: SftExample[] | number[][];
  eval?: SftExample[] | number[][];
  /** Sequences per micro-batch. */
  batchSize: number;
  /** Micro-batches per optimizer step (default 1). */
  gradAccumulation?: number;
  /** Data order seed (default 0). */
  seed?: number;
  /** Evaluate every this many steps (and at the end) when `eval` is given. Default: only at the end. */
  evalEvery?: number;
  /** Write checkpoints here (`step-<n>/` and `latest` → resumable). */
  checkpointDir?: string;
  /** Checkpoint every this many steps (default: only at the end, when checkpointDir is set). */
  checkpointEvery?: number;
  /** Continue from `checkpointDir/latest` if it exists (default true). */
  resume?: boolean;
  onEval?: (step: number, result: EvalResult) => void;
}

export interface FitResult {
  /** Optimizer steps done (= totalSteps). */
  step: number;
  history: StepMetrics[];
  evals: { step: number; result: EvalResult }[];
  /** Step the run started from (> 0 when resumed). */
  resumedFrom: number;
}

function toBatch(items: (SftExample | number[])[], o: BatchOptions): Batch {
  return Array.isArray(items[0])
    ? lmBatch(items as number[][], o)
    : sftBatch(items as SftExample[], o);
}

/**
 * Trains `model` (or `options.adapter`) for `totalSteps` optimizer steps (see `FitOptions`),
 * then releases the optimizer; the trained weights stay in the model / adapter.
 */
export async function fit(model: Model, options: FitOptions): Promise<FitResult> {
  const trainer = new Trainer(model, options);
  const accum = options.gradAccumulation ?? 1;
  const loader = new DataLoader<SftExample | number[]>(options.train, options.batchSize, {
    seed: options.seed ?? 0,
  });
  const batchOpts: BatchOptions = {
    padId: options.padId,
    maxLength: options.maxLength,
    padToMultipleOf: options.padToMultipleOf,
  };
  const evalBatches = () => {
    const items = options.eval ?? [];
    const out: Batch[] = [];
    for (let i = 0; i < items.length; i += options.batchSize)
      out.push(toBatch(items.slice(i, i + options.batchSize), batchOpts));
    return out;
  };
  let resumedFrom = 0;
  const latest = options.checkpointDir ? join(options.checkpointDir, "latest") : null;
  if (latest && options.resume !== false && existsSync(join(latest, "trainer_state.json"))) {
    const extra = (await trainer.restore(latest)) as { loader?: LoaderState } | undefined;
    if (extra?.loader) loader.restore(extra.loader);
    resumedFrom = trainer.step;
  }
  const history: StepMetrics[] = [];
  const evals: { step: number; result: EvalResult }[] = [];
  const runEval = async () => {
    if (!options.eval?.length) return;
    const batches = evalBatches();
    const result = await trainer.evaluateAsync(batches);
    for (const b of batches) {
      b.inputIds.dispose();
      b.labels.dispose();
    }
    evals.push({ step: trainer.step, result });
    options.onEval?.(trainer.step, result);
  };
  const checkpoint = async () => {
    if (!options.checkpointDir) return;
    const extra = { loader: loader.state() };
    await trainer.save(join(options.checkpointDir, `step-${trainer.step}`), extra);
    await trainer.save(latest!, extra);
  };
  // Steps overlap by one: step k + 1 is recorded before step k's loss is read back, so a GPU
  // runs step k while the CPU records the next one. The updates are the same as one at a time.
  let pending: ReturnType<Trainer["beginStep"]> | null = null;
  const settle = async () => {
    if (!pending) return;
    const p = pending;
    pending = null;
    history.push(await p.metrics());
  };
  while (trainer.step < options.totalSteps) {
    const micro: Batch[] = [];
    for (let i = 0; i < accum; i++) micro.push(toBatch(loader.next(), batchOpts));
    const next = trainer.beginStep(micro);
    for (const b of micro) {
      b.inputIds.dispose();
      b.labels.dispose();
    }
    await settle();
    pending = next;
    const s = trainer.step;
    const evalNow = options.evalEvery && s % options.evalEvery === 0 && s < options.totalSteps;
    const saveNow =
      options.checkpointEvery && s % options.checkpointEvery === 0 && s < options.totalSteps;
    if (evalNow || saveNow) await settle();
    if (evalNow) await runEval();
    if (saveNow) await checkpoint();
  }
  await settle();
  await runEval();
  await checkpoint();
  const step = trainer.step;
  trainer.dispose();
  return { step, history, evals, resumedFrom };
}

/** A one-line progress bar: `step 12/100 [###.......] loss 3.412 lr 9.8e-4 2,345 tok/s`. */
export function progressLine(m: StepMetrics, width = 20): string {
  const done = Math.round((m.step / m.totalSteps) * width);
  const bar = `${"#".repeat(done)}${".".repeat(Math.max(0, width - done))}`;
  return `step ${m.step}/${m.totalSteps} [${bar}] loss ${m.loss.toFixed(4)} lr ${m.lr.toExponential(1)} ${Math.round(m.tokensPerSecond).toLocaleString("en-US")} tok/s`;
}
