import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteCheckpointer } from "@athanor/agents";
import { afterAll, describe, expect, it, vi } from "vitest";
import { runComponentFile } from "./agents-run.js";

const dir = mkdtempSync(join(tmpdir(), "athanor-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const yaml = `
models:
  default:
    provider: scripted
    results: ["Roses are red.", "Nice. APPROVE"]
team:
  type: round_robin
  name: poets
  participants:
    - { type: assistant, name: writer, systemMessage: Write a line. }
    - { type: assistant, name: critic, systemMessage: Say APPROVE when it is good. }
  termination:
    any: [{ type: text_mention, text: APPROVE }, { type: max_messages, max: 6 }]
`;

describe("athanor agents run", () => {
  it("runs a declared team and prints the conversation and usage", async () => {
    const file = join(dir, "team.yaml");
    writeFileSync(file, yaml);
    let out = "";
    const result = await runComponentFile(file, { task: "a poem", write: (t) => (out += t) });
    expect(out).toContain("---------- writer ----------\nRoses are red.");
    expect(out).toContain("---------- critic ----------\nNice. APPROVE");
    expect(out).toMatch(/stopped: Text 'APPROVE' mentioned by critic/);
    expect(result.stopReason).toMatch(/APPROVE/);
  });

  it("prints JSON and checkpoints every turn", async () => {
    const file = join(dir, "team2.yaml");
    writeFileSync(file, yaml);
    const db = join(dir, "cp.db");
    let json = "";
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      json += String(chunk);
      return true;
    });
    try {
      await runComponentFile(file, { task: "a poem", json: true, checkpoint: db, thread: "t1" });
    } finally {
      spy.mockRestore();
    }
    const parsed = JSON.parse(json) as { stopReason: string; messages: { source: string }[] };
    expect(parsed.messages.map((m) => m.source)).toEqual([
      "user",
      "writer",
      "critic",
      "termination",
    ]);
    const cp = new SqliteCheckpointer(db);
    expect((await cp.list("t1")).map((c) => c.step)).toEqual([2, 1]);
    await cp.close();
  });

  it("explains a missing task and a bad file", async () => {
    const file = join(dir, "team3.yaml");
    writeFileSync(file, yaml);
    await expect(runComponentFile(file, {})).rejects.toThrow(/give --task/);
    writeFileSync(join(dir, "bad.yaml"), "team: { type: nope }");
    await expect(runComponentFile(join(dir, "bad.yaml"), { task: "x" })).rejects.toThrow(
      /bad.yaml: team.type/,
    );
  });
});
