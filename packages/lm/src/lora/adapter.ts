/**
 * The LoRA adapter representation shared by training, merging and serving: per target module
 * (HF module path, e.g. `model.layers.0.self_attn.q_proj`) the low-rank factors A [r, in] and
 * B [out, r], and one scale (α / r, or α / √r with rsLoRA). A model applies it as
 * y = W x + scale · B (A x). Serving can keep many adapters and pick one per request.
 */

import type { Tensor } from "@athanor/tensor";

export interface LoraConfig {
  r: number;
  alpha: number;
  /** Module names (last path component, e.g. "q_proj") or full module paths. */
  targetModules: string[];
  /** PEFT's other form: one regular expression that module paths must match in full. */
  targetRegex?: string;
  /** rsLoRA: scale α / √r instead of α / r. */
  useRslora: boolean;
  /** Dropout on the adapter input during training (PEFT `lora_dropout`; 0 here). */
  dropout: number;
}

export interface LoraWeights {
  /** [r, in] */
  a: Tensor;
  /** [out, r] */
  b: Tensor;
}

export interface LoraAdapter {
  name: string;
  config: LoraConfig;
  /** α / r (or α / √r with rsLoRA). */
  scale: number;
  /** Per module path. */
  modules: Map<string, LoraWeights>;
}

export function loraScale(config: Pick<LoraConfig, "r" | "alpha" | "useRslora">): number {
  return config.useRslora ? config.alpha / Math.sqrt(config.r) : config.alpha / config.r;
}
