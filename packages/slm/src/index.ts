export * from "./actions/index.js";
