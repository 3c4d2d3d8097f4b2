/**
 * The bytes each token contributes to the decoded text, and a byte trie over them: what a
 * token-level constraint walks to find the tokens an automaton allows. Special tokens have no
 * bytes (a constraint never allows them; end-of-sequence is handled by the generator).
 */

import type { Tokenizer } from "../tokenizer/index.js";
import { fromByteLevel } from "../tokenizer/index.js";

export interface TrieNode {
  /** Children by next byte. */
  children: Map<number, TrieNode>;
  /** Tokens whose bytes end exactly here. */
  ids: number[];
}

export class TokenVocabulary {
  /** Bytes of each token id (null: special or unknown token). */
  readonly bytes: (Uint8Array | null)[];
  readonly root: TrieNode = { children: new Map(), ids: [] };

  constructor(bytes: (Uint8Array | null)[]) {
    this.bytes = bytes;
    for (const [id, b] of bytes.entries()) {
      if (!b || b.length === 0) continue;
      let node = this.root;
      for (const x of b) {
        let next = node.children.get(x);
        if (!next) {
          next = { children: new Map(), ids: [] };
          node.children.set(x, next);
        }
        node = next;
      }
      node.ids.push(id);
    }
  }

  get size(): number {
    return this.bytes.length;
  }

  /** The vocabulary of a tokenizer (cached per tokenizer). */
  static of(tokenizer: Tokenizer): TokenVocabulary {
    let v = cache.get(tokenizer);
    if (!v) {
      v = new TokenVocabulary(tokenizerBytes(tokenizer));
      cache.set(tokenizer, v);
    }
    return v;
  }
}

const cache = new WeakMap<Tokenizer, TokenVocabulary>();
const utf8 = new TextEncoder();

function tokenizerBytes(tokenizer: Tokenizer): (Uint8Array | null)[] {
  const decoder = JSON.stringify(tokenizer.toJSON().decoder ?? null);
  const byteLevel = decoder.includes('"ByteLevel"');
  const special = new Set(tokenizer.specialTokens.map((t) => t.id));
  const out: (Uint8Array | null)[] = [];
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    const tok = tokenizer.idToToken(id);
    if (tok === undefined || special.has(id)) {
      out.push(null);
      continue;
    }
    if (byteLevel) {
      out.push(fromByteLevel(tok));
      continue;
    }
    // SentencePiece-style vocabularies: byte-fallback tokens and "▁" for spaces.
    const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(tok);
    out.push(m ? Uint8Array.of(Number.parseInt(m[1]!, 16)) : utf8.encode(tok.replaceAll("▁", " ")));
  }
  return out;
}
