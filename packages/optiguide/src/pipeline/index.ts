export { comparePlans, type DecisionChange, describeChange, type PlanChange } from "./change.js";
export {
  type Answer,
  type AskEvent,
  editFromReply,
  OptiGuide,
  type OptiGuideOptions,
  parseVerdict,
  type Round,
} from "./optiguide.js";
export { INTERPRETER_PROMPT, SAFEGUARD_PROMPT, writerPrompt } from "./prompts.js";
export { pipelineSource } from "./source.js";
