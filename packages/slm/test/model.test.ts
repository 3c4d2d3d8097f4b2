import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeDefaultSolver } from "@athanor/opt";
import { afterAll, describe, expect, it } from "vitest";
import {
  parseActions,
  SlmClient,
  SlmModel,
  saveSlm,
  slmEditSource,
  trainSlm,
} from "../src/index.js";

afterAll(() => closeDefaultSolver());

const TINY = {
  vocabSize: 320,
  hidden: 16,
  layers: 1,
  heads: 2,
  intermediate: 32,
  maxPositions: 96,
};

describe("training and decoding (a tiny model)", () => {
  it("trains reproducibly, saves, loads, and always writes a line the grammar accepts", async () => {
    const opts = {
      seed: 7,
      steps: 3,
      batchSize: 4,
      perTemplate: 2,
      shape: TINY,
      apps: ["coffee", "tsp"] as const,
    };
    const a = await trainSlm({ ...opts, apps: [...opts.apps] });
    const b = await trainSlm({ ...opts, apps: [...opts.apps] });
    expect(a.meta.finalLoss).toBe(b.meta.finalLoss);
    const dir = mkdtempSync(join(tmpdir(), "slm-"));
    try {
      await saveSlm(a, dir);
      const meta = JSON.parse(readFileSync(join(dir, "slm.json"), "utf8"));
      expect(meta).toMatchObject({
        format: "athanor-slm/1",
        seed: 7,
        steps: 3,
        apps: ["coffee", "tsp"],
      });
      const model = await SlmModel.load(dir);
      for (const q of [
        "What if cafe2 needed 10% more coffee?",
        "Why go from point 1 to point 2?",
        "hello",
      ]) {
        // An untrained model may run out of tokens mid-line; then the line is an error, never an answer.
        const { prediction, plan, error } = model.plan("coffee", q);
        if (plan) expect(() => parseActions(prediction.line)).not.toThrow();
        else expect(error).toBeTruthy();
        expect(model.predict("coffee", q).line).toBe(prediction.line);
      }
      const answer = await model.answer("tsp", "Why go from point 1 to point 2?");
      expect(answer.result !== undefined || answer.error !== undefined).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("fine-tunes a Hugging Face checkpoint with LoRA: only the adapter trains and is saved", async () => {
    const base = mkdtempSync(join(tmpdir(), "slm-base-"));
    const out = mkdtempSync(join(tmpdir(), "slm-lora-"));
    try {
      // A stand-in for the user's checkpoint: a tiny model saved in Hugging Face's layout.
      const scratch = await trainSlm({
        seed: 1,
        steps: 1,
        batchSize: 2,
        perTemplate: 1,
        shape: TINY,
        apps: ["tsp"],
      });
      await saveSlm(scratch, base);
      const before = new Map(
        [...scratch.model.parameters()].map(([k, t]) => [k, Array.from(t.data())]),
      );
      const lora = await trainSlm({
        seed: 1,
        steps: 2,
        batchSize: 2,
        perTemplate: 1,
        apps: ["tsp"],
        base,
        loraRank: 2,
      });
      expect(lora.meta.base).toBe(base);
      expect(lora.model.adapter?.config.r).toBe(2);
      for (const [k, t] of lora.model.parameters())
        expect(Array.from(t.data()), k).toEqual(before.get(k));
      const bs = [...lora.model.adapter!.modules.values()].map((m) => m.b.data());
      expect(bs.some((b) => b.some((x) => x !== 0))).toBe(true); // B starts at 0: it trained
      await saveSlm(lora, out);
      expect(readFileSync(join(out, "adapter_config.json"), "utf8")).toContain('"r": 2');
      const loaded = await SlmModel.load(out);
      expect(loaded.model.adapter).toBeDefined();
      const { prediction } = loaded.plan("tsp", "Why go from point 1 to point 2?");
      expect(typeof prediction.line).toBe("string");
    } finally {
      rmSync(base, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);

  it("says how to get a model when the folder has none", async () => {
    await expect(SlmModel.load(tmpdir())).rejects.toThrow(/athanor slm train --app all/);
  });
});

/** A stand-in for the model that always writes the same line (the client's logic is what is tested). */
function scripted(line: string): SlmModel {
  const real = Object.create(SlmModel.prototype) as SlmModel;
  const predict = () => ({ line, tokens: 5, ms: 1 });
  Object.assign(real, { predict });
  return real;
}

describe("SlmClient", () => {
  const writer = (app: string, q: string) => ({
    messages: [
      { role: "system" as const, content: `You turn what-if questions...\n\n# ${app}: title\n` },
      { role: "user" as const, content: q },
    ],
  });

  it("writes the compiled edit as a js block and the safeguard passes only its own edits", async () => {
    const client = new SlmClient(scripted("set demand cafe3 +13%"));
    const r = await client.create(writer("coffee", "demand at cafe 3 up 13%?"));
    expect(r.content).toContain("```js\ndata.light_coffee_needed_for_cafe");
    const code = /```js\n([\s\S]*?)\n```/.exec(r.content!)![1]!;
    const guard = (c: string) =>
      client.create({
        messages: [
          {
            role: "system",
            content: "You review JavaScript edits of an optimization model before they run.",
          },
          { role: "user", content: `\`\`\`js\n${c}\n\`\`\`` },
        ],
      });
    expect((await guard(code)).content).toMatch(/^SAFE/);
    expect((await guard("require('fs')")).content).toMatch(/^DANGER/);
  });

  it("explains invalid actions, queries and declines instead of writing code", async () => {
    const bad = await new SlmClient(scripted("set capacity detroit detroit =3")).create(
      writer("netflow", "q"),
    );
    expect(bad.content).toMatch(/is not valid for netflow/);
    const dec = await new SlmClient(scripted("decline")).create(writer("tsp", "tell me a joke"));
    expect(dec.content).toMatch(/not a question about the tsp model/);
    await expect(
      new SlmClient(scripted("decline")).create({ messages: [{ role: "user", content: "x" }] }),
    ).rejects.toThrow(/cannot tell which app/);
  });

  it("is an edit source for the benchmark", async () => {
    const src = slmEditSource(scripted("why ship supplier1 roastery2"));
    const edit = await src("coffee", { QUESTION: "why?", "GT EXEC RESULT": 0 });
    expect(edit).toEqual({
      kind: "constraint",
      code: 'addConstr("x[supplier1,roastery2] == 0", "why ship supplier1 roastery2");',
    });
    expect(() =>
      slmEditSource(scripted("show objective"))("coffee", { QUESTION: "?", "GT EXEC RESULT": 0 }),
    ).toThrow(/query/);
  });
});
