/** Retry policy: exponential backoff with jitter, honouring Retry-After. */
import { abortError } from "./errors.js";

export interface RetryOptions {
  /** Retries after the first attempt (0 = try once). Default 4. */
  maxRetries?: number;
  /** Backoff before the first retry, before jitter. Default 500 ms. */
  initialDelayMs?: number;
  /** Upper bound of the exponential backoff. Default 20 s. */
  maxDelayMs?: number;
  /** A Retry-After longer than this ends the retries at once instead of waiting. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Random source in [0, 1) for the jitter (tests pass a constant). Default Math.random. */
  random?: () => number;
}

export type RetryPolicy = Required<RetryOptions>;

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  const policy: RetryPolicy = {
    maxRetries: options.maxRetries ?? 4,
    initialDelayMs: options.initialDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 20_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
    random: options.random ?? Math.random,
  };
  for (const key of ["maxRetries", "initialDelayMs", "maxDelayMs", "maxRetryAfterMs"] as const) {
    const value = policy[key];
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`retry.${key} must be a non-negative number, got ${value}`);
    }
  }
  if (!Number.isInteger(policy.maxRetries)) {
    throw new RangeError(`retry.maxRetries must be an integer, got ${policy.maxRetries}`);
  }
  return policy;
}

/**
 * The wait before retry number `retry` (1-based): `initial * 2^(retry-1)`, capped at
 * `maxDelayMs`, with "equal jitter" (a uniform factor in [0.5, 1)); never less than the
 * server's Retry-After.
 */
export function backoffDelay(policy: RetryPolicy, retry: number, retryAfterMs?: number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (retry - 1));
  const jittered = exponential * (0.5 + policy.random() / 2);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}

/**
 * Milliseconds to wait according to `retry-after-ms` (OpenAI) or `Retry-After` (seconds or an
 * HTTP date); undefined when absent or unreadable.
 */
export function parseRetryAfter(
  headers: { get(name: string): string | null } | undefined,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "") {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const retryAfter = headers.get("retry-after");
  if (retryAfter === null || retryAfter.trim() === "") return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Resolves after `ms`, or rejects with the abort error as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
