/**
 * Training the task model: generate the task data, train a byte-level BPE tokenizer on it,
 * and train a small Llama-shaped decoder from scratch on (prompt → action line) pairs, loss on
 * the action only. The same pipeline fine-tunes a user's Hugging Face checkpoint with LoRA
 * (`base`): the checkpoint's own tokenizer is used and only the adapter trains.
 *
 * Everything is seeded (data, tokenizer, weights, batch order): the same seed and options give
 * the same model on the same backend.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  createAdapter,
  createModel,
  fit,
  loadModel,
  type Model,
  parseModelConfig,
  type SftExample,
  type StepMetrics,
  saveAdapter,
  saveModel,
  Tokenizer,
  trainBpe,
} from "@athanor/lm";
import { APP_NAMES, type AppName } from "@athanor/optiguide";
import { type Example, generateExamples } from "../data/generate.js";
import { delexicalizeAction, promptOf } from "../data/normalize.js";

export const PAD = "<pad>";
export const EOS = "<eos>";

/** The shape of the from-scratch model (Llama: RMSNorm, RoPE, SwiGLU, tied embeddings). */
export interface ModelShape {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPositions: number;
}

export const DEFAULT_SHAPE: ModelShape = {
  vocabSize: 1024,
  hidden: 96,
  layers: 4,
  heads: 4,
  intermediate: 256,
  maxPositions: 128,
};

export interface TrainOptions {
  apps?: readonly AppName[];
  seed?: number;
  /** Optimizer steps (default 1500). */
  steps?: number;
  batchSize?: number;
  lr?: number;
  shape?: Partial<ModelShape>;
  /** Examples per template (generator; default 80). */
  perTemplate?: number;
  /** A Hugging Face checkpoint folder to fine-tune with LoRA instead of training from scratch. */
  base?: string;
  /** LoRA rank (with `base`; default 8). */
  loraRank?: number;
  /** Extra examples (e.g. LLM paraphrases from `evolveExamples`). */
  extra?: Example[];
  onProgress?: (m: StepMetrics) => void;
  onStage?: (stage: string) => void;
}

/** What `slm.json` in a model folder records: how it was made. */
export interface SlmMeta {
  format: "athanor-slm/1";
  apps: AppName[];
  seed: number;
  steps: number;
  batchSize: number;
  lr: number;
  examples: number;
  perTemplate: number;
  /** Examples per kind. */
  kinds: Record<string, number>;
  trainSeconds: number;
  finalLoss: number;
  parameters: number;
  /** `scratch`, or the LoRA base checkpoint's folder. */
  base: string;
  command: string;
}

export interface TrainResult {
  model: Model;
  tokenizer: Tokenizer;
  meta: SlmMeta;
}

/** Prompt + response token ids for one example. */
export function encodeExample(tok: Tokenizer, eos: number, e: Example): SftExample {
  const { text, slots } = promptOf(e.app, e.question);
  return {
    prompt: tok.encode(text, { addSpecialTokens: false }),
    response: [
      ...tok.encode(` ${delexicalizeAction(e.action, slots)}`, { addSpecialTokens: false }),
      eos,
    ],
  };
}

/** The training text of an example: its prompt and its action line, with placeholders. */
export function exampleText(e: Example): [string, string] {
  const { text, slots } = promptOf(e.app, e.question);
  return [text, ` ${delexicalizeAction(e.action, slots)}`];
}

function countParams(model: Model): number {
  let n = 0;
  for (const t of model.parameters().values()) n += t.size;
  return n;
}

/** Trains the task model (see the file comment); `saveSlm` writes it. */
export async function trainSlm(options: TrainOptions = {}): Promise<TrainResult> {
  const seed = options.seed ?? 0;
  const apps = [...(options.apps ?? APP_NAMES)];
  const steps = options.steps ?? 1500;
  const perTemplate = options.perTemplate ?? 80;
  const batchSize = options.batchSize ?? 32;
  const stage = options.onStage ?? (() => {});
  stage("generating task data");
  const examples = [...generateExamples({ apps, seed, perTemplate }), ...(options.extra ?? [])];
  const kinds: Record<string, number> = {};
  for (const e of examples) kinds[`${e.app}/${e.kind}`] = (kinds[`${e.app}/${e.kind}`] ?? 0) + 1;

  let model: Model;
  let tokenizer: Tokenizer;
  let eos: number;
  let pad: number;
  const shape = { ...DEFAULT_SHAPE, ...options.shape };
  if (options.base) {
    stage(`loading ${options.base}`);
    model = await loadModel(options.base);
    const tokFile = join(options.base, "tokenizer.json");
    if (!existsSync(tokFile))
      throw new Error(`${options.base}: no tokenizer.json to fine-tune with`);
    tokenizer = Tokenizer.fromFile(tokFile);
    eos = model.config.eosTokenIds[0] ?? 0;
    pad = model.config.padTokenId ?? eos;
  } else {
    stage("training the tokenizer");
    const corpus = examples.flatMap(exampleText);
    tokenizer = trainBpe(corpus, { vocabSize: shape.vocabSize, specialTokens: [PAD, EOS] });
    pad = tokenizer.tokenToId(PAD)!;
    eos = tokenizer.tokenToId(EOS)!;
    const config = parseModelConfig(
      {
        model_type: "llama",
        vocab_size: tokenizer.vocabSize,
        hidden_size: shape.hidden,
        num_hidden_layers: shape.layers,
        num_attention_heads: shape.heads,
        num_key_value_heads: shape.heads,
        intermediate_size: shape.intermediate,
        max_position_embeddings: shape.maxPositions,
        rms_norm_eps: 1e-5,
        rope_theta: 10000,
        hidden_act: "silu",
        tie_word_embeddings: true,
        eos_token_id: eos,
        pad_token_id: pad,
      },
      "slm config",
    );
    model = createModel(config, { seed });
  }
  const train = examples.map((e) => encodeExample(tokenizer, eos, e));
  const adapter = options.base
    ? createAdapter(model, { r: options.loraRank ?? 8, seed, name: "slm" })
    : undefined;
  stage(`training on ${train.length} examples`);
  const t0 = performance.now();
  const lr = options.lr ?? (adapter ? 1e-3 : 3e-3);
  const { history } = await fit(model, {
    train,
    batchSize,
    seed,
    lr,
    totalSteps: steps,
    warmupSteps: Math.min(50, Math.floor(steps / 10)),
    minLr: lr / 10,
    weightDecay: 0.01,
    padId: pad,
    maxLength: shape.maxPositions,
    adapter,
    onProgress: options.onProgress,
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const tail = history.slice(-20);
  const meta: SlmMeta = {
    format: "athanor-slm/1",
    apps,
    seed,
    steps,
    batchSize,
    lr,
    examples: train.length,
    perTemplate,
    kinds,
    trainSeconds,
    finalLoss: tail.reduce((s, m) => s + m.loss, 0) / Math.max(1, tail.length),
    parameters: countParams(model),
    base: options.base ?? "scratch",
    command: `athanor slm train --app ${apps.length === APP_NAMES.length ? "all" : apps.join(",")} --seed ${seed} --steps ${steps} --per-template ${perTemplate} --batch ${batchSize}${options.base ? ` --base ${options.base}` : ""}`,
  };
  return { model, tokenizer, meta };
}

/** Writes a trained model folder: HF config + weights (or the LoRA adapter), tokenizer.json, slm.json. */
export async function saveSlm(result: TrainResult, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (result.model.adapter) await saveAdapter(result.model.adapter, dir);
  else await saveModel(result.model, dir);
  result.tokenizer.save(join(dir, "tokenizer.json"));
  await writeFile(join(dir, "slm.json"), `${JSON.stringify(result.meta, null, 2)}\n`);
}
