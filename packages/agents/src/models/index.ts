// The loopback Chat Completions server lives in ../testing; it is re-exported here so other
// packages' tests and offline examples can import it from "@athanor/agents".
export * from "../testing/index.js";
export * from "./cache.js";
export * from "./canonical.js";
export * from "./env.js";
export * from "./errors.js";
export * from "./openai-client.js";
export * from "./recording.js";
export * from "./replay.js";
export {
  backoffDelay,
  parseRetryAfter,
  type RetryOptions,
  type RetryPolicy,
  retryPolicy,
} from "./retry.js";
