// Where a webgpu decode step's time goes: the GPU check's "latency" part (bench/_webgpu-device.mjs).
// Three figures, each the median of its repetitions, on a backend of its own:
// - readback: a 4-element add recorded, submitted and read back (`dataAsync`): the floor of any
//   step that reads a result (the decode loop reads each step's logits);
// - sync: `gpu.sync()` after a 4-element add: submit and wait, no copy;
// - a decode step of the lm-decode model (bench/_lm-common.mjs SHAPE, batch 1, f32, KV cache
//   after a 32-token prompt): CPU time to record the step's forward, the wait for its logits
//   after that, kernels and submits per step, and the GPU time of its kernels (timestamp queries);
// - the same steps through a step decoder (`createStepDecoder`: recorded once, then replayed):
//   host time per step and the wait after it.
import { llamaConfig, SHAPE } from "./_lm-common.mjs";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => Math.round(x * 1000) / 1000;

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
    const config = lm.parseModelConfig(llamaConfig(SHAPE, total), "latency probe");
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
      let best = 0;
      for (let j = 1; j < v.length; j++) if (v[j] > v[best]) best = j;
      token = best;
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
    // The same steps through a step decoder (recorded once, then replayed): host time of
    // `step` (writing the step's inputs and issuing the replay) and the wait for its logits.
    const cache2 = model.createCache(1, total);
    const warm = forward(promptIds, promptPos, cache2);
    await warm.dataAsync();
    warm.dispose();
    const decoder = model.createStepDecoder(cache2);
    const replay = [];
    const replayWait = [];
    const r0 = gpu.stats();
    token = 1;
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      const logits = decoder.step(Int32Array.of(token), Int32Array.of(prompt + i), null);
      const read = logits.dataAsync();
      const t1 = performance.now();
      const v = await read;
      const t2 = performance.now();
      let best = 0;
      for (let j = 1; j < v.length; j++) if (v[j] > v[best]) best = j;
      token = best;
      if (i >= 2) {
        replay.push(t1 - t0);
        replayWait.push(t2 - t1);
      }
    }
    const r1 = gpu.stats();
    decoder.dispose();
    cache2.dispose();
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
        kernelsPerStep: (s1.dispatches - s0.dispatches) / steps,
        submitsPerStep: (s1.submits - s0.submits) / steps,
        buffersCreatedPerStep: (s1.buffersCreated - s0.buffersCreated) / steps,
        gpuMsPerStep: gpuMs === null ? null : ms(gpuMs),
      },
      replayedDecode: {
        stepMs: ms(median(replay)),
        waitMs: ms(median(replayWait)),
        kernelsPerStep: (r1.dispatches - r0.dispatches) / steps,
        submitsPerStep: (r1.submits - r0.submits) / steps,
      },
    };
  } finally {
    T.setBackend(before);
    gpu.dispose();
  }
}
