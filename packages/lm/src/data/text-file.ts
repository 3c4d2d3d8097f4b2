/**
 * Training data from files: plain text (`.txt`: language modelling on all of it) or JSON
 * Lines (`.jsonl`: `{"text": ...}` for language modelling, `{"prompt": ..., "response": ...}`
 * for SFT with the loss on the response), and turning texts into fixed-length token blocks.
 */
import { readFileSync } from "../node.js";
import type { Tokenizer } from "../tokenizer/index.js";

export type TrainingData =
  | { kind: "text"; texts: string[] }
  | { kind: "sft"; examples: { prompt: string; response: string }[] };

/** Reads a .txt or .jsonl training file; bad lines are errors naming the file and line. */
export function readTrainingFile(path: string): TrainingData {
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as Error).message})`);
  }
  if (!/\.jsonl$/i.test(path)) {
    if (!raw.trim()) throw new Error(`${path}: the file is empty`);
    return { kind: "text", texts: [raw] };
  }
  const texts: string[] = [];
  const examples: { prompt: string; response: string }[] = [];
  raw.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${path}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
    }
    const o = v as Record<string, unknown>;
    if (o && typeof o.text === "string") texts.push(o.text);
    else if (o && typeof o.prompt === "string" && typeof o.response === "string")
      examples.push({ prompt: o.prompt, response: o.response });
    else
      throw new Error(
        `${where}: expected {"text": string} or {"prompt": string, "response": string}`,
      );
  });
  if (texts.length && examples.length)
    throw new Error(`${path}: mixes {"text"} and {"prompt","response"} lines; use one kind`);
  if (!texts.length && !examples.length) throw new Error(`${path}: no examples`);
  return texts.length ? { kind: "text", texts } : { kind: "sft", examples };
}

/**
 * Tokenizes texts into one stream (each text followed by `separator`, e.g. the EOS id) and
 * cuts it into blocks of `blockSize` tokens (the last partial block dropped).
 */
export function tokenBlocks(
  texts: readonly string[],
  tokenizer: Tokenizer,
  blockSize: number,
  separator?: number,
): number[][] {
  if (!Number.isInteger(blockSize) || blockSize < 2)
    throw new RangeError(`tokenBlocks: blockSize must be an integer ≥ 2, got ${blockSize}`);
  const stream: number[] = [];
  for (const t of texts) {
    for (const id of tokenizer.encode(t, { addSpecialTokens: false })) stream.push(id);
    if (separator !== undefined) stream.push(separator);
  }
  const out: number[][] = [];
  for (let s = 0; s + blockSize <= stream.length; s += blockSize)
    out.push(stream.slice(s, s + blockSize));
  return out;
}

/** Deterministic split: every `1/fraction`-th item (evenly spread) goes to evaluation. */
export function splitForEval<T>(items: readonly T[], fraction: number): { train: T[]; eval: T[] } {
  if (!(fraction >= 0 && fraction < 1))
    throw new RangeError(`splitForEval: fraction must be in [0, 1), got ${fraction}`);
  const train: T[] = [];
  const evalSet: T[] = [];
  const every = fraction > 0 ? Math.max(2, Math.round(1 / fraction)) : 0;
  items.forEach((x, i) => {
    (every && i % every === every - 1 ? evalSet : train).push(x);
  });
  return { train, eval: evalSet };
}
