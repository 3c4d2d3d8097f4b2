// Models with f16 weight storage (`loadModel(dir, { dtype: "f16" })`, `castWeights`): the
// weight matrices are f16 and everything else f32; logits against transformers (f32) within
// the rounding of the weights; loading as f16 and casting after loading agree exactly;
// greedy generation, also through an f16 KV cache; LoRA training on the frozen f16 base; the
// errors for full fine-tuning; saving as F16 and reloading. On the default (cpu) backend;
// webgpu.test.ts runs f16 on a GPU.

import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { f16ToF32, f32ToF16, noGrad, ops, tensor } from "@athanor/tensor";
import { afterAll, describe, expect, test } from "vitest";
import { loadModel, saveModel } from "../checkpoint/model-io.js";
import { generate } from "../generate/generate.js";
import { createAdapter } from "../lora/peft.js";
import { fixturePath } from "../testing/fixtures.js";
import { loadReference, maxRelDiff } from "../testing/reference.js";
import { sftBatch } from "../train/data.js";
import { fit } from "../train/fit.js";
import { evaluate, Trainer } from "../train/trainer.js";

const tmp = mkdtempSync(join(tmpdir(), "lm-half-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("f16 weight storage", () => {
  for (const name of ["gpt2-tiny", "llama-tiny"]) {
    test(`${name}: weight matrices f16, norms f32; logits near transformers; cast = load`, async () => {
      const ref = await loadReference(name);
      const half = await loadModel(ref.dir, { dtype: "f16" });
      expect(half.weightDType).toBe("f16");
      for (const [n, t] of half.parameters()) expect(t.dtype, n).toBe(t.rank >= 2 ? "f16" : "f32");
      const ids = ref.tensors.input_ids;
      const logits = noGrad(() => half.forward(tensor(ids.data(), ids.shape)).logits);
      // The weights' rounding (2^-11 relative) moves the logits by a few 1e-4 of their scale
      // (measured 2.2e-4 gpt2-tiny, 3.5e-4 llama-tiny; f32 weights: 5e-7).
      const err = maxRelDiff(logits, ref.tensors.logits);
      expect(err).toBeGreaterThan(1e-5);
      expect(err).toBeLessThan(1e-3);
      const cast = await loadModel(ref.dir);
      cast.castWeights("f16");
      const same = noGrad(() => cast.forward(tensor(ids.data(), ids.shape)).logits);
      expect(Array.from(same.data())).toEqual(Array.from(logits.data()));
      // And back: f32 storage of the rounded values.
      cast.castWeights("f32");
      expect(cast.weightDType).toBe("f32");
      const w = [...cast.parameters().values()].find((t) => t.rank >= 2)!;
      const d = w.data();
      expect(Array.from(d)).toEqual(Array.from(f16ToF32(f32ToF16(d))));
      half.dispose();
      cast.dispose();
    });
  }

  test("gpt2-tiny: greedy generation with f16 weights gives transformers' 20 tokens", async () => {
    const ref = await loadReference("gpt2-tiny");
    const prompt = Array.from(ref.tensors.input_ids.data().subarray(0, 8));
    const expected = Array.from(ref.tensors.generated.data()).slice(8);
    const half = await loadModel(ref.dir, { dtype: "f16" });
    const out = generate(half, [prompt], { maxNewTokens: expected.length });
    // No near-tie among these 20 steps is closer than the weights' rounding moves the logits.
    expect(out.outputs[0].tokens).toEqual(expected);
    half.dispose();
  });

  for (const name of ["gpt2-tiny", "llama-tiny"]) {
    test(`${name}: an f16 KV cache gives transformers' 20 greedy tokens, and f16 weights with it`, async () => {
      const ref = await loadReference(name);
      const prompt = Array.from(ref.tensors.input_ids.data().subarray(0, 8));
      const expected = Array.from(ref.tensors.generated.data()).slice(8);
      for (const dtype of ["f32", "f16"] as const) {
        const model = await loadModel(ref.dir, { dtype });
        const out = generate(model, [prompt], {
          maxNewTokens: expected.length,
          cacheDType: "f16",
        });
        expect(out.outputs[0].tokens, `${dtype} weights`).toEqual(expected);
        model.dispose();
      }
      // Decoding step by step through an f16 cache stays within the halves' rounding of the
      // full forward's last logits.
      const model = await loadModel(ref.dir);
      const ids = tensor(Int32Array.from(prompt), [1, prompt.length], { dtype: "i32" });
      const full = noGrad(() => model.forward(ids).logits);
      const cache = model.createCache(1, 16, { dtype: "f16" });
      let last = full;
      noGrad(() => {
        model.forward(ops.slice(ids, 1, 0, 7), { cache });
        last = model.forward(ops.slice(ids, 1, 7, 8), { cache }).logits;
      });
      const want = ops.slice(full, 1, 7, 8);
      const err = maxRelDiff(last, want);
      expect(err).toBeGreaterThan(0);
      expect(err).toBeLessThan(1e-3);
      model.dispose();
    });
  }

  test("LoRA trains on a frozen f16 base; full fine-tuning says what to do instead", async () => {
    const model = await loadModel(fixturePath("llama-tiny"), { dtype: "f16" });
    const train = Array.from({ length: 8 }, (_, i) => {
      const prompt = [10 + i, 20 + i, 30 + i];
      return { prompt, response: [...prompt.map((t) => t + 1), 0] };
    });
    const batch = sftBatch(train, { padId: 1 });
    expect(() => new Trainer(model, { lr: 1e-3, totalSteps: 1, padId: 1 } as never)).toThrow(
      /weights are f16 storage.*LoRA adapter.*dtype f32/,
    );
    // f16 activations save memory only on a backend that stores f16 in 2 bytes.
    const full32 = await loadModel(fixturePath("llama-tiny"));
    expect(() => new Trainer(full32, { lr: 1e-3, totalSteps: 1, activationDType: "f16" })).toThrow(
      /activationDType "f16" saves memory only where f16 takes 2 bytes \(webgpu\)/,
    );
    full32.dispose();
    const q = model.parameter("model.layers.0.self_attn.q_proj.weight");
    const before = Float32Array.from(q.data());
    // The same LoRA run on the f16 base and on the f32 one.
    const run = async (m: typeof model) => {
      const adapter = createAdapter(m, {
        r: 4,
        alpha: 8,
        targetModules: ["q_proj", "v_proj", "down_proj"],
        seed: 3,
      });
      const loss0 = evaluate(m, [batch]).loss;
      await fit(m, { train, padId: 1, batchSize: 8, lr: 3e-2, totalSteps: 30, adapter });
      return [loss0, evaluate(m, [batch]).loss];
    };
    const full = await loadModel(fixturePath("llama-tiny"));
    const [start32, end32] = await run(full);
    const [start16, end16] = await run(model);
    expect(Math.abs(start16 - start32)).toBeLessThan(1e-2 * start32);
    expect(end16).toBeLessThan(start16 * 0.9);
    expect(Math.abs(end16 - end32)).toBeLessThan(0.05 * end32);
    full.dispose();
    expect(q.dtype).toBe("f16");
    expect(Array.from(q.data())).toEqual(Array.from(before));
    // Merging adds the f32 delta and rounds the sum back into f16.
    model.mergeAdapter();
    expect(model.parameter("model.layers.0.self_attn.q_proj.weight").dtype).toBe("f16");
    model.dispose();
  });

  test("an f16 model saves as F16 (half the bytes) and reloads", async () => {
    const ref = await loadReference("gpt2-tiny");
    const half = await loadModel(ref.dir, { dtype: "f16" });
    const full = await loadModel(ref.dir);
    await saveModel(half, join(tmp, "half"));
    await saveModel(full, join(tmp, "full"));
    const file = (d: string) => join(tmp, d, "model.safetensors");
    const bytes = readFileSync(file("half"));
    const header = JSON.parse(
      bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString("utf8"),
    );
    expect(header["transformer.wte.weight"].dtype).toBe("F16");
    expect(header["transformer.ln_f.weight"].dtype).toBe("F32");
    expect(statSync(file("half")).size).toBeLessThan(statSync(file("full")).size * 0.6);
    const back = await loadModel(join(tmp, "half"));
    expect(back.weightDType).toBe("f32");
    const a = back.parameter("transformer.h.0.mlp.c_fc.weight").data();
    const b = half.parameter("transformer.h.0.mlp.c_fc.weight").data();
    expect(Array.from(a)).toEqual(Array.from(b));
    for (const m of [half, full, back]) m.dispose();
  });
});
