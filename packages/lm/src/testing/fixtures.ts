import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The Hugging Face reference fixtures (checkpoints and outputs made by `transformers`): the
 * copy in the repository's `fixtures/hf-reference/`, or `$ATHANOR_HF_REFERENCE`.
 */
export function fixturePath(name: string): string {
  const root =
    process.env.ATHANOR_HF_REFERENCE ??
    resolve(dirname(fileURLToPath(import.meta.url)), "../../../../fixtures/hf-reference");
  const p = join(root, name);
  if (!existsSync(p)) throw new Error(`reference fixture ${name} not found under ${root}`);
  return p;
}

/** This package's extra reference checkpoints (`packages/lm/fixtures/hf-extra/`). */
export function extraFixturePath(name: string): string {
  const p = resolve(dirname(fileURLToPath(import.meta.url)), "../../fixtures/hf-extra", name);
  if (!existsSync(p)) throw new Error(`extra reference fixture ${name} not found at ${p}`);
  return p;
}
