import { describe, expect, it } from "vitest";
import "../src/index.js";
import type { View } from "../src/backend.js";
import { ReferenceBackend } from "../src/reference/backend.js";
import { compareCase, opCases } from "../src/testing/index.js";

/** A broken backend: its softmax leaves the last row of the output unwritten. */
class LazySoftmax extends ReferenceBackend {
  override softmax(x: View, out: View): void {
    const rows = x.shape[0];
    const take = (v: View): View => ({ ...v, shape: [rows - 1, ...v.shape.slice(1)] });
    super.softmax(take(x), take(out));
  }
}

/** A broken backend: matmul drops the last column of the inner product. */
class ShortMatmul extends ReferenceBackend {
  override matmul(a: View, b: View, out: View): void {
    const r = a.shape.length;
    const k = a.shape[r - 1];
    super.matmul(
      { ...a, shape: [...a.shape.slice(0, -1), k - 1] },
      { ...b, shape: [...b.shape.slice(0, -2), k - 1, b.shape[r - 1]] },
      out,
    );
  }
}

describe("the conformance harness catches broken backends", () => {
  const byName = (n: string) => {
    const c = opCases().find((x) => x.name === n);
    if (!c) throw new Error(`no case ${n}`);
    return c;
  };

  it("an output a kernel leaves unwritten (allocations are poisoned with NaN)", async () => {
    const failures = await compareCase(
      byName("softmax last [3,7]"),
      new LazySoftmax({ name: "lazy" }),
    );
    expect(failures.map((f) => f.label)).toContain("output");
    expect(failures[0].error).toBe(Number.POSITIVE_INFINITY);
  });

  it("a wrong result, in the forward and in the gradients", async () => {
    const failures = await compareCase(
      byName("matmul [5,3]@[3,7]"),
      new ShortMatmul({ name: "short" }),
    );
    expect(failures.map((f) => f.label)).toEqual(["output", "grad of input 0", "grad of input 1"]);
  });

  it("a correct backend passes", async () => {
    expect(
      await compareCase(byName("matmul [5,3]@[3,7]"), new ReferenceBackend({ name: "ok" })),
    ).toEqual([]);
  });
});
