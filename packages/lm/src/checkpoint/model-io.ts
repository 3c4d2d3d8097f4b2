/**
 * Hugging Face model folders: `loadModel(dir)` reads `config.json` (+ `generation_config.json`)
 * and the weights; `modelFromBytes` does the same from contents already in memory (a browser's
 * fetch); `saveModel(model, dir)` writes a folder `transformers` loads back.
 */

import { parseSafetensors, type Tensor } from "@athanor/tensor";
import {
  type ModelConfig,
  ModelConfigError,
  modelConfigToJson,
  parseModelConfig,
} from "../model/config.js";
import { type Model, modelFromParameters, parameterShapes } from "../model/create.js";
import type { WeightDType } from "../model/transformer.js";
import { existsSync, join, mkdir, readFile, writeFile } from "../node.js";
import {
  CheckpointError,
  matchWeights,
  readWeights,
  type WeightFiles,
  type WriteWeightsOptions,
  writeWeights,
} from "./weights.js";

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new CheckpointError(`${path}: cannot read ${what} (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Reads and parses `dir/config.json` (with `generation_config.json` when present). */
export async function loadModelConfig(dir: string): Promise<ModelConfig> {
  const file = join(dir, "config.json");
  if (!existsSync(file)) throw new ModelConfigError(file, "(file)", "not found");
  const json = await readJson(file, "the model config");
  const genFile = join(dir, "generation_config.json");
  const gen = existsSync(genFile) ? await readJson(genFile, "the generation config") : undefined;
  return parseModelConfig(json, file, gen);
}

export interface LoadModelOptions {
  /**
   * Accept tensors the model does not use (they are reported in `unexpected` and freed).
   * Default false: an unexpected tensor is an error, since it usually means the config
   * describes a different model than the weights.
   */
  allowUnexpected?: boolean;
  /**
   * "f16" keeps every weight matrix (projections, embeddings, the head) as f16 storage: half
   * the memory, and on WebGPU half the bytes read per decoded token. Norms and biases stay
   * f32 and all arithmetic is f32. Such a model serves and trains LoRA adapters (which are
   * f32); full fine-tuning needs "f32" (the default).
   */
  dtype?: WeightDType;
}

export interface LoadedModel {
  model: Model;
  /** Tensors present in the files but not used by the model. */
  unexpected: string[];
}

/** Loads a Hugging Face checkpoint folder (config.json + model.safetensors or shards). */
export async function loadModelWithReport(
  dir: string,
  options: LoadModelOptions = {},
): Promise<LoadedModel> {
  const config = await loadModelConfig(dir);
  const files = await readWeights(dir, "model", { floatDType: floatDType(options) });
  return fromWeights(config, files, dir, options);
}

/** The float tensors of a checkpoint that load as f16: the weight matrices, with dtype f16. */
function floatDType(options: LoadModelOptions) {
  return (_: string, shape: readonly number[]) =>
    options.dtype === "f16" && shape.length >= 2 ? "f16" : "f32";
}

/** A model folder's contents, already in memory (fetched in a browser, say). */
export interface ModelBytes {
  /** `config.json`: its text or the parsed object. */
  config: string | object;
  /** `generation_config.json`, when there is one: its text or the parsed object. */
  generationConfig?: string | object;
  /** `model.safetensors`, or every shard of a sharded checkpoint (in any order). */
  weights: Uint8Array | readonly Uint8Array[];
}

/**
 * `loadModelWithReport` for a checkpoint in memory: parses the config and the safetensors
 * bytes, with the same checks and errors (named "config.json", "model.safetensors" or
 * "shard 2 of 3").
 */
export function modelFromBytes(bytes: ModelBytes, options: LoadModelOptions = {}): LoadedModel {
  const json = (v: string | object, file: string): unknown => {
    if (typeof v !== "string") return v;
    try {
      return JSON.parse(v);
    } catch (e) {
      throw new CheckpointError(`${file}: not valid JSON (${(e as Error).message})`);
    }
  };
  const config = parseModelConfig(
    json(bytes.config, "config.json"),
    "config.json",
    bytes.generationConfig === undefined
      ? undefined
      : json(bytes.generationConfig, "generation_config.json"),
  );
  const shards = bytes.weights instanceof Uint8Array ? [bytes.weights] : bytes.weights;
  if (shards.length === 0)
    throw new CheckpointError("modelFromBytes: weights: no safetensors given");
  const files: WeightFiles = { tensors: new Map(), fileOf: new Map() };
  try {
    shards.forEach((b, i) => {
      const source =
        shards.length === 1 ? "model.safetensors" : `shard ${i + 1} of ${shards.length}`;
      let parsed: Record<string, Tensor>;
      try {
        parsed = parseSafetensors(b, { source, floatDType: floatDType(options) }).tensors;
      } catch (e) {
        throw new CheckpointError((e as Error).message);
      }
      for (const [name, t] of Object.entries(parsed)) {
        if (files.tensors.has(name)) {
          t.dispose();
          throw new CheckpointError(
            `${source}: tensor ${name} is also in ${files.fileOf.get(name)}`,
          );
        }
        files.tensors.set(name, t);
        files.fileOf.set(name, source);
      }
    });
  } catch (e) {
    for (const t of files.tensors.values()) t.dispose();
    throw e;
  }
  return fromWeights(config, files, "modelFromBytes", options);
}

/** Matches the weights to the config's parameters and builds the model (frees the rest). */
function fromWeights(
  config: ModelConfig,
  weights: WeightFiles,
  where: string,
  options: LoadModelOptions,
): LoadedModel {
  const files = addBasePrefix(weights, config);
  const expected = parameterShapes(config);
  // A tied head saved anyway is the embedding again: accepted and not used.
  const { params, unexpected } = matchWeights(
    files,
    expected,
    where,
    (name) => config.tieWordEmbeddings && name === "lm_head.weight",
  );
  if (unexpected.length > 0 && !options.allowUnexpected) {
    for (const t of params.values()) t.dispose();
    throw new CheckpointError(
      `${where}: ${unexpected.length} tensor${unexpected.length > 1 ? "s in the weights are" : " in the weights is"} not used by a ${config.modelType} model with this config (${files.fileOf.get(unexpected[0])}: ${unexpected.slice(0, 6).join(", ")}${unexpected.length > 6 ? ", ..." : ""}); pass allowUnexpected to load anyway`,
    );
  }
  return { model: modelFromParameters(config, params), unexpected };
}

/**
 * Checkpoints saved from the bare transformer (`GPT2Model`, `LlamaModel`; the original `gpt2`
 * weights on the Hub) name tensors without the base prefix (`h.0.attn.c_attn.weight`):
 * `transformers` adds it on load, and so do we.
 */
function addBasePrefix(files: WeightFiles, config: ModelConfig): WeightFiles {
  const prefix = config.modelType === "gpt2" ? "transformer." : "model.";
  const names = [...files.tensors.keys()];
  if (names.some((n) => n.startsWith(prefix))) return files;
  const tensors = new Map<string, Tensor>();
  const fileOf = new Map<string, string>();
  for (const n of names) {
    const to = n === "lm_head.weight" ? n : prefix + n;
    tensors.set(to, files.tensors.get(n)!);
    fileOf.set(to, files.fileOf.get(n)!);
  }
  return { tensors, fileOf };
}

/** Loads a Hugging Face checkpoint folder; see `loadModelWithReport` for the options. */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<Model> {
  return (await loadModelWithReport(dir, options)).model;
}

/**
 * Writes `config.json`, `generation_config.json` and the weights (f32 unless `format`). With a
 * merged adapter the merged weights are written (a standalone fine-tuned model).
 */
export async function saveModel(
  model: Model,
  dir: string,
  options: WriteWeightsOptions = {},
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const c = model.config;
  const config = { ...modelConfigToJson(c), transformers_version: "5.17.0" };
  await writeFile(join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  const gen = {
    bos_token_id: c.bosTokenId ?? null,
    eos_token_id: c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds,
    pad_token_id: c.padTokenId ?? null,
  };
  await writeFile(join(dir, "generation_config.json"), `${JSON.stringify(gen, null, 2)}\n`);
  await writeWeights(dir, model.parameters(), options);
}
