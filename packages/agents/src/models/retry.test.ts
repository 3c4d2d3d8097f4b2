import { describe, expect, it } from "vitest";
import { backoffDelay, parseRetryAfter, retryPolicy, sleep } from "./retry.js";

const headers = (h: Record<string, string>) => new Headers(h);

describe("retry policy", () => {
  it("backs off exponentially with jitter, capped, never below Retry-After", () => {
    const low = retryPolicy({ initialDelayMs: 100, maxDelayMs: 1000, random: () => 0 });
    const high = retryPolicy({ initialDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(low, n))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(high, n))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(low, 1, 3000)).toBe(3000);
  });

  it("parses retry-after-ms, Retry-After seconds and HTTP dates", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter(headers({ "retry-after-ms": "250" }))).toBe(250);
    expect(parseRetryAfter(headers({ "retry-after": "2" }))).toBe(2000);
    expect(parseRetryAfter(headers({ "retry-after": "Thu, 01 Jan 2026 00:00:05 GMT" }), now)).toBe(
      5000,
    );
    expect(parseRetryAfter(headers({ "retry-after": "soon" }))).toBeUndefined();
    expect(parseRetryAfter(headers({}))).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it("validates its options", () => {
    expect(() => retryPolicy({ maxRetries: 1.5 })).toThrow(/integer/);
    expect(() => retryPolicy({ initialDelayMs: Number.NaN })).toThrow(/initialDelayMs/);
  });

  it("sleeps until aborted", async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort();
    await expect(pending).rejects.toThrow(/aborted/);
    await expect(sleep(1)).resolves.toBeUndefined();
  });
});
