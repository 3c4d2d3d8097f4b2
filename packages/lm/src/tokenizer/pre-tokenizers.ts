/**
 * Pre-tokenizers from tokenizer.json (`pre_tokenizer`): split text into words, which BPE then
 * encodes independently. Output pieces are already in the model's alphabet (byte-level or not).
 */
import { toByteLevel } from "./byte-level.js";
import { asObject, TokenizerConfigError } from "./config-error.js";
import { compilePattern, GPT2_PATTERN, type SplitBehavior, splitByRegex } from "./regex.js";

export type PreTokenizer = (pieces: string[]) => string[];

const BEHAVIORS: Record<string, SplitBehavior> = {
  Removed: "removed",
  Isolated: "isolated",
  MergedWithPrevious: "merged_with_previous",
  MergedWithNext: "merged_with_next",
  Contiguous: "contiguous",
};

function regexOf(p: unknown, field: string): RegExp {
  const o = asObject(p, field);
  if (typeof o.Regex === "string") return compilePattern(o.Regex);
  if (typeof o.String === "string") {
    return new RegExp(o.String.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gu");
  }
  throw new TokenizerConfigError(field, "expected { Regex } or { String }");
}

export function buildPreTokenizer(config: unknown, field = "pre_tokenizer"): PreTokenizer | null {
  if (config === null || config === undefined) return null;
  const c = asObject(config, field);
  switch (c.type) {
    case "Sequence": {
      const parts = (c.pretokenizers as unknown[]).map((p, i) =>
        buildPreTokenizer(p, `${field}.pretokenizers[${i}]`),
      );
      return (pieces) => parts.reduce((acc, f) => (f ? f(acc) : acc), pieces);
    }
    case "ByteLevel": {
      const re = c.use_regex !== false ? compilePattern(GPT2_PATTERN) : null;
      const prefix = c.add_prefix_space === true;
      return (pieces) =>
        pieces.flatMap((p, i) => {
          const text = prefix && i === 0 && !p.startsWith(" ") ? ` ${p}` : p;
          const words = re ? splitByRegex(text, re, "isolated") : [text];
          return words.map(toByteLevel);
        });
    }
    case "Split": {
      const re = regexOf(c.pattern, `${field}.pattern`);
      const behavior = BEHAVIORS[String(c.behavior)];
      if (!behavior) {
        throw new TokenizerConfigError(
          `${field}.behavior`,
          `unknown split behavior ${JSON.stringify(c.behavior)}`,
        );
      }
      const invert = c.invert === true;
      return (pieces) => pieces.flatMap((p) => splitByRegex(p, re, behavior, invert));
    }
    case "Digits": {
      const re = c.individual_digits ? /\p{N}/gu : /\p{N}+/gu;
      return (pieces) => pieces.flatMap((p) => splitByRegex(p, re, "isolated"));
    }
    case "Whitespace": {
      const re = /\w+|[^\w\s]+/gu;
      return (pieces) => pieces.flatMap((p) => [...p.matchAll(re)].map((m) => m[0]));
    }
    case "WhitespaceSplit":
      return (pieces) => pieces.flatMap((p) => p.split(/\s+/u).filter((s) => s.length > 0));
    case "Metaspace": {
      const replacement = String(c.replacement ?? "▁");
      const scheme = String(
        c.prepend_scheme ?? (c.add_prefix_space === false ? "never" : "always"),
      );
      const split = c.split !== false;
      return (pieces) =>
        pieces.flatMap((p, i) => {
          let t = p.replaceAll(" ", replacement);
          if (
            (scheme === "always" || (scheme === "first" && i === 0)) &&
            !t.startsWith(replacement)
          ) {
            t = replacement + t;
          }
          if (!split) return [t];
          return splitByRegex(t, new RegExp(replacement, "gu"), "merged_with_next");
        });
    }
    default:
      throw new TokenizerConfigError(
        `${field}.type`,
        `pre-tokenizer ${JSON.stringify(c.type)} is not supported`,
      );
  }
}
