export * from "./traced.js";
export * from "./tracing.js";
