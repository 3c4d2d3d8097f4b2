// Test support for the browser builds (this package's and @athanor/lm's): bundle an entry for
// browsers with esbuild, and run a page script against the bundle in a Node child process whose
// `navigator.gpu` is Dawn, the same WebGPU API a browser has.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export interface BrowserBundle {
  code: string;
  /** The bundled files, relative to the repository root ("node:fs" for a Node built-in). */
  inputs: string[];
  /** Imports left for the page to provide (none for a self-contained bundle). */
  imports: string[];
}

/** Bundles `contents` (an ES module resolved from `resolveDir`) for `platform: "browser"`. */
export async function bundleForBrowser(
  contents: string,
  resolveDir: string,
): Promise<BrowserBundle> {
  const result = await build({
    stdin: { contents, resolveDir, loader: "js" },
    bundle: true,
    platform: "browser",
    format: "esm",
    conditions: ["source"],
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const out = Object.values(result.metafile.outputs)[0];
  return {
    code: result.outputFiles[0].text,
    inputs: Object.keys(result.metafile.inputs).map((p) => relative(root, resolve(p))),
    imports: out.imports.map((i) => i.path),
  };
}

/**
 * Runs `page` (ES module code) in a child process where `navigator.gpu` is Dawn and the bundle
 * is importable as "./bundle.mjs". Returns the exit status, stderr and the last line the page
 * printed, parsed as JSON (null when it printed nothing).
 */
export function runOnDawn(
  bundle: string,
  page: string,
  timeoutMs: number,
): { status: number | null; stderr: string; result: unknown } {
  const dir = mkdtempSync(join(tmpdir(), "athanor-browser-"));
  try {
    writeFileSync(join(dir, "bundle.mjs"), bundle);
    const dawn = createRequire(join(root, "package.json")).resolve("webgpu");
    writeFileSync(
      join(dir, "page.mjs"),
      `const { create, globals } = await import(${JSON.stringify(pathToFileURL(dawn).href)});
Object.assign(globalThis, globals);
Object.defineProperty(globalThis, "navigator", { value: { gpu: create([]) }, configurable: true });
${page}`,
    );
    const run = spawnSync(process.execPath, [join(dir, "page.mjs")], {
      encoding: "utf8",
      timeout: timeoutMs,
    });
    let result: unknown = null;
    try {
      result = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "");
    } catch {} // a failed page: its status and stderr say why
    return { status: run.status, stderr: run.stderr, result };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
