export * from "./tokenizer/index.js";
