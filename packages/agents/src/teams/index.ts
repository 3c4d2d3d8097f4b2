export * from "./base-group-chat.js";
export * from "./graph.js";
export * from "./round-robin.js";
export * from "./scripted.js";
export * from "./selector.js";
export * from "./sequential.js";
export * from "./swarm.js";
export * from "./team.js";
