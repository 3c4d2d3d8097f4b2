import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { SqliteCheckpointer } from "./sqlite-checkpointer.js";

const packageRoot = fileURLToPath(new URL("../..", import.meta.url));
const child = join(packageRoot, "test", "crash-child.ts");
const dir = mkdtempSync(join(tmpdir(), "athanor-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ChildRun {
  messages: string[];
  transcript?: string[];
  signal: NodeJS.Signals | null;
  code: number | null;
}

/** Runs the child; with `killAfter`, SIGKILLs it as soon as it has printed that many messages. */
function runChild(db: string, turns: number, killAfter?: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", child, db, "thread", String(turns)], {
      cwd: packageRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const run: ChildRun = { messages: [], signal: null, code: null };
    let stderr = "";
    proc.stderr.on("data", (d) => {
      stderr += d;
    });
    createInterface({ input: proc.stdout }).on("line", (line) => {
      const parsed = JSON.parse(line) as { message?: string; transcript?: string[] };
      if (parsed.message !== undefined) {
        run.messages.push(parsed.message);
        if (killAfter !== undefined && run.messages.length === killAfter) proc.kill("SIGKILL");
      }
      if (parsed.transcript) run.transcript = parsed.transcript;
    });
    proc.on("error", reject);
    proc.on("close", (code, signal) => {
      run.code = code;
      run.signal = signal;
      if (code !== 0 && signal !== "SIGKILL")
        reject(new Error(`child failed (${code}): ${stderr}`));
      else resolve(run);
    });
  });
}

describe("crash-resume", () => {
  it("a team killed with SIGKILL mid-run resumes from its last completed turn: nothing lost, no turn repeated", async () => {
    const db = join(dir, "run.db");
    const turns = 12;
    const expected = [
      "count",
      ...Array.from({ length: turns }, (_, i) => `${"abc"[i % 3]}#${Math.floor(i / 3)}`),
    ];

    // First life: killed after it printed the task and four replies (during turn 5).
    const first = await runChild(db, turns, 5);
    expect(first.signal).toBe("SIGKILL");
    expect(first.transcript).toBeUndefined();
    const cp = new SqliteCheckpointer(db);
    const afterFirst = (await cp.getLatest("thread"))?.step ?? 0;
    expect(afterFirst).toBeGreaterThanOrEqual(4);
    expect(afterFirst).toBeLessThan(turns);

    // Second life: killed again, three messages later.
    const second = await runChild(db, turns, 3);
    expect(second.signal).toBe("SIGKILL");
    const afterSecond = (await cp.getLatest("thread"))?.step ?? 0;
    expect(afterSecond).toBeGreaterThan(afterFirst);

    // Third life: runs to the end.
    const third = await runChild(db, turns);
    expect(third.code).toBe(0);
    expect(third.transcript).toEqual(expected);
    // Each life started exactly where the previous one's last checkpoint ended.
    expect(second.messages[0]).toBe(expected[afterFirst + 1]);
    expect(third.messages[0]).toBe(expected[afterSecond + 1]);
    // No checkpoint was ever written for a turn that did not complete, and none is missing.
    const steps = (await cp.list("thread")).map((c) => c.step).reverse();
    expect(steps).toEqual(Array.from({ length: turns }, (_, i) => i + 1));
    await cp.close();
  });
});
