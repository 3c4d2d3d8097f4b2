export * from "./approval.js";
export * from "./input-queue.js";
