/**
 * Model configurations parsed from a Hugging Face `config.json`: GPT-2 and the Llama family
 * (`llama`, `qwen2`, `mistral` without sliding window; SmolLM is `llama`). Anything we do not
 * implement is an error naming the file and the field, never a model that computes something
 * else.
 */

/** RoPE frequency scaling (`rope_scaling` / `rope_parameters`). */
export type RopeScaling =
  | { type: "default" }
  | { type: "linear"; factor: number }
  | {
      type: "llama3";
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositions: number;
    };

interface CommonConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  headDim: number;
  maxPositions: number;
  tieWordEmbeddings: boolean;
  bosTokenId?: number;
  eosTokenIds: number[];
  padTokenId?: number;
}

export interface Gpt2Config extends CommonConfig {
  modelType: "gpt2";
  /** MLP width (`n_inner`, default 4·hidden). */
  innerSize: number;
  layerNormEps: number;
}

export interface LlamaConfig extends CommonConfig {
  modelType: "llama" | "qwen2" | "mistral";
  numKvHeads: number;
  intermediateSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  /** Biases on q/k/v/o (`attention_bias`). */
  attentionBias: boolean;
  /** Biases on q/k/v only (Qwen2). */
  qkvBias: boolean;
  mlpBias: boolean;
}

export type ModelConfig = Gpt2Config | LlamaConfig;

/** A config problem: names the file and the field. */
export class ModelConfigError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    message: string,
  ) {
    super(`${file}: ${field}: ${message}`);
    this.name = "ModelConfigError";
  }
}

type Json = Record<string, unknown>;

class Reader {
  constructor(
    readonly json: Json,
    readonly file: string,
  ) {}
  fail(field: string, msg: string): never {
    throw new ModelConfigError(this.file, field, msg);
  }
  has(field: string): boolean {
    return this.json[field] !== undefined && this.json[field] !== null;
  }
  int(field: string, fallback?: number): number {
    const v = this.json[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(field, "missing (required)");
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0)
      this.fail(field, `must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  }
  num(field: string, fallback?: number): number {
    const v = this.json[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(field, "missing (required)");
    }
    if (typeof v !== "number" || !Number.isFinite(v))
      this.fail(field, `must be a number, got ${JSON.stringify(v)}`);
    return v;
  }
  bool(field: string, fallback: boolean): boolean {
    const v = this.json[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") this.fail(field, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }
  optInt(field: string): number | undefined {
    const v = this.json[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
      this.fail(field, `must be a non-negative integer, got ${JSON.stringify(v)}`);
    return v;
  }
  ids(field: string): number[] {
    const v = this.json[field];
    if (v === undefined || v === null) return [];
    const arr = Array.isArray(v) ? v : [v];
    if (!arr.every((x) => typeof x === "number" && Number.isInteger(x) && x >= 0))
      this.fail(field, `must be a token id or a list of them, got ${JSON.stringify(v)}`);
    return arr as number[];
  }
  /** Fails when `field` is set to something other than the accepted values. */
  only(field: string, accepted: unknown[], why: string): void {
    const v = this.json[field];
    if (v === undefined || v === null) return;
    if (!accepted.some((a) => a === v))
      this.fail(field, `${JSON.stringify(v)} is not supported (${why})`);
  }
}

function common(r: Reader, hidden: number, layers: number, heads: number, maxPos: number) {
  if (hidden % heads !== 0 && !r.has("head_dim"))
    r.fail("hidden_size", `${hidden} is not divisible by the number of heads ${heads}`);
  return {
    vocabSize: r.int("vocab_size"),
    hiddenSize: hidden,
    numLayers: layers,
    numHeads: heads,
    maxPositions: maxPos,
    bosTokenId: r.optInt("bos_token_id"),
    eosTokenIds: r.ids("eos_token_id"),
    padTokenId: r.optInt("pad_token_id"),
  };
}

function parseGpt2(r: Reader): Gpt2Config {
  const hidden = r.int("n_embd");
  const heads = r.int("n_head");
  r.only("activation_function", ["gelu_new", "gelu_pytorch_tanh"], "GPT-2 here uses tanh GELU");
  r.only("scale_attn_weights", [true], "unscaled attention is not implemented");
  r.only("scale_attn_by_inverse_layer_idx", [false], "not implemented");
  r.only("reorder_and_upcast_attn", [false], "not implemented");
  r.only("add_cross_attention", [false], "cross-attention is not implemented");
  return {
    modelType: "gpt2",
    ...common(r, hidden, r.int("n_layer"), heads, r.int("n_positions")),
    headDim: hidden / heads,
    innerSize: r.int("n_inner", 4 * hidden),
    layerNormEps: r.num("layer_norm_epsilon", 1e-5),
    tieWordEmbeddings: r.bool("tie_word_embeddings", true),
  };
}

function parseRope(r: Reader): { theta: number; scaling: RopeScaling } {
  // transformers ≥ 5 writes `rope_parameters` (with rope_theta inside); older configs have
  // `rope_theta` and an optional `rope_scaling`.
  const params = (r.json.rope_parameters ?? r.json.rope_scaling ?? null) as Json | null;
  const field = r.has("rope_parameters") ? "rope_parameters" : "rope_scaling";
  let theta = r.has("rope_theta") ? r.num("rope_theta") : 10000;
  if (params === null) return { theta, scaling: { type: "default" } };
  if (typeof params !== "object" || Array.isArray(params))
    r.fail(field, `must be an object, got ${JSON.stringify(params)}`);
  const sub = new Reader(params, r.file);
  const fieldOf = (f: string) => `${field}.${f}`;
  if (params.rope_theta !== undefined) {
    if (typeof params.rope_theta !== "number" || !(params.rope_theta > 0))
      r.fail(fieldOf("rope_theta"), `must be a positive number`);
    theta = params.rope_theta;
  }
  const type = (params.rope_type ?? params.type ?? "default") as string;
  const num = (f: string, fallback?: number) => {
    try {
      return sub.num(f, fallback);
    } catch (e) {
      if (e instanceof ModelConfigError) r.fail(fieldOf(f), e.message.split(": ").pop() ?? "");
      throw e;
    }
  };
  switch (type) {
    case "default":
      return { theta, scaling: { type: "default" } };
    case "linear":
      return { theta, scaling: { type: "linear", factor: num("factor") } };
    case "llama3":
      return {
        theta,
        scaling: {
          type: "llama3",
          factor: num("factor"),
          lowFreqFactor: num("low_freq_factor"),
          highFreqFactor: num("high_freq_factor"),
          originalMaxPositions: num("original_max_position_embeddings"),
        },
      };
    default:
      return r.fail(
        fieldOf("rope_type"),
        `${JSON.stringify(type)} is not supported (supported: default, linear, llama3)`,
      );
  }
}

function parseLlama(r: Reader, modelType: LlamaConfig["modelType"]): LlamaConfig {
  const hidden = r.int("hidden_size");
  const heads = r.int("num_attention_heads");
  const kvHeads = r.int("num_key_value_heads", heads);
  if (heads % kvHeads !== 0)
    r.fail(
      "num_key_value_heads",
      `${kvHeads} does not divide num_attention_heads ${heads} (grouped-query attention)`,
    );
  r.only("hidden_act", ["silu"], "the Llama family here uses SwiGLU with SiLU");
  r.only("pretraining_tp", [1], "tensor-parallel slicing at inference is not implemented");
  if (modelType === "qwen2" || modelType === "mistral") {
    const sw = r.json.sliding_window;
    const use = r.json.use_sliding_window;
    if (modelType === "mistral" && sw !== undefined && sw !== null)
      r.fail(
        "sliding_window",
        `${JSON.stringify(sw)}: sliding-window attention is not implemented`,
      );
    if (modelType === "qwen2" && use === true)
      r.fail("use_sliding_window", "sliding-window attention is not implemented");
  }
  const rope = parseRope(r);
  return {
    modelType,
    ...common(r, hidden, r.int("num_hidden_layers"), heads, r.int("max_position_embeddings")),
    headDim: r.int("head_dim", hidden / heads),
    numKvHeads: kvHeads,
    intermediateSize: r.int("intermediate_size"),
    rmsNormEps: r.num("rms_norm_eps", 1e-6),
    ropeTheta: rope.theta,
    ropeScaling: rope.scaling,
    attentionBias: r.bool("attention_bias", false),
    qkvBias: modelType === "qwen2",
    mlpBias: r.bool("mlp_bias", false),
    tieWordEmbeddings: r.bool("tie_word_embeddings", false),
  };
}

/**
 * Parses a `config.json` object. `file` names it in errors. `generation` (the optional
 * `generation_config.json`) supplies eos / bos / pad ids it sets.
 */
export function parseModelConfig(
  json: unknown,
  file = "config.json",
  generation?: unknown,
): ModelConfig {
  if (!json || typeof json !== "object" || Array.isArray(json))
    throw new ModelConfigError(file, "(root)", "must be a JSON object");
  const r = new Reader(json as Json, file);
  const type = r.json.model_type;
  if (typeof type !== "string") r.fail("model_type", "missing (required)");
  let config: ModelConfig;
  switch (type) {
    case "gpt2":
      config = parseGpt2(r);
      break;
    case "llama":
    case "qwen2":
    case "mistral":
      config = parseLlama(r, type);
      break;
    default:
      return r.fail(
        "model_type",
        `${JSON.stringify(type)} is not supported (supported: gpt2, llama, qwen2, mistral)`,
      );
  }
  if (generation && typeof generation === "object" && !Array.isArray(generation)) {
    const g = new Reader(
      generation as Json,
      file.replace(/config\.json$/, "generation_config.json"),
    );
    const eos = g.ids("eos_token_id");
    if (eos.length > 0) config.eosTokenIds = eos;
    config.bosTokenId = g.optInt("bos_token_id") ?? config.bosTokenId;
    config.padTokenId = g.optInt("pad_token_id") ?? config.padTokenId;
  }
  return config;
}

/** The `config.json` object for a config (what `transformers` reads back). */
export function modelConfigToJson(c: ModelConfig): Json {
  const ids = {
    bos_token_id: c.bosTokenId ?? null,
    eos_token_id:
      c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds.length ? c.eosTokenIds : null,
    pad_token_id: c.padTokenId ?? null,
    tie_word_embeddings: c.tieWordEmbeddings,
    vocab_size: c.vocabSize,
    dtype: "float32",
  };
  if (c.modelType === "gpt2") {
    return {
      architectures: ["GPT2LMHeadModel"],
      model_type: "gpt2",
      activation_function: "gelu_new",
      n_embd: c.hiddenSize,
      n_head: c.numHeads,
      n_layer: c.numLayers,
      n_positions: c.maxPositions,
      n_inner: c.innerSize,
      layer_norm_epsilon: c.layerNormEps,
      attn_pdrop: 0,
      embd_pdrop: 0,
      resid_pdrop: 0,
      scale_attn_weights: true,
      ...ids,
    };
  }
  const arch = {
    llama: "LlamaForCausalLM",
    qwen2: "Qwen2ForCausalLM",
    mistral: "MistralForCausalLM",
  }[c.modelType];
  const s = c.ropeScaling;
  const rope: Json = { rope_theta: c.ropeTheta, rope_type: s.type };
  if (s.type === "linear") rope.factor = s.factor;
  if (s.type === "llama3") {
    rope.factor = s.factor;
    rope.low_freq_factor = s.lowFreqFactor;
    rope.high_freq_factor = s.highFreqFactor;
    rope.original_max_position_embeddings = s.originalMaxPositions;
  }
  const out: Json = {
    architectures: [arch],
    model_type: c.modelType,
    hidden_act: "silu",
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    max_position_embeddings: c.maxPositions,
    rms_norm_eps: c.rmsNormEps,
    // Both spellings: transformers ≥ 5 reads rope_parameters, 4.x reads rope_theta/rope_scaling.
    rope_theta: c.ropeTheta,
    rope_parameters: rope,
    ...(s.type === "default" ? {} : { rope_scaling: { ...rope, type: s.type } }),
    attention_bias: c.attentionBias,
    mlp_bias: c.mlpBias,
    attention_dropout: 0,
    ...ids,
  };
  if (c.modelType === "mistral") out.sliding_window = null;
  if (c.modelType === "qwen2") out.use_sliding_window = false;
  return out;
}
