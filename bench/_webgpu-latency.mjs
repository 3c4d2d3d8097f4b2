// Where a webgpu decode step's time goes: the GPU check's "latency" part (bench/_webgpu-device.mjs).
// Three figures, each the median of its repetitions, on a backend of its own:
// - readback: a 4-element add recorded, submitted and read back (`dataAsync`): the floor of any
//   step that reads a result (the decode loop reads each step's logits);
// - sync: `gpu.sync()` after a 4-element add: submit and wait, no copy;
// - a decode step of the lm-decode model (bench/_lm-common.mjs SHAPE, batch 1, f32, KV cache
//   after a 32-token prompt): CPU time to record the step's forward, the wait for its logits
//   after that, kernels and submits per step, and the GPU time of its kernels (timestamp queries);
// - the same steps through a step decoder (`createStepDecoder`: recorded once per attention
//   span, then replayed): host time per step and the wait after it, with a cache just long
//   enough and with a 1,024-position one.
import { llamaConfig, SHAPE } from "./_lm-common.mjs";

/** The cache length of the long-cache replayed steps. */
const LONG_CACHE = 1024;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => Math.round(x * 1000) / 1000;
/** The index of the largest value: greedy decoding's next token. */
const argmax = (v) => {
  let best = 0;
  for (let j = 1; j < v.length; j++) if (v[j] > v[best]) best = j;
  return best;
};
/** Kernels and submits per step between two `gpu.stats()`. */
const perStep = (s0, s1, steps) => ({
  kernelsPerStep: (s1.dispatches - s0.dispatches) / steps,
  submitsPerStep: (s1.submits - s0.submits) / steps,
});

/** Runs the probe; returns its JSON-line object. */
export async function latencyProbe(T, lm, { reps = 50, steps = 24, prompt = 32 } = {}) {
  const gpu = await T.createWebGpuBackend({ name: "webgpu-latency" });
  const before = T.getBackend();
  T.setBackend(gpu);
  try {
    const x = T.tensor([1, 2, 3, 4], [4]);
    const readback = [];
    const sync = [];
    for (let i = 0; i < reps + 2; i++) {
      let t0 = performance.now();
      const y = T.ops.add(x, x);
      await y.dataAsync();
      if (i >= 2) readback.push(performance.now() - t0);
      y.dispose();
      const z = T.ops.add(x, x);
      t0 = performance.now();
      await gpu.sync();
      if (i >= 2) sync.push(performance.now() - t0);
      z.dispose();
    }
    x.dispose();

    const total = prompt + steps + 8;
    const config = lm.parseModelConfig(
      llamaConfig(SHAPE, Math.max(total, LONG_CACHE)),
      "latency probe",
    );
    const model = lm.createModel(config, { seed: 0 });
    const cache = model.createCache(1, total);
    const forward = (ids, pos, c = cache) =>
      T.tidy(() => {
        const { logits } = model.forward(
          T.tensor(Int32Array.from(ids), [1, ids.length], { dtype: "i32" }),
          {
            cache: c,
            positionIds: Int32Array.from(pos),
            logitsFor: "last",
          },
        );
        return logits;
      });
    const promptIds = Array.from({ length: prompt }, (_, i) => (i * 31) % SHAPE.vocab);
    const promptPos = Array.from({ length: prompt }, (_, i) => i);
    const first = forward(promptIds, promptPos);
    await first.dataAsync();
    first.dispose();
    const record = [];
    const wait = [];
    const s0 = gpu.stats();
    let token = 1;
    let gpuMs = null;
    for (let i = 0; i < steps; i++) {
      const profiled = i === steps - 1 && gpu.info.features.includes("timestamp-query");
      if (profiled) gpu.setProfile(true);
      const t0 = performance.now();
      const logits = forward([token], [prompt + i]);
      const read = logits.dataAsync();
      const t1 = performance.now();
      const v = await read;
      const t2 = performance.now();
      logits.dispose();
      token = argmax(v);
      if (profiled) {
        gpuMs = (await gpu.profile(true)).reduce((t, p) => t + p.ms, 0);
        gpu.setProfile(false);
      } else if (i >= 2) {
        record.push(t1 - t0);
        wait.push(t2 - t1);
      }
    }
    const s1 = gpu.stats();
    cache.dispose();
    // The same steps through a step decoder (recorded once per attention span, then
    // replayed): host time of `step` (writing the step's inputs and issuing the replay) and
    // the wait for its logits; in a cache just long enough, and in one of LONG_CACHE positions
    // (attention reads a span of the cache, not all of it: the wait should not grow).
    const replayed = async (length) => {
      const c = model.createCache(1, length);
      const warm = forward(promptIds, promptPos, c);
      await warm.dataAsync();
      warm.dispose();
      const decoder = model.createStepDecoder(c);
      const host = [];
      const waits = [];
      const r0 = gpu.stats();
      let next = 1;
      for (let i = 0; i < steps; i++) {
        const t0 = performance.now();
        const logits = decoder.step(Int32Array.of(next), Int32Array.of(prompt + i), null);
        const read = logits.dataAsync();
        const t1 = performance.now();
        const v = await read;
        const t2 = performance.now();
        next = argmax(v);
        if (i >= 2) {
          host.push(t1 - t0);
          waits.push(t2 - t1);
        }
      }
      const r1 = gpu.stats();
      const spans = decoder.spans;
      decoder.dispose();
      c.dispose();
      return {
        cacheLength: length,
        spans,
        stepMs: ms(median(host)),
        waitMs: ms(median(waits)),
        ...perStep(r0, r1, steps),
      };
    };
    const replayedDecode = await replayed(total);
    const longCache = await replayed(LONG_CACHE);
    model.dispose();
    return {
      part: "latency",
      adapter: gpu.info.adapter,
      readbackMs: ms(median(readback)),
      syncMs: ms(median(sync)),
      decode: {
        model: SHAPE,
        prompt,
        recordMs: ms(median(record)),
        waitMs: ms(median(wait)),
        ...perStep(s0, s1, steps),
        buffersCreatedPerStep: (s1.buffersCreated - s0.buffersCreated) / steps,
        gpuMsPerStep: gpuMs === null ? null : ms(gpuMs),
      },
      replayedDecode,
      replayedDecodeLongCache: longCache,
    };
  } finally {
    T.setBackend(before);
    gpu.dispose();
  }
}
