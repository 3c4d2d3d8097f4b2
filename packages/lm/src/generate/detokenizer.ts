/**
 * Incremental detokenization for streaming: turns generated ids into text deltas that never
 * split a UTF-8 character (a byte-level token can hold half of one) and that agree with
 * decoding the whole sequence at once. Only a short window of recent ids is re-decoded per
 * token (the prefix/read offsets of Hugging Face's text-generation-inference).
 */
import type { Tokenizer } from "../tokenizer/index.js";

const REPLACEMENT = "\uFFFD";

export class IncrementalDetokenizer {
  private readonly ids: number[] = [];
  private prefixOffset = 0;
  private readOffset = 0;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly skipSpecialTokens = true,
  ) {}

  /** Adds one id; returns the text it completes ("" while a character is still partial). */
  push(id: number): string {
    this.ids.push(id);
    const prefix = this.decode(this.prefixOffset, this.readOffset);
    const full = this.decode(this.prefixOffset, this.ids.length);
    if (full.length > prefix.length && !full.endsWith(REPLACEMENT)) {
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
      return full.slice(prefix.length);
    }
    return "";
  }

  /** The text still held back (an incomplete character at the end), decoded as is. */
  flush(): string {
    const prefix = this.decode(this.prefixOffset, this.readOffset);
    const full = this.decode(this.prefixOffset, this.ids.length);
    this.prefixOffset = this.readOffset = this.ids.length;
    return full.slice(prefix.length);
  }

  private decode(from: number, to: number): string {
    if (from >= to) return "";
    return this.tokenizer.decode(this.ids.slice(from, to), {
      skipSpecialTokens: this.skipSpecialTokens,
    });
  }
}
