/**
 * PEFT LoRA adapters on disk: `adapter_config.json` + `adapter_model.safetensors`, tensors named
 * `base_model.model.<module>.lora_A.weight` / `.lora_B.weight`. Load, create, save.
 */

import { keep, Rng, type Tensor, uniform, zeros } from "@athanor/tensor";
import { CheckpointError, readSafetensorsFile, writeWeights } from "../checkpoint/weights.js";
import type { TransformerLM } from "../model/transformer.js";
import { basename, existsSync, join, mkdir, readFile, writeFile } from "../node.js";
import { type LoraAdapter, type LoraConfig, type LoraWeights, loraScale } from "./adapter.js";

const PREFIX = "base_model.model.";

function fail(file: string, field: string, msg: string): never {
  throw new CheckpointError(`${file}: ${field}: ${msg}`);
}

/** Parses a PEFT `adapter_config.json` object (only what we implement; anything else fails). */
export function parseLoraConfig(json: unknown, file = "adapter_config.json"): LoraConfig {
  if (!json || typeof json !== "object" || Array.isArray(json))
    fail(file, "(root)", "must be a JSON object");
  const j = json as Record<string, unknown>;
  const set = (k: string) => j[k] !== undefined && j[k] !== null;
  if (set("peft_type") && j.peft_type !== "LORA")
    fail(file, "peft_type", `${JSON.stringify(j.peft_type)} is not supported (only LORA)`);
  const r = j.r;
  if (typeof r !== "number" || !Number.isInteger(r) || r <= 0)
    fail(file, "r", `must be a positive integer, got ${JSON.stringify(r)}`);
  const alpha = j.lora_alpha ?? r;
  if (typeof alpha !== "number" || !(alpha > 0))
    fail(file, "lora_alpha", `must be a positive number, got ${JSON.stringify(alpha)}`);
  let targets: string[];
  if (typeof j.target_modules === "string") targets = [j.target_modules];
  else if (Array.isArray(j.target_modules) && j.target_modules.every((t) => typeof t === "string"))
    targets = j.target_modules as string[];
  else
    fail(
      file,
      "target_modules",
      `must be a list of module names, got ${JSON.stringify(j.target_modules)}`,
    );
  const unsupported: [string, (v: unknown) => boolean, string][] = [
    ["use_dora", (v) => v === true, "DoRA is not implemented"],
    ["bias", (v) => v !== "none", 'only bias "none" is implemented'],
    ["lora_bias", (v) => v === true, "LoRA biases are not implemented"],
    [
      "modules_to_save",
      (v) => Array.isArray(v) && v.length > 0,
      "fully trained extra modules are not implemented",
    ],
    ["layers_to_transform", (v) => v !== null, "layer selection is not implemented"],
    [
      "rank_pattern",
      (v) => Object.keys(v as object).length > 0,
      "per-module ranks are not implemented",
    ],
    [
      "alpha_pattern",
      (v) => Object.keys(v as object).length > 0,
      "per-module alphas are not implemented",
    ],
    ["use_qalora", (v) => v === true, "QA-LoRA is not implemented"],
    ["target_parameters", (v) => v !== null, "parameter targets are not implemented"],
    ["trainable_token_indices", (v) => v !== null, "trainable tokens are not implemented"],
    ["layer_replication", (v) => v !== null, "layer replication is not implemented"],
  ];
  for (const [k, bad, why] of unsupported) {
    if (set(k) && bad(j[k])) fail(file, k, `${JSON.stringify(j[k])} is not supported (${why})`);
  }
  const dropout = j.lora_dropout ?? 0;
  if (typeof dropout !== "number" || dropout < 0 || dropout >= 1)
    fail(file, "lora_dropout", `must be in [0, 1), got ${JSON.stringify(dropout)}`);
  const regex = typeof j.target_modules === "string" ? j.target_modules : undefined;
  return {
    r,
    alpha,
    targetModules: regex ? [] : targets,
    ...(regex ? { targetRegex: regex } : {}),
    useRslora: j.use_rslora === true,
    dropout,
  };
}

/** Whether module path `path` is targeted (PEFT rules: a string is a full-match regex). */
export function isTargeted(
  path: string,
  config: Pick<LoraConfig, "targetModules" | "targetRegex">,
): boolean {
  if (config.targetRegex !== undefined) return new RegExp(`^(?:${config.targetRegex})$`).test(path);
  return config.targetModules.some((t) => path === t || path.endsWith(`.${t}`));
}

async function readConfigFile(
  dir: string,
): Promise<{ config: LoraConfig; raw: Record<string, unknown> }> {
  const file = join(dir, "adapter_config.json");
  if (!existsSync(file)) throw new CheckpointError(`${file}: not found`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    throw new CheckpointError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return { config: parseLoraConfig(raw, file), raw };
}

export interface LoadAdapterOptions {
  /** Name for the adapter (default: the folder name). */
  name?: string;
  /** Validate against (and later attach to) this model: every module must be one of its linear layers. */
  model?: TransformerLM;
}

/** Loads a PEFT LoRA adapter folder. */
export async function loadAdapter(
  dir: string,
  options: LoadAdapterOptions = {},
): Promise<LoraAdapter> {
  const { config } = await readConfigFile(dir);
  const file = join(dir, "adapter_model.safetensors");
  if (!existsSync(file)) throw new CheckpointError(`${file}: not found`);
  const tensors = await readSafetensorsFile(file);
  const parts = new Map<string, Partial<LoraWeights>>();
  for (const [key, t] of tensors) {
    const m = /^(?:base_model\.model\.)?(.+)\.lora_([AB])(?:\.[^.]+)?\.weight$/.exec(key);
    if (!m) {
      for (const x of tensors.values()) x.dispose();
      throw new CheckpointError(
        `${file}: tensor ${key} is not a LoRA A/B weight (expected ${PREFIX}<module>.lora_A.weight)`,
      );
    }
    const [, module, which] = m;
    const p = parts.get(module) ?? {};
    if (which === "A") p.a = keep(t);
    else p.b = keep(t);
    parts.set(module, p);
  }
  const modules = new Map<string, LoraWeights>();
  for (const [module, p] of parts) {
    if (!p.a || !p.b)
      throw new CheckpointError(`${file}: ${module} has lora_${p.a ? "B" : "A"} missing`);
    if (p.a.rank !== 2 || p.a.shape[0] !== config.r || p.b.rank !== 2 || p.b.shape[1] !== config.r)
      throw new CheckpointError(
        `${file}: ${module}: lora_A ${p.a.describe()} / lora_B ${p.b.describe()} do not have rank r=${config.r}`,
      );
    modules.set(module, { a: p.a, b: p.b });
  }
  if (modules.size === 0) throw new CheckpointError(`${file}: no LoRA weights`);
  const adapter: LoraAdapter = {
    name: options.name ?? basename(dir),
    config,
    scale: loraScale(config),
    modules,
  };
  if (options.model) {
    const linear = options.model.linearModules();
    for (const [path, w] of modules) {
      const m = linear.get(path);
      if (!m)
        throw new CheckpointError(
          `${file}: ${path} is not a linear layer of this ${options.model.config.modelType} model`,
        );
      if (w.a.shape[1] !== m.inFeatures || w.b.shape[0] !== m.outFeatures)
        throw new CheckpointError(
          `${file}: ${path}: lora_A ${w.a.describe()} / lora_B ${w.b.describe()} do not fit a layer of [in ${m.inFeatures}, out ${m.outFeatures}]`,
        );
    }
  }
  return adapter;
}

export interface CreateAdapterOptions {
  r: number;
  alpha?: number;
  /** Module names (e.g. ["q_proj", "v_proj"]) or full paths. Default: attention q and v. */
  targetModules?: string[];
  useRslora?: boolean;
  name?: string;
  seed?: number;
}

/**
 * A new adapter for `model`, initialised like PEFT: A ~ U(−1/√in, 1/√in) (Kaiming-uniform,
 * a = √5), B = 0, so the adapted model starts equal to the base model.
 */
export function createAdapter(model: TransformerLM, options: CreateAdapterOptions): LoraAdapter {
  const targets =
    options.targetModules ??
    (model.config.modelType === "gpt2" ? ["c_attn"] : ["q_proj", "v_proj"]);
  const config: LoraConfig = {
    r: options.r,
    alpha: options.alpha ?? options.r,
    targetModules: targets,
    useRslora: options.useRslora ?? false,
    dropout: 0,
  };
  if (!Number.isInteger(config.r) || config.r <= 0)
    throw new Error(`createAdapter: r must be a positive integer, got ${config.r}`);
  const rng = new Rng(options.seed ?? 0);
  const modules = new Map<string, LoraWeights>();
  for (const [path, { inFeatures, outFeatures }] of model.linearModules()) {
    if (!isTargeted(path, config)) continue;
    const bound = 1 / Math.sqrt(inFeatures);
    modules.set(path, {
      a: keep(uniform([config.r, inFeatures], -bound, bound, { rng })),
      b: keep(zeros([outFeatures, config.r])),
    });
  }
  if (modules.size === 0)
    throw new Error(
      `createAdapter: target modules ${JSON.stringify(targets)} match no linear layer (e.g. ${[...model.linearModules().keys()][0]})`,
    );
  return { name: options.name ?? "adapter", config, scale: loraScale(config), modules };
}

/** Writes the adapter in PEFT format (adapter_config.json + adapter_model.safetensors). */
export async function saveAdapter(
  adapter: LoraAdapter,
  dir: string,
  options: { baseModel?: string; modelType?: string } = {},
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const c = adapter.config;
  const config = {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    base_model_name_or_path: options.baseModel ?? null,
    r: c.r,
    lora_alpha: c.alpha,
    target_modules: c.targetRegex ?? [...c.targetModules].sort(),
    lora_dropout: c.dropout,
    use_rslora: c.useRslora,
    bias: "none",
    fan_in_fan_out: options.modelType === "gpt2",
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    use_dora: false,
  };
  await writeFile(join(dir, "adapter_config.json"), `${JSON.stringify(config, null, 2)}\n`);
  const tensors = new Map<string, Tensor>();
  for (const [path, { a, b }] of adapter.modules) {
    tensors.set(`${PREFIX}${path}.lora_A.weight`, a);
    tensors.set(`${PREFIX}${path}.lora_B.weight`, b);
  }
  await writeWeights(dir, tensors, { prefix: "adapter_model" });
}

/** The adapter's trainable tensors by PEFT name. */
export function adapterParameters(adapter: LoraAdapter): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [path, { a, b }] of adapter.modules) {
    out.set(`${PREFIX}${path}.lora_A.weight`, a);
    out.set(`${PREFIX}${path}.lora_B.weight`, b);
  }
  return out;
}

/** Frees an adapter's tensors. */
export function disposeAdapter(adapter: LoraAdapter): void {
  for (const { a, b } of adapter.modules.values()) {
    a.dispose();
    b.dispose();
  }
}
