export * from "./checkpointer.js";
export * from "./conformance.js";
export * from "./memory-checkpointer.js";
export * from "./sqlite-checkpointer.js";
