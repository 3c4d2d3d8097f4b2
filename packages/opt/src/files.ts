/** Reading and writing model files by extension: `.lp` (CPLEX LP) and `.mps` (free MPS). */

import { readFile, writeFile } from "node:fs/promises";
import { readLp, writeLp } from "./lp-format.js";
import type { Model } from "./model.js";
import { readMps, writeMps } from "./mps-format.js";

export type ModelFileFormat = "lp" | "mps";

/** The format named by a file's extension; throws for anything but `.lp` and `.mps`. */
export function formatOf(path: string): ModelFileFormat {
  const m = /\.(lp|mps)$/i.exec(path);
  if (!m) throw new RangeError(`${path}: unknown model file type (expected a .lp or .mps file)`);
  return m[1]!.toLowerCase() as ModelFileFormat;
}

/** Parses model text in the given format. `source` names the input in error messages. */
export function parseModel(text: string, format: ModelFileFormat, source?: string): Model {
  return format === "lp" ? readLp(text, source) : readMps(text, source);
}

/** The model as text in the given format. */
export function formatModel(model: Model, format: ModelFileFormat): string {
  return format === "lp" ? writeLp(model) : writeMps(model);
}

/** Reads a `.lp` or `.mps` file. */
export async function readModelFile(path: string): Promise<Model> {
  const format = formatOf(path);
  return parseModel(await readFile(path, "utf8"), format, path);
}

/** Writes a model to a `.lp` or `.mps` file. */
export async function writeModelFile(path: string, model: Model): Promise<void> {
  await writeFile(path, formatModel(model, formatOf(path)));
}
