/**
 * Pre-tokenizer regexes from tokenizer.json are written for Rust's `fancy-regex`/Oniguruma.
 * JavaScript (Node 20) lacks inline modifier groups such as `(?i:'s|'t)`, used by Llama-3 and
 * Qwen2; this rewrites them into character classes so the pattern means the same thing.
 */

/** GPT-2's pre-tokenizer pattern (ByteLevel with `use_regex: true`). */
export const GPT2_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

function caseFold(body: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === "\\") {
      out += ch + (body[i + 1] ?? "");
      i++;
      continue;
    }
    if (ch === "[") inClass = true;
    else if (ch === "]") inClass = false;
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    if (lower !== upper) out += inClass ? lower + upper : `[${lower}${upper}]`;
    else out += ch;
  }
  return out;
}

/** Compiles a tokenizer.json regex to a global, unicode JavaScript RegExp. */
export function compilePattern(pattern: string): RegExp {
  let src = pattern;
  // (?i:...) without nested groups -> explicit case classes.
  src = src.replace(/\(\?i:([^()]*)\)/g, (_, body: string) => `(?:${caseFold(body)})`);
  try {
    return new RegExp(src, "gu");
  } catch (err) {
    throw new Error(
      `tokenizer: unsupported pre-tokenizer regex ${JSON.stringify(pattern)}: ${(err as Error).message}`,
    );
  }
}

export type SplitBehavior =
  | "removed"
  | "isolated"
  | "merged_with_previous"
  | "merged_with_next"
  | "contiguous";

/**
 * Splits `text` the way tokenizers' `Split` pre-tokenizer does: the regex matches (or, with
 * `invert`, the text between them) are delimiters, and `behavior` says what happens to them.
 */
export function splitByRegex(
  text: string,
  re: RegExp,
  behavior: SplitBehavior = "isolated",
  invert = false,
): string[] {
  const segs: { text: string; delim: boolean }[] = [];
  let last = 0;
  re.lastIndex = 0;
  for (const m of text.matchAll(re)) {
    if (m[0].length === 0) continue;
    const start = m.index ?? 0;
    if (start > last) segs.push({ text: text.slice(last, start), delim: invert });
    segs.push({ text: m[0], delim: !invert });
    last = start + m[0].length;
  }
  if (last < text.length) segs.push({ text: text.slice(last), delim: invert });

  const out: string[] = [];
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    switch (behavior) {
      case "removed":
        if (!s.delim) out.push(s.text);
        break;
      case "isolated":
        out.push(s.text);
        break;
      case "merged_with_previous":
        if (s.delim && out.length > 0 && !segs[i - 1]!.delim) out[out.length - 1] += s.text;
        else out.push(s.text);
        break;
      case "merged_with_next":
        if (s.delim && i + 1 < segs.length && !segs[i + 1]!.delim) {
          out.push(s.text + segs[i + 1]!.text);
          i++;
        } else out.push(s.text);
        break;
      case "contiguous":
        if (s.delim && i > 0 && segs[i - 1]!.delim) out[out.length - 1] += s.text;
        else out.push(s.text);
        break;
    }
  }
  return out;
}
