export * from "./analyze.js";
export * from "./explain.js";
export * from "./family.js";
export * from "./metaopt.js";
export * from "./packing.js";
export * from "./report.js";
