export { actionAutomaton, type GrammarState, signatures } from "./grammar.js";
export { DEFAULT_MODEL_DIR, type Prediction, type SlmAnswer, SlmModel } from "./slm.js";
export {
  DEFAULT_SHAPE,
  EOS,
  encodeExample,
  type ModelShape,
  PAD,
  type SlmMeta,
  saveSlm,
  type TrainOptions,
  type TrainResult,
  trainSlm,
} from "./train.js";
