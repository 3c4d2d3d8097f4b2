/**
 * Next-token selection from one row of logits (host memory): repetition penalty, temperature,
 * top-k, top-p (nucleus) and a seeded draw, in the order Hugging Face `transformers` applies
 * them. Greedy decoding is temperature 0 (or undefined).
 */
import type { Rng } from "@athanor/tensor";

export interface SamplingOptions {
  /** 0 or undefined: greedy (argmax). Otherwise logits are divided by it before sampling. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1: all). */
  topP?: number;
  /** > 1 discourages tokens already in the sequence (CTRL / HF semantics). 1: off. */
  repetitionPenalty?: number;
}

/** Checks the sampling options; throws a clear error naming the bad one. */
export function validateSampling(o: SamplingOptions): void {
  const bad = (name: string, why: string, v: unknown) => {
    throw new RangeError(`generate: ${name} ${why}, got ${String(v)}`);
  };
  if (o.temperature !== undefined && !(o.temperature >= 0 && Number.isFinite(o.temperature)))
    bad("temperature", "must be a finite number ≥ 0", o.temperature);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0))
    bad("topK", "must be an integer ≥ 0", o.topK);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1))
    bad("topP", "must be in (0, 1]", o.topP);
  if (
    o.repetitionPenalty !== undefined &&
    !(o.repetitionPenalty > 0 && Number.isFinite(o.repetitionPenalty))
  )
    bad("repetitionPenalty", "must be a finite number > 0", o.repetitionPenalty);
}

/** Applies the repetition penalty in place to the ids in `seen` (each once). */
export function applyRepetitionPenalty(
  logits: Float32Array,
  seen: Iterable<number>,
  penalty: number,
): void {
  if (penalty === 1) return;
  for (const id of seen) {
    const v = logits[id]!;
    logits[id] = v < 0 ? v * penalty : v / penalty;
  }
}

/** Index of the largest finite logit among `allowed` (or all); -1 if none is finite. */
export function argmax(logits: Float32Array, allowed?: ArrayLike<number>): number {
  let best = -1;
  let bestV = Number.NEGATIVE_INFINITY;
  if (allowed) {
    for (let i = 0; i < allowed.length; i++) {
      const id = allowed[i]!;
      const v = logits[id]!;
      if (v > bestV || (v === bestV && id < best)) {
        bestV = v;
        best = id;
      }
    }
  } else {
    for (let i = 0; i < logits.length; i++) {
      if (logits[i]! > bestV) {
        bestV = logits[i]!;
        best = i;
      }
    }
  }
  return best;
}

/**
 * Picks the next token from `logits` (already penalised), restricted to `allowed` if given.
 * Greedy when the temperature is 0 / undefined; otherwise temperature → top-k → top-p → draw.
 */
export function selectToken(
  logits: Float32Array,
  o: SamplingOptions,
  rng: Rng,
  allowed?: ArrayLike<number>,
): number {
  const t = o.temperature ?? 0;
  if (t === 0) return argmax(logits, allowed);
  // Candidates: (id, scaled logit), sorted by logit descending (ties: lower id first).
  const n = allowed ? allowed.length : logits.length;
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = allowed ? allowed[i]! : i;
  let cand = Array.from(ids).filter((id) => logits[id]! > Number.NEGATIVE_INFINITY);
  if (cand.length === 0) return -1;
  cand.sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (o.topK && o.topK < cand.length) cand = cand.slice(0, o.topK);
  const max = logits[cand[0]!]! / t;
  const w = cand.map((id) => Math.exp(logits[id]! / t - max));
  let total = w.reduce((a, b) => a + b, 0);
  const p = o.topP ?? 1;
  if (p < 1) {
    // Keep the smallest prefix whose mass reaches p (always at least one token).
    let acc = 0;
    let keep = cand.length;
    for (let i = 0; i < cand.length; i++) {
      acc += w[i]! / total;
      if (acc >= p) {
        keep = i + 1;
        break;
      }
    }
    cand = cand.slice(0, keep);
    w.length = keep;
    total = w.reduce((a, b) => a + b, 0);
  }
  let r = rng.next() * total;
  for (let i = 0; i < cand.length; i++) {
    r -= w[i]!;
    if (r < 0) return cand[i]!;
  }
  return cand[cand.length - 1]!;
}
