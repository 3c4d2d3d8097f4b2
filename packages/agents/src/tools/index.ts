export * from "./mcp.js";
export * from "./run-tools.js";
export * from "./serialize.js";
export * from "./tool.js";
