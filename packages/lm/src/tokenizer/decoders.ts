/** Decoders from tokenizer.json (`decoder`): turn token strings back into text. */
import { fromByteLevel } from "./byte-level.js";
import { asObject, TokenizerConfigError } from "./config-error.js";

/** Works on the list of token strings; the final text is their concatenation. */
export type Decoder = (tokens: string[]) => string[];

const utf8 = new TextDecoder("utf-8", { fatal: false });

export function buildDecoder(config: unknown, field = "decoder"): Decoder | null {
  if (config === null || config === undefined) return null;
  const c = asObject(config, field);
  switch (c.type) {
    case "Sequence": {
      const parts = (c.decoders as unknown[]).map((d, i) =>
        buildDecoder(d, `${field}.decoders[${i}]`),
      );
      return (tokens) => parts.reduce((acc, f) => (f ? f(acc) : acc), tokens);
    }
    case "ByteLevel":
      // Bytes of several tokens can form one character, so decode them together.
      return (tokens) => [utf8.decode(fromByteLevel(tokens.join("")))];
    case "ByteFallback":
      return (tokens) => {
        const out: string[] = [];
        let bytes: number[] = [];
        const flush = () => {
          if (bytes.length) out.push(utf8.decode(Uint8Array.from(bytes)));
          bytes = [];
        };
        for (const t of tokens) {
          const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(t);
          if (m) bytes.push(Number.parseInt(m[1]!, 16));
          else {
            flush();
            out.push(t);
          }
        }
        flush();
        return out;
      };
    case "Fuse":
      return (tokens) => [tokens.join("")];
    case "Replace": {
      const p = asObject(c.pattern, `${field}.pattern`);
      const from = typeof p.String === "string" ? p.String : null;
      if (from === null)
        throw new TokenizerConfigError(
          `${field}.pattern`,
          "only { String } patterns are supported",
        );
      const to = String(c.content);
      return (tokens) => tokens.map((t) => t.split(from).join(to));
    }
    case "Strip": {
      const ch = String(c.content ?? " ");
      const start = Number(c.start ?? 0);
      const stop = Number(c.stop ?? 0);
      return (tokens) =>
        tokens.map((t) => {
          let s = t;
          for (let i = 0; i < start && s.startsWith(ch); i++) s = s.slice(ch.length);
          for (let i = 0; i < stop && s.endsWith(ch); i++) s = s.slice(0, -ch.length);
          return s;
        });
    }
    case "Metaspace": {
      const replacement = String(c.replacement ?? "▁");
      const scheme = String(c.prepend_scheme ?? "always");
      return (tokens) =>
        tokens.map((t, i) => {
          let s = t.replaceAll(replacement, " ");
          if (i === 0 && scheme !== "never" && s.startsWith(" ")) s = s.slice(1);
          return s;
        });
    }
    default:
      throw new TokenizerConfigError(
        `${field}.type`,
        `decoder ${JSON.stringify(c.type)} is not supported`,
      );
  }
}
