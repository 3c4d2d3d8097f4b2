import { APP_NAMES } from "@athanor/optiguide";
import { describe, expect, it } from "vitest";
import {
  actionAutomaton,
  delexicalize,
  delexicalizeAction,
  expand,
  generateExamples,
  normalizeQuestion,
  OFF_DOMAIN_EVAL,
  parseActions,
  planActions,
  promptText,
  relexicalizeAction,
  requiredWords,
  rng,
} from "../src/index.js";

const accepts = (app: (typeof APP_NAMES)[number], text: string): boolean => {
  const a = actionAutomaton(app);
  let s: ReturnType<typeof a.initial> | undefined = a.initial();
  for (const b of Buffer.from(text, "utf8")) {
    s = a.step(s, b);
    if (s === undefined) return false;
  }
  return a.accepts(s);
};

describe("generator", () => {
  const data = generateExamples({ seed: 3, perTemplate: 8, declinePerApp: 10 });

  it("is reproducible from the seed and differs across seeds", () => {
    expect(generateExamples({ seed: 3, perTemplate: 8, declinePerApp: 10 })).toEqual(data);
    expect(generateExamples({ seed: 4, perTemplate: 8, declinePerApp: 10 })).not.toEqual(data);
  });

  it("covers every app, with declines, and only valid actions", () => {
    for (const app of APP_NAMES) {
      const mine = data.filter((e) => e.app === app);
      expect(mine.length).toBeGreaterThan(50);
      expect(mine.some((e) => e.action === "decline")).toBe(true);
      expect(new Set(mine.map((e) => e.kind)).size).toBeGreaterThan(4);
    }
    for (const e of data) expect(() => planActions(e.app, e.action)).not.toThrow();
  });

  it("never contains the decline evaluation set", () => {
    const qs = new Set(data.map((e) => e.question.toLowerCase()));
    for (const q of OFF_DOMAIN_EVAL) expect(qs.has(q.toLowerCase())).toBe(false);
  });

  it("keeps question and action consistent (the action's names appear in the normalized question)", () => {
    let checked = 0;
    for (const e of data.slice(0, 300)) {
      if (e.action === "decline") continue;
      const norm = ` ${normalizeQuestion(e.app, e.question)} `;
      for (const w of requiredWords(e.action)) {
        if (/^point\d$/.test(w)) continue; // "from point 9 to 4": the bare number stands for point4
        if (/^\d/.test(w)) continue; // numbers may be spelled as words ("two")
        expect(norm, `${e.question} -> ${e.action}`).toContain(w);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});

describe("expand", () => {
  it("picks alternatives, nested and empty ones included", () => {
    const r = rng(1);
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) seen.add(expand(r, "a[b|c[d|e]|]f"));
    expect([...seen].sort()).toEqual(["abf", "acdf", "acef", "af"]);
  });
});

describe("normalize", () => {
  it("spells entities, numbers and percentages one way", () => {
    expect(normalizeQuestion("coffee", "What if Cafe 3's demand grew by 13 percent?")).toBe(
      "what if cafe3's demand grew by 13% ?",
    );
    expect(normalizeQuestion("diet", "No more Hot Dogs or ice-cream, please")).toBe(
      "no more hot_dog or ice_cream , please",
    );
    expect(normalizeQuestion("netflow", "Ship pens from Detroit to New York for $17")).toBe(
      "ship pens from detroit to new_york for 17",
    );
    expect(normalizeQuestion("tsp", "Why go from Point 9 to node #4?")).toBe(
      "why go from point9 to point4 ?",
    );
    expect(normalizeQuestion("facility", "close plant number 2")).toBe("close plant2");
    expect(normalizeQuestion("workforce1", "4 more people on Mondays")).toBe(
      "4 more people on monday",
    );
    expect(promptText("tsp", "Hi")).toBe("tsp : hi =>");
  });
});

describe("placeholders", () => {
  it("replace names and numbers in order of mention, and come back", () => {
    const d = delexicalize(
      "workforce1",
      "Can Gu move from Sun7 to Tue2, and can Gu work two more?",
    );
    expect(d.text).toBe(
      "can worker#1 move from shift#1 to shift#2 , and can worker#1 work num#1 more ?",
    );
    const a = delexicalizeAction("forbid work gu sun7 ; fix work gu tue2 =1", d.slots);
    expect(a).toBe("forbid work worker#1 shift#1 ; fix work worker#1 shift#2 =1");
    expect(relexicalizeAction(a, d.slots)).toBe("forbid work gu sun7 ; fix work gu tue2 =1");
    const c = delexicalize("coffee", "What if cafe 3 needs 12.5% more?");
    expect(c.text).toBe("what if cafe#1 needs num#1% more ?");
    expect(delexicalizeAction("set demand cafe3 +12.5%", c.slots)).toBe(
      "set demand cafe#1 +num#1%",
    );
  });

  it("keep a numbered name the app lacks, so validation reports it", () => {
    const d = delexicalize("coffee", "What if cafe9 doubles?");
    expect([...d.slots]).toEqual([["cafe#1", "cafe9"]]);
    expect(() =>
      planActions("coffee", relexicalizeAction("set demand cafe#1 *2", d.slots)),
    ).toThrow(/"cafe9" is not a cafe/);
  });

  it("read a bare number after a point as a point (tsp)", () => {
    expect(delexicalize("tsp", "Go from point 9 to 4, distance 50").text).toBe(
      "go from point#1 to point#2 , distance num#1",
    );
  });

  it("restrict the grammar to the question's placeholders", () => {
    const a = actionAutomaton("coffee", ["cafe#1", "num#1"]);
    const ok = (t: string) => {
      let s: ReturnType<typeof a.initial> | undefined = a.initial();
      for (const b of Buffer.from(t)) if (s !== undefined) s = a.step(s, b);
      return s !== undefined && a.accepts(s);
    };
    expect(ok("set demand cafe#1 +num#1%")).toBe(true);
    expect(ok("set demand cafe#2 +num#1%")).toBe(false);
    expect(ok("set demand cafe3 +5%")).toBe(false);
    expect(ok("forbid ship * *")).toBe(true);
    const t = actionAutomaton("tsp", ["point#1", "point#2"]);
    const okT = (line: string) => {
      let st: ReturnType<typeof t.initial> | undefined = t.initial();
      for (const b of Buffer.from(line)) if (st !== undefined) st = t.step(st, b);
      return st !== undefined && t.accepts(st);
    };
    expect(okT("forbid edge point#1 point#2")).toBe(true);
    expect(okT("forbid edge point#1 point#1")).toBe(false); // one point is not an edge
    expect(okT("exclusive edge point#1 point#2")).toBe(false); // only for two kinds of thing
  });
});

describe("grammar", () => {
  it("accepts every generated action line, with or without a leading space", () => {
    for (const e of generateExamples({ seed: 5, perTemplate: 4, declinePerApp: 2 })) {
      expect(accepts(e.app, e.action), `${e.app}: ${e.action}`).toBe(true);
      expect(accepts(e.app, ` ${e.action}`)).toBe(true);
    }
  });

  it("rejects what the parser or the app would reject", () => {
    expect(accepts("coffee", "set demand cafe9 +3%")).toBe(false);
    expect(accepts("coffee", "set demand cafe3")).toBe(false);
    expect(accepts("coffee", "set demand cafe3 *3%")).toBe(false);
    expect(accepts("coffee", "drop demand cafe3 +3%")).toBe(false);
    expect(accepts("diet", "forbid ship supplier1 roastery1")).toBe(false);
    expect(accepts("tsp", "limit edge point1 point2 3")).toBe(false);
    expect(accepts("workforce1", "forbid work gu sun7 ; fix work gu tue2 =1")).toBe(true);
    expect(accepts("workforce1", "forbid work gu sun7 ;")).toBe(false);
    expect(accepts("coffee", "decline")).toBe(true);
  });

  it("accepts only what parses", () => {
    const lines = [
      "show objective",
      "set dist point2 * =0",
      "limit shifts * >=1",
      "apart work gu bob",
    ];
    for (const l of lines) {
      const app = l.includes("dist") ? "tsp" : l.includes("objective") ? "coffee" : "workforce1";
      expect(accepts(app, l)).toBe(true);
      expect(() => parseActions(l)).not.toThrow();
    }
  });
});
