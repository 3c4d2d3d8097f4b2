export * from "./actions/index.js";
export { appOfMessages, SlmClient, type SlmClientOptions, slmEditSource } from "./client.js";
export * from "./data/index.js";
export * from "./model/index.js";
