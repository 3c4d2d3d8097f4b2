import { describe, expect, it } from "vitest";
import { canonicalJson, firstDifference, requestData, requestHash } from "./canonical.js";

describe("canonical requests", () => {
  it("sorts keys, drops undefined and the signal", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: undefined }], c: 2 } })).toBe(
      '{"a":{"c":2,"d":[1,{"z":1}]},"b":1}',
    );
    const data = requestData({
      messages: [],
      temperature: undefined,
      signal: new AbortController().signal,
    });
    expect(data).toEqual({ messages: [] });
  });

  it("hashes equal requests equally and includes the model when given", () => {
    const a = requestHash({ messages: [{ role: "user", content: "x" }], temperature: 0 });
    const b = requestHash({
      temperature: 0,
      messages: [{ content: "x", role: "user" }],
      signal: AbortSignal.abort(),
    });
    expect(a).toBe(b);
    expect(requestHash({ messages: [] }, "m1")).not.toBe(requestHash({ messages: [] }, "m2"));
    expect(requestHash({ messages: [] }, "m1")).not.toBe(
      requestHash({ messages: [], seed: 1 }, "m1"),
    );
  });

  it("names the first difference briefly", () => {
    expect(firstDifference({ a: [1, 2] }, { a: [1, 2] })).toBeUndefined();
    expect(firstDifference({ a: [1, 2] }, { a: [1, 3] })).toBe(
      "request.a[1]: expected 2, received 3",
    );
    expect(firstDifference({ a: [1] }, { a: [1, 2] })).toBe(
      "request.a: expected 1 items, received 2",
    );
    expect(firstDifference({ a: 1 }, { a: 1, b: "x".repeat(200) })).toMatch(
      /^request.b: expected nothing, received "x+\.\.\.$/,
    );
  });
});
