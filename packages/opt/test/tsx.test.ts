// The worker pool builds its workers from `highsCore`'s source text. tsx (esbuild with
// keepNames) injects `__name(...)` helper calls into that text, which once failed in the worker
// with "__name is not defined". Vitest's transform does not inject them, so this runs the pool
// under tsx in a child process.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const tsx = join(root, "node_modules/.bin/tsx");
const entry = pathToFileURL(fileURLToPath(new URL("../src/index.ts", import.meta.url))).href;

const script = `
import { Model, SolverPool } from ${JSON.stringify(entry)};
const m = new Model("tsx");
const x = m.addVar("x", { lower: 0, upper: 10 });
const y = m.addVar("y", { lower: 0, upper: 10, type: "integer" });
m.addConstraint(x.plus(y), "<=", 4.5, "cap");
m.maximize(x.plus(y.times(2)));
const pool = new SolverPool({ size: 1 });
const s = await pool.solve(m);
await pool.close();
console.log(JSON.stringify({ status: s.status, objective: s.objective, message: s.message ?? null }));
`;

describe("SolverPool under tsx", () => {
  it.skipIf(!existsSync(tsx))(
    "solves in its workers when esbuild injected __name helpers",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "opt-tsx-"));
      try {
        const file = join(dir, "solve.mts");
        writeFileSync(file, script);
        const { stdout } = await promisify(execFile)(tsx, [file], { cwd: root, timeout: 60_000 });
        const last = stdout.trim().split("\n").at(-1) ?? "";
        expect(JSON.parse(last)).toEqual({ status: "optimal", objective: 8.5, message: null });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
