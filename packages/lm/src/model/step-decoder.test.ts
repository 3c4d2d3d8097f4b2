// The attention span of a recorded decode step (./step-decoder.ts): the smallest power of two
// from MIN_DECODE_SPAN past the step's position, capped at the cache's length. The decoder
// itself runs on the webgpu backend (src/webgpu.test.ts).
import { describe, expect, it } from "vitest";
import { decodeSpan, MIN_DECODE_SPAN } from "./step-decoder.js";

describe("decodeSpan", () => {
  it("doubles from the minimum span so that the step's own position is inside", () => {
    expect(MIN_DECODE_SPAN).toBe(32);
    expect(decodeSpan(0, 2048)).toBe(32);
    expect(decodeSpan(31, 2048)).toBe(32);
    expect(decodeSpan(32, 2048)).toBe(64);
    expect(decodeSpan(1000, 2048)).toBe(1024);
    expect(decodeSpan(1024, 2048)).toBe(2048);
  });

  it("never exceeds the cache, and a 2,048-position cache needs 7 spans", () => {
    expect(decodeSpan(0, 12)).toBe(12);
    expect(decodeSpan(70, 72)).toBe(72);
    const spans = new Set(Array.from({ length: 2048 }, (_, at) => decodeSpan(at, 2048)));
    expect([...spans]).toEqual([32, 64, 128, 256, 512, 1024, 2048]);
    for (let at = 0; at < 300; at++) expect(decodeSpan(at, 300)).toBeGreaterThan(at);
  });
});
