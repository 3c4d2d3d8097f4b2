/**
 * Backend conformance: runs every op case (forward and backward) on a backend and on the
 * reference backend and compares the results. Framework-agnostic; `test/conformance.ts`
 * wraps it for Vitest as `runBackendConformance`.
 */

import type { Backend, DType } from "../backend.js";
import { tensor } from "../creation.js";
import { mul } from "../ops/elementwise.js";
import { sum } from "../ops/reduce.js";
import { Rng } from "../random.js";
import { ReferenceBackend } from "../reference/backend.js";
import { tidy } from "../scope.js";
import type { Tensor } from "../tensor.js";
import type { OpCase } from "./cases.js";
import { makeInputs } from "./cases.js";

export interface CaseOutputs {
  /** Forward output, then the gradient of each differentiable input (null if none). */
  values: (Float32Array | Int32Array | null)[];
  labels: string[];
}

const poisonedCache = new WeakMap<Backend, Backend>();

/**
 * A view of `backend` whose `alloc` fills every new storage with garbage (NaN for f32,
 * −2³¹+1 for i32), so a kernel that does not fully overwrite its output (or relies on zeroed
 * memory, which the frontend's buffer pool never guarantees) fails loudly.
 */
export function poisoned(backend: Backend): Backend {
  const cached = poisonedCache.get(backend);
  if (cached) return cached;
  const proxy = new Proxy(backend, {
    get(target, prop) {
      if (prop === "alloc") {
        return (dtype: DType, size: number) => {
          const s = target.alloc(dtype, size);
          if (size > 0) {
            const garbage = dtype === "i32" ? -2147483647 : Number.NaN;
            target.fill({ storage: s, shape: [size], strides: [1], offset: 0 }, garbage);
          }
          return s;
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  poisonedCache.set(backend, proxy);
  return proxy;
}

/**
 * Runs a case on `backend` (poisoned: see {@link poisoned}): forward, then backward of
 * Σ w ⊙ out with seeded weights; results are read back with `dataAsync`, so backends without
 * synchronous reads (WebGPU) work too.
 */
export async function runCase(c: OpCase, rawBackend: Backend, seed = 1): Promise<CaseOutputs> {
  const backend = poisoned(rawBackend);
  // Compute synchronously inside a scope, keep the results, then read them back
  // asynchronously (backends without synchronous reads, such as WebGPU, pass too).
  const { results, labels } = tidy(() => {
    const { leaves, args } = makeInputs(c, backend, seed);
    const out = c.fn(...args);
    const results: (Tensor | null)[] = [out];
    const labels = ["output"];
    if (c.grad !== false && out.requiresGrad) {
      const rng = new Rng(seed + 1000);
      const w = tensor(
        Float32Array.from({ length: out.size }, () => rng.normal()),
        out.shape,
        { backend },
      );
      sum(mul(out, w)).backward();
      leaves.forEach((l, i) => {
        if (!l.requiresGrad) return;
        results.push(l.grad); // taken from the leaf so disposing the leaf keeps it
        l.grad = null;
        labels.push(`grad of input ${i}`);
      });
    }
    return { results, labels };
  });
  try {
    const values = await Promise.all(results.map((t) => (t ? t.dataAsync() : null)));
    return { values, labels };
  } finally {
    for (const t of results) t?.dispose();
  }
}

/** Alias of {@link runCase} (which reads back asynchronously, so it serves GPU backends too). */
export const runCaseAsync = runCase;

/** Largest |a − b| / max(1, max |b|), or Infinity on a length / null mismatch. */
export function maxRelError(a: ArrayLike<number> | null, b: ArrayLike<number> | null): number {
  if (a === null || b === null) return a === b ? 0 : Number.POSITIVE_INFINITY;
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) {
      if (!(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return Number.POSITIVE_INFINITY;
      continue;
    }
    err = Math.max(err, d / scale);
  }
  return err;
}

export interface ConformanceFailure {
  label: string;
  error: number;
  tol: number;
}

/** Compares one case on `backend` against the reference; returns the failures (empty = ok). */
export async function compareCase(
  c: OpCase,
  backend: Backend,
  reference: Backend = new ReferenceBackend(),
): Promise<ConformanceFailure[]> {
  const got = await runCase(c, backend);
  const want = await runCase(c, reference);
  const tol = c.tol ?? 1e-4;
  const failures: ConformanceFailure[] = [];
  want.values.forEach((w, i) => {
    const err = maxRelError(got.values[i] ?? null, w);
    if (!(err <= tol)) failures.push({ label: want.labels[i], error: err, tol });
  });
  return failures;
}

/** Alias of {@link compareCase}. */
export const compareCaseAsync = compareCase;
