export * from "./checkpoint/index.js";
export * from "./data/index.js";
export * from "./generate/index.js";
export * from "./lora/index.js";
export * from "./model/index.js";
export * from "./tokenizer/index.js";
export * from "./train/index.js";
