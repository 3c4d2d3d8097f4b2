/**
 * What GPT-2 and the Llama family share: parameters by Hugging Face name, the `CausalLM`
 * contract (positions, padding mask, KV cache), linear projections with an optional LoRA
 * adapter, and the expected-parameter list that checkpoints are validated against.
 */

import {
  type Backend,
  checkpoint,
  type HostArray,
  isGradEnabled,
  noGrad,
  ops,
  type Tensor,
  tensor,
  tidy,
} from "@athanor/tensor";
import type { LoraAdapter } from "../lora/adapter.js";
import type {
  CausalLM,
  CausalLMInfo,
  ForwardOptions,
  ForwardResult,
  KVCache,
  StepDecoder,
} from "./causal-lm.js";
import type { ModelConfig } from "./config.js";
import {
  type DecodeInputs,
  type PositionTensors,
  type PreparedInputs,
  prepareInputs,
} from "./inputs.js";
import { StaticKVCache } from "./kv-cache.js";
import { CapturedStepDecoder } from "./step-decoder.js";

/** `ForwardOptions` plus batched multi-LoRA: one adapter (or none) per batch row. */
export interface TransformerForwardOptions extends ForwardOptions {
  /**
   * Row b is computed with `adapters[b]` (null: the base model): y = W x + s_b · B_b (A_b x),
   * one low-rank product per distinct adapter over its rows. Not with an attached adapter.
   */
  adapters?: readonly (LoraAdapter | null)[];
}

/** Name → shape of every parameter a config implies (HF names, HF storage layout). */
export type ParameterShapes = Map<string, number[]>;

/**
 * Storage dtype of a model's weight matrices: "f16" halves their memory (arithmetic stays
 * f32; norms and biases stay f32). See {@link TransformerLM.castWeights}.
 */
export type WeightDType = "f32" | "f16";

export abstract class TransformerLM<C extends ModelConfig = ModelConfig> implements CausalLM {
  readonly info: CausalLMInfo;
  /**
   * Recompute each block's activations during backward instead of keeping them (less memory
   * for training, about one more forward of compute). Only when recording gradients.
   */
  gradientCheckpointing = false;
  private _adapter: LoraAdapter | null = null;
  /** Per-row adapters of the forward in progress (`options.adapters`). */
  private rowAdapters: { adapter: LoraAdapter; rows: Tensor }[] | null = null;
  private readonly checked = new WeakSet<LoraAdapter>();
  private _merged = false;

  /**
   * `params` must hold exactly the tensors `parameterShapes()` lists, with those shapes (the
   * checkpoint loader checks this with clear errors; `create*` functions build random ones).
   */
  constructor(
    readonly config: C,
    protected readonly params: Map<string, Tensor>,
  ) {
    const expected = this.parameterShapes();
    for (const [name, shape] of expected) {
      const t = params.get(name);
      if (!t) throw new Error(`${config.modelType}: parameter ${name} is missing`);
      if (t.shape.join() !== shape.join())
        throw new Error(
          `${config.modelType}: parameter ${name} is ${t.describe()}, expected [${shape.join(", ")}]`,
        );
    }
    for (const name of params.keys()) {
      if (!expected.has(name)) throw new Error(`${config.modelType}: unexpected parameter ${name}`);
    }
    this.info = {
      modelType: config.modelType,
      vocabSize: config.vocabSize,
      maxPositions: config.maxPositions,
      eosTokenIds: [...config.eosTokenIds],
      bosTokenId: config.bosTokenId,
      padTokenId: config.padTokenId,
    };
  }

  /** Every parameter the config implies, in checkpoint order. */
  abstract parameterShapes(): ParameterShapes;
  /** Layers whose weights are stored [in, out] (GPT-2 Conv1D) rather than [out, in]. */
  protected abstract readonly transposedWeights: boolean;
  /** Number of KV heads and head size for the cache. */
  protected abstract readonly kvHeads: number;

  /**
   * The position-dependent inputs of a pass, as host values with their shapes, from host
   * positions [B·T] (row-major [B, T]): GPT-2's position ids, Llama's RoPE rows. A step decoder
   * writes them into its own tensors before each step (./step-decoder.ts).
   */
  abstract positionValues(
    positions: Int32Array,
    B: number,
    T: number,
  ): Record<string, { values: HostArray; shape: number[] }>;

  /** {@link positionValues} as tensors on `backend` (what `run` reads unless `inputs.decode` has them). */
  positionTensors(positions: Int32Array, B: number, T: number, backend: Backend): PositionTensors {
    const out: PositionTensors = {};
    for (const [name, { values, shape }] of Object.entries(this.positionValues(positions, B, T))) {
      const dtype = values instanceof Int32Array ? "i32" : "f32";
      out[name] = tensor(values, shape, { dtype, backend });
    }
    return out;
  }

  /** Runs the network on prepared inputs, returning logits [B, T, vocab]. */
  protected abstract run(
    inputIds: Tensor,
    inputs: PreparedInputs,
    cache: StaticKVCache | null,
  ): Tensor;

  parameters(): Map<string, Tensor> {
    return new Map(this.params);
  }

  /** The backend the parameters live on. */
  get backend(): Backend {
    return this.params.values().next().value!.backend;
  }

  /** One parameter by HF name (throws naming it when absent). */
  parameter(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new Error(`${this.config.modelType}: no parameter named ${name}`);
    return t;
  }

  /** The module paths a linear projection can have (LoRA targets), with [in, out] sizes. */
  linearModules(): Map<string, { inFeatures: number; outFeatures: number }> {
    const out = new Map<string, { inFeatures: number; outFeatures: number }>();
    for (const [name, shape] of this.parameterShapes()) {
      if (!name.endsWith(".weight") || shape.length !== 2) continue;
      const module = name.slice(0, -".weight".length);
      if (/(^|\.)(wte|wpe|embed_tokens|lm_head)$/.test(module)) continue;
      const [a, b] = shape;
      out.set(
        module,
        this.transposedWeights
          ? { inFeatures: a, outFeatures: b }
          : { inFeatures: b, outFeatures: a },
      );
    }
    return out;
  }

  forward(inputIds: Tensor, options: TransformerForwardOptions = {}): ForwardResult {
    if (options.adapters) return this.forwardPerRow(inputIds, options, options.adapters);
    let cache: StaticKVCache | null = null;
    if (options.cache) {
      if (!(options.cache instanceof StaticKVCache))
        throw new Error("forward: the cache must come from this model's createCache()");
      cache = options.cache;
    }
    const past = cache?.length ?? 0;
    const inputs = prepareInputs(inputIds, options, past, this.config.maxPositions);
    cache?.checkRoom(inputs.B, inputs.T);
    const logits = this.run(inputIds, inputs, cache);
    // A checkpointed block re-reads the mask in backward; the caller's scope frees it then.
    if (!this.gradientCheckpointing) inputs.mask?.dispose();
    cache?.advance(inputs.T);
    return { logits };
  }

  /**
   * One decode step for a step decoder (./step-decoder.ts): ids [B, 1], keys and values written
   * at `decode.slot`, attention over the cache's first `decode.span` positions under `mask`
   * [B, 1, 1, span] (additive), positions from `decode.positions`. Reads nothing on the host and does not
   * advance the cache (the decoder does), so it can be recorded once and replayed. Returns
   * logits [B, 1, vocab].
   */
  forwardStep(inputIds: Tensor, cache: StaticKVCache, decode: DecodeInputs, mask: Tensor): Tensor {
    const [B, T] = inputIds.shape;
    const inputs: PreparedInputs = {
      B,
      T,
      past: cache.length,
      positions: new Int32Array(0), // the decode inputs carry them
      mask,
      lastOnly: true,
      decode,
    };
    return this.run(inputIds, inputs, cache);
  }

  /**
   * A decoder that records a decode step the first time it runs at each attention span and
   * replays it for the following ones (on backends that can record: webgpu). See
   * ./step-decoder.ts.
   */
  createStepDecoder(cache: KVCache): StepDecoder {
    if (!(cache instanceof StaticKVCache))
      throw new Error("createStepDecoder: the cache must come from this model's createCache()");
    return new CapturedStepDecoder(this, cache);
  }

  private forwardPerRow(
    inputIds: Tensor,
    options: ForwardOptions,
    adapters: readonly (LoraAdapter | null)[],
  ): ForwardResult {
    if (this._adapter)
      throw new Error(
        `forward: adapter "${this._adapter.name}" is attached; detach it to pick adapters per row`,
      );
    const B = inputIds.shape[0];
    if (adapters.length !== B)
      throw new Error(`forward: ${adapters.length} adapters given for a batch of ${B} rows`);
    const groups = new Map<LoraAdapter, number[]>();
    adapters.forEach((a, row) => {
      if (!a) return;
      if (!this.checked.has(a)) {
        this.checkAdapter(a);
        this.checked.add(a);
      }
      groups.set(a, [...(groups.get(a) ?? []), row]);
    });
    this.rowAdapters = [...groups].map(([adapter, rows]) => ({
      adapter,
      rows: tensor(Int32Array.from(rows), [rows.length]),
    }));
    try {
      return this.forward(inputIds, {
        ...options,
        adapters: undefined,
      } as TransformerForwardOptions);
    } finally {
      for (const g of this.rowAdapters) g.rows.dispose();
      this.rowAdapters = null;
    }
  }

  createCache(
    batchSize: number,
    maxLength: number,
    options: { dtype?: "f32" | "f16" } = {},
  ): KVCache {
    if (maxLength > this.config.maxPositions)
      throw new Error(
        `createCache: maxLength ${maxLength} exceeds the model's ${this.config.maxPositions} positions`,
      );
    return new StaticKVCache(
      batchSize,
      this.config.numLayers,
      this.kvHeads,
      this.config.headDim,
      maxLength,
      options.dtype ?? "f32",
    );
  }

  // ---- LoRA ---------------------------------------------------------------------------------

  /** The attached adapter, if any. */
  get adapter(): LoraAdapter | null {
    return this._adapter;
  }
  /** Whether the attached adapter is merged into the base weights. */
  get merged(): boolean {
    return this._merged;
  }

  /** Throws unless every module of `adapter` is a linear layer of this model with fitting shapes. */
  checkAdapter(adapter: LoraAdapter): void {
    const modules = this.linearModules();
    for (const [path, w] of adapter.modules) {
      const m = modules.get(path);
      if (!m)
        throw new Error(
          `adapter "${adapter.name}" targets ${path}, which is not a linear layer of this model`,
        );
      const r = adapter.config.r;
      if (
        w.a.shape.join() !== [r, m.inFeatures].join() ||
        w.b.shape.join() !== [m.outFeatures, r].join()
      )
        throw new Error(
          `adapter "${adapter.name}": ${path}: lora_A ${w.a.describe()} / lora_B ${w.b.describe()} must be [${r}, ${m.inFeatures}] / [${m.outFeatures}, ${r}]`,
        );
    }
  }

  /** Attaches a LoRA adapter (applied in every forward until detached). */
  attachAdapter(adapter: LoraAdapter): void {
    if (this._adapter)
      throw new Error(`attachAdapter: adapter "${this._adapter.name}" is already attached`);
    this.checkAdapter(adapter);
    this._adapter = adapter;
    this._merged = false;
  }

  /** Detaches the adapter (unmerging it first if merged). Returns it. */
  detachAdapter(): LoraAdapter | null {
    if (this._merged) this.unmergeAdapter();
    const a = this._adapter;
    this._adapter = null;
    return a;
  }

  /** Adds scale · B A into the base weights (faster inference; training then sees merged weights). */
  mergeAdapter(): void {
    if (!this._adapter) throw new Error("mergeAdapter: no adapter attached");
    if (this._merged) return;
    this.applyDelta(1);
    this._merged = true;
  }

  /** Subtracts the merged adapter from the base weights again. */
  unmergeAdapter(): void {
    if (!this._adapter) throw new Error("unmergeAdapter: no adapter attached");
    if (!this._merged) return;
    this.applyDelta(-1);
    this._merged = false;
  }

  private applyDelta(sign: number): void {
    const adapter = this._adapter!;
    noGrad(() => {
      for (const [path, { a, b }] of adapter.modules) {
        const w = this.parameter(`${path}.weight`);
        const delta = ops.mul(ops.matmul(b, a), sign * adapter.scale); // [out, in]
        const next = ops.add(w, this.transposedWeights ? ops.transpose(delta) : delta);
        w.backend.copy(next._view("mergeAdapter"), w._view("mergeAdapter"));
        delta.dispose();
        next.dispose();
      }
    });
  }

  /** A linear projection by module path (weight, optional bias, attached LoRA). */
  protected proj(module: string, x: Tensor): Tensor {
    const w = this.parameter(`${module}.weight`);
    const bias = this.params.get(`${module}.bias`) ?? null;
    let y = this.transposedWeights ? ops.matmul(x, w) : ops.linear(x, w);
    if (bias) y = ops.add(y, bias);
    const lora = !this._merged ? this._adapter?.modules.get(module) : undefined;
    if (lora) {
      const low = ops.linear(ops.linear(x, lora.a), lora.b);
      y = ops.add(y, ops.mul(low, this._adapter!.scale));
    }
    for (const { adapter, rows } of this.rowAdapters ?? []) {
      const w = adapter.modules.get(module);
      if (!w) continue;
      const xs = ops.indexSelect(x, 0, rows);
      const low = ops.mul(ops.linear(ops.linear(xs, w.a), w.b), adapter.scale);
      y = ops.indexAdd(y, 0, rows, low);
    }
    return y;
  }

  /** [B, T, H·D] → [B, H, T, D]. */
  protected splitHeads(x: Tensor, H: number): Tensor {
    const [B, T] = x.shape;
    return ops.permute(ops.reshape(x, [B, T, H, this.config.headDim]), [0, 2, 1, 3]);
  }

  /** [B, H, T, D] → [B, T, H·D]. */
  protected mergeHeads(x: Tensor): Tensor {
    const [B, H, T, D] = x.shape;
    return ops.reshape(ops.permute(x, [0, 2, 1, 3]), [B, T, H * D]);
  }

  /** Attention over this step's keys/values (and the cache's), causal, with the padding mask. */
  protected attend(
    layer: number,
    q: Tensor,
    k: Tensor,
    v: Tensor,
    inputs: PreparedInputs,
    cache: StaticKVCache | null,
  ): Tensor {
    if (cache && isGradEnabled() && (k.requiresGrad || v.requiresGrad))
      throw new Error(
        "forward: the KV cache does not carry gradients to earlier positions; run decoding under noGrad(), or train without a cache",
      );
    const [kk, vv] = !cache
      ? [k, v]
      : inputs.decode
        ? cache.writeAt(layer, k, v, inputs.decode.slot, inputs.decode.span)
        : cache.update(layer, k, v);
    return ops.attention(q, kk, vv, { causal: true, mask: inputs.mask });
  }

  /**
   * Runs one transformer block, under gradient checkpointing when it is on and recording. The
   * block's intermediates are freed when it returns (what backward needs, the graph keeps).
   */
  protected block(h: Tensor, cache: StaticKVCache | null, body: (h: Tensor) => Tensor): Tensor {
    if (!this.gradientCheckpointing || cache || !isGradEnabled()) return tidy(() => body(h));
    // With frozen embeddings (LoRA) the block input needs a gradient for the recomputation
    // to reach the adapter inside; it is a fresh leaf, so asking for one is harmless.
    const input = h.requiresGrad ? h : h.requireGrad();
    return checkpoint(body, input);
  }

  /** Keeps only the last position of hidden states [B, T, E] when only its logits are wanted. */
  protected lastIfWanted(h: Tensor, inputs: PreparedInputs): Tensor {
    return inputs.lastOnly && inputs.T > 1 ? ops.slice(h, 1, inputs.T - 1, inputs.T) : h;
  }

  /** Storage dtype of the weight matrices (every parameter of rank ≥ 2). */
  get weightDType(): WeightDType {
    for (const t of this.params.values()) if (t.rank >= 2) return t.dtype === "f16" ? "f16" : "f32";
    return "f32";
  }

  /**
   * Converts every weight matrix (rank ≥ 2: projections, embeddings, the head) to `dtype`
   * storage in place, freeing the old tensors; norms and biases stay f32. An f16 model runs
   * forward, generates and trains LoRA adapters; full fine-tuning needs f32 weights. Tensors
   * taken from `parameters()` before the call are freed by it.
   */
  castWeights(dtype: WeightDType): void {
    const cast = new Map<Tensor, Tensor>();
    for (const [name, t] of this.params) {
      if (t.rank < 2 || t.dtype === dtype) continue;
      if (t.requiresGrad)
        throw new Error(
          `castWeights: ${name} requires grad (a Trainer is training the weights); finish training first`,
        );
      let next = cast.get(t);
      if (!next) {
        next = t.cast(dtype);
        cast.set(t, next);
      }
      this.params.set(name, next);
    }
    for (const old of cast.keys()) old.dispose();
  }

  /** Frees every parameter (and detaches the adapter). */
  dispose(): void {
    this._adapter = null;
    for (const t of new Set(this.params.values())) t.dispose();
  }
}
