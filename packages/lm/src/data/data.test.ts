import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixturePath } from "../testing/fixtures.js";
import { Tokenizer } from "../tokenizer/index.js";
import { brownDocuments, untag } from "./brown.js";
import { readTrainingFile, splitForEval, tokenBlocks } from "./text-file.js";

const dir = mkdtempSync(join(tmpdir(), "athanor-data-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Brown corpus", () => {
  it("untags and detokenizes Form C text", () => {
    expect(
      untag(
        "\n\n\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, it's/pps+bez over/rp ./.\n\n\tNext/ap ./.",
      ),
    ).toBe('The jury said "no evidence", it\'s over.\nNext.');
  });

  it("reads all 500 documents with their genres", () => {
    const docs = brownDocuments();
    expect(docs).toHaveLength(500);
    expect(docs[0]!.id).toBe("ca01");
    expect(docs[0]!.category).toBe("news");
    expect(docs[0]!.text.startsWith("The Fulton County Grand Jury said Friday")).toBe(true);
    expect(new Set(docs.map((d) => d.category)).size).toBe(15);
    expect(docs.some((d) => /\w\/(nn|at|vbd|in)\b/.test(d.text))).toBe(false); // no tags left
  });
});

describe("training files", () => {
  it("reads .txt and both kinds of .jsonl, and names bad lines", () => {
    const txt = join(dir, "a.txt");
    writeFileSync(txt, "hello world\n");
    expect(readTrainingFile(txt)).toEqual({ kind: "text", texts: ["hello world\n"] });
    const lm = join(dir, "b.jsonl");
    writeFileSync(lm, '{"text":"one"}\n\n{"text":"two"}\n');
    expect(readTrainingFile(lm)).toEqual({ kind: "text", texts: ["one", "two"] });
    const sft = join(dir, "c.jsonl");
    writeFileSync(sft, '{"prompt":"Q","response":"A"}\n');
    expect(readTrainingFile(sft)).toEqual({
      kind: "sft",
      examples: [{ prompt: "Q", response: "A" }],
    });
    const bad = join(dir, "d.jsonl");
    writeFileSync(bad, '{"text":"ok"}\n{"txt":"no"}\n');
    expect(() => readTrainingFile(bad)).toThrow(/d\.jsonl:2: expected \{"text": string\}/);
    writeFileSync(bad, '{"text":"ok"}\n{oops\n');
    expect(() => readTrainingFile(bad)).toThrow(/d\.jsonl:2: not valid JSON/);
    expect(() => readTrainingFile(join(dir, "none.txt"))).toThrow(/cannot read/);
  });

  it("cuts token streams into blocks and splits deterministically", () => {
    const tok = Tokenizer.fromFile(fixturePath("tokenizer-bpe512/tokenizer.json"));
    const texts = ["def f(x):\n    return x", "import os"];
    const stream = [
      ...tok.encode(texts[0]!, { addSpecialTokens: false }),
      0,
      ...tok.encode(texts[1]!, { addSpecialTokens: false }),
      0,
    ];
    const blocks = tokenBlocks(texts, tok, 4, 0);
    expect(blocks.flat()).toEqual(stream.slice(0, Math.floor(stream.length / 4) * 4));
    const { train, eval: ev } = splitForEval([...Array(100).keys()], 0.1);
    expect(ev).toHaveLength(10);
    expect(train).toHaveLength(90);
    expect(ev[0]).toBe(9);
  });
});
