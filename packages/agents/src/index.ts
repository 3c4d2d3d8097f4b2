export * from "./agent.js";
export * from "./agents/index.js";
export * from "./code/index.js";
export * from "./messages.js";
export * from "./model-client.js";
export * from "./models/index.js";
export * from "./teams/index.js";
export * from "./tools/index.js";
