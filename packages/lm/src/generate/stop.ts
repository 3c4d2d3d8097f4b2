/**
 * Stop sequences matched on decoded text, across token boundaries: a stop string may begin in
 * one token and end in a later one. While the end of the text could still be the start of a
 * stop string it is held back from the stream, so a stop string never reaches the reader.
 */
export class StopMatcher {
  private text = "";
  private emitted = 0;
  private readonly longest: number;

  constructor(private readonly stops: readonly string[]) {
    for (const [i, s] of stops.entries())
      if (typeof s !== "string" || s.length === 0)
        throw new TypeError(`generate: stop[${i}] must be a non-empty string`);
    this.longest = Math.max(0, ...stops.map((s) => s.length));
  }

  /**
   * Adds decoded text. Returns the text that is now safe to emit and whether a stop string
   * was found (the text is then cut just before it, and nothing after it is ever emitted).
   */
  push(delta: string): { emit: string; stopped: boolean } {
    const searchFrom = Math.max(0, this.text.length - this.longest + 1);
    this.text += delta;
    let cut = -1;
    for (const s of this.stops) {
      const i = this.text.indexOf(s, searchFrom);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.text = this.text.slice(0, cut);
      return { emit: this.take(this.text.length), stopped: true };
    }
    return { emit: this.take(this.text.length - this.heldBack()), stopped: false };
  }

  /** Everything not yet emitted (at the end of generation, when no stop string can follow). */
  flush(): string {
    return this.take(this.text.length);
  }

  /** The full accepted text so far (stop string excluded). */
  get value(): string {
    return this.text;
  }

  /** Length of the longest suffix of the text that is a proper prefix of a stop string. */
  private heldBack(): number {
    const max = Math.min(this.longest - 1, this.text.length - this.emitted);
    for (let n = max; n > 0; n--) {
      const tail = this.text.slice(this.text.length - n);
      if (this.stops.some((s) => s.startsWith(tail))) return n;
    }
    return 0;
  }

  private take(upTo: number): string {
    if (upTo <= this.emitted) return "";
    const out = this.text.slice(this.emitted, upTo);
    this.emitted = upTo;
    return out;
  }
}
