import { randn } from "@athanor/tensor";
import { expect, test } from "vitest";
import { maxAbsDiff } from "../testing/reference.js";
import { applyRope, RopeTables, ropeInverseFrequencies, ropeRows } from "./rope.js";

test("the fused RoPE step equals ops.rope, forward and backward", () => {
  const tables = new RopeTables(ropeInverseFrequencies(8, 10000, { type: "default" }));
  const positions = Int32Array.from([0, 1, 2, 7, 3, 4, 5, 100]);
  const x1 = randn([2, 3, 4, 8]).requireGrad();
  const rows = ropeRows(tables, positions, 2, 4, x1.backend);
  const x2 = randn([2, 3, 4, 8]);
  x2.backend.copy(x1._view("t"), x2._view("t"));
  x2.requireGrad();
  const w = randn([2, 3, 4, 8]);
  const a = applyRope(x1, rows, true);
  const b = applyRope(x2, rows, false);
  expect(maxAbsDiff(a, b)).toBeLessThan(1e-6);
  a.mul(w).sum().backward();
  b.mul(w).sum().backward();
  expect(maxAbsDiff(x1.grad!, x2.grad!)).toBeLessThan(1e-6);
});

test("llama3 scaling keeps high frequencies, divides low ones, smooths between", () => {
  const base = ropeInverseFrequencies(24, 50000, { type: "default" });
  const scaled = ropeInverseFrequencies(24, 50000, {
    type: "llama3",
    factor: 8,
    lowFreqFactor: 1,
    highFreqFactor: 4,
    originalMaxPositions: 32,
  });
  expect(scaled[0]).toBe(base[0]); // wavelength 2π < 8
  expect(scaled[11]).toBeCloseTo(base[11] / 8, 12); // wavelength ≫ 32
  expect(scaled[1]).toBeLessThan(base[1]);
  expect(scaled[1]).toBeGreaterThan(base[1] / 8);
  expect(ropeInverseFrequencies(8, 1e4, { type: "linear", factor: 2 })[1]).toBeCloseTo(
    base.length && 1 / 1e4 ** (2 / 8) / 2,
    6,
  );
});
