/**
 * A Hugging Face `tokenizer.json` tokenizer: added tokens, normalizer, pre-tokenizer, BPE
 * model, post-processor and decoder, each built from its JSON section. Ids match the
 * `tokenizers` library's for the GPT-2, Llama-3, Qwen2 and SmolLM families.
 */
import { readFileSync, writeFileSync } from "../node.js";
import { BpeModel } from "./bpe.js";
import { asObject, type Json, TokenizerConfigError } from "./config-error.js";
import { buildDecoder, type Decoder } from "./decoders.js";
import { buildNormalizer, type Normalizer } from "./normalizers.js";
import { buildPreTokenizer, type PreTokenizer } from "./pre-tokenizers.js";

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  single_word?: boolean;
}

export interface EncodeOptions {
  /** Apply the post-processor's template (e.g. a BOS token); default true. */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

type Piece = { text: string; id?: number };
type PostProcessor = (ids: number[]) => number[];

function buildPostProcessor(config: unknown, field = "post_processor"): PostProcessor | null {
  if (config === null || config === undefined) return null;
  const c = asObject(config, field);
  switch (c.type) {
    case "ByteLevel":
      return null;
    case "Sequence": {
      const parts = (c.processors as unknown[]).map((p, i) =>
        buildPostProcessor(p, `${field}.processors[${i}]`),
      );
      return (ids) => parts.reduce((acc, f) => (f ? f(acc) : acc), ids);
    }
    case "TemplateProcessing": {
      const special = asObject(c.special_tokens ?? {}, `${field}.special_tokens`);
      const template = (c.single as unknown[]).map((item, i) => {
        const o = asObject(item, `${field}.single[${i}]`);
        if (o.Sequence) return null;
        const st = asObject(o.SpecialToken, `${field}.single[${i}].SpecialToken`);
        const def = asObject(special[String(st.id)], `${field}.special_tokens.${String(st.id)}`);
        return def.ids as number[];
      });
      return (ids) => template.flatMap((t) => (t === null ? ids : t));
    }
    case "RobertaProcessing":
    case "BertProcessing": {
      const cls = (c.cls as [string, number])[1];
      const sep = (c.sep as [string, number])[1];
      return (ids) => [cls, ...ids, sep];
    }
    default:
      throw new TokenizerConfigError(
        `${field}.type`,
        `post-processor ${JSON.stringify(c.type)} is not supported`,
      );
  }
}

export class Tokenizer {
  readonly model: BpeModel;
  readonly addedTokens: AddedToken[];
  private readonly normalizer: Normalizer | null;
  private readonly preTokenizer: PreTokenizer | null;
  private readonly postProcessor: PostProcessor | null;
  private readonly decoder: Decoder | null;
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedRe: RegExp | null;
  private readonly addedByContent = new Map<string, AddedToken>();
  private readonly json: Json;

  constructor(json: Json, file?: string) {
    this.json = json;
    try {
      this.model = BpeModel.fromJSON(asObject(json.model, "model"), file);
      this.normalizer = buildNormalizer(json.normalizer);
      this.preTokenizer = buildPreTokenizer(json.pre_tokenizer);
      this.postProcessor = buildPostProcessor(json.post_processor);
      this.decoder = buildDecoder(json.decoder);
    } catch (err) {
      if (err instanceof TokenizerConfigError && !err.file && file) {
        throw new TokenizerConfigError(err.field, err.message.slice(err.field.length + 2), file);
      }
      throw err;
    }
    this.addedTokens = ((json.added_tokens as AddedToken[] | undefined) ?? []).map((t) => ({
      ...t,
    }));
    for (const t of this.addedTokens) {
      this.addedById.set(t.id, t);
      this.addedByContent.set(t.content, t);
    }
    const contents = this.addedTokens.map((t) => t.content).sort((a, b) => b.length - a.length);
    this.addedRe =
      contents.length > 0
        ? new RegExp(contents.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "gu")
        : null;
  }

  static fromJSON(json: unknown, file?: string): Tokenizer {
    return new Tokenizer(asObject(json, "tokenizer.json"), file);
  }

  static fromFile(path: string): Tokenizer {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      throw new Error(`tokenizer: cannot read ${path}: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new TokenizerConfigError("(file)", `not valid JSON: ${(err as Error).message}`, path);
    }
    return Tokenizer.fromJSON(json, path);
  }

  get vocabSize(): number {
    let max = this.model.idToToken.length - 1;
    for (const t of this.addedTokens) max = Math.max(max, t.id);
    return max + 1;
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.model.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.model.idToToken[id];
  }

  /** The special tokens (e.g. `<|endoftext|>`), by content. */
  get specialTokens(): AddedToken[] {
    return this.addedTokens.filter((t) => t.special);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    for (const piece of this.splitAdded(text)) {
      if (piece.id !== undefined) {
        ids.push(piece.id);
        continue;
      }
      const normalized = this.normalizer ? this.normalizer(piece.text) : piece.text;
      if (!normalized) continue;
      const words = this.preTokenizer ? this.preTokenizer([normalized]) : [normalized];
      for (const w of words) if (w) ids.push(...this.model.encodeWord(w));
    }
    return options.addSpecialTokens !== false && this.postProcessor ? this.postProcessor(ids) : ids;
  }

  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const tokens: string[] = [];
    for (const id of ids) {
      const added = this.addedById.get(id);
      if (added?.special && options.skipSpecialTokens) continue;
      const tok = added?.content ?? this.model.idToToken[id];
      if (tok === undefined)
        throw new RangeError(
          `tokenizer: id ${id} is outside the vocabulary (size ${this.vocabSize})`,
        );
      tokens.push(tok);
    }
    return (this.decoder ? this.decoder(tokens) : tokens).join("");
  }

  /** The tokenizer.json document (for saving a trained tokenizer). */
  toJSON(): Json {
    return { ...this.json, model: this.model.toJSON(), added_tokens: this.addedTokens };
  }

  save(path: string): void {
    writeFileSync(path, `${JSON.stringify(this.toJSON())}\n`);
  }

  private splitAdded(text: string): Piece[] {
    if (!this.addedRe) return [{ text }];
    const out: Piece[] = [];
    let last = 0;
    for (const m of text.matchAll(this.addedRe)) {
      const tok = this.addedByContent.get(m[0])!;
      let start = m.index ?? 0;
      let end = start + m[0].length;
      let before = text.slice(last, start);
      if (tok.lstrip) {
        const trimmed = before.trimEnd();
        start -= before.length - trimmed.length;
        before = trimmed;
      }
      if (before) out.push({ text: before });
      out.push({ text: m[0], id: tok.id });
      if (tok.rstrip) while (end < text.length && /\s/u.test(text[end]!)) end++;
      last = end;
    }
    if (last < text.length) out.push({ text: text.slice(last) });
    return out;
  }
}
