export { type EvolveOptions, evolveExamples, requiredWords } from "./evolve.js";
export { type Example, expand, type GenerateOptions, generateExamples, rng } from "./generate.js";
export { normalizeQuestion, promptText } from "./normalize.js";
export { OFF_DOMAIN, OFF_DOMAIN_EVAL } from "./offdomain.js";
export { CLAUSE_FRAMES, NP_FRAMES, TEMPLATES, type Template } from "./templates.js";
