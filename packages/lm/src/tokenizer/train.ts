/**
 * Trains a byte-level BPE tokenizer from a corpus (GPT-2 style: GPT-2 pre-tokenizer regex,
 * 256 byte symbols, merges learned by pair frequency). The result is a regular `Tokenizer`
 * that saves as a Hugging Face `tokenizer.json`.
 */
import { BYTE_LEVEL_ALPHABET, toByteLevel } from "./byte-level.js";
import { compilePattern, GPT2_PATTERN, splitByRegex } from "./regex.js";
import { Tokenizer } from "./tokenizer.js";

export interface TrainBpeOptions {
  /** Size of the final vocabulary, special tokens and the 256 bytes included. */
  vocabSize: number;
  /** Added as special tokens with the first ids, in order (e.g. ["<|endoftext|>"]). */
  specialTokens?: string[];
  /** Pairs seen fewer times than this are never merged. Default 2. */
  minFrequency?: number;
  /** Called every 100 merges with (merges done, merges wanted). */
  onProgress?: (done: number, total: number) => void;
}

/** A max-heap of pair candidates with lazy deletion (stale entries are skipped on pop). */
class PairHeap {
  private items: { count: number; key: string }[] = [];

  push(count: number, key: string): void {
    const a = this.items;
    a.push({ count, key });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): { count: number; key: string } | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }

  /** Higher count first; ties broken by key so training is deterministic. */
  private before(x: { count: number; key: string }, y: { count: number; key: string }): boolean {
    return x.count !== y.count ? x.count > y.count : x.key < y.key;
  }
}

export function trainBpe(corpus: Iterable<string>, options: TrainBpeOptions): Tokenizer {
  const specials = options.specialTokens ?? [];
  const minFrequency = options.minFrequency ?? 2;
  const base = specials.length + 256;
  if (options.vocabSize < base) {
    throw new Error(
      `trainBpe: vocabSize ${options.vocabSize} is smaller than the ${base} special and byte tokens`,
    );
  }

  // 1. Word frequencies over byte-level pre-tokens.
  const re = compilePattern(GPT2_PATTERN);
  const freq = new Map<string, number>();
  for (const text of corpus) {
    for (const w of splitByRegex(text, re, "isolated")) {
      const bl = toByteLevel(w);
      freq.set(bl, (freq.get(bl) ?? 0) + 1);
    }
  }

  // 2. Symbols: specials, then the 256 bytes, then merges.
  const symbols: string[] = [...specials, ...BYTE_LEVEL_ALPHABET];
  const symbolId = new Map(symbols.map((s, i) => [s, i]));
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [w, c] of freq) {
    words.push([...w].map((ch) => symbolId.get(ch)!));
    counts.push(c);
  }

  const key = (a: number, b: number) => `${a},${b}`;
  const pairCount = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const addPair = (a: number, b: number, wi: number, delta: number) => {
    const k = key(a, b);
    pairCount.set(k, (pairCount.get(k) ?? 0) + delta);
    if (delta > 0) {
      const s = pairWords.get(k);
      if (s) s.add(wi);
      else pairWords.set(k, new Set([wi]));
    }
  };
  words.forEach((w, wi) => {
    for (let i = 0; i < w.length - 1; i++) addPair(w[i]!, w[i + 1]!, wi, counts[wi]!);
  });
  const heap = new PairHeap();
  for (const [k, c] of pairCount) heap.push(c, k);

  // 3. Merge the most frequent pair until the vocabulary is full.
  const merges: [string, string][] = [];
  const wanted = options.vocabSize - base;
  while (symbols.length < options.vocabSize) {
    const top = heap.pop();
    if (!top) break;
    const current = pairCount.get(top.key) ?? 0;
    if (current !== top.count) {
      if (current > 0) heap.push(current, top.key);
      continue;
    }
    if (current < minFrequency) break;
    const [a, b] = top.key.split(",").map(Number) as [number, number];
    const mergedText = symbols[a]! + symbols[b]!;
    let merged = symbolId.get(mergedText);
    if (merged === undefined) {
      merged = symbols.length;
      symbols.push(mergedText);
      symbolId.set(mergedText, merged);
    }
    merges.push([symbols[a]!, symbols[b]!]);
    const touched = new Set<string>();
    for (const wi of pairWords.get(top.key) ?? []) {
      const w = words[wi]!;
      const c = counts[wi]!;
      for (let i = 0; i < w.length - 1; i++) addPair(w[i]!, w[i + 1]!, wi, -c);
      const next: number[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i < w.length - 1 && w[i] === a && w[i + 1] === b) {
          next.push(merged);
          i++;
        } else next.push(w[i]!);
      }
      words[wi] = next;
      for (let i = 0; i < next.length - 1; i++) {
        addPair(next[i]!, next[i + 1]!, wi, c);
        touched.add(key(next[i]!, next[i + 1]!));
      }
    }
    pairCount.delete(top.key);
    pairWords.delete(top.key);
    for (const k of touched) {
      const c = pairCount.get(k) ?? 0;
      if (c > 0) heap.push(c, k);
    }
    if (options.onProgress && merges.length % 100 === 0)
      options.onProgress(symbols.length - base, wanted);
  }

  const byteLevel = {
    type: "ByteLevel",
    add_prefix_space: false,
    trim_offsets: true,
    use_regex: true,
  };
  return Tokenizer.fromJSON({
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(symbols.map((s, i) => [s, i])),
      merges,
    },
  });
}
