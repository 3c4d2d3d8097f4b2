import { describe, expect, it } from "vitest";
import { ChatTemplate } from "./chat-template.js";
import { compilePattern, splitByRegex } from "./regex.js";
import { Tokenizer } from "./tokenizer.js";
import { trainBpe } from "./train.js";

const corpus = [
  "the cat sat on the mat",
  "the dog sat on the log",
  "what if demand at cafe2 grows by 29%?",
  "naïve café — 東京 🚀",
].flatMap((s) => Array(20).fill(s) as string[]);

describe("trainBpe", () => {
  it("learns merges for frequent words and round-trips any text", () => {
    const tok = trainBpe(corpus, { vocabSize: 300, specialTokens: ["<|endoftext|>"] });
    expect(tok.vocabSize).toBe(300);
    expect(tok.tokenToId("<|endoftext|>")).toBe(0);
    // " the" is frequent: it becomes one token.
    expect(tok.encode(" the")).toHaveLength(1);
    for (const text of [...corpus.slice(0, 80), "unseen words ✓ \n\t", ""]) {
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
    expect(tok.encode("<|endoftext|>the")[0]).toBe(0);
  });

  it("is deterministic and survives a save / load through tokenizer.json", () => {
    const a = trainBpe(corpus, { vocabSize: 290 });
    const b = trainBpe(corpus, { vocabSize: 290 });
    expect(a.toJSON()).toEqual(b.toJSON());
    const c = Tokenizer.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    expect(c.encode(corpus[40]!)).toEqual(a.encode(corpus[40]!));
  });

  it("rejects a vocabulary smaller than the byte alphabet", () => {
    expect(() => trainBpe(corpus, { vocabSize: 100 })).toThrow(/smaller than the 256/);
  });
});

describe("pre-tokenizer regexes", () => {
  it("rewrites Llama-3's case-insensitive groups for JavaScript", () => {
    const llama3 =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    const re = compilePattern(llama3);
    expect(splitByRegex("I'M here 12345", re)).toEqual(["I", "'M", " here", " ", "123", "45"]);
  });

  it("follows the Split pre-tokenizer's delimiter behaviours", () => {
    const re = /-/gu;
    expect(splitByRegex("a-b-c", re, "removed")).toEqual(["a", "b", "c"]);
    expect(splitByRegex("a-b-c", re, "isolated")).toEqual(["a", "-", "b", "-", "c"]);
    expect(splitByRegex("a-b-c", re, "merged_with_previous")).toEqual(["a-", "b-", "c"]);
    expect(splitByRegex("a-b-c", re, "merged_with_next")).toEqual(["a", "-b", "-c"]);
  });
});

describe("ChatTemplate", () => {
  it("renders a ChatML template with a generation prompt", () => {
    const t = new ChatTemplate(
      "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
    );
    expect(t.render([{ role: "user", content: "hi" }], { addGenerationPrompt: true })).toBe(
      "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    );
  });
});
