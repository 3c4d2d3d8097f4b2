/**
 * Prompt evolution: with an OpenAI-compatible endpoint configured, a large model rewrites
 * generated questions in new words. A paraphrase is kept only when it still names every entity
 * and value the action needs (compared after normalization), so its label stays right.
 */
import type { ModelClient } from "@athanor/agents";
import type { Example } from "./generate.js";
import { rng } from "./generate.js";
import { normalizeQuestion } from "./normalize.js";

export interface EvolveOptions {
  /** Questions to paraphrase (default 200), drawn with `seed`. */
  count?: number;
  seed?: number;
  /** Paraphrases asked per question (default 2). */
  variants?: number;
  onProgress?: (done: number, total: number) => void;
}

const PROMPT = `Rewrite the user's question about an optimization model in different words, the way another person might ask it.
Keep every name (like cafe2, supplier1, point 4, Bob, Mon1, hot dog, New York) and every number exactly as written.
Reply with the rewritten questions only, one per line, no numbering.`;

/** The words of an action a paraphrase must keep: names and numbers (not verbs or targets). */
export function requiredWords(action: string): string[] {
  return action
    .split(";")
    .flatMap((a) => a.trim().split(/\s+/).slice(2))
    .filter((w) => w !== "*")
    .map((w) => w.replace(/^[=+\-*/<>]+/, "").replace(/%$/, ""))
    .filter((w) => w !== "");
}

/** Paraphrases generated examples with a model; returns only the paraphrases that keep their label. */
export async function evolveExamples(
  examples: Example[],
  client: ModelClient,
  options: EvolveOptions = {},
): Promise<Example[]> {
  const r = rng(options.seed ?? 0);
  const pool = examples.filter((e) => e.kind !== "decline");
  const count = Math.min(options.count ?? 200, pool.length);
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(Math.floor(r() * pool.length));
  const out: Example[] = [];
  let done = 0;
  for (const i of chosen) {
    const e = pool[i]!;
    const res = await client.create({
      messages: [
        { role: "system", content: PROMPT },
        { role: "user", content: `${e.question}\n(${options.variants ?? 2} rewrites)` },
      ],
      temperature: 0.9,
      seed: options.seed,
    });
    // Words the original says (implicit values such as the 1 of "work this shift" are not).
    const orig = ` ${normalizeQuestion(e.app, e.question)} `;
    const need = requiredWords(e.action).filter((w) => orig.includes(w));
    for (const line of (res.content ?? "").split("\n")) {
      const q = line.replace(/^\s*(?:[-*]|\d+[.)])\s*/, "").trim();
      if (q.length < 8 || q === e.question) continue;
      const norm = ` ${normalizeQuestion(e.app, q)} `;
      if (
        need.every(
          (w) => norm.includes(` ${w} `) || norm.includes(`${w}%`) || norm.includes(` ${w}`),
        )
      )
        out.push({ ...e, question: q, kind: e.kind });
    }
    options.onProgress?.(++done, count);
  }
  return out;
}
