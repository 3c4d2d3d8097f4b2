export * from "./memory.js";
