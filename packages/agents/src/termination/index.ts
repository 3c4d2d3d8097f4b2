export * from "./conditions.js";
export * from "./termination.js";
