import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { messageText } from "../messages.js";
import { RoundRobinGroupChat } from "../teams/round-robin.js";
import { ScriptedAgent } from "../teams/scripted.js";
import { MaxMessageTermination } from "../termination/conditions.js";
import type { Checkpointer } from "./checkpointer.js";
import { checkpointerConformance } from "./conformance.js";
import { InMemoryCheckpointer } from "./memory-checkpointer.js";
import { SqliteCheckpointer } from "./sqlite-checkpointer.js";

const dir = mkdtempSync(join(tmpdir(), "athanor-checkpoints-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const implementations: [string, () => Checkpointer][] = [
  ["InMemoryCheckpointer", () => new InMemoryCheckpointer()],
  ["SqliteCheckpointer (:memory:)", () => new SqliteCheckpointer(":memory:")],
  ["SqliteCheckpointer (file)", () => new SqliteCheckpointer(join(dir, `cp-${files++}.db`))],
];

for (const [name, factory] of implementations) {
  describe(`${name} conformance`, () => {
    for (const c of checkpointerConformance) it(c.name, () => c.run(factory));
  });
}

describe("SqliteCheckpointer", () => {
  it("keeps checkpoints across instances on one file", async () => {
    const path = join(dir, "reopen.db");
    const a = new SqliteCheckpointer(path);
    await a.put("t", 3, { ok: true });
    await a.close();
    const b = new SqliteCheckpointer(path);
    expect((await b.getLatest("t"))?.state).toEqual({ ok: true });
    await b.close();
  });
});

describe("a team with a checkpointer", () => {
  const counter = (name: string) => new ScriptedAgent(name, (_in, turn) => `${name}#${turn}`);

  it("checkpoints after every turn, and a fresh team resumes from the latest one", async () => {
    const checkpointer = new InMemoryCheckpointer();
    const make = (max: number) =>
      new RoundRobinGroupChat([counter("a"), counter("b")], {
        termination: new MaxMessageTermination(max),
        checkpointer,
        threadId: "job-1",
      });
    const first = make(4);
    await first.run("go");
    const steps = (await checkpointer.list("job-1")).map((c) => [c.step, c.metadata.speakers]);
    expect(steps).toEqual([
      [3, "a"],
      [2, "b"],
      [1, "a"],
    ]);
    const second = make(3);
    const result = await second.run({ task: "more", resume: true });
    expect(second.transcript.map(messageText)).toEqual([
      "go",
      "a#0",
      "b#0",
      "a#1",
      "more",
      "b#1",
      "a#2",
    ]);
    expect(result.stopReason).toMatch(/Maximum/);
  });

  it("resume continues an interrupted run without adding the task again", async () => {
    const checkpointer = new InMemoryCheckpointer();
    const make = () =>
      new RoundRobinGroupChat([counter("a"), counter("b")], {
        termination: new MaxMessageTermination(5),
        checkpointer,
        threadId: "job-2",
      });
    const first = make();
    const controller = new AbortController();
    await expect(
      (async () => {
        for await (const item of first.runStream({ task: "go", signal: controller.signal })) {
          if (item.type === "text" && item.content === "b#0") controller.abort();
        }
      })(),
    ).rejects.toThrow();
    // The checkpoint of turn 2 (b#0) was written before the abort was seen.
    expect((await checkpointer.getLatest("job-2"))?.step).toBe(2);
    const second = make();
    await second.run({ task: "go", resume: true });
    expect(second.transcript.map(messageText)).toEqual(["go", "a#0", "b#0", "a#1", "b#1"]);
  });
});
