export { BYTE_LEVEL_ALPHABET, fromByteLevel, toByteLevel } from "./byte-level.js";
export { ChatTemplate, type ChatTemplateOptions, type ChatTurn } from "./chat-template.js";
export { TokenizerConfigError } from "./config-error.js";
export { compilePattern, GPT2_PATTERN } from "./regex.js";
export { type AddedToken, type DecodeOptions, type EncodeOptions, Tokenizer } from "./tokenizer.js";
export { type TrainBpeOptions, trainBpe } from "./train.js";
