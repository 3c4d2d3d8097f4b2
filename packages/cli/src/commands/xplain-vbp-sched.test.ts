import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { registerXplain } from "./xplain.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "athanor-xplain-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `athanor xplain ...` in process; returns stdout and the error thrown, if any. */
async function run(...args: string[]) {
  let out = "";
  const log = vi.spyOn(console, "log").mockImplementation((...a) => {
    out += `${a.join(" ")}\n`;
  });
  const write = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out += String(s);
    return true;
  });
  let error: Error | undefined;
  try {
    const program = new Command("athanor").exitOverride();
    registerXplain(program);
    await program.parseAsync(["node", "athanor", "xplain", ...args]);
  } catch (e) {
    error = e as Error;
  } finally {
    log.mockRestore();
    write.mockRestore();
  }
  return { out, error };
}

describe("athanor xplain analyze (VBP and SP-PIFO)", () => {
  it("evaluates the FFDSum 2x family", async () => {
    const r = await run("analyze", "--heuristic", "ffd-sum", "--family", "2", "--json");
    expect(r.error).toBeUndefined();
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ k: 2, heuristicBins: 4, optimalBins: 2, ratio: 2 });
    const text = await run("analyze", "--heuristic", "ffd-sum", "--family", "4");
    expect(text.out).toMatch(/ffd-sum: 8 bins; optimum: 4 bins \(proven\); ratio 2\.000/);
  });

  it("analyzes SP-PIFO with a report", async () => {
    const report = join(dir, "sched.html");
    const r = await run(
      "analyze",
      "--heuristic",
      "sp-pifo",
      "--packets",
      "5",
      "--max-rank",
      "3",
      "--evaluations",
      "100",
      "--report",
      report,
    );
    expect(r.error).toBeUndefined();
    expect(r.out).toMatch(/SP-PIFO \(2 queues\) vs PIFO: 5 packets/);
    expect(r.out).toMatch(/exhaustive/);
    const html = await readFile(report, "utf8");
    expect(html).toMatch(/<svg/);
    expect(html).toMatch(/Worst sequence found/);
  });

  it("runs a small VBP search as JSON", async () => {
    const r = await run(
      "analyze",
      "--heuristic",
      "ffd-l2",
      "--items",
      "4",
      "--methods",
      "random",
      "--evaluations",
      "10",
      "--regions",
      "0",
      "--json",
    );
    expect(r.error).toBeUndefined();
    const j = JSON.parse(r.out);
    expect(j.heuristic).toBe("ffd-l2");
    expect(j.methods).toHaveLength(1);
    expect(j.methods[0].evaluations).toBe(10);
  });

  it("says what is wrong with bad options", async () => {
    expect((await run("analyze", "--heuristic", "bfd")).error?.message).toMatch(
      /unknown heuristic "bfd": use one of demand-pinning, pop, ff, ffd-sum/,
    );
    expect(
      (await run("analyze", "--heuristic", "sp-pifo", "--metric", "drops")).error?.message,
    ).toMatch(/--metric must be one of inversions, weighted-delay/);
    expect(
      (await run("analyze", "--heuristic", "ffd-sum", "--methods", "greedy")).error?.message,
    ).toMatch(/unknown method "greedy": use exact, random, hill-climbing, simulated-annealing/);
    expect(
      (await run("analyze", "--heuristic", "ffd-sum", "--objective", "speed")).error?.message,
    ).toMatch(/--objective must be ratio or bins/);
  });
});
