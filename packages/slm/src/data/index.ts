export { type EvolveOptions, evolveExamples, requiredWords } from "./evolve.js";
export { type Example, expand, type GenerateOptions, generateExamples, rng } from "./generate.js";
export {
  type Delexicalized,
  delexicalize,
  delexicalizeAction,
  normalizeQuestion,
  promptOf,
  promptText,
  relexicalizeAction,
} from "./normalize.js";
export { OFF_DOMAIN, OFF_DOMAIN_EVAL } from "./offdomain.js";
export { CLAUSE_FRAMES, NP_FRAMES, TEMPLATES, type Template } from "./templates.js";
