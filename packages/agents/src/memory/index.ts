export * from "./list-memory.js";
export * from "./memory.js";
export * from "./sqlite-memory.js";
