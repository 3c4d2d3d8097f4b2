/** Normalizers from tokenizer.json (`normalizer`): text rewrites applied before splitting. */
import { asObject, TokenizerConfigError } from "./config-error.js";

export type Normalizer = (text: string) => string;

function replacePattern(p: unknown, field: string): RegExp | string {
  const o = asObject(p, field);
  if (typeof o.String === "string") return o.String;
  if (typeof o.Regex === "string") return new RegExp(o.Regex, "gu");
  throw new TokenizerConfigError(field, "expected { String } or { Regex }");
}

export function buildNormalizer(config: unknown, field = "normalizer"): Normalizer | null {
  if (config === null || config === undefined) return null;
  const c = asObject(config, field);
  switch (c.type) {
    case "Sequence": {
      const parts = (c.normalizers as unknown[]).map((n, i) =>
        buildNormalizer(n, `${field}.normalizers[${i}]`),
      );
      return (t) => parts.reduce((acc, f) => (f ? f(acc) : acc), t);
    }
    case "NFC":
    case "NFD":
    case "NFKC":
    case "NFKD": {
      const form = c.type;
      return (t) => t.normalize(form);
    }
    case "Lowercase":
      return (t) => t.toLowerCase();
    case "Strip": {
      const left = c.strip_left !== false;
      const right = c.strip_right !== false;
      return (t) => (left && right ? t.trim() : left ? t.trimStart() : right ? t.trimEnd() : t);
    }
    case "Prepend": {
      const prefix = String(c.prepend);
      return (t) => (t.length > 0 ? prefix + t : t);
    }
    case "Replace": {
      const pattern = replacePattern(c.pattern, `${field}.pattern`);
      const content = String(c.content);
      return (t) =>
        typeof pattern === "string" ? t.split(pattern).join(content) : t.replace(pattern, content);
    }
    default:
      throw new TokenizerConfigError(
        `${field}.type`,
        `normalizer ${JSON.stringify(c.type)} is not supported`,
      );
  }
}
