#!/usr/bin/env node
// Benchmark runner: `npm run bench -- <name> [args]` runs bench/<name>.mjs against the built
// packages (dist/). Each benchmark prints a readable table; with --json it ends with one JSON
// line of its figures. Results are recorded in docs/BENCHMARKS.md.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".mjs") && f !== "run.mjs" && !f.startsWith("_"))
  .map((f) => f.slice(0, -4))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (!name || name === "--help" || name === "-h") {
  console.log(
    `usage: npm run bench -- <name> [--json] [options]\n\nbenchmarks: ${available.join(", ")}`,
  );
  process.exit(name ? 0 : 1);
}
if (!available.includes(name)) {
  console.error(`unknown benchmark "${name}"; available: ${available.join(", ")}`);
  process.exit(1);
}
const mod = await import(pathToFileURL(join(here, `${name}.mjs`)).href);
await mod.main(args);
