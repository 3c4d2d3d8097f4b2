/**
 * Numerical gradient check: compares autograd gradients with central finite differences,
 * on the f64 reference backend so rounding does not drown the differences.
 */

import { noGrad } from "../autograd.js";
import { shapeSize } from "../backend.js";
import { tensor } from "../creation.js";
import { mul } from "../ops/elementwise.js";
import { sum } from "../ops/reduce.js";
import { Rng } from "../random.js";
import { ReferenceBackend } from "../reference/backend.js";
import { tidy } from "../scope.js";
import type { Tensor } from "../tensor.js";

let f64Backend: ReferenceBackend | null = null;

/** The shared f64 reference backend used by gradient checks. */
export function gradcheckBackend(): ReferenceBackend {
  if (!f64Backend) f64Backend = new ReferenceBackend({ f64: true });
  return f64Backend;
}

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** Largest |analytic − numeric| / (atol + rtol·|numeric|) over all checked elements. */
  worst: number;
  message: string;
}

/**
 * Checks d(Σ w ⊙ fn(inputs))/d(input) for every f32 input with `requiresGrad`, element by
 * element. Inputs must live on `gradcheckBackend()`.
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: GradcheckOptions = {},
): GradcheckResult {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-6;
  const rtol = options.rtol ?? 1e-4;
  const b = gradcheckBackend();
  for (const x of inputs) {
    if (x.backend !== b) throw new Error("gradcheck: inputs must be created on gradcheckBackend()");
  }
  const rng = new Rng(options.seed ?? 7);
  const probe = tidy(() => noGrad(() => fn(...inputs)));
  const w = tensor(
    Float32Array.from({ length: probe.size }, () => rng.normal()),
    probe.shape,
    { backend: b },
  );
  probe.dispose();
  const loss = (): number =>
    tidy(() => noGrad(() => b.readF64(sum(mul(fn(...inputs), w))._view("gradcheck"))[0]));
  for (const x of inputs) x.zeroGrad();
  tidy(() => {
    const l = sum(mul(fn(...inputs), w));
    l.backward();
  });
  let worst = 0;
  let message = "ok";
  inputs.forEach((x, k) => {
    if (!x.requiresGrad) return;
    const analytic = x.grad ? b.readF64(x.grad._view("gradcheck")) : new Float64Array(x.size);
    const storage = x._view("gradcheck").storage;
    const offs = offsetsOf(x);
    for (let i = 0; i < offs.length; i++) {
      const o = offs[i];
      const orig = b.peek(storage, o);
      b.poke(storage, o, orig + eps);
      const lp = loss();
      b.poke(storage, o, orig - eps);
      const lm = loss();
      b.poke(storage, o, orig);
      const numeric = (lp - lm) / (2 * eps);
      const ratio = Math.abs(analytic[i] - numeric) / (atol + rtol * Math.abs(numeric));
      if (ratio > worst) {
        worst = ratio;
        if (ratio > 1)
          message = `input ${k} ${x.describe()} element ${i}: analytic ${analytic[i]} vs numeric ${numeric}`;
      }
    }
  });
  for (const x of inputs) x.zeroGrad();
  w.dispose();
  return { ok: worst <= 1, worst, message };
}

function offsetsOf(x: Tensor): number[] {
  const n = shapeSize(x.shape);
  const out: number[] = [];
  const idx = new Array<number>(x.rank).fill(0);
  for (let i = 0; i < n; i++) {
    let o = x.offset;
    for (let d = 0; d < x.rank; d++) o += idx[d] * x.strides[d];
    out.push(o);
    for (let d = x.rank - 1; d >= 0; d--) {
      if (++idx[d] < x.shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}
