import { describe, expect, it } from "vitest";
import { fixturePath } from "../testing/fixtures.js";
import { Tokenizer } from "../tokenizer/index.js";
import { choiceAutomaton } from "./choices.js";
import type { ByteAutomaton } from "./constraint.js";
import { automatonConstraint } from "./constraint.js";
import { IncrementalDetokenizer } from "./detokenizer.js";
import { JsonSchemaError, jsonSchemaAutomaton } from "./json-schema.js";
import { StopMatcher } from "./stop.js";
import { TokenVocabulary } from "./vocabulary.js";

const enc = new TextEncoder();
function matches<S>(a: ByteAutomaton<S>, text: string): "complete" | "prefix" | "rejected" {
  let s: S | undefined = a.initial();
  for (const b of enc.encode(text)) {
    s = a.step(s, b);
    if (s === undefined) return "rejected";
  }
  return a.accepts(s) ? "complete" : "prefix";
}

const action = {
  type: "object",
  properties: {
    action: { enum: ["move", "pick up", "stop"] },
    steps: { type: "integer" },
    speed: { type: "number" },
    note: { type: "string", maxLength: 5 },
    tags: { type: "array", items: { type: "string" }, maxItems: 2 },
    ok: { type: "boolean" },
    target: {
      anyOf: [
        { type: "null" },
        { type: "object", properties: { x: { type: "integer" } }, required: ["x"] },
      ],
    },
  },
  required: ["action", "steps"],
};

describe("JSON schema automaton", () => {
  const a = jsonSchemaAutomaton(action);
  it("accepts exactly the compact JSON valid for the schema", () => {
    for (const ok of [
      '{"action":"move","steps":3}',
      '{"action":"stop","steps":-12,"speed":1.5e-3}',
      '{"action":"pick up","steps":0,"note":"héllo","tags":["a","b\\"c"],"ok":true,"target":null}',
      '{"action":"move","steps":1,"target":{"x":4}}',
      '{"action":"move","steps":1,"ok":false}',
    ])
      expect(matches(a, ok), ok).toBe("complete");
    for (const [bad, why] of [
      ['{"steps":1,"action":"move"}', "properties in schema order"],
      ['{"action":"jump","steps":1}', "enum"],
      ['{"action":"move"}', "required steps"],
      ['{"action":"move","steps":1.5}', "integer"],
      ['{"action":"move","steps":01}', "leading zero"],
      ['{"action":"move","steps":1,"note":"toolong"}', "maxLength"],
      ['{"action":"move","steps":1,"tags":["a","b","c"]}', "maxItems"],
      ['{"action":"move","steps":1,"extra":1}', "no extra keys"],
      ['{ "action":"move","steps":1}', "compact"],
      ['{"action":"move","steps":1}x', "nothing after the value"],
      ['{"action":"move","steps":1,"target":{}}', "required x"],
    ])
      expect(matches(a, bad), why).toBe("rejected");
    expect(matches(a, '{"action":"mo')).toBe("prefix");
  });

  it("handles numbers, any values and free-form objects", () => {
    const n = jsonSchemaAutomaton({ type: "number" });
    expect(matches(n, "12")).toBe("complete"); // may continue: 123
    expect(matches(n, "-0.5E+10")).toBe("complete");
    expect(matches(n, "1.")).toBe("prefix");
    expect(matches(n, "1".repeat(17))).toBe("rejected");
    const any = jsonSchemaAutomaton({});
    expect(matches(any, '{"a":[1,{"b":null}],"c":"d"}')).toBe("complete");
    expect(matches(any, "[true,false,-1e5]")).toBe("complete");
    const dict = jsonSchemaAutomaton({ type: "object", additionalProperties: { type: "integer" } });
    expect(matches(dict, '{"x":1,"y":2}')).toBe("complete");
    expect(matches(dict, '{"x":"1"}')).toBe("rejected");
    const arr = jsonSchemaAutomaton({ type: "array", items: { type: "integer" }, minItems: 2 });
    expect(matches(arr, "[1")).toBe("prefix");
    expect(matches(arr, "[1]")).toBe("rejected");
    expect(matches(arr, "[1,2]")).toBe("complete");
    const u = jsonSchemaAutomaton({ type: ["string", "null"] });
    expect(matches(u, '"\\u00e9"')).toBe("complete");
    expect(matches(u, "null")).toBe("complete");
    expect(matches(u, '"\\x"')).toBe("rejected");
  });

  it("rejects unsupported or malformed schemas, naming the path", () => {
    expect(() => jsonSchemaAutomaton({ type: "string", pattern: "a+" })).toThrow(
      /\$\.pattern: keyword "pattern" is not supported/,
    );
    expect(() => jsonSchemaAutomaton({ properties: { a: { type: "strin" } } })).toThrow(
      JsonSchemaError,
    );
    expect(() => jsonSchemaAutomaton({ properties: { a: {} }, required: ["b"] })).toThrow(
      /"b" is not one of the properties/,
    );
    expect(() => jsonSchemaAutomaton({ type: "string", maxLength: -1 })).toThrow(/maxLength/);
  });
});

describe("token-level constraints", () => {
  const tok = Tokenizer.fromFile(fixturePath("tokenizer-bpe512/tokenizer.json"));
  it("allows exactly the tokens whose bytes keep the text valid", () => {
    const vocab = TokenVocabulary.of(tok);
    const a = choiceAutomaton(["import os", "import sys"]);
    const c = automatonConstraint(a, tok);
    const allowed = c.allowed(c.initial());
    const expected: number[] = [];
    vocab.bytes.forEach((b, id) => {
      if (!b) return;
      const text = new TextDecoder().decode(b);
      if ("import os".startsWith(text) || "import sys".startsWith(text)) expected.push(id);
    });
    expect(Array.from(allowed.tokens)).toEqual(expected);
    expect(allowed.canEnd).toBe(false);
    // Advance by tokens spelling "import os": then complete, nothing more allowed.
    let s = c.initial();
    for (const id of tok.encode("import os", { addSpecialTokens: false })) s = c.advance(s, id);
    const end = c.allowed(s);
    expect(end.tokens).toHaveLength(0);
    expect(end.canEnd).toBe(true);
  });
});

describe("incremental detokenizer and stop strings", () => {
  const tok = Tokenizer.fromFile(fixturePath("tokenizer-bpe512/tokenizer.json"));
  it("never splits a UTF-8 character and adds up to the full decode", () => {
    const text = "héllo 😀 wörld 日本語 ok";
    const ids = tok.encode(text, { addSpecialTokens: false });
    const d = new IncrementalDetokenizer(tok);
    const deltas = ids.map((id) => d.push(id));
    deltas.push(d.flush());
    for (const x of deltas) expect(x).not.toContain("\uFFFD");
    expect(deltas.join("")).toBe(text);
    expect(deltas.filter((x) => x === "").length).toBeGreaterThan(0); // partial characters held
  });

  it("finds stop strings across pushes and holds back possible starts", () => {
    const m = new StopMatcher(["END", "\n\n"]);
    expect(m.push("abc E")).toEqual({ emit: "abc ", stopped: false });
    expect(m.push("N")).toEqual({ emit: "", stopped: false });
    expect(m.push("X")).toEqual({ emit: "ENX", stopped: false });
    expect(m.push("yy\n")).toEqual({ emit: "yy", stopped: false });
    expect(m.push("\nzz")).toEqual({ emit: "", stopped: true });
    expect(m.value).toBe("abc ENXyy");
  });
});
