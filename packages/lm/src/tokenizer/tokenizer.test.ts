import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fixturePath } from "../testing/fixtures.js";
import { Tokenizer } from "./tokenizer.js";

interface Encoding {
  text: string;
  ids: number[];
  decoded: string;
}

describe("Tokenizer parity with Hugging Face tokenizers", () => {
  const dir = fixturePath("tokenizer-bpe512");
  const tok = Tokenizer.fromFile(`${dir}/tokenizer.json`);
  const cases = JSON.parse(readFileSync(`${dir}/encodings.json`, "utf8")) as Encoding[];

  it.each(cases.map((c) => [JSON.stringify(c.text).slice(0, 40), c] as const))("%s", (_, c) => {
    expect(tok.encode(c.text)).toEqual(c.ids);
    expect(tok.decode(c.ids, { skipSpecialTokens: true })).toBe(c.decoded);
  });

  it("round-trips text without special tokens exactly", () => {
    for (const c of cases.filter((x) => !x.text.includes("<|"))) {
      expect(tok.decode(tok.encode(c.text))).toBe(c.text);
    }
  });

  it("reports ids outside the vocabulary", () => {
    expect(() => tok.decode([99999])).toThrow(/outside the vocabulary/);
  });

  it("names the unsupported feature and the file", () => {
    const json = JSON.parse(readFileSync(`${dir}/tokenizer.json`, "utf8"));
    json.pre_tokenizer = { type: "UnicodeScripts" };
    expect(() => Tokenizer.fromJSON(json, "x/tokenizer.json")).toThrow(
      /x\/tokenizer.json: pre_tokenizer.type: pre-tokenizer "UnicodeScripts" is not supported/,
    );
  });
});
