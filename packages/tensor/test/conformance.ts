/**
 * Reusable backend conformance suite (Vitest). A backend's test file calls
 *
 * ```ts
 * import { runBackendConformance } from "../../test/conformance.js";
 * runBackendConformance("cpu", () => new CpuBackend());
 * ```
 *
 * and every op case (forward and gradients; odd shapes, non-contiguous views) is compared with
 * the reference backend, plus basic storage behaviour.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../src/backend.js";
import { compareCase, opCases } from "../src/testing/index.js";

export interface ConformanceOptions {
  /** Tolerance multiplier for every case (default 1). */
  tolScale?: number;
  /** Case names to skip, with a reason each (reported as skipped tests). */
  skip?: Record<string, string>;
}

export function runBackendConformance(
  name: string,
  factory: () => Backend | Promise<Backend>,
  options: ConformanceOptions = {},
): void {
  describe(`backend conformance: ${name}`, () => {
    // Created in beforeAll so that asynchronously created backends (WebGPU) work too.
    let backend: Backend;
    beforeAll(async () => {
      backend = await factory();
    });
    afterAll(() => backend?.dispose?.());

    it("writes and reads storage, strided reads", async () => {
      const s = backend.alloc("f32", 6);
      backend.write(s, Float32Array.from([1, 2, 3, 4, 5, 6]));
      const t = { storage: s, shape: [3, 2], strides: [1, 3], offset: 0 };
      expect(Array.from(await backend.read(t))).toEqual([1, 4, 2, 5, 3, 6]);
      if (backend.readSync)
        expect(
          Array.from(backend.readSync({ storage: s, shape: [2], strides: [2], offset: 1 })),
        ).toEqual([2, 4]);
      const i = backend.alloc("i32", 3);
      backend.write(i, Int32Array.from([7, -8, 9]));
      expect(
        Array.from(await backend.read({ storage: i, shape: [3], strides: [1], offset: 0 })),
      ).toEqual([7, -8, 9]);
      backend.free(s);
      backend.free(i);
    });

    for (const c of opCases()) {
      const reason = options.skip?.[c.name];
      if (reason) {
        it.skip(`${c.name} (skipped: ${reason})`, () => {});
        continue;
      }
      it(c.name, async () => {
        const scaled = { ...c, tol: (c.tol ?? 1e-4) * (options.tolScale ?? 1) };
        // Results are read back asynchronously, so GPU backends (no readSync) work too.
        const failures = await compareCase(scaled, backend);
        expect(
          failures,
          failures.map((f) => `${f.label}: error ${f.error} > ${f.tol}`).join("; "),
        ).toEqual([]);
      });
    }
  });
}
