/**
 * Exactness against Hugging Face `transformers` (fixtures/hf-reference): logits, greedy tokens,
 * loss, gradients and one AdamW step; KV-cache and left-padding consistency.
 */

import { AdamW, noGrad, ops, type Tensor, tensor, tidy } from "@athanor/tensor";
import { describe, expect, test } from "vitest";
import { loadModel } from "../checkpoint/model-io.js";
import { adapterParameters, loadAdapter } from "../lora/peft.js";
import { fixturePath } from "../testing/fixtures.js";
import { loadReference, maxAbsDiff, maxRelDiff } from "../testing/reference.js";
import { causalLMLoss } from "../train/loss.js";
import type { CausalLM } from "./causal-lm.js";

/** Greedy decoding with the KV cache: prompt [1, P] → P + n ids. */
function greedy(model: CausalLM, prompt: number[], n: number): number[] {
  const cache = model.createCache(1, prompt.length + n);
  const out = [...prompt];
  let next = tensor(Int32Array.from(prompt), [1, prompt.length]);
  for (let i = 0; i < n; i++) {
    const id = tidy(() => {
      const { logits } = model.forward(next, { cache, logitsFor: "last" });
      return ops.argmax(logits, -1).item();
    });
    next.dispose();
    out.push(id);
    next = tensor(Int32Array.from([id]), [1, 1]);
  }
  next.dispose();
  cache.dispose();
  return out;
}

function row(t: Tensor, b: number, len?: number): number[] {
  const d = Array.from(t.data());
  const T = t.shape[1];
  return d.slice(b * T, b * T + (len ?? T));
}

/** Reference outputs by fixture; "extra/" ones are this package's (fixtures/README.md). */
const MODELS = [
  "gpt2-tiny",
  "llama-tiny",
  "extra/qwen2-tiny",
  "extra/llama3-bias-tiny",
  "extra/mistral-tiny",
];

for (const name of MODELS) {
  describe(name, () => {
    test("logits within 1e-4 of transformers", async () => {
      const ref = await loadReference(name);
      const model = await loadModel(ref.dir);
      const { logits } = noGrad(() => model.forward(ref.tensors.input_ids));
      expect(maxAbsDiff(logits, ref.tensors.logits)).toBeLessThan(1e-4);
    });

    test("the same 20 greedy tokens (KV cache)", async () => {
      const ref = await loadReference(name);
      const model = await loadModel(ref.dir);
      const prompt = row(ref.tensors.input_ids, 0, 8);
      expect(greedy(model, prompt, 20)).toEqual(Array.from(ref.tensors.generated.data()));
    });

    test("KV-cache decoding gives the full forward's logits", async () => {
      const ref = await loadReference(name);
      const model = await loadModel(ref.dir);
      const ids = ref.tensors.input_ids;
      const full = noGrad(() => model.forward(ids).logits);
      const cache = model.createCache(2, 16);
      const parts: Tensor[] = [];
      // A 5-token prefill, then chunks of 1, 3 and single tokens.
      for (const [s, e] of [
        [0, 5],
        [5, 6],
        [6, 9],
        ...Array.from({ length: 7 }, (_, i) => [9 + i, 10 + i]),
      ]) {
        const chunk = ops.contiguous(ops.slice(ids, 1, s, e));
        parts.push(noGrad(() => model.forward(chunk, { cache }).logits));
      }
      expect(cache.length).toBe(16);
      const last = noGrad(() => model.forward(ids, { logitsFor: "last" }).logits);
      expect(last.shape).toEqual([2, 1, 512]);
      expect(maxAbsDiff(last, ops.contiguous(ops.slice(full, 1, 15)))).toBeLessThan(1e-5);
      expect(maxAbsDiff(ops.concat(parts, 1), full)).toBeLessThan(1e-5);
      const trainable = model.createCache(2, 4);
      for (const p of model.parameters().values()) p.requireGrad();
      expect(() =>
        model.forward(ops.contiguous(ops.slice(ids, 1, 0, 1)), { cache: trainable }),
      ).toThrow(/KV cache does not carry gradients/);
      for (const p of model.parameters().values()) p.requireGrad(false);
      expect(() => model.forward(ops.contiguous(ops.slice(ids, 1, 0, 1)), { cache })).toThrow(
        /exceed its maxLength 16/,
      );
    });

    test("left-padded batches give the unpadded sequences' logits, prefill and decode", async () => {
      const ref = await loadReference(name);
      const model = await loadModel(ref.dir);
      const ids = ref.tensors.input_ids;
      const lens = [16, 11];
      const pad = 1;
      const padded = new Int32Array(32);
      const mask = new Float32Array(32);
      for (let b = 0; b < 2; b++) {
        const r = row(ids, b, lens[b]);
        const off = 16 - lens[b];
        for (let t = 0; t < 16; t++) {
          padded[b * 16 + t] = t < off ? pad : r[t - off];
          mask[b * 16 + t] = t < off ? 0 : 1;
        }
      }
      // Prefill the first 12 columns, then decode the last 4 one by one with the cache.
      const cache = model.createCache(2, 16);
      const batchIds = tensor(padded, [2, 16]);
      const am = tensor(mask, [2, 16]);
      const out: Tensor[] = [
        noGrad(
          () =>
            model.forward(ops.contiguous(ops.slice(batchIds, 1, 0, 12)), {
              cache,
              attentionMask: ops.contiguous(ops.slice(am, 1, 0, 12)),
            }).logits,
        ),
      ];
      for (let t = 12; t < 16; t++) {
        const step = ops.contiguous(ops.slice(batchIds, 1, t, t + 1));
        out.push(
          noGrad(
            () =>
              model.forward(step, {
                cache,
                attentionMask: ops.contiguous(ops.slice(am, 1, 0, t + 1)),
              }).logits,
          ),
        );
      }
      const batched = ops.concat(out, 1);
      for (let b = 0; b < 2; b++) {
        const single = tensor(Int32Array.from(row(ids, b, lens[b])), [1, lens[b]]);
        const want = noGrad(() => model.forward(single).logits);
        const got = ops.slice(ops.slice(batched, 0, b, b + 1), 1, 16 - lens[b], 16);
        expect(maxAbsDiff(ops.contiguous(got), want)).toBeLessThan(1e-5);
      }
    });
  });
}

/** Checkpoint folder → eval-mode training reference (gpt2-tiny's shared one used dropout). */
const TRAINING: [string, string][] = [
  ["llama-tiny", "llama-tiny"],
  ["gpt2-tiny", "extra/gpt2-tiny-eval"],
  ["extra/qwen2-tiny", "extra/qwen2-tiny"],
  ["extra/llama3-bias-tiny", "extra/llama3-bias-tiny"],
  ["extra/mistral-tiny", "extra/mistral-tiny"],
];

for (const [modelName, refName] of TRAINING) {
  test(`${modelName}: loss within 1e-5, every gradient within 1e-3 relative, loss after one AdamW step within 1e-4`, async () => {
    const ref = await loadReference(refName);
    const model = await loadModel((await loadReference(modelName)).dir);
    const ids = ref.tensors.input_ids;
    const params = model.parameters();
    for (const p of params.values()) p.requireGrad();
    const loss = causalLMLoss(model.forward(ids).logits, ids);
    expect(Math.abs(loss.item() - ref.json!.loss)).toBeLessThan(1e-5);
    loss.backward();
    const gradNames = Object.keys(ref.tensors).filter((k) => k.startsWith("grad."));
    expect(gradNames.length).toBe(params.size);
    for (const [name, p] of params) {
      const g = ref.tensors[`grad.${name}`];
      expect(g, name).toBeDefined();
      expect(p.grad, name).not.toBeNull();
      expect(maxRelDiff(p.grad!, g), name).toBeLessThan(1e-3);
    }
    const opt = new AdamW(params.values(), {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0.01,
    });
    opt.step();
    const after = noGrad(() => causalLMLoss(model.forward(ids).logits, ids).item());
    expect(Math.abs(after - ref.json!.loss_after_one_adamw_step)).toBeLessThan(1e-4);
  });
}

/** Base checkpoint, PEFT adapter folder, adapter-training reference (made by peft 0.21). */
const LORA_TRAINING: [string, string, string][] = [
  ["llama-tiny", "llama-tiny-lora", "extra/llama-tiny-lora-train"],
  ["gpt2-tiny", "extra/gpt2-tiny-lora", "extra/gpt2-tiny-lora"], // Conv1D, rsLoRA, r 4, α 16
];

for (const [base, adapterName, refName] of LORA_TRAINING) {
  test(`${base} + LoRA ${adapterName}: logits, loss, adapter gradients and one AdamW step match peft`, async () => {
    const ref = await loadReference(refName);
    const model = await loadModel((await loadReference(base)).dir);
    const adapterDir = adapterName.startsWith("extra/") ? ref.dir : fixturePath(adapterName);
    const adapter = await loadAdapter(adapterDir, { model });
    model.attachAdapter(adapter);
    const ids = ref.tensors.input_ids;
    expect(
      maxAbsDiff(
        noGrad(() => model.forward(ids).logits),
        ref.tensors.logits,
      ),
    ).toBeLessThan(1e-4);
    const params = adapterParameters(adapter);
    for (const p of params.values()) p.requireGrad();
    const loss = causalLMLoss(model.forward(ids).logits, ids);
    expect(Math.abs(loss.item() - ref.json!.loss)).toBeLessThan(1e-5);
    loss.backward();
    expect(Object.keys(ref.tensors).filter((k) => k.startsWith("grad.")).length).toBe(params.size);
    for (const [name, p] of params) {
      expect(ref.tensors[`grad.${name}`], name).toBeDefined();
      expect(maxRelDiff(p.grad!, ref.tensors[`grad.${name}`]), name).toBeLessThan(1e-3);
    }
    for (const p of model.parameters().values()) expect(p.grad).toBeNull();
    new AdamW(params.values(), {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0.01,
    }).step();
    const after = noGrad(() => causalLMLoss(model.forward(ids).logits, ids).item());
    expect(Math.abs(after - ref.json!.loss_after_one_adamw_step)).toBeLessThan(1e-4);
  });
}

describe("llama-tiny + PEFT LoRA adapter", () => {
  test("logits within 1e-4 of transformers + peft; merge / unmerge", async () => {
    const ref = await loadReference("llama-tiny-lora");
    const model = await loadModel(fixturePath("llama-tiny"));
    const base = noGrad(() => model.forward(ref.tensors.input_ids).logits);
    const adapter = await loadAdapter(ref.dir, { model });
    expect(adapter.modules.size).toBe(6);
    expect(adapter.scale).toBe(2);
    model.attachAdapter(adapter);
    const withLora = noGrad(() => model.forward(ref.tensors.input_ids).logits);
    expect(maxAbsDiff(withLora, ref.tensors.logits)).toBeLessThan(1e-4);
    expect(maxAbsDiff(base, ref.tensors.logits)).toBeGreaterThan(1e-3);
    model.mergeAdapter();
    const merged = noGrad(() => model.forward(ref.tensors.input_ids).logits);
    expect(maxAbsDiff(merged, ref.tensors.logits)).toBeLessThan(1e-4);
    model.unmergeAdapter();
    model.detachAdapter();
    const back = noGrad(() => model.forward(ref.tensors.input_ids).logits);
    expect(maxAbsDiff(back, base)).toBeLessThan(1e-5);
  });

  test("batched multi-LoRA: one adapter (or none) per row in one forward", async () => {
    const ref = await loadReference("llama-tiny-lora");
    const model = await loadModel(fixturePath("llama-tiny"));
    const adapter = await loadAdapter(ref.dir);
    const ids = ref.tensors.input_ids;
    const base = noGrad(() => model.forward(ids).logits);
    const rowOf = (t: Tensor, b: number) => ops.contiguous(ops.slice(t, 0, b, b + 1));
    for (const [i, pick] of [
      [0, [adapter, null]],
      [1, [null, adapter]],
    ] as const) {
      const mixed = noGrad(() => model.forward(ids, { adapters: pick }).logits);
      expect(maxAbsDiff(rowOf(mixed, i), rowOf(ref.tensors.logits, i))).toBeLessThan(1e-4);
      expect(maxAbsDiff(rowOf(mixed, 1 - i), rowOf(base, 1 - i))).toBeLessThan(1e-5);
    }
    model.attachAdapter(adapter);
    expect(() => model.forward(ids, { adapters: [adapter, null] })).toThrow(
      /is attached; detach it/,
    );
  });

  test("the same greedy tokens as the merged model, through the KV cache", async () => {
    const ref = await loadReference("llama-tiny-lora");
    const model = await loadModel(fixturePath("llama-tiny"));
    model.attachAdapter(await loadAdapter(ref.dir, { model }));
    const prompt = row(ref.tensors.input_ids, 0, 8);
    const adapted = greedy(model, prompt, 20);
    model.mergeAdapter();
    expect(greedy(model, prompt, 20)).toEqual(adapted);
    // And the adapter's logits for the prompt pick its first token.
    const logits = noGrad(() => model.forward(tensor(Int32Array.from(prompt), [1, 8])).logits);
    expect(ops.argmax(ops.slice(logits, 1, 7), -1).item()).toBe(adapted[8]);
  });
});
