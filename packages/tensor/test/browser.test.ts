// The browser build: bundling @athanor/tensor for a browser (esbuild, platform "browser") picks
// the package's "browser" entry, pulls in no Node module and no cpu backend, and the bundle runs
// on `navigator.gpu`: here a Node child process whose navigator.gpu is Dawn (the same WebGPU
// API a browser has), training a small model on the webgpu backend.

import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { webgpuAvailable } from "../src/index.js";
import { type BrowserBundle, bundleForBrowser, runOnDawn } from "./browser-harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const probe = await webgpuAvailable();
let bundled: Promise<BrowserBundle> | null = null;
const bundle = () => {
  bundled ??= bundleForBrowser('export * from "@athanor/tensor";', here);
  return bundled;
};

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
      const run = runOnDawn(
        (await bundle()).code,
        `const T = await import("./bundle.mjs");
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
        100_000,
      );
      expect(run.status, run.stderr).toBe(0);
      const out = run.result as {
        before: string;
        source: string;
        y: number[];
        first: number;
        last: number;
      };
      expect(out.before).toBe("reference"); // no cpu backend in the browser build
      expect(out.source).toBe("navigator.gpu");
      expect(out.y).toEqual([11]);
      expect(out.last).toBeLessThan(out.first);
    },
  );
});
