import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { LLMMessage } from "../messages.js";
import { ListMemory } from "./list-memory.js";
import { SqliteMemory } from "./sqlite-memory.js";

const dir = mkdtempSync(join(tmpdir(), "athanor-memory-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ListMemory", () => {
  it("adds every item to the context, most recent maxItems only when asked", async () => {
    const memory = new ListMemory({ maxItems: 2 });
    await memory.add({ content: "The user likes metric units." });
    await memory.add({ content: "The user is in Paris." });
    await memory.add({ content: "The user is vegetarian.", metadata: { kind: "diet" } });
    const context: LLMMessage[] = [{ role: "user", content: "What should I cook?" }];
    const added = await memory.updateContext(context);
    expect(added.map((i) => i.content)).toEqual([
      "The user is in Paris.",
      "The user is vegetarian.",
    ]);
    expect(context[1]).toEqual({
      role: "system",
      content:
        "Relevant memory content (in chronological order):\n1. The user is in Paris.\n2. The user is vegetarian.\n",
    });
    expect((await memory.query("anything", { limit: 1 }))[0].item.content).toBe(
      "The user is vegetarian.",
    );
  });

  it("saves and loads as JSON, and clears", async () => {
    const a = new ListMemory();
    await a.add({ content: "x", mimeType: "text/markdown" });
    const b = new ListMemory();
    await b.loadState(JSON.parse(JSON.stringify(await a.saveState())));
    expect(b.contents).toEqual([{ content: "x", mimeType: "text/markdown" }]);
    await b.clear();
    expect(await b.updateContext([])).toEqual([]);
    await expect(b.loadState({ items: "no" })).rejects.toThrow(/items must be an array/);
    await expect(b.add({} as never)).rejects.toThrow(/string content/);
  });
});

describe("SqliteMemory", () => {
  it("ranks by full-text relevance with stemming, and adds the best matches to the context", async () => {
    const memory = new SqliteMemory(join(dir, "m.db"), { name: "prefs", topK: 2 });
    await memory.add({ content: "Alice prefers running in the morning." });
    await memory.add({ content: "Alice's favourite food is ramen.", metadata: { source: "chat" } });
    await memory.add({ content: "The office is closed on Fridays." });
    const hits = await memory.query("When does Alice run?");
    expect(hits[0].item.content).toBe("Alice prefers running in the morning.");
    expect(hits.map((h) => h.item.content)).not.toContain("The office is closed on Fridays.");
    const context: LLMMessage[] = [{ role: "user", content: "what food would alice like" }];
    const added = await memory.updateContext(context);
    expect(added[0]).toEqual({
      content: "Alice's favourite food is ramen.",
      metadata: { source: "chat" },
    });
    expect(context).toHaveLength(2);
    expect(await memory.updateContext([{ role: "user", content: "zzz qqq" }])).toEqual([]);
    memory.close();
  });

  it("persists in the file, keeps collections apart, and round-trips its state", async () => {
    const path = join(dir, "shared.db");
    const a = new SqliteMemory(path, { name: "a" });
    const b = new SqliteMemory(path, { name: "b" });
    await a.add({ content: "apples are red" });
    await b.add({ content: "bananas are yellow" });
    expect(await a.query("bananas")).toEqual([]);
    a.close();
    const reopened = new SqliteMemory(path, { name: "a" });
    expect((await reopened.query("apple"))[0].item.content).toBe("apples are red");
    const state = JSON.parse(JSON.stringify(await reopened.saveState()));
    await reopened.clear();
    expect(await reopened.query("apples")).toEqual([]);
    await reopened.loadState(state);
    expect((await reopened.query("apples"))[0].item.content).toBe("apples are red");
    expect((await b.query("yellow")).length).toBe(1);
    reopened.close();
    b.close();
  });
});
