/**
 * The causal language model interface: what generation, training, serving and RL use. GPT-2
 * and the Llama family implement it; so can any model with the same contract.
 *
 * Shapes: `inputIds` is an i32 tensor [B, T]. Batches of prompts with different lengths are
 * LEFT-padded: `attentionMask` [B, past + T] (f32 1 = real token, 0 = padding) hides the pads,
 * and positions count real tokens only (a pad does not advance the position).
 */
import type { Tensor } from "@athanor/tensor";

/** The architecture-independent facts generation needs. */
export interface CausalLMInfo {
  /** "gpt2", "llama", "qwen2", ... (config.json `model_type`). */
  modelType: string;
  vocabSize: number;
  /** Longest sequence the model supports (positions). */
  maxPositions: number;
  /** End-of-sequence token ids (config.json / generation_config.json). */
  eosTokenIds: number[];
  bosTokenId?: number;
  padTokenId?: number;
}

/**
 * Keys and values of past positions, per layer, for incremental decoding. Created by the
 * model (`createCache`), extended by each `forward` call that is given it.
 */
export interface KVCache {
  /** Number of positions already in the cache. */
  readonly length: number;
  readonly batchSize: number;
  /** Frees the cache's tensors. */
  dispose(): void;
}

/** A small [B, n] input read on the host: a tensor, or its values row-major. */
export type HostInput = Tensor | Float32Array | Int32Array | readonly number[];

export interface ForwardOptions {
  /** Past keys/values; the call appends this step's and reads all of them. */
  cache?: KVCache;
  /**
   * [B, past + T]: 1 for real tokens, 0 for (left) padding. Default: all ones. Masks and
   * positions are read on the host: give a host array (row-major) or a tensor on a backend
   * with synchronous reads (a GPU tensor here is refused with a clear error).
   */
  attentionMask?: HostInput;
  /**
   * Positions of the new tokens, i32 [B, T]. Default: derived from `attentionMask` (count of
   * real tokens before each one) or `past .. past + T - 1`.
   */
  positionIds?: HostInput;
  /**
   * "last": compute logits for the last position only ([B, 1, vocab]); what decoding needs,
   * and it skips the vocabulary projection of every prompt position. Default "all".
   */
  logitsFor?: "all" | "last";
}

export interface ForwardResult {
  /** f32 [B, T, vocab] ([B, 1, vocab] with `logitsFor: "last"`). */
  logits: Tensor;
}

export interface CausalLM {
  readonly info: CausalLMInfo;
  forward(inputIds: Tensor, options?: ForwardOptions): ForwardResult;
  /**
   * An empty cache for `batchSize` sequences of up to `maxLength` positions; `dtype` "f16"
   * stores the keys and values as f16 (half the memory; attention still computes in f32).
   */
  createCache(batchSize: number, maxLength: number, options?: { dtype?: "f32" | "f16" }): KVCache;
  /** Trainable parameters by Hugging Face name (e.g. `model.layers.0.self_attn.q_proj.weight`). */
  parameters(): Map<string, Tensor>;
  /**
   * A decoder of one token per sequence that records its steps once per attention span and
   * replays them (backends that can record work: webgpu). Optional: models without it decode
   * with `forward`.
   */
  createStepDecoder?(cache: KVCache): StepDecoder;
}

/**
 * One-token decode steps over a KV cache, recorded once and replayed (`capture` in
 * @athanor/tensor): after the first step the model code does not run on the host again.
 */
export interface StepDecoder {
  /**
   * Runs one token per row at the cache's current length and advances it: `ids` [B], their
   * `positions` [B], and `attentionMask` [B, cache maxLength] (1 real, 0 padding; only the
   * positions up to this step's are read; null: all real). Returns logits [B, 1, vocab],
   * rewritten by the next step: read them before it.
   */
  step(ids: Int32Array, positions: Int32Array, attentionMask: Float32Array | null): Tensor;
  /** Kernels the last step's recording issues per replay (0 before the first step). */
  readonly kernels: number;
  /**
   * The attention spans recorded so far: a step attends over the cache's first `span`
   * positions, the smallest power of two from 32 past its own (capped at the cache's length);
   * each span is recorded once, when a step first needs it.
   */
  readonly spans: readonly number[];
  /** Frees the recording and the decoder's input tensors (not the cache). */
  dispose(): void;
}
