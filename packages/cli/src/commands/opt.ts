import {
  closeDefaultSolver,
  formatModel,
  formatOf,
  ModelFormatError,
  readModelFile,
  type Solution,
  solve,
} from "@athanor/opt";
import type { Command } from "commander";
import { formatTable, printJson } from "../output.js";

interface SolveFlags {
  timeLimit?: string;
  gap?: string;
  json?: boolean;
  all?: boolean;
}

/** `athanor opt`: solve and convert LP / MPS model files with HiGHS. */
export function registerOpt(program: Command): void {
  const opt = program
    .command("opt")
    .description("optimization models: solve and convert LP / MPS files (HiGHS)");

  opt
    .command("solve")
    .description("solve a .lp or .mps model and print the status, objective and nonzero variables")
    .argument("<file>", "model file (.lp: CPLEX LP format; .mps: free MPS)")
    .option(
      "--time-limit <seconds>",
      "stop after this many seconds and report the best point found",
    )
    .option("--gap <fraction>", "relative MIP gap at which to stop (default 1e-4)")
    .option("--all", "list every variable, zeros included")
    .option("--json", "print JSON")
    .action(async (file: string, flags: SolveFlags) => {
      const timeLimit = number(flags.timeLimit, "--time-limit", (v) => v > 0);
      const mipGap = number(flags.gap, "--gap", (v) => v >= 0);
      const model = await load(file);
      const ac = new AbortController();
      const onInt = () => ac.abort(new Error("interrupted"));
      process.once("SIGINT", onInt);
      let s: Solution;
      try {
        s = await solve(model, { timeLimit, mipGap, signal: ac.signal });
      } finally {
        process.off("SIGINT", onInt);
        await closeDefaultSolver();
      }
      if (flags.json) {
        const out = s.toJSON();
        if (flags.all && s.hasSolution) out.values = s.values();
        printJson({
          file,
          model: { name: model.name, variables: model.numVars, constraints: model.numConstraints },
          ...out,
        });
      } else print(file, s, flags.all === true);
      if (s.status === "error") process.exitCode = 1;
    });

  opt
    .command("convert")
    .description("convert a model between LP and MPS (by file extension)")
    .argument("<input>", "model file to read (.lp or .mps)")
    .argument("<output>", "file to write (.lp or .mps); '-' with --to prints to stdout")
    .option("--to <format>", "output format when writing to stdout: lp or mps")
    .action(async (input: string, output: string, flags: { to?: string }) => {
      const model = await load(input);
      if (output === "-") {
        if (flags.to !== "lp" && flags.to !== "mps")
          fail("--to lp|mps is required when the output is '-'");
        process.stdout.write(formatModel(model, flags.to as "lp" | "mps"));
        return;
      }
      const { writeFile } = await import("node:fs/promises");
      await writeFile(
        output,
        formatModel(
          model,
          guard(() => formatOf(output)),
        ),
      );
      console.log(
        `wrote ${output}: ${model.numVars} variables, ${model.numConstraints} constraints`,
      );
    });
}

function print(file: string, s: Solution, all: boolean): void {
  console.log(`file       ${file}`);
  console.log(`status     ${s.status}`);
  if (s.objective !== undefined) console.log(`objective  ${s.objective}`);
  if (s.bestBound !== undefined && s.status !== "optimal") console.log(`bound      ${s.bestBound}`);
  if (s.gap !== undefined && s.hasSolution) console.log(`gap        ${s.gap}`);
  console.log(`time       ${s.seconds.toFixed(3)} s`);
  if (s.message) console.log(`message    ${s.message}`);
  if (s.conflict) {
    const c = s.conflict;
    console.log(
      `\nconflict (${c.irreducible ? "irreducible" : "not proven irreducible"}, ${c.method}):`,
    );
    for (const n of c.constraints) console.log(`  constraint ${n}`);
    for (const n of c.variables) console.log(`  bounds of  ${n}`);
  }
  if (s.hasSolution) {
    const rows = all
      ? Object.entries(s.values()).map(([name, value]) => [name, value])
      : s.nonzeros().map((e) => [e.name, e.value]);
    console.log(`\n${all ? "variables" : "nonzero variables"} (${rows.length}):`);
    if (rows.length > 0) console.log(formatTable(["variable", "value"], rows));
  }
}

async function load(file: string) {
  try {
    return await readModelFile(file);
  } catch (e) {
    if (e instanceof ModelFormatError || e instanceof RangeError) fail(e.message);
    if ((e as NodeJS.ErrnoException).code === "ENOENT") fail(`${file}: no such file`);
    throw e;
  }
}

function guard<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    return fail((e as Error).message);
  }
}

function number(
  v: string | undefined,
  flag: string,
  ok: (v: number) => boolean,
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !ok(n))
    fail(`${flag}: expected a valid number, got ${JSON.stringify(v)}`);
  return n;
}

function fail(message: string): never {
  console.error(`athanor opt: ${message}`);
  process.exit(2);
}
