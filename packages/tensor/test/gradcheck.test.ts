import { describe, expect, it } from "vitest";
import "../src/index.js";
import { gradcheck, gradcheckBackend, makeInputs, opCases } from "../src/testing/index.js";

describe("numerical gradient check of every differentiable op", () => {
  for (const c of opCases()) {
    if (c.grad === false) continue;
    it(c.name, () => {
      const { leaves, args } = makeInputs(c, gradcheckBackend(), 3);
      const viewOf = c.inputs.map((s) => s.view);
      const fn = (...ls: typeof leaves) => c.fn(...ls.map((l, i) => viewOf[i]?.(l) ?? l));
      void args;
      const r = gradcheck(fn, leaves, { rtol: c.rtol ?? 1e-4 });
      expect(r.ok, r.message).toBe(true);
    });
  }
});
