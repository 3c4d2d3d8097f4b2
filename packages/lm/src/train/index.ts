export {
  type Batch,
  type BatchOptions,
  DataLoader,
  type LoaderState,
  lmBatch,
  packTokens,
  type SftExample,
  seededRandom,
  sftBatch,
} from "./data.js";
export { type FitOptions, type FitResult, fit, progressLine } from "./fit.js";
export { type CausalLMLossOptions, causalLMLoss, countLabelTokens, IGNORE_INDEX } from "./loss.js";
export {
  type EvalResult,
  evaluate,
  evaluateAsync,
  type StepMetrics,
  Trainer,
  type TrainerOptions,
} from "./trainer.js";
