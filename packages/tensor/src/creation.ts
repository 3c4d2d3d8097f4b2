/** Creating tensors: from data, constants, ranges and seeded random values. */

import type { Backend, DType, HostArray } from "./backend.js";
import { shapeSize } from "./backend.js";
import { refuseInCapture } from "./capture.js";
import { decode } from "./dtype.js";
import { empty } from "./ops/util.js";
import { globalRng, type Rng } from "./random.js";
import { getBackend } from "./registry.js";
import type { Tensor } from "./tensor.js";

export interface CreateOptions {
  dtype?: DType;
  backend?: Backend;
}

/**
 * Creates an f32 tensor from bf16 or f16 bits (a storage format: values are converted to f32
 * on load).
 */
export function fromHalf(
  bits: Uint16Array,
  shape: readonly number[],
  format: "bf16" | "f16",
  options: { backend?: Backend } = {},
): Tensor {
  return tensor(decode(bits, format), shape, { ...options, dtype: "f32" });
}

type Nested = number | boolean | readonly Nested[];

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let d: Nested = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    d = d[0];
  }
  return shape;
}

function flattenNested(data: Nested, shape: readonly number[], out: number[], dim = 0): void {
  if (dim === shape.length) {
    if (Array.isArray(data)) throw new Error("tensor: ragged nested array");
    out.push(Number(data));
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new Error(`tensor: ragged nested array (expected length ${shape[dim]} at depth ${dim})`);
  }
  for (const v of data) flattenNested(v, shape, out, dim + 1);
}

/**
 * Creates a tensor from nested arrays, a flat typed array / array plus `shape`, or a number.
 * dtype defaults to i32 for Int32Array, else f32.
 */
export function tensor(
  data: Nested | HostArray | readonly number[],
  shape?: readonly number[],
  options: CreateOptions = {},
): Tensor {
  let flat: ArrayLike<number>;
  let s: readonly number[];
  if (data instanceof Float32Array || data instanceof Int32Array) {
    flat = data;
    s = shape ?? [data.length];
  } else if (shape) {
    const tmp: number[] = [];
    flattenNested(data as Nested, inferShape(data as Nested), tmp);
    flat = tmp;
    s = shape;
  } else {
    s = inferShape(data as Nested);
    const tmp: number[] = [];
    flattenNested(data as Nested, s, tmp);
    flat = tmp;
  }
  if (shapeSize(s) !== flat.length) {
    throw new Error(`tensor: ${flat.length} values do not fill shape [${s.join(", ")}]`);
  }
  const dtype = options.dtype ?? (data instanceof Int32Array ? "i32" : "f32");
  const t = empty(s, dtype, options.backend ?? getBackend(), "tensor");
  const host =
    dtype !== "i32"
      ? flat instanceof Float32Array
        ? flat
        : Float32Array.from(flat)
      : flat instanceof Int32Array
        ? flat
        : Int32Array.from(flat, Math.trunc);
  if (host.length > 0) t.backend.write(t._buf.storage!, host);
  return t;
}

/** Alias of `tensor` for flat data with an explicit shape. */
export function fromArray(
  data: HostArray | readonly number[],
  shape: readonly number[],
  options: CreateOptions = {},
): Tensor {
  return tensor(data, shape, options);
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  const t = empty(shape, options.dtype ?? "f32", options.backend ?? getBackend(), "full");
  if (t.size > 0) t.backend.fill(t._view("full"), value);
  return t;
}

export function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 0, options);
}

export function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
}

export function zerosLike(t: Tensor): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, backend: t.backend });
}

export function onesLike(t: Tensor): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, backend: t.backend });
}

/** start, start+step, ... < end (one argument: 0..end). dtype i32 if all arguments are integers. */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, start] : [start, end];
  if (step === 0) throw new Error("arange: step must be nonzero");
  const n = Math.max(0, Math.ceil((e - s) / step));
  const dtype = options.dtype ?? (Number.isInteger(s) && Number.isInteger(step) ? "i32" : "f32");
  const vals = dtype === "i32" ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) vals[i] = s + i * step;
  return tensor(vals, [n], { ...options, dtype });
}

export interface RandomOptions extends CreateOptions {
  /** Generator to draw from (default: the global one, see `manualSeed`). */
  rng?: Rng;
}

/** Normal samples with `mean` and `std`. */
export function randn(
  shape: readonly number[],
  options: RandomOptions & { mean?: number; std?: number } = {},
): Tensor {
  refuseInCapture("randn", "random");
  const rng = options.rng ?? globalRng();
  const n = shapeSize(shape);
  const vals = new Float32Array(n);
  const m = options.mean ?? 0;
  const sd = options.std ?? 1;
  for (let i = 0; i < n; i++) vals[i] = m + sd * rng.normal();
  return tensor(vals, shape, { backend: options.backend, dtype: "f32" });
}

/** Uniform samples in [low, high). */
export function uniform(
  shape: readonly number[],
  low = 0,
  high = 1,
  options: RandomOptions = {},
): Tensor {
  refuseInCapture("uniform", "random");
  const rng = options.rng ?? globalRng();
  const n = shapeSize(shape);
  const vals = new Float32Array(n);
  for (let i = 0; i < n; i++) vals[i] = low + (high - low) * rng.next();
  return tensor(vals, shape, { backend: options.backend, dtype: "f32" });
}

/** Uniform integers in [low, high) (i32). */
export function randint(
  shape: readonly number[],
  low: number,
  high: number,
  options: RandomOptions = {},
): Tensor {
  refuseInCapture("randint", "random");
  const rng = options.rng ?? globalRng();
  const n = shapeSize(shape);
  const vals = new Int32Array(n);
  for (let i = 0; i < n; i++) vals[i] = low + rng.int(high - low);
  return tensor(vals, shape, { backend: options.backend, dtype: "i32" });
}
