export * from "./assistant-agent.js";
export * from "./code-executor-agent.js";
export * from "./errors.js";
export * from "./handoff.js";
export * from "./model-context.js";
export * from "./user-proxy-agent.js";
