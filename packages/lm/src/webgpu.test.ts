// The language models on the webgpu backend, unchanged: forward logits against transformers,
// greedy generation with the KV cache and left padding, training steps, evaluation and a
// checkpoint written from GPU tensors, each against the same work on the cpu backend.
// Skipped (with the reason) when no WebGPU adapter exists; CI installs lavapipe so they run.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Backend,
  createWebGpuBackend,
  getBackend,
  memoryStats,
  noGrad,
  resetPeak,
  setBackend,
  type Tensor,
  tensor,
  testing,
  type WebGpuBackend,
  webgpuAvailable,
} from "@athanor/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "./checkpoint/model-io.js";
import { generate, generateAsync } from "./generate/generate.js";
import { loadAdapter } from "./lora/peft.js";
import type { Model } from "./model/create.js";
import type { StaticKVCache } from "./model/kv-cache.js";
import { fixturePath } from "./testing/fixtures.js";
import { loadReference } from "./testing/reference.js";
import { lmBatch } from "./train/data.js";
import { fit } from "./train/fit.js";
import { evaluate, Trainer } from "./train/trainer.js";

const probe = await webgpuAvailable();
const suite = probe.available ? describe : describe.skip;
const title = probe.available
  ? `language models on webgpu (${probe.adapter})`
  : `language models on webgpu (skipped: no WebGPU adapter: ${probe.reason})`;

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number) => {
  const err = testing.maxRelError(got, want);
  expect(err, `max relative error ${err}`).toBeLessThanOrEqual(tol);
};

suite(title, { timeout: 300_000 }, () => {
  let gpu: WebGpuBackend;
  let cpu: Backend;

  beforeAll(async () => {
    cpu = getBackend();
    gpu = await createWebGpuBackend();
  });
  afterAll(() => {
    setBackend(cpu);
    gpu?.dispose();
  });

  /** Runs `fn` with the webgpu backend as the default (where models and inputs are made). */
  async function onGpu<T>(fn: () => Promise<T> | T): Promise<T> {
    setBackend(gpu);
    try {
      return await fn();
    } finally {
      setBackend(cpu);
    }
  }

  for (const name of ["gpt2-tiny", "llama-tiny"]) {
    it(`${name}: logits within 1e-4 of transformers, the same greedy tokens`, async () => {
      const ref = await loadReference(name);
      const ids = ref.tensors.input_ids;
      const want = ref.tensors.logits.data();
      const prompt = Array.from(ids.data().subarray(0, 8));
      const expected = Array.from(ref.tensors.generated.data()).slice(8);
      await onGpu(async () => {
        const model = await loadModel(ref.dir);
        expect(model.parameters().values().next().value!.backend).toBe(gpu);
        const logits = noGrad(() => model.forward(tensor(ids.data(), ids.shape)).logits);
        const got = await logits.dataAsync();
        let worst = 0;
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
        expect(worst).toBeLessThan(1e-4);
        const out = await generateAsync(model, [prompt], { maxNewTokens: expected.length });
        expect(out.outputs[0].tokens).toEqual(expected);
        // The synchronous API says what to use instead.
        expect(() => generate(model, [prompt], { maxNewTokens: 2 })).toThrow(
          /cannot be read synchronously; use generateAsync or streamGenerate/,
        );
      });
    });
  }

  it("f16 weights and KV cache: half the bytes, logits and greedy tokens as on the cpu backend", async () => {
    const ref = await loadReference("gpt2-tiny");
    const ids = ref.tensors.input_ids;
    const prompt = Array.from(ids.data().subarray(0, 8));
    const cpuModel = await loadModel(ref.dir, { dtype: "f16" });
    const want = noGrad(() => cpuModel.forward(tensor(ids.data(), ids.shape)).logits).data();
    const wantTokens = generate(cpuModel, [prompt], { maxNewTokens: 12 }).outputs[0].tokens;
    const f16Cache = { maxNewTokens: 12, cacheDType: "f16" } as const;
    const wantF16Cache = generate(cpuModel, [prompt], f16Cache).outputs[0].tokens;
    const live = () => memoryStats(gpu).liveBytes;
    await onGpu(async () => {
      const before = live();
      const full = await loadModel(ref.dir);
      const fullBytes = live() - before;
      full.dispose();
      const mid = live();
      const model = await loadModel(ref.dir, { dtype: "f16" });
      const halfBytes = live() - mid;
      // Weight matrices are nearly all of the bytes: f16 is a little over half.
      expect(halfBytes).toBeLessThan(fullBytes * 0.55);
      expect(halfBytes).toBeGreaterThan(fullBytes * 0.5);
      const logits = noGrad(() => model.forward(tensor(ids.data(), ids.shape)).logits);
      close(await logits.dataAsync(), want, 1e-4);
      const out = await generateAsync(model, [prompt], { maxNewTokens: 12 });
      expect(out.outputs[0].tokens).toEqual(wantTokens);
      // With an f16 KV cache too: half the cache's bytes.
      const cached = await generateAsync(model, [prompt], f16Cache);
      expect(cached.outputs[0].tokens).toEqual(wantF16Cache);
      const c0 = live();
      const cache = model.createCache(2, 64, { dtype: "f16" });
      const f16Bytes = live() - c0;
      cache.dispose();
      const c1 = live();
      const cache32 = model.createCache(2, 64);
      expect(f16Bytes).toBe((live() - c1) / 2);
      cache32.dispose();
      model.dispose();
    });
    cpuModel.dispose();
  });

  it("training with f16 activations: a lower peak, the same losses to f16's precision", async () => {
    const ref = await loadReference("llama-tiny");
    // Long enough (4 x 128) that activations, not the optimizer's state, set the peak.
    let seed = 7;
    const next = () => {
      seed = (seed * 48271) % 2147483647;
      return seed % 500;
    };
    const sequences = Array.from({ length: 4 }, () => Array.from({ length: 128 }, next));
    const run = (activationDType: "f32" | "f16") =>
      onGpu(async () => {
        const model = await loadModel(ref.dir);
        const trainer = new Trainer(model, { lr: 1e-3, totalSteps: 3, activationDType });
        const losses = [];
        let peak = 0;
        for (let i = 0; i < 3; i++) {
          const batch = lmBatch(sequences, { padId: 0 });
          const live = memoryStats(gpu).liveBytes;
          resetPeak(gpu);
          losses.push((await trainer.trainStepAsync([batch])).loss);
          peak = Math.max(peak, memoryStats(gpu).peakBytes - live);
          batch.inputIds.dispose();
          batch.labels.dispose();
        }
        model.dispose();
        return { losses, peak };
      });
    const exact = await run("f32");
    const half = await run("f16");
    expect(half.peak).toBeLessThan(exact.peak);
    half.losses.forEach((l, i) => {
      expect(Math.abs(l - exact.losses[i])).toBeLessThan(1e-3 * exact.losses[i]);
    });
  });

  for (const name of ["gpt2-tiny", "llama-tiny"]) {
    it(`${name}: recorded decode steps (captureDecode) give the tokens of eager steps`, async () => {
      const ref = await loadReference(name);
      const prompts = [
        [5, 9, 200, 31, 7],
        [44, 3],
        [1, 2, 3, 4, 5, 6, 7, 8, 9],
      ];
      const run = (captureDecode: boolean, cacheDType: "f32" | "f16") =>
        onGpu(async () => {
          const model = await loadModel(ref.dir);
          const held0 = gpu.rt.heldBytes;
          const out = await generateAsync(model, prompts, {
            maxNewTokens: 8,
            captureDecode,
            cacheDType,
          });
          const heldAfter = gpu.rt.heldBytes - held0;
          model.dispose();
          return { tokens: out.outputs.map((o) => o.tokens), heldAfter };
        });
      for (const dtype of ["f32", "f16"] as const) {
        const eager = await run(false, dtype);
        const captured = await run(true, dtype);
        expect(captured.tokens, `${dtype} cache`).toEqual(eager.tokens);
        expect(captured.heldAfter).toBe(0); // the recordings were freed with the generation
      }
    });

    it(`${name}: recorded decode steps match eager forwards step by step, across attention spans`, async () => {
      const ref = await loadReference(name);
      // the logits of each step against an eager forward on the same cache contents; the
      // positions run past 32 and 64, so the decoder records spans 32, 64 and the cache's 72
      await onGpu(async () => {
        const model = await loadModel(ref.dir);
        for (const [dtype, L] of [
          ["f32", 72],
          ["f16", 40],
        ] as const) {
          const eagerCache = model.createCache(2, L, { dtype });
          const stepCache = model.createCache(2, L, { dtype });
          const prompt = tensor(Int32Array.from([3, 4, 5, 6, 7, 8]), [2, 3], { dtype: "i32" });
          for (const c of [eagerCache, stepCache]) {
            model.forward(prompt, { cache: c }).logits.dispose();
            (c as StaticKVCache).truncate(2); // the decoder adds into its slot: truncate must clear position 2
          }
          const decoder = model.createStepDecoder!(stepCache);
          const kernels = new Set<number>();
          for (let s = 0; s < L - 2; s++) {
            const ids = Int32Array.from([(10 + s) % 250, (20 + 3 * s) % 250]);
            const pos = Int32Array.from([2 + s, 2 + s]);
            const want = model.forward(tensor(ids, [2, 1], { dtype: "i32" }), {
              cache: eagerCache,
              positionIds: pos,
            }).logits;
            const got = decoder.step(ids, pos, null);
            expect(got.shape).toEqual(want.shape);
            close(await got.dataAsync(), await want.dataAsync(), 1e-5);
            want.dispose();
            kernels.add(decoder.kernels);
          }
          expect(stepCache.length).toBe(eagerCache.length);
          expect(decoder.spans).toEqual(L === 72 ? [32, 64, 72] : [32, 40]);
          expect([...kernels]).toHaveLength(1); // every span records the same kernels
          expect([...kernels][0]).toBeGreaterThan(20);
          decoder.dispose();
          eagerCache.dispose();
          stepCache.dispose();
          prompt.dispose();
        }
        model.dispose();
      });
    });
  }

  it("recorded decode steps are refused where they cannot work", async () => {
    const ref = await loadReference("gpt2-tiny");
    const cpuModel = await loadModel(ref.dir);
    expect(() => cpuModel.createStepDecoder!(cpuModel.createCache(1, 4))).toThrow(
      /need a backend that can record work for replay \(webgpu\); the model is on cpu/,
    );
    await onGpu(async () => {
      const model = await loadModel(ref.dir);
      const cache = model.createCache(1, 2);
      const decoder = model.createStepDecoder!(cache);
      decoder.step(Int32Array.from([1]), Int32Array.from([0]), null);
      decoder.step(Int32Array.from([2]), Int32Array.from([1]), null);
      expect(() => decoder.step(Int32Array.from([3]), Int32Array.from([2]), null)).toThrow(
        /exceed its maxLength 2/,
      );
      expect(() => decoder.step(Int32Array.from([1, 2]), Int32Array.from([0]), null)).toThrow(
        /2 ids and 1 positions for a batch of 1/,
      );
      decoder.dispose();
      cache.dispose();
      model.dispose();
    });
  });

  it("left-padded batched generation matches the cpu backend", async () => {
    const ref = await loadReference("llama-tiny");
    const prompts = [
      [5, 9, 200, 31, 7],
      [44, 3],
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    ];
    const cpuModel = await loadModel(ref.dir);
    const want = generate(cpuModel, prompts, { maxNewTokens: 6 }).outputs.map((o) => o.tokens);
    const got = await onGpu(async () => {
      const model = await loadModel(ref.dir);
      return (await generateAsync(model, prompts, { maxNewTokens: 6 })).outputs.map(
        (o) => o.tokens,
      );
    });
    expect(got).toEqual(want);
  });

  it("training steps, evaluation and a checkpoint match the cpu backend", async () => {
    const ref = await loadReference("llama-tiny");
    const sequences = [
      [5, 9, 200, 31, 7, 64, 12, 90, 3],
      [44, 3, 17, 250, 8],
      [1, 2, 3, 4, 5, 6, 7],
    ];
    const options = { lr: 1e-3, totalSteps: 3, warmupSteps: 1 };
    const run = async (model: Model) => {
      const trainer = new Trainer(model, options);
      const metrics = [];
      for (let i = 0; i < 3; i++) {
        const micro = [
          lmBatch(sequences.slice(0, 2), { padId: 0 }),
          lmBatch([sequences[2]], { padId: 0 }),
        ];
        metrics.push(await trainer.trainStepAsync(micro));
        for (const b of micro) {
          b.inputIds.dispose();
          b.labels.dispose();
        }
      }
      const batch = lmBatch(sequences, { padId: 0 });
      const evalResult = await trainer.evaluateAsync([batch]);
      return { trainer, metrics, evalResult };
    };
    const cpuModel = await loadModel(ref.dir);
    const onCpu = await run(cpuModel);
    const dir = await mkdtemp(join(tmpdir(), "athanor-lm-webgpu-"));
    try {
      const onGpuRun = await onGpu(async () => {
        const model = await loadModel(ref.dir);
        const r = await run(model);
        await r.trainer.save(dir);
        return { ...r, model };
      });
      onGpuRun.metrics.forEach((m, i) => {
        expect(m.loss).toBeCloseTo(onCpu.metrics[i].loss, 4);
        expect(m.gradNorm).toBeCloseTo(onCpu.metrics[i].gradNorm, 3);
        expect(m.labelTokens).toBe(onCpu.metrics[i].labelTokens);
      });
      expect(onGpuRun.evalResult.loss).toBeCloseTo(onCpu.evalResult.loss, 4);
      // The checkpoint written from GPU tensors holds the GPU weights; read on the cpu.
      const saved = await loadModel(join(dir, "model"));
      const gpuParams = onGpuRun.model.parameters();
      for (const [key, p] of cpuModel.parameters()) {
        const fromFile = saved.parameters().get(key) as Tensor;
        close(fromFile.data(), await (gpuParams.get(key) as Tensor).dataAsync(), 1e-6);
        close(fromFile.data(), p.data(), 1e-3);
      }
      expect(evaluate(saved, [lmBatch(sequences, { padId: 0 })]).loss).toBeCloseTo(
        onGpuRun.evalResult.loss,
        4,
      );
      onCpu.trainer.dispose();
      onGpuRun.trainer.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("captured training steps (captureSteps) match eager steps, per batch shape, pipelined", async () => {
    const ref = await loadReference("llama-tiny");
    const sequences = [
      [5, 9, 200, 31, 7, 64, 12, 90, 3],
      [44, 3, 17, 250, 8, 6, 2, 9, 1],
      [1, 2, 3, 4, 5, 6, 7],
      [8, 9, 10, 11, 12, 13, 14],
    ];
    // two micro-batch shapes, changing data, gradient accumulation, a learning-rate schedule
    const micro = (step: number) =>
      step % 3 === 2
        ? [lmBatch([sequences[2], sequences[3]], { padId: 0 })]
        : [
            lmBatch(
              sequences.slice(0, 2).map((q) => q.map((t) => (t + step) % 500)),
              { padId: 0 },
            ),
            lmBatch([sequences[(step % 2) + 2]], { padId: 0 }),
          ];
    const run = (captureSteps: boolean) =>
      onGpu(async () => {
        const model = await loadModel(ref.dir);
        const held0 = gpu.rt.heldBytes;
        const trainer = new Trainer(model, {
          lr: 1e-3,
          totalSteps: 7,
          warmupSteps: 2,
          captureSteps,
        });
        // step k + 1 is recorded before step k is read, as `fit` does
        const pending = [];
        const metrics = [];
        for (let s = 0; s < 7; s++) {
          const batches = micro(s);
          pending.push(trainer.beginStep(batches));
          for (const b of batches) {
            b.inputIds.dispose();
            b.labels.dispose();
          }
          if (pending.length === 2) metrics.push(await pending.shift()!.metrics());
        }
        metrics.push(await pending.shift()!.metrics());
        const held = gpu.rt.heldBytes - held0;
        const weights = await (model.parameters().values().next().value as Tensor).dataAsync();
        trainer.dispose();
        const heldAfter = gpu.rt.heldBytes - held0;
        model.dispose();
        return { metrics, weights, held, heldAfter };
      });
    const eager = await run(false);
    const captured = await run(true);
    expect(captured.metrics.map((m) => [m.loss, m.gradNorm, m.lr])).toEqual(
      eager.metrics.map((m) => [m.loss, m.gradNorm, m.lr]),
    );
    expect(Array.from(captured.weights)).toEqual(Array.from(eager.weights));
    expect(captured.held).toBeGreaterThan(0); // the captures kept their buffers
    expect(captured.heldAfter).toBe(0); // and dispose returned them
    expect(eager.held).toBe(0);
    const cpuModel = await loadModel(ref.dir);
    expect(() => new Trainer(cpuModel, { lr: 1e-3, totalSteps: 1, captureSteps: true })).toThrow(
      /captureSteps needs a backend that can record work for replay \(webgpu\); the model is on cpu/,
    );
  });

  it("captured training steps match eager ones with f16 activations, gradient checkpointing or a LoRA adapter", async () => {
    const ref = await loadReference("llama-tiny");
    const sequences = [
      [5, 9, 200, 31, 7, 64, 12, 90],
      [44, 3, 17, 250, 8, 6, 2, 9],
    ];
    type Setup = "f16 activations" | "checkpointing" | "lora";
    const run = (setup: Setup, captureSteps: boolean) =>
      onGpu(async () => {
        const model = await loadModel(ref.dir);
        if (setup === "checkpointing") model.gradientCheckpointing = true;
        const adapter =
          setup === "lora"
            ? await loadAdapter(fixturePath("llama-tiny-lora"), { model })
            : undefined;
        const trainer = new Trainer(model, {
          lr: 1e-3,
          totalSteps: 4,
          captureSteps,
          adapter,
          activationDType: setup === "f16 activations" ? "f16" : undefined,
        });
        const losses = [];
        for (let s = 0; s < 4; s++) {
          const b = lmBatch(
            sequences.map((q) => q.map((t) => (t + 3 * s) % 500)),
            { padId: 0 },
          );
          losses.push((await trainer.trainStepAsync([b])).loss);
          b.inputIds.dispose();
          b.labels.dispose();
        }
        trainer.dispose();
        model.dispose();
        return losses;
      });
    for (const setup of ["f16 activations", "checkpointing", "lora"] as const) {
      const eager = await run(setup, false);
      expect(await run(setup, true), setup).toEqual(eager);
      expect(new Set(eager).size, setup).toBe(4); // the model learns: every loss differs
    }
  });

  it("fit with captured steps: the same losses and evaluations as eager, through a checkpoint, a crash and a resume", async () => {
    const ref = await loadReference("llama-tiny");
    const tmp = await mkdtemp(join(tmpdir(), "athanor-fit-capture-"));
    // token sequences of 5 to 9 ids, padded to multiples of 8: one batch shape
    const seqs = Array.from({ length: 12 }, (_, i) =>
      Array.from({ length: 5 + (i % 5) }, (_, j) => (7 * i + 13 * j + 3) % 500),
    );
    const options = (dir: string, captureSteps: boolean) => ({
      train: seqs,
      eval: seqs.slice(0, 4),
      padId: 0,
      padToMultipleOf: 8,
      batchSize: 2,
      gradAccumulation: 2,
      lr: 5e-3,
      warmupSteps: 1,
      totalSteps: 4,
      seed: 3,
      evalEvery: 2,
      checkpointDir: join(tmp, dir),
      checkpointEvery: 2,
      captureSteps,
    });
    try {
      const run = (dir: string, captureSteps: boolean, crashAt?: number) =>
        onGpu(async () => {
          const model = await loadModel(ref.dir);
          try {
            return await fit(model, {
              ...options(dir, captureSteps),
              onProgress: (m) => {
                if (m.step === crashAt) throw new Error("crash");
              },
            });
          } finally {
            model.dispose();
          }
        });
      const eager = await run("eager", false);
      const captured = await run("captured", true);
      const losses = (r: typeof eager) => r.history.map((m) => m.loss);
      const evals = (r: typeof eager) => r.evals.map((e) => [e.step, e.result.loss]);
      expect(losses(captured)).toEqual(losses(eager));
      expect(evals(captured)).toEqual(evals(eager));
      expect(new Set(losses(eager)).size).toBe(4);
      // a crash after the step-2 checkpoint, then a resume (the trainer restores: no captures)
      await expect(run("resumed", true, 3)).rejects.toThrow("crash");
      const resumed = await run("resumed", true);
      expect(resumed.resumedFrom).toBe(2);
      expect(losses(resumed)).toEqual(losses(eager).slice(2));
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it("a token id outside the vocabulary is reported at the next read", async () => {
    const ref = await loadReference("gpt2-tiny");
    await onGpu(async () => {
      const model = await loadModel(ref.dir);
      const vocab = model.config.vocabSize;
      const logits = noGrad(
        () =>
          model.forward(tensor(Int32Array.from([1, vocab + 5]), [1, 2], { dtype: "i32" })).logits,
      );
      await expect(logits.dataAsync()).rejects.toThrow(
        new RegExp(`index ${vocab + 5} at position 1 is out of range \\[0, ${vocab}\\)`),
      );
      // The fault is cleared: the next forward reads fine.
      const ok = noGrad(
        () => model.forward(tensor(Int32Array.from([1, 2]), [1, 2], { dtype: "i32" })).logits,
      );
      expect((await ok.dataAsync()).every(Number.isFinite)).toBe(true);
    });
  });
});
