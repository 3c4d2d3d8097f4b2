/** bf16 / f16 storage-format conversion (round to nearest even), used on load and store. */

import type { DType, HostArray, StorageFormat } from "./backend.js";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 → bf16 bits, round to nearest even; NaN stays NaN. */
export function f32ToBf16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const x = u32[0];
    if ((x & 0x7fffffff) > 0x7f800000) out[i] = (x >>> 16) | 0x40;
    else out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

export function bf16ToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const ou = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) ou[i] = bits[i] << 16;
  return out;
}

/** f32 → IEEE half bits, round to nearest even, with subnormals, inf and NaN. */
export function f32ToF16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const x = u32[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && h & 1)) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
    out[i] = sign | h;
  }
  return out;
}

export function f16ToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) out[i] = sign * m * 2 ** -24;
    else if (e === 0x1f) out[i] = m ? Number.NaN : sign * Infinity;
    else out[i] = sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return out;
}

/**
 * Rounds f32 values to the nearest f16 (ties to even; beyond ±65504 to ±inf), in place: the
 * values an f16 tensor holds on backends that keep f16 in f32 slots.
 */
export function roundToF16<T extends Float32Array | Float64Array>(values: T): T {
  values.set(f16ToF32(f32ToF16(values)));
  return values;
}

/** Bytes per element of a storage format. */
export function formatBytes(format: StorageFormat): number {
  return format === "f16" || format === "bf16" ? 2 : 4;
}

/**
 * Host values as the host array of a compute dtype: Int32Array for i32 (numbers truncated
 * toward zero), Float32Array otherwise (f16 storage takes f32 host values); returned as is
 * when already that array.
 */
export function hostArray(dtype: DType, values: ArrayLike<number>): HostArray {
  if (dtype === "i32")
    return values instanceof Int32Array ? values : Int32Array.from(values, Math.trunc);
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

/** Encodes host values into a storage format (f32/i32 arrays are returned as is or copied). */
export function encode(values: HostArray, format: StorageFormat): HostArray | Uint16Array {
  switch (format) {
    case "bf16":
      return f32ToBf16(values);
    case "f16":
      return f32ToF16(values);
    case "f32":
    case "i32":
      return hostArray(format, values);
  }
}

/** Decodes a storage format back to the compute dtype's host array. */
export function decode(data: HostArray | Uint16Array, format: StorageFormat): HostArray {
  if (format === "bf16") return bf16ToF32(data as Uint16Array);
  if (format === "f16") return f16ToF32(data as Uint16Array);
  return data as HostArray;
}

/** The dtype a storage format loads as by default (f16 and bf16 load as f32). */
export function computeDType(format: StorageFormat): DType {
  return format === "i32" ? "i32" : "f32";
}
