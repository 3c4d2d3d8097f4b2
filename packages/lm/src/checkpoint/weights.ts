/**
 * Reading and writing Hugging Face weight files: `model.safetensors`, or shards listed by
 * `model.safetensors.index.json`; f32 / f16 / bf16 on disk, f32 in memory (or f16 storage on
 * request: `ReadOptions.floatDType`). Every tensor the config implies must be present with its
 * shape; errors name the file, the tensor and both shapes.
 */

import {
  type ParseOptions,
  parseSafetensors,
  type StorageFormat,
  serializeSafetensorsAsync,
  type Tensor,
} from "@athanor/tensor";
import { existsSync, join, mkdir, readFile, writeFile } from "../node.js";

/** Tensors by name, with the file each came from. */
export interface WeightFiles {
  tensors: Map<string, Tensor>;
  fileOf: Map<string, string>;
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

/** Which float tensors load as f16 storage (see `ParseOptions.floatDType`); default none. */
export interface ReadOptions {
  floatDType?: ParseOptions["floatDType"];
}

/** Reads one safetensors file into a name → tensor map (clear errors for truncated files). */
export async function readSafetensorsFile(
  path: string,
  options: ReadOptions = {},
): Promise<Map<string, Tensor>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new CheckpointError(`${path}: cannot read (${(e as Error).message})`);
  }
  try {
    const f = parseSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      source: path,
      floatDType: options.floatDType,
    });
    return new Map(Object.entries(f.tensors));
  } catch (e) {
    throw new CheckpointError((e as Error).message);
  }
}

/** Reads a checkpoint folder's weights (`prefix` "model" → model.safetensors / its index). */
export async function readWeights(
  dir: string,
  prefix = "model",
  options: ReadOptions = {},
): Promise<WeightFiles> {
  const single = join(dir, `${prefix}.safetensors`);
  const index = join(dir, `${prefix}.safetensors.index.json`);
  const tensors = new Map<string, Tensor>();
  const fileOf = new Map<string, string>();
  if (existsSync(single)) {
    for (const [k, t] of await readSafetensorsFile(single, options)) {
      tensors.set(k, t);
      fileOf.set(k, single);
    }
    return { tensors, fileOf };
  }
  if (!existsSync(index))
    throw new CheckpointError(
      `${dir}: no weights found (expected ${prefix}.safetensors or ${prefix}.safetensors.index.json)`,
    );
  let json: { weight_map?: Record<string, string> };
  try {
    json = JSON.parse(await readFile(index, "utf8"));
  } catch (e) {
    throw new CheckpointError(`${index}: not valid JSON (${(e as Error).message})`);
  }
  const map = json.weight_map;
  if (!map || typeof map !== "object")
    throw new CheckpointError(`${index}: weight_map: missing (required)`);
  const shards = new Map<string, string[]>();
  for (const [name, file] of Object.entries(map)) {
    if (typeof file !== "string" || file.includes("/") || file.includes("\\"))
      throw new CheckpointError(
        `${index}: weight_map.${name}: invalid shard file ${JSON.stringify(file)}`,
      );
    shards.set(file, [...(shards.get(file) ?? []), name]);
  }
  for (const [file, names] of shards) {
    const path = join(dir, file);
    const got = await readSafetensorsFile(path, options);
    for (const name of names) {
      const t = got.get(name);
      if (!t) throw new CheckpointError(`${path}: tensor ${name} is missing (listed in ${index})`);
      tensors.set(name, t);
      fileOf.set(name, path);
      got.delete(name);
    }
    for (const [name, t] of got) {
      // Present in the shard but not in the index: still part of the checkpoint.
      tensors.set(name, t);
      fileOf.set(name, path);
    }
  }
  return { tensors, fileOf };
}

/** Tensors checkpoints carry that no forward pass uses (old GPT-2 mask buffers, RoPE caches). */
const IGNORABLE = [/\.attn\.(masked_)?bias$/, /\.rotary_emb\.inv_freq$/];

export interface MatchResult {
  params: Map<string, Tensor>;
  /** Tensors in the files that the model does not use (reported, never used). */
  unexpected: string[];
}

/**
 * Picks the expected tensors out of `files`: each must be present with the expected shape.
 * `aliases` maps an expected name to names accepted in its place (tied heads saved twice).
 */
export function matchWeights(
  files: WeightFiles,
  expected: Map<string, number[]>,
  where: string,
  ignore: (name: string) => boolean = () => false,
): MatchResult {
  const params = new Map<string, Tensor>();
  const missing: string[] = [];
  for (const [name, shape] of expected) {
    const t = files.tensors.get(name);
    if (!t) {
      missing.push(`${name} [${shape.join(", ")}]`);
      continue;
    }
    if (t.shape.join() !== shape.join())
      throw new CheckpointError(
        `${files.fileOf.get(name)}: tensor ${name} has shape [${t.shape.join(", ")}] but the config implies [${shape.join(", ")}]`,
      );
    if (t.dtype === "i32")
      throw new CheckpointError(
        `${files.fileOf.get(name)}: tensor ${name} is ${t.dtype}, expected a float tensor`,
      );
    params.set(name, t);
  }
  if (missing.length > 0)
    throw new CheckpointError(
      `${where}: ${missing.length} expected tensor${missing.length > 1 ? "s are" : " is"} missing: ${missing.slice(0, 8).join(", ")}${missing.length > 8 ? ", ..." : ""}`,
    );
  const unexpected: string[] = [];
  for (const [name, t] of files.tensors) {
    if (expected.has(name)) continue;
    t.dispose();
    if (!ignore(name) && !IGNORABLE.some((re) => re.test(name))) unexpected.push(name);
  }
  return { params, unexpected };
}

export interface WriteWeightsOptions {
  /** Storage format on disk (default: each tensor's own, so "f32", or "f16" for f16 tensors). */
  format?: StorageFormat;
  /** Split into shards of at most this many bytes with an index (default: one file). */
  maxShardBytes?: number;
}

/** Writes tensors as `prefix.safetensors`, or shards + `prefix.safetensors.index.json`. */
export async function writeWeights(
  dir: string,
  tensors: Map<string, Tensor>,
  options: WriteWeightsOptions & { prefix?: string } = {},
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const prefix = options.prefix ?? "model";
  const format = options.format;
  const bytesOf = (t: Tensor) =>
    t.size * ((format ?? (t.dtype === "f16" ? "f16" : "f32")) === "f32" ? 4 : 2);
  const metadata = { format: "pt" };
  const names = [...tensors.keys()];
  const max = options.maxShardBytes;
  if (!max) {
    const path = join(dir, `${prefix}.safetensors`);
    await writeFile(
      path,
      await serializeSafetensorsAsync(Object.fromEntries(tensors), { format, metadata }),
    );
    return [path];
  }
  const groups: string[][] = [[]];
  let size = 0;
  for (const n of names) {
    const b = bytesOf(tensors.get(n)!);
    if (size > 0 && size + b > max) {
      groups.push([]);
      size = 0;
    }
    groups[groups.length - 1].push(n);
    size += b;
  }
  const total = names.reduce((s, n) => s + bytesOf(tensors.get(n)!), 0);
  const weightMap: Record<string, string> = {};
  const written: string[] = [];
  const pad = (i: number) => String(i).padStart(5, "0");
  for (let i = 0; i < groups.length; i++) {
    const file = `${prefix}-${pad(i + 1)}-of-${pad(groups.length)}.safetensors`;
    const part = Object.fromEntries(groups[i].map((n) => [n, tensors.get(n)!]));
    await writeFile(join(dir, file), await serializeSafetensorsAsync(part, { format, metadata }));
    for (const n of groups[i]) weightMap[n] = file;
    written.push(join(dir, file));
  }
  const indexPath = join(dir, `${prefix}.safetensors.index.json`);
  await writeFile(
    indexPath,
    `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`,
  );
  written.push(indexPath);
  return written;
}
