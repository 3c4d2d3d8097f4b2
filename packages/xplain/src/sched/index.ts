export * from "./analyze.js";
export * from "./explain.js";
export * from "./report.js";
export * from "./simulate.js";
