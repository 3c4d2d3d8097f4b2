export { type ChoiceState, choiceAutomaton, choiceConstraint } from "./choices.js";
export {
  type AllowedTokens,
  type AutomatonConstraintOptions,
  automatonConstraint,
  type ByteAutomaton,
  ConstraintError,
  type TokenConstraint,
} from "./constraint.js";
export { IncrementalDetokenizer } from "./detokenizer.js";
export {
  type FinishReason,
  type GenerateOptions,
  type Generation,
  type GenerationBatch,
  type GenerationStats,
  generate,
  generateAsync,
  type Prompt,
  streamGenerate,
  type TokenEvent,
} from "./generate.js";
export {
  JsonSchemaError,
  type JsonState,
  jsonSchemaAutomaton,
  jsonSchemaConstraint,
} from "./json-schema.js";
export {
  applyRepetitionPenalty,
  argmax,
  type SamplingOptions,
  selectToken,
} from "./sampling.js";
export { StopMatcher } from "./stop.js";
export { TokenVocabulary, type TrieNode } from "./vocabulary.js";
