export { AdamW, type AdamWOptions } from "./adamw.js";
export { Optimizer, type OptimizerState } from "./optimizer.js";
export { clipGradNorm, type WarmupCosineOptions, warmupCosine } from "./schedule.js";
export { SGD, type SgdOptions } from "./sgd.js";
