// The browser build: bundling @athanor/tensor for a browser (esbuild, platform "browser") picks
// the package's "browser" entry, pulls in no Node module and no cpu backend, and the bundle runs
// on `navigator.gpu`: here a Node child process whose navigator.gpu is Dawn (the same WebGPU
// API a browser has), training a small model on the webgpu backend.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { webgpuAvailable } from "../src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const probe = await webgpuAvailable();

async function bundle(): Promise<{ code: string; inputs: string[]; imports: string[] }> {
  const result = await build({
    stdin: {
      contents: 'export * from "@athanor/tensor";',
      resolveDir: here,
      loader: "js",
    },
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

describe("browser build", { timeout: 120_000 }, () => {
  it("bundles for browsers from the browser entry with no Node module and no cpu backend", async () => {
    const b = await bundle();
    expect(b.inputs).toContain("packages/tensor/src/browser.ts");
    expect(b.inputs.filter((p) => p.includes("/src/cpu/"))).toEqual([]);
    expect(b.inputs.filter((p) => p.startsWith("node:"))).toEqual([]);
    expect(b.imports).toEqual([]); // nothing left for the page to provide
  });

  const gpuIt = probe.available ? it : it.skip;
  gpuIt(
    `runs on navigator.gpu (${probe.available ? probe.adapter : "skipped: no WebGPU adapter"})`,
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "athanor-browser-"));
      try {
        writeFileSync(join(dir, "tensor.mjs"), (await bundle()).code);
        const dawn = createRequire(join(root, "package.json")).resolve("webgpu");
        writeFileSync(
          join(dir, "page.mjs"),
          `const { create, globals } = await import(${JSON.stringify(pathToFileURL(dawn).href)});
Object.assign(globalThis, globals);
Object.defineProperty(globalThis, "navigator", { value: { gpu: create([]) }, configurable: true });
const T = await import("./tensor.mjs");
const before = T.getBackend().name;
const gpu = await T.createWebGpuBackend();
T.setBackend(gpu);
const y = T.ops.matmul(T.tensor([[1, 2]]), T.tensor([[3], [4]]));
const w = T.tensor([[0.5, -0.2], [0.1, 0.3]]).requireGrad();
const x = T.tensor([[1, 2], [3, 4], [5, 6]]);
const target = T.tensor([[1, 0], [0, 1], [1, 1]]);
const opt = new T.AdamW([w], { lr: 0.05 });
const losses = [];
for (let i = 0; i < 20; i++) {
  const loss = T.ops.mean(T.ops.square(T.ops.sub(T.ops.matmul(x, w), target)));
  loss.backward();
  opt.step();
  opt.zeroGrad();
  losses.push(await loss.itemAsync());
}
console.log(JSON.stringify({ before, source: gpu.info.source, y: Array.from(await y.dataAsync()), first: losses[0], last: losses.at(-1) }));
gpu.dispose();
`,
        );
        const run = spawnSync(process.execPath, [join(dir, "page.mjs")], {
          encoding: "utf8",
          timeout: 100_000,
        });
        expect(run.status, run.stderr).toBe(0);
        const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
        expect(out.before).toBe("reference"); // no cpu backend in the browser build
        expect(out.source).toBe("navigator.gpu");
        expect(out.y).toEqual([11]);
        expect(out.last).toBeLessThan(out.first);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
