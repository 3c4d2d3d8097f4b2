/** Building a model from a config: from given parameters, or randomly initialised (seeded). */

import { keep, Rng, randn, type Tensor, tensor } from "@athanor/tensor";
import type { ModelConfig } from "./config.js";
import { Gpt2LM, gpt2ParameterShapes } from "./gpt2.js";
import { LlamaLM, llamaParameterShapes } from "./llama.js";
import type { ParameterShapes } from "./transformer.js";

export type Model = Gpt2LM | LlamaLM;

/** Every parameter (HF name → shape) a config implies. */
export function parameterShapes(config: ModelConfig): ParameterShapes {
  return config.modelType === "gpt2" ? gpt2ParameterShapes(config) : llamaParameterShapes(config);
}

/** A model over the given parameters (validated against the config). */
export function modelFromParameters(config: ModelConfig, params: Map<string, Tensor>): Model {
  return config.modelType === "gpt2" ? new Gpt2LM(config, params) : new LlamaLM(config, params);
}

export interface InitOptions {
  seed?: number;
  /** Standard deviation of weight matrices (HF `initializer_range`, default 0.02). */
  std?: number;
}

/**
 * A randomly initialised model like `transformers`' `_init_weights`: matrices N(0, std), norm
 * weights 1, biases 0; GPT-2's residual projections (c_proj) scaled by 1/√(2·layers).
 */
export function createModel(config: ModelConfig, options: InitOptions = {}): Model {
  const rng = new Rng(options.seed ?? 0);
  const std = options.std ?? 0.02;
  const params = new Map<string, Tensor>();
  for (const [name, shape] of parameterShapes(config)) {
    let t: Tensor;
    if (shape.length === 1) {
      const isNormWeight = name.endsWith(".weight");
      t = tensor(new Float32Array(shape[0]).fill(isNormWeight ? 1 : 0), shape);
    } else {
      const s =
        config.modelType === "gpt2" && name.endsWith(".c_proj.weight")
          ? std / Math.sqrt(2 * config.numLayers)
          : std;
      t = randn(shape, { std: s, rng });
    }
    params.set(name, keep(t));
  }
  return modelFromParameters(config, params);
}
