import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { registerOpt } from "./opt.js";

const WYNDOR = `max
 obj: 3 x1 + 5 x2
st
 plant1: x1 <= 4
 plant2: 2 x2 <= 12
 plant3: 3 x1 + 2 x2 <= 18
end
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "athanor-opt-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `athanor opt ...` in process; returns stdout, stderr and the exit code. */
async function run(...args: string[]) {
  let out = "";
  let err = "";
  const log = vi.spyOn(console, "log").mockImplementation((...a) => {
    out += `${a.join(" ")}\n`;
  });
  const write = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const error = vi.spyOn(console, "error").mockImplementation((...a) => {
    err += `${a.join(" ")}\n`;
  });
  const exit = vi.spyOn(process, "exit").mockImplementation((code) => {
    throw new Error(`exit ${code}`);
  });
  let code = 0;
  process.exitCode = undefined;
  try {
    const program = new Command("athanor").exitOverride();
    registerOpt(program);
    await program.parseAsync(["node", "athanor", "opt", ...args]);
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    const m = /^exit (\d+)$/.exec((e as Error).message);
    if (!m) throw e;
    code = Number(m[1]);
  } finally {
    process.exitCode = undefined;
    for (const s of [log, write, error, exit]) s.mockRestore();
  }
  return { out, err, code };
}

describe("athanor opt", () => {
  it("solves an LP file and prints status, objective and nonzero variables", async () => {
    const f = join(dir, "wyndor.lp");
    await writeFile(f, WYNDOR);
    const r = await run("solve", f);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/status\s+optimal/);
    expect(r.out).toMatch(/objective\s+36/);
    expect(r.out).toMatch(/x1\s+2/);
  });

  it("prints JSON, and names the conflict of an infeasible MPS file", async () => {
    const lp = join(dir, "tight.lp");
    await writeFile(lp, WYNDOR.replace("end", " need: x1 + x2 >= 20\nend"));
    const mps = join(dir, "tight.mps");
    expect((await run("convert", lp, mps)).code).toBe(0);
    expect(await readFile(mps, "utf8")).toMatch(/^NAME tight/);
    const r = await run("solve", mps, "--json");
    const j = JSON.parse(r.out);
    expect(j.status).toBe("infeasible");
    expect(j.conflict.constraints.sort()).toEqual(["need", "plant3"]);
  });

  it("reports a bad file with its line and exit status 2", async () => {
    const f = join(dir, "bad.lp");
    await writeFile(f, "max\n obj: x\nst\n c1: x <=\nend\n");
    const r = await run("solve", f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.lp:4: expected a right-hand side number/);
    expect((await run("solve", join(dir, "none.mps"))).err).toMatch(/no such file/);
    expect((await run("solve", f, "--time-limit", "soon")).err).toMatch(
      /--time-limit: expected a valid number/,
    );
  });
});
