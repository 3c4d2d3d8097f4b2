import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { noGrad, type Tensor, tidy } from "@athanor/tensor";
import { afterAll, describe, expect, test } from "vitest";
import { loadModel } from "../checkpoint/model-io.js";
import { createAdapter, loadAdapter } from "../lora/peft.js";
import { fixturePath } from "../testing/fixtures.js";
import { maxAbsDiff } from "../testing/reference.js";
import { DataLoader, lmBatch, packTokens, type SftExample, sftBatch } from "./data.js";
import { fit, progressLine } from "./fit.js";
import { causalLMLoss } from "./loss.js";
import { evaluate, Trainer } from "./trainer.js";

const tmp = mkdtempSync(join(tmpdir(), "lm-train-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const llama = () => loadModel(fixturePath("llama-tiny"));

/** A tiny task: the response repeats the prompt's tokens + 1. */
function examples(n: number, seed = 1): SftExample[] {
  let s = seed;
  const r = () => {
    s = (s * 48271) % 2147483647;
    return s;
  };
  return Array.from({ length: n }, () => {
    const len = 3 + (r() % 4);
    const prompt = Array.from({ length: len }, () => 10 + (r() % 40));
    return { prompt, response: [...prompt.map((t) => t + 1), 0] };
  });
}

function snapshot(params: Map<string, Tensor>): Map<string, Float32Array> {
  return new Map([...params].map(([k, t]) => [k, Float32Array.from(t.data())]));
}

describe("batches", () => {
  test("SFT labels count only the response; padding is ignored and goes at the end", () => {
    const b = sftBatch(
      [
        { prompt: [5, 6, 7], response: [8, 9] },
        { prompt: [5], response: [6] },
      ],
      { padId: 1 },
    );
    expect(b.inputIds.toArray()).toEqual([
      [5, 6, 7, 8, 9],
      [5, 6, 1, 1, 1],
    ]);
    expect(b.labels.toArray()).toEqual([
      [-100, -100, -100, 8, 9],
      [-100, 6, -100, -100, -100],
    ]);
    expect(b.tokens).toBe(7);
    expect(lmBatch([[1, 2, 3]], { padId: 0, maxLength: 2 }).labels.toArray()).toEqual([[1, 2]]);
    expect(packTokens([1, 2, 3, 4, 5], 2)).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  test("the loss is the mean over response tokens only", async () => {
    const model = await llama();
    const b = sftBatch(examples(3), { padId: 1 });
    const logits = noGrad(() => model.forward(b.inputIds).logits);
    const ours = causalLMLoss(logits, b.labels).item();
    // By hand: log-softmax at position t for label t+1 where the label counts.
    const [B, T, V] = logits.shape;
    const lg = logits.data() as Float32Array;
    const lb = b.labels.data();
    let sum = 0;
    let n = 0;
    for (let i = 0; i < B; i++)
      for (let t = 0; t < T - 1; t++) {
        const y = lb[i * T + t + 1];
        if (y === -100) continue;
        const row = lg.subarray((i * T + t) * V, (i * T + t + 1) * V);
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
        sum += lse - row[y];
        n++;
      }
    expect(n).toBe(examples(3).reduce((s, e) => s + e.response.length, 0));
    expect(Math.abs(ours - sum / n)).toBeLessThan(1e-5);
  });

  test("padToMultipleOf rounds the length up (within maxLength) and changes no loss", async () => {
    const ex = examples(3);
    const plain = sftBatch(ex, { padId: 1 });
    const padded = sftBatch(ex, { padId: 1, padToMultipleOf: 8 });
    const T = plain.inputIds.shape[1];
    expect(padded.inputIds.shape).toEqual([3, Math.ceil(T / 8) * 8]);
    expect(padded.tokens).toBe(plain.tokens);
    expect(padded.labelTokens).toBe(plain.labelTokens);
    expect(sftBatch(ex, { padId: 1, padToMultipleOf: 64, maxLength: 20 }).inputIds.shape[1]).toBe(
      20,
    );
    const model = await llama();
    const loss = (b: typeof plain) =>
      noGrad(() => causalLMLoss(model.forward(b.inputIds).logits, b.labels).item());
    expect(Math.abs(loss(padded) - loss(plain))).toBeLessThan(1e-5);
    expect(() => lmBatch([[1, 2, 3]], { padId: 0, padToMultipleOf: 0 })).toThrow(
      "batch: padToMultipleOf must be a positive integer, got 0",
    );
  });

  test("the loader reshuffles per epoch from the seed and restores its position", () => {
    const items = Array.from({ length: 7 }, (_, i) => i);
    const a = new DataLoader(items, 3, { seed: 5 });
    const seen = [a.next(), a.next(), a.next()];
    expect(seen.map((x) => x.length)).toEqual([3, 3, 1]);
    expect(seen.flat().sort()).toEqual(items);
    const state = a.state();
    const next = [a.next(), a.next()];
    const b = new DataLoader(items, 3, { seed: 5 });
    b.restore(state);
    expect([b.next(), b.next()]).toEqual(next);
    expect(new DataLoader(items, 3, { seed: 6 }).next()).not.toEqual(
      new DataLoader(items, 3, { seed: 5 }).next(),
    );
  });
});

describe("Trainer", () => {
  test("gradient accumulation over micro-batches equals one step on the whole batch", async () => {
    const data = examples(4);
    const run = async (micro: SftExample[][]) => {
      const model = await llama();
      const t = new Trainer(model, { lr: 1e-3, totalSteps: 10, maxGradNorm: 1 });
      const m = t.trainStep(micro.map((e) => sftBatch(e, { padId: 1 })));
      return { params: snapshot(model.parameters()), m };
    };
    const whole = await run([data]);
    const split = await run([data.slice(0, 1), data.slice(1, 3), data.slice(3)]);
    expect(Math.abs(whole.m.loss - split.m.loss)).toBeLessThan(1e-5);
    expect(Math.abs(whole.m.gradNorm - split.m.gradNorm) / whole.m.gradNorm).toBeLessThan(1e-4);
    for (const [k, v] of whole.params) {
      const w = split.params.get(k)!;
      let d = 0;
      for (let i = 0; i < v.length; i++) d = Math.max(d, Math.abs(v[i] - w[i]));
      // Float sums in another order; AdamW's first step is about lr·sign(g), so 1% of lr.
      expect(d, k).toBeLessThan(1e-5);
    }
  });

  test("overlapped steps (beginStep, read later) equal steps read one at a time", async () => {
    const data = examples(6);
    const batches = () => [0, 2, 4].map((i) => sftBatch(data.slice(i, i + 2), { padId: 1 }));
    const one = new Trainer(await llama(), { lr: 1e-3, totalSteps: 3 });
    const sequential = batches().map((b) => one.trainStep([b]));
    const seen: number[] = [];
    const two = new Trainer(await llama(), {
      lr: 1e-3,
      totalSteps: 3,
      onProgress: (m) => seen.push(m.step),
    });
    // all recorded, none read yet; each call timed around
    const recording: number[] = [];
    const handles = batches().map((b) => {
      const t0 = performance.now();
      const h = two.beginStep([b]);
      recording.push(performance.now() - t0);
      return h;
    });
    expect(handles.map((h) => h.step)).toEqual([1, 2, 3]);
    const overlapped = [];
    for (const h of handles) overlapped.push(await h.metrics());
    // on the cpu a step's work is done when it is recorded: its time is within that call's,
    // not the span to its read-back (which here includes the later steps' work)
    overlapped.forEach((m, i) => {
      expect(m.ms).toBeGreaterThan(0);
      expect(m.ms).toBeLessThanOrEqual(recording[i]);
    });
    expect(seen).toEqual([1, 2, 3]);
    overlapped.forEach((m, i) => {
      expect(m.step).toBe(sequential[i].step);
      expect(m.loss).toBe(sequential[i].loss);
      expect(m.gradNorm).toBe(sequential[i].gradNorm);
      expect(m.lr).toBe(sequential[i].lr);
    });
    expect(await handles[0].metrics()).toBe(overlapped[0]); // read once, then cached
    one.dispose();
    two.dispose();
  });

  test("full fine-tuning learns the task; warmup-cosine schedule; progress callback", async () => {
    const model = await llama();
    const seen: number[] = [];
    const train = examples(8);
    const before = evaluate(model, [sftBatch(train, { padId: 1 })]);
    const { history } = await fit(model, {
      train,
      padId: 1,
      batchSize: 4,
      lr: 3e-3,
      warmupSteps: 3,
      totalSteps: 30,
      onProgress: (m) => seen.push(m.step),
    });
    const after = evaluate(model, [sftBatch(train, { padId: 1 })]);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(history[0].lr).toBeCloseTo(1e-3, 10);
    expect(history[2].lr).toBeCloseTo(3e-3, 10);
    expect(history[29].lr).toBeCloseTo(0, 10);
    expect(after.loss).toBeLessThan(before.loss * 0.5);
    expect(after.perplexity).toBeCloseTo(Math.exp(after.loss), 6);
    expect(progressLine(history[9])).toMatch(
      /^step 10\/30 \[#{7}\.{13}\] loss \d+\.\d{4} lr \d\.\de-\d .* tok\/s$/,
    );
  });

  test("LoRA training changes only the adapter; saved PEFT adapter reloads; merge gives the same logits", async () => {
    const model = await llama();
    const base = snapshot(model.parameters());
    const adapter = createAdapter(model, {
      r: 4,
      alpha: 8,
      targetModules: ["q_proj", "v_proj", "down_proj"],
      seed: 3,
    });
    const train = examples(8);
    const batch = sftBatch(train, { padId: 1 });
    const before = evaluate(model, [batch]);
    await fit(model, { train, padId: 1, batchSize: 8, lr: 3e-2, totalSteps: 30, adapter });
    const after = evaluate(model, [batch]);
    expect(after.loss).toBeLessThan(before.loss * 0.92);
    for (const [k, v] of snapshot(model.parameters()))
      expect(Array.from(v), k).toEqual(Array.from(base.get(k)!));
    const logits = noGrad(() => model.forward(batch.inputIds).logits);
    const { saveAdapter } = await import("../lora/peft.js");
    await saveAdapter(adapter, join(tmp, "adapter"));
    const fresh = await llama();
    fresh.attachAdapter(await loadAdapter(join(tmp, "adapter"), { model: fresh }));
    expect(
      maxAbsDiff(
        noGrad(() => fresh.forward(batch.inputIds).logits),
        logits,
      ),
    ).toBeLessThan(1e-6);
    fresh.mergeAdapter();
    expect(
      maxAbsDiff(
        noGrad(() => fresh.forward(batch.inputIds).logits),
        logits,
      ),
    ).toBeLessThan(1e-4);
  });

  test("LoRA gradients: dL/dB = s·G·Aᵀ and dL/dA = s·Bᵀ·G with G the base weight's gradient", async () => {
    const model = await llama();
    const adapter = await loadAdapter(fixturePath("llama-tiny-lora"), { model });
    model.attachAdapter(adapter);
    const params = model.parameters();
    for (const p of params.values()) p.requireGrad();
    for (const { a, b } of adapter.modules.values()) {
      a.requireGrad();
      b.requireGrad();
    }
    const b = sftBatch(examples(2), { padId: 1 });
    causalLMLoss(model.forward(b.inputIds).logits, b.labels).backward();
    const { ops } = await import("@athanor/tensor");
    for (const [path, w] of adapter.modules) {
      const g = params.get(`${path}.weight`)!.grad!;
      const wantB = ops.mul(ops.matmul(g, ops.transpose(w.a)), adapter.scale);
      const wantA = ops.mul(ops.matmul(ops.transpose(w.b), g), adapter.scale);
      expect(maxAbsDiff(w.b.grad!, wantB), path).toBeLessThan(1e-6);
      expect(maxAbsDiff(w.a.grad!, wantA), path).toBeLessThan(1e-6);
    }
  });

  test("gradient checkpointing gives the same gradients (full and LoRA)", async () => {
    const b = sftBatch(examples(3), { padId: 1 });
    const grads = async (ckpt: boolean, lora: boolean) => {
      const model = await llama();
      model.gradientCheckpointing = ckpt;
      let params = model.parameters();
      if (lora) {
        const adapter = await loadAdapter(fixturePath("llama-tiny-lora"), { model });
        model.attachAdapter(adapter);
        params = new Map(
          [...adapter.modules].flatMap(([k, w]) => [
            [`${k}.a`, w.a],
            [`${k}.b`, w.b],
          ]),
        );
      }
      for (const p of params.values()) p.requireGrad();
      tidy(() => causalLMLoss(model.forward(b.inputIds).logits, b.labels).backward());
      return new Map([...params].map(([k, p]) => [k, p.grad!]));
    };
    for (const lora of [false, true]) {
      const plain = await grads(false, lora);
      const ckpt = await grads(true, lora);
      for (const [k, g] of plain) expect(maxAbsDiff(ckpt.get(k)!, g), k).toBeLessThan(1e-6);
    }
  });

  test("checkpoint and resume continue bit-for-bit (full and LoRA), deterministic from the seed", async () => {
    const train = examples(10);
    for (const lora of [false, true]) {
      const opts = (dir: string) => ({
        train,
        padId: 1,
        batchSize: 3,
        gradAccumulation: 2,
        lr: 5e-3,
        warmupSteps: 1,
        totalSteps: 4,
        seed: 9,
        checkpointDir: join(tmp, dir),
        checkpointEvery: 2,
      });
      const setup = async () => {
        const model = await llama();
        const adapter = lora ? createAdapter(model, { r: 2, seed: 1 }) : undefined;
        return { model, adapter };
      };
      const a = await setup();
      const straight = await fit(a.model, { ...opts(`a${lora}`), adapter: a.adapter });
      const b = await setup();
      await expect(
        fit(b.model, {
          ...opts(`b${lora}`),
          adapter: b.adapter,
          onProgress: (m) => {
            if (m.step === 3) throw new Error("crash");
          },
        }),
      ).rejects.toThrow("crash");
      const c = await setup();
      const resumed = await fit(c.model, { ...opts(`b${lora}`), adapter: c.adapter });
      expect(resumed.resumedFrom).toBe(2);
      expect(resumed.history.map((m) => m.loss)).toEqual(
        straight.history.slice(2).map((m) => m.loss),
      );
      const pa = lora ? a.adapter!.modules : null;
      if (pa) {
        for (const [k, w] of pa)
          expect(Array.from(c.adapter!.modules.get(k)!.b.data())).toEqual(Array.from(w.b.data()));
      } else {
        const sa = snapshot(a.model.parameters());
        for (const [k, v] of snapshot(c.model.parameters()))
          expect(Array.from(v), k).toEqual(Array.from(sa.get(k)!));
      }
    }
  });
});
