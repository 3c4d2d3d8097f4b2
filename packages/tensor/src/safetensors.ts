/**
 * safetensors read / write (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length, a JSON header `{name: {dtype, shape, data_offsets}, __metadata__}`
 * and the raw little-endian data. Reads F32, F16, BF16 (→ f32), I32, I64 (→ i32 when every
 * value fits), F64 (→ f32); writes f32, f16, bf16, i32.
 */

import type { Backend, HostArray, StorageFormat } from "./backend.js";
import { shapeSize } from "./backend.js";
import { tensor } from "./creation.js";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./dtype.js";
import { nodeImport } from "./node-import.js";
import type { Tensor } from "./tensor.js";

export interface SafetensorsFile {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, F64: 8 };
const FORMAT_TAG: Record<StorageFormat, string> = {
  f32: "F32",
  f16: "F16",
  bf16: "BF16",
  i32: "I32",
};
const MAX_HEADER = 100 * 1024 * 1024;

export interface SerializeOptions {
  metadata?: Record<string, string>;
  /**
   * Storage format for float tensors: one for all, or per tensor name (default: "f32" for f32
   * tensors, "f16" for f16 ones).
   */
  format?: StorageFormat | ((name: string, t: Tensor) => StorageFormat);
}

export interface ParseOptions {
  backend?: Backend;
  /**
   * The dtype of each float tensor (stored as F32, F16, BF16 or F64): "f32" (the default) or
   * "f16" (f16 storage, e.g. a model's weights for inference). Given the tensor's name, shape
   * and stored dtype tag.
   */
  floatDType?: (name: string, shape: readonly number[], stored: string) => "f32" | "f16";
}

/** Serializes named tensors (read synchronously: CPU backends; see serializeSafetensorsAsync). */
export function serializeSafetensors(
  tensors: Record<string, Tensor>,
  options: SerializeOptions = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  return serializeValues(
    tensors,
    names.map((n) => tensors[n].data()),
    options,
  );
}

/** Serializes named tensors from any backend (GPU tensors are read back asynchronously). */
export async function serializeSafetensorsAsync(
  tensors: Record<string, Tensor>,
  options: SerializeOptions = {},
): Promise<Uint8Array> {
  const names = Object.keys(tensors).sort();
  const values = await Promise.all(names.map((n) => tensors[n].dataAsync()));
  return serializeValues(tensors, values, options);
}

/** The file bytes of `tensors` whose host values (in sorted-name order) are `values`. */
function serializeValues(
  tensors: Record<string, Tensor>,
  values: HostArray[],
  options: SerializeOptions,
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (options.metadata) {
    for (const [k, v] of Object.entries(options.metadata)) {
      if (typeof v !== "string")
        throw new Error(`serializeSafetensors: metadata "${k}" must be a string`);
    }
    header.__metadata__ = options.metadata;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [i, name] of names.entries()) {
    const t = tensors[name];
    let format: StorageFormat =
      t.dtype === "i32"
        ? "i32"
        : typeof options.format === "function"
          ? options.format(name, t)
          : (options.format ?? (t.dtype === "f16" ? "f16" : "f32"));
    if (t.dtype === "i32") format = "i32";
    const raw = encodeRaw(values[i], format);
    header[name] = {
      dtype: FORMAT_TAG[format],
      shape: [...t.shape],
      data_offsets: [offset, offset + raw.byteLength],
    };
    chunks.push(raw);
    offset += raw.byteLength;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  const pad = (8 - (headerBytes.byteLength % 8)) % 8;
  if (pad) {
    json += " ".repeat(pad);
    headerBytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.byteLength;
  for (const c of chunks) {
    out.set(c, p);
    p += c.byteLength;
  }
  return out;
}

function encodeRaw(values: HostArray, format: StorageFormat): Uint8Array {
  const arr = format === "bf16" ? f32ToBf16(values) : format === "f16" ? f32ToF16(values) : values;
  // Typed arrays are little-endian on every platform Node and browsers run on.
  return new Uint8Array(arr.buffer.slice(arr.byteOffset, arr.byteOffset + arr.byteLength));
}

/** Parses a safetensors buffer into tensors on `backend` (default: the current backend). */
export function parseSafetensors(
  bytes: Uint8Array,
  options: ParseOptions & { source?: string } = {},
): SafetensorsFile {
  // A Node Buffer's slice() shares memory (and its .buffer may be a larger pool): view it as
  // a plain Uint8Array, whose slice() copies.
  if (bytes.constructor !== Uint8Array)
    bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const src = options.source ?? "safetensors";
  const fail = (msg: string): never => {
    throw new Error(`${src}: ${msg}`);
  };
  if (bytes.byteLength < 8)
    fail(`truncated: ${bytes.byteLength} bytes, the 8-byte header length is missing`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) fail(`corrupt: header length ${n64} exceeds ${MAX_HEADER} bytes`);
  const n = Number(n64);
  if (8 + n > bytes.byteLength)
    fail(`truncated: header says ${n} bytes but only ${bytes.byteLength - 8} follow`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`corrupt header (not valid UTF-8 JSON): ${(e as Error).message}`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header))
    fail("corrupt header: not a JSON object");
  const dataStart = 8 + n;
  const dataLen = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: Record<string, Tensor> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (!entry || typeof entry !== "object")
        fail("corrupt header: __metadata__ must be an object");
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`corrupt header: metadata "${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== "object") fail(`corrupt header: entry "${name}" is not an object`);
    if (typeof e.dtype !== "string" || !(e.dtype in DTYPE_BYTES)) {
      fail(
        `tensor "${name}": unsupported dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(", ")})`,
      );
    }
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(`tensor "${name}": invalid shape ${JSON.stringify(e.shape)}`);
    }
    const off = e.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((d) => Number.isInteger(d) && d >= 0) ||
      off[0] > off[1]
    ) {
      fail(`tensor "${name}": invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    const dtype = e.dtype as string;
    const shape = e.shape as number[];
    const expected = shapeSize(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      fail(
        `tensor "${name}": ${end - begin} data bytes but ${dtype} [${shape.join(", ")}] needs ${expected}`,
      );
    }
    if (end > dataLen)
      fail(
        `truncated: tensor "${name}" ends at byte ${end} of the data section, which has ${dataLen}`,
      );
    ranges.push([begin, end, name]);
    const raw = bytes.slice(dataStart + begin, dataStart + end);
    const float = dtype !== "I32" && dtype !== "I64";
    tensors[name] = tensor(decodeRaw(raw, dtype, name, fail), shape, {
      backend: options.backend,
      dtype: float ? (options.floatDType?.(name, shape, dtype) ?? "f32") : "i32",
    });
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1])
      fail(`corrupt: tensors "${ranges[i - 1][2]}" and "${ranges[i][2]}" overlap`);
  }
  return { tensors, metadata };
}

function decodeRaw(
  raw: Uint8Array,
  dtype: string,
  name: string,
  fail: (m: string) => never,
): HostArray {
  const buf = raw.buffer;
  switch (dtype) {
    case "F32":
      return new Float32Array(buf);
    case "F64":
      return Float32Array.from(new Float64Array(buf));
    case "F16":
      return f16ToF32(new Uint16Array(buf));
    case "BF16":
      return bf16ToF32(new Uint16Array(buf));
    case "I32":
      return new Int32Array(buf);
    default: {
      const big = new BigInt64Array(buf);
      const out = new Int32Array(big.length);
      for (let i = 0; i < big.length; i++) {
        if (big[i] > 2147483647n || big[i] < -2147483648n) {
          fail(`tensor "${name}": I64 value ${big[i]} at ${i} does not fit in i32`);
        }
        out[i] = Number(big[i]);
      }
      return out;
    }
  }
}

/** Writes named tensors to a .safetensors file (Node). */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  options: SerializeOptions = {},
): Promise<void> {
  const { writeFile } = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
  await writeFile(path, await serializeSafetensorsAsync(tensors, options));
}

/** Reads a .safetensors file (Node). */
export async function loadSafetensors(
  path: string,
  options: ParseOptions = {},
): Promise<SafetensorsFile> {
  const { readFile } = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
  const bytes = await readFile(path);
  return parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    ...options,
    source: path,
  });
}
