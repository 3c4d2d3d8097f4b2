// @athanor/lm in a browser: bundled for browsers (esbuild, platform "browser") it pulls in no
// Node module (file APIs load Node's built-ins only when called) and the tensor package's
// browser entry. The bundle then runs on `navigator.gpu`, here a Node child process whose
// navigator.gpu is Dawn (the same WebGPU API a browser has): a model from bytes (as a page
// fetches them) with f16 weights generates the tokens the cpu backend generates, a LoRA adapter
// trains on it, and a file API says what to use instead.

import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { webgpuAvailable } from "@athanor/tensor";
import { describe, expect, it } from "vitest";
import {
  type BrowserBundle,
  bundleForBrowser,
  runOnDawn,
} from "../../tensor/test/browser-harness.js";
import { loadModel } from "../src/checkpoint/model-io.js";
import { generate } from "../src/generate/generate.js";
import { fixturePath } from "../src/testing/fixtures.js";

const here = dirname(fileURLToPath(import.meta.url));
const probe = await webgpuAvailable();
let bundled: Promise<BrowserBundle> | null = null;
const bundle = () => {
  bundled ??= bundleForBrowser(
    `export * from "@athanor/lm";
export { createWebGpuBackend, getBackend, setBackend } from "@athanor/tensor";`,
    here,
  );
  return bundled;
};

const PROMPT = [5, 9, 200, 31, 7, 64, 12, 90];

describe("@athanor/lm in a browser", { timeout: 180_000 }, () => {
  it("bundles with no Node module and the tensor package's browser entry", async () => {
    const b = await bundle();
    expect(b.inputs).toContain("packages/lm/src/checkpoint/model-io.ts");
    expect(b.inputs).toContain("packages/tensor/src/browser.ts");
    expect(b.inputs.filter((p) => p.includes("/src/cpu/"))).toEqual([]);
    expect(b.inputs.filter((p) => p.startsWith("node:"))).toEqual([]);
    expect(b.imports).toEqual([]); // nothing left for the page to provide
  });

  const gpuIt = probe.available ? it : it.skip;
  gpuIt(
    `loads from bytes, generates and trains LoRA on navigator.gpu (${probe.available ? probe.adapter : "skipped: no WebGPU adapter"})`,
    async () => {
      const model = fixturePath("gpt2-tiny");
      const cpu = await loadModel(model, { dtype: "f16" });
      const want = generate(cpu, [PROMPT], { maxNewTokens: 12 }).outputs[0].tokens;
      cpu.dispose();
      // The page: bytes as fetch() would give them, then only the bundle's API.
      const run = runOnDawn(
        (await bundle()).code,
        `import { readFileSync } from "node:fs";
const fetched = (f) => new Uint8Array(readFileSync(${JSON.stringify(model)} + "/" + f));
const lm = await import("./bundle.mjs");
const gpu = await lm.createWebGpuBackend();
lm.setBackend(gpu);
const text = (f) => new TextDecoder().decode(fetched(f));
const { model } = lm.modelFromBytes(
  { config: text("config.json"), weights: fetched("model.safetensors") },
  { dtype: "f16" },
);
const out = await lm.generateAsync(model, [${JSON.stringify(PROMPT)}], { maxNewTokens: 12 });
const adapter = lm.createAdapter(model, { r: 4, alpha: 8, seed: 1 });
const trainer = new lm.Trainer(model, { lr: 3e-2, totalSteps: 8, warmupSteps: 1, adapter });
const losses = [];
for (let i = 0; i < 8; i++) {
  const batch = lm.lmBatch([${JSON.stringify(PROMPT)}, [3, 1, 4, 1, 5, 9, 2, 6]], { padId: 0 });
  losses.push((await trainer.trainStepAsync([batch])).loss);
}
const saved = process.getBuiltinModule;
process.getBuiltinModule = undefined; // as in a browser: no Node built-ins
const fileError = await lm.loadModel("models/x").catch((e) => e.message);
process.getBuiltinModule = saved;
console.log(JSON.stringify({ source: gpu.info.source, weights: model.weightDType, tokens: out.outputs[0].tokens, losses, fileError }));
gpu.dispose();
`,
        150_000,
      );
      expect(run.status, run.stderr).toBe(0);
      const got = run.result as {
        source: string;
        weights: string;
        tokens: number[];
        losses: number[];
        fileError: string;
      };
      expect(got.source).toBe("navigator.gpu");
      expect(got.weights).toBe("f16");
      expect(got.tokens).toEqual(want);
      expect(got.losses.at(-1)).toBeLessThan(got.losses[0] * 0.95);
      expect(got.fileError).toMatch(/uses files \(node:path\).*in a browser use .*modelFromBytes/);
    },
  );
});
