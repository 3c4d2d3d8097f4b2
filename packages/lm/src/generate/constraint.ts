/**
 * Constrained decoding. Two levels, both pluggable:
 *
 * - `ByteAutomaton`: a recognizer over the UTF-8 bytes of the generated text (JSON schema,
 *   fixed choices; a grammar can implement it too). Bytes rather than characters because a
 *   byte-level token can end in the middle of a character.
 * - `TokenConstraint`: what the generator uses: which token ids may come next, and whether the
 *   text may end here. `automatonConstraint` builds one from any automaton by walking the
 *   tokenizer's byte trie (a rejected byte prunes every token that starts with it).
 */
import type { Tokenizer } from "../tokenizer/index.js";
import { type TokenVocabulary, TokenVocabulary as Vocabulary } from "./vocabulary.js";

export interface ByteAutomaton<S> {
  initial(): S;
  /** The state after `byte`, or undefined if that byte is not allowed here. */
  step(state: S, byte: number): S | undefined;
  /** True if the text so far is complete (generation may stop here). */
  accepts(state: S): boolean;
  /**
   * Identifies the state for caching: equal keys must mean equal futures. Without it nothing
   * is cached.
   */
  key?(state: S): string;
}

export interface AllowedTokens {
  /** Token ids that may come next (ascending). Empty with `canEnd`: the text is complete. */
  tokens: Int32Array;
  /** True if generation may stop here (end-of-sequence is allowed). */
  canEnd: boolean;
}

export interface TokenConstraint<S = unknown> {
  initial(): S;
  allowed(state: S): AllowedTokens;
  /** The state after `token` (which must be one of `allowed`). */
  advance(state: S, token: number): S;
}

/** Thrown when a constraint cannot continue (e.g. the vocabulary cannot spell the next byte). */
export class ConstraintError extends Error {
  override name = "ConstraintError";
}

export interface AutomatonConstraintOptions {
  /** Masks kept per automaton state key (default 4096). */
  cacheSize?: number;
}

/** A token constraint from a byte automaton over a tokenizer's vocabulary. */
export function automatonConstraint<S>(
  automaton: ByteAutomaton<S>,
  vocabulary: TokenVocabulary | Tokenizer,
  options: AutomatonConstraintOptions = {},
): TokenConstraint<S> {
  const vocab = vocabulary instanceof Vocabulary ? vocabulary : Vocabulary.of(vocabulary);
  const cacheSize = options.cacheSize ?? 4096;
  const cache = new Map<string, AllowedTokens>();
  const compute = (state: S): AllowedTokens => {
    const ids: number[] = [];
    const walk = (node: TokenVocabulary["root"], s: S) => {
      for (const [byte, child] of node.children) {
        const next = automaton.step(s, byte);
        if (next === undefined) continue;
        for (const id of child.ids) ids.push(id);
        if (child.children.size > 0) walk(child, next);
      }
    };
    walk(vocab.root, state);
    ids.sort((a, b) => a - b);
    return { tokens: Int32Array.from(ids), canEnd: automaton.accepts(state) };
  };
  return {
    initial: () => automaton.initial(),
    allowed(state) {
      const key = automaton.key?.(state);
      if (key === undefined) return compute(state);
      let hit = cache.get(key);
      if (!hit) {
        hit = compute(state);
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
        cache.set(key, hit);
      }
      return hit;
    },
    advance(state, token) {
      const bytes = vocab.bytes[token];
      if (!bytes) throw new ConstraintError(`constraint: token ${token} has no text`);
      let s: S | undefined = state;
      for (const b of bytes) {
        s = automaton.step(s, b);
        if (s === undefined)
          throw new ConstraintError(`constraint: token ${token} is not allowed in this state`);
      }
      return s;
    },
  };
}
