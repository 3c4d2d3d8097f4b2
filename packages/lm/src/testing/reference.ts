/** Reading the Hugging Face reference outputs next to a fixture checkpoint (tests only). */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadSafetensors, type Tensor } from "@athanor/tensor";
import { extraFixturePath, fixturePath } from "./fixtures.js";

export interface Reference {
  dir: string;
  tensors: Record<string, Tensor>;
  json: { loss: number; loss_after_one_adamw_step: number } | null;
}

/** A reference by fixture name; names under `extra/` are this package's `fixtures/hf-extra/`. */
export async function loadReference(name: string): Promise<Reference> {
  const dir = name.startsWith("extra/") ? extraFixturePath(name.slice(6)) : fixturePath(name);
  const tensors = (await loadSafetensors(join(dir, "reference.safetensors"))).tensors;
  let json = null;
  try {
    json = JSON.parse(readFileSync(join(dir, "reference.json"), "utf8"));
  } catch {}
  return { dir, tensors, json };
}

/** max |a − b| over all elements. */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  if (a.shape.join() !== b.shape.join())
    throw new Error(`maxAbsDiff: ${a.describe()} vs ${b.describe()}`);
  const x = a.data();
  const y = b.data();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** max |a − b| / max |b|: the error relative to the reference's scale. */
export function maxRelDiff(a: Tensor, ref: Tensor): number {
  const y = ref.data();
  let scale = 0;
  for (let i = 0; i < y.length; i++) scale = Math.max(scale, Math.abs(y[i]));
  return maxAbsDiff(a, ref) / (scale || 1);
}
