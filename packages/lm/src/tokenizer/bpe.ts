/**
 * The BPE model: applies merges in rank order to each pre-tokenized word. Words are cached,
 * since natural text repeats them.
 */
import { TokenizerConfigError } from "./config-error.js";

export interface BpeOptions {
  vocab: Map<string, number>;
  /** Merges in rank order, each a pair of symbols. */
  merges: [string, string][];
  unkToken?: string | null;
  /** SentencePiece-style: unknown characters become <0xNN> byte tokens. */
  byteFallback?: boolean;
  /** Look the whole word up first (Llama-3's `ignore_merges`). */
  ignoreMerges?: boolean;
  continuingSubwordPrefix?: string | null;
  endOfWordSuffix?: string | null;
}

const PAIR_SEP = "\u0000";
const encoder = new TextEncoder();

export class BpeModel {
  readonly vocab: Map<string, number>;
  readonly idToToken: string[];
  readonly merges: [string, string][];
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, number[]>();
  private readonly options: BpeOptions;

  constructor(options: BpeOptions) {
    this.options = options;
    this.vocab = options.vocab;
    this.merges = options.merges;
    this.idToToken = [];
    for (const [tok, id] of this.vocab) this.idToToken[id] = tok;
    options.merges.forEach(([a, b], rank) => {
      this.ranks.set(a + PAIR_SEP + b, rank);
    });
  }

  static fromJSON(model: Record<string, unknown>, file?: string): BpeModel {
    if (model.type !== undefined && model.type !== "BPE") {
      throw new TokenizerConfigError(
        "model.type",
        `model ${JSON.stringify(model.type)} is not supported (only BPE)`,
        file,
      );
    }
    if (model.dropout !== null && model.dropout !== undefined && model.dropout !== 0) {
      throw new TokenizerConfigError(
        "model.dropout",
        "BPE dropout is not supported for inference",
        file,
      );
    }
    const vocabObj = model.vocab as Record<string, number> | undefined;
    if (!vocabObj || typeof vocabObj !== "object") {
      throw new TokenizerConfigError("model.vocab", "missing", file);
    }
    const rawMerges = (model.merges as unknown[] | undefined) ?? [];
    const merges: [string, string][] = rawMerges.map((m, i) => {
      if (typeof m === "string") {
        const sp = m.indexOf(" ", 1);
        if (sp < 0)
          throw new TokenizerConfigError(
            `model.merges[${i}]`,
            `malformed merge ${JSON.stringify(m)}`,
            file,
          );
        return [m.slice(0, sp), m.slice(sp + 1)];
      }
      if (Array.isArray(m) && m.length === 2) return [String(m[0]), String(m[1])];
      throw new TokenizerConfigError(
        `model.merges[${i}]`,
        `malformed merge ${JSON.stringify(m)}`,
        file,
      );
    });
    return new BpeModel({
      vocab: new Map(Object.entries(vocabObj)),
      merges,
      unkToken: (model.unk_token as string | null) ?? null,
      byteFallback: model.byte_fallback === true,
      ignoreMerges: model.ignore_merges === true,
      continuingSubwordPrefix: (model.continuing_subword_prefix as string | null) ?? null,
      endOfWordSuffix: (model.end_of_word_suffix as string | null) ?? null,
    });
  }

  toJSON(): Record<string, unknown> {
    return {
      type: "BPE",
      dropout: null,
      unk_token: this.options.unkToken ?? null,
      continuing_subword_prefix: this.options.continuingSubwordPrefix ?? null,
      end_of_word_suffix: this.options.endOfWordSuffix ?? null,
      fuse_unk: false,
      byte_fallback: this.options.byteFallback ?? false,
      ignore_merges: this.options.ignoreMerges ?? false,
      vocab: Object.fromEntries(this.vocab),
      merges: this.merges.map(([a, b]) => [a, b]),
    };
  }

  /** Token ids of one pre-tokenized word. */
  encodeWord(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const ids = this.encodeUncached(word);
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(word, ids);
    return ids;
  }

  private encodeUncached(word: string): number[] {
    if (this.options.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) return [id];
    }
    const prefix = this.options.continuingSubwordPrefix ?? "";
    const suffix = this.options.endOfWordSuffix ?? "";
    const chars = [...word];
    let symbols = chars.map(
      (c, i) => (i > 0 ? prefix : "") + c + (i === chars.length - 1 ? suffix : ""),
    );
    // Repeatedly merge the lowest-ranked adjacent pair (words are short; this is fast enough
    // and, unlike a heap, obviously correct).
    while (symbols.length > 1) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i < symbols.length - 1; i++) {
        const r = this.ranks.get(symbols[i]! + PAIR_SEP + symbols[i + 1]!);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const [a, b] = this.merges[bestRank]!;
      const merged = a + this.stripPrefix(b, prefix);
      const next: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i < symbols.length - 1 && symbols[i] === a && symbols[i + 1] === b) {
          next.push(merged);
          i++;
        } else next.push(symbols[i]!);
      }
      symbols = next;
    }
    const ids: number[] = [];
    for (const s of symbols) {
      const id = this.vocab.get(s);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      if (this.options.byteFallback) {
        for (const b of encoder.encode(s)) {
          const bid = this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
          if (bid === undefined)
            throw new Error(`tokenizer: byte fallback token for 0x${b.toString(16)} missing`);
          ids.push(bid);
        }
        continue;
      }
      const unk = this.options.unkToken ? this.vocab.get(this.options.unkToken) : undefined;
      if (unk === undefined) {
        throw new Error(
          `tokenizer: symbol ${JSON.stringify(s)} is not in the vocabulary and there is no unk token`,
        );
      }
      ids.push(unk);
    }
    return ids;
  }

  private stripPrefix(s: string, prefix: string): string {
    return prefix && s.startsWith(prefix) ? s.slice(prefix.length) : s;
  }
}
