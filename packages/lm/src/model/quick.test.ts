import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadSafetensors, noGrad, ops } from "@athanor/tensor";
import { expect, test } from "vitest";
import { loadModel } from "../index.js";
import { fixturePath } from "../testing/fixtures.js";

for (const name of ["gpt2-tiny", "llama-tiny"]) {
  test(name, async () => {
    const dir = fixturePath(name);
    const model = await loadModel(dir);
    const ref = (await loadSafetensors(join(dir, "reference.safetensors"))).tensors;
    const { logits } = noGrad(() => model.forward(ref.input_ids));
    const a = logits.data(); const b = ref.logits.data();
    let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    console.log(name, "max abs diff", m);
    const json = JSON.parse(readFileSync(join(dir, "reference.json"), "utf8"));
    const loss = ops.crossEntropy(ops.slice(ref.logits, 1, 0, 15), ops.contiguous(ops.slice(ref.input_ids, 1, 1, 16))).item();
    console.log("loss from ref logits", loss, "ref", json.loss);
    expect(m).toBeLessThan(1e-4);
  });
}
