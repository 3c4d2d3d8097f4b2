export * from "./executor.js";
export * from "./extract.js";
export * from "./languages.js";
export * from "./local.js";
export * from "./sandbox.js";
export * from "./sandbox-executor.js";
