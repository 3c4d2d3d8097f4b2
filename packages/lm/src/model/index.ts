export type {
  CausalLM,
  CausalLMInfo,
  ForwardOptions,
  ForwardResult,
  HostInput,
  KVCache,
  StepDecoder,
} from "./causal-lm.js";
export {
  type Gpt2Config,
  type LlamaConfig,
  type ModelConfig,
  ModelConfigError,
  modelConfigToJson,
  parseModelConfig,
  type RopeScaling,
} from "./config.js";
export {
  createModel,
  type InitOptions,
  type Model,
  modelFromParameters,
  parameterShapes,
} from "./create.js";
export { Gpt2LM } from "./gpt2.js";
export { StaticKVCache } from "./kv-cache.js";
export { LlamaLM } from "./llama.js";
export { ropeInverseFrequencies } from "./rope.js";
export {
  type ParameterShapes,
  type TransformerForwardOptions,
  TransformerLM,
  type WeightDType,
} from "./transformer.js";
