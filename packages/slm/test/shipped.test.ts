import { closeDefaultSolver } from "@athanor/opt";
import { afterAll, describe, expect, it } from "vitest";
import { OFF_DOMAIN_EVAL, SlmModel } from "../src/index.js";

afterAll(() => closeDefaultSolver());

// The model shipped in packages/slm/model (greedy decoding: deterministic for a given model).
describe.skipIf(!SlmModel.exists())("the shipped model", () => {
  it("writes the action for plain questions of each kind", async () => {
    const model = await SlmModel.load();
    const cases: [Parameters<SlmModel["predict"]>[0], string, string][] = [
      ["coffee", "What if the demand at cafe 2 went up by 12%?", "set demand cafe2 +12%"],
      ["coffee", "How much does supplier1 ship to roastery2?", "show ship supplier1 roastery2"],
      ["diet", "What if I can't eat hot dogs?", "forbid buy hot_dog"],
      ["facility", "What if we close plant 1?", "fix open plant1 =0"],
      ["netflow", "Why do we ship pens from Denver to Seattle?", "why flow pens denver seattle"],
      [
        "tsp",
        "What if the edge between point 2 and point 7 is removed?",
        "forbid edge point2 point7",
      ],
      ["workforce1", "What if Amy and Dan cannot work on the same day?", "apart work amy dan"],
      ["workforce1", "What if every worker can work at most 4 shifts?", "limit shifts * <=4"],
    ];
    for (const [app, q, want] of cases)
      expect(model.predict(app, q).line, `${app}: ${q}`).toBe(want);
  });

  it("declines most off-domain requests it was never trained on", async () => {
    const model = await SlmModel.load();
    const declined = OFF_DOMAIN_EVAL.filter((q) => model.predict("coffee", q).line === "decline");
    expect(declined.length / OFF_DOMAIN_EVAL.length).toBeGreaterThan(0.7);
  });

  it("answers end to end, and an entity the app lacks is an error, not an answer", async () => {
    const model = await SlmModel.load();
    const a = await model.answer("coffee", "Why do we use supplier1 for roastery2?");
    expect(a.result?.plan.kind).toBe("why");
    expect(a.result?.outcome?.status).toBe("optimal");
    const bad = await model.answer("coffee", "What if the demand at cafe 9 doubles?");
    expect(bad.error).toMatch(/"cafe9" is not a cafe/);
  });
});
