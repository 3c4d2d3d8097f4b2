// CPU cost of *recording* WebGPU kernels: the JavaScript and Dawn API calls that happen before
// `queue.submit` (pipeline lookup, bind group, parameter slot, pass commands). The GPU's own
// time is excluded: each repetition times only the synchronous calls (ending with the final
// flush, so every submit is counted), then waits for the GPU outside the clock. Kernels are
// kept tiny, so even on lavapipe (software Vulkan) the execution barely competes for the CPU.
//
//   npm run bench -- webgpu-record [--json] [--reps N] [--kernels N] [--steps N]
//                                 [--cache both|on|off] [--dawn-option OPT]...
// (`--dawn-option`, repeatable: passed to Dawn's create(), e.g.
// enable-dawn-features=skip_validation; the backend's `dawnOptions`)
//
// Three streams:
//   runtime      N prebuilt dispatches straight into Runtime.dispatch (the runtime alone)
//   elementwise  N small elementwise ops (64 elements) through the backend on the same storages
//   gpt2         forward + backward + AdamW of a tiny GPT-2-shaped model (2 layers, width 64,
//                2 heads, context 16, batch 1, vocabulary 256) through the tensor frontend;
//                --steps N steps per repetition (default 1: the loss is read after each step,
//                as a training loop does)
//   gpt2 replayed the same step recorded once with `capture` and replayed (the host cost of a
//                replay: encoding the recorded kernels)
// Each runs with the runtime's bind-group cache on and off (`--cache`; the cache is the
// Runtime option `bindCache`, default on, off with ATHANOR_WEBGPU_BINDCACHE=0), interleaved
// repetition by repetition, median of the repetitions.
import { buildModel, randomTokens } from "./_gpt2.mjs";
import { webgpu } from "./_webgpu-common.mjs";

const TINY = { layers: 2, width: 64, heads: 2, context: 16, batch: 1, vocab: 256 };

function parseArgs(args) {
  const o = { json: false, reps: 15, kernels: 2000, steps: 1, cache: "both", dawnOptions: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const num = () => {
      const v = Number(args[++i]);
      if (!Number.isInteger(v) || v < 1)
        throw new Error(`webgpu-record: ${a} needs a positive integer, got ${args[i]}`);
      return v;
    };
    if (a === "--json") o.json = true;
    else if (a === "--reps") o.reps = num();
    else if (a === "--kernels") o.kernels = num();
    else if (a === "--steps") o.steps = num();
    else if (a === "--dawn-option") o.dawnOptions.push(args[++i]);
    else if (a === "--cache") {
      o.cache = args[++i];
      if (!["both", "on", "off"].includes(o.cache))
        throw new Error(`webgpu-record: --cache is both, on or off, got ${o.cache}`);
    } else if (a === "--help" || a === "-h") {
      console.log(
        "usage: npm run bench -- webgpu-record [--json] [--reps N] [--kernels N] [--steps N] [--cache both|on|off] [--dawn-option OPT]...",
      );
      process.exit(0);
    } else throw new Error(`webgpu-record: unknown argument ${a}`);
  }
  return o;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

// A kernel of the runtime stream: y[i] = y[i] * P[2] + x[i] over P[0] elements (P[1] unused).
const AXPY = `@group(0) @binding(0) var<storage, read> P: array<u32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= P[0]) { return; }
  y[i] = y[i] * bitcast<f32>(P[2]) + x[i];
}`;

/**
 * Times the calls into Runtime.dispatch (the runtime's share of recording, submits on batch
 * boundaries included); `take()` returns the milliseconds since the last take.
 */
function instrument(gpu) {
  const rt = gpu.rt;
  const dispatch = rt.dispatch.bind(rt);
  let ms = 0;
  rt.dispatch = (d) => {
    const t0 = performance.now();
    dispatch(d);
    ms += performance.now() - t0;
  };
  return {
    take() {
      const t = ms;
      ms = 0;
      return t;
    },
  };
}

/**
 * A stream: `record()` records kernels synchronously (timed), `settle()` waits for the GPU
 * (not timed). Returns the medians over repetitions per cache mode.
 */
async function measure(gpu, clock, stream, reps, modes) {
  const samples = Object.fromEntries(modes.map((m) => [m, []]));
  // warm-up in every mode: compiles pipelines, fills the pools and (in "on") the cache; a
  // training step reaches its steady allocation pattern by its third run
  for (let w = 0; w < 3; w++) {
    for (const m of modes) {
      setCache(gpu, m);
      stream.record();
      gpu.flush();
      await stream.settle();
    }
  }
  for (let r = 0; r < reps; r++) {
    for (const m of modes) {
      setCache(gpu, m);
      const before = gpu.stats();
      const cache = gpu.rt.bindGroups;
      const hits0 = cache?.hits ?? 0;
      const misses0 = cache?.misses ?? 0;
      clock.take();
      const t0 = performance.now();
      stream.record();
      gpu.flush();
      const ms = performance.now() - t0;
      const inRuntime = clock.take();
      const after = gpu.stats();
      const hits = (cache?.hits ?? 0) - hits0;
      const misses = (cache?.misses ?? 0) - misses0;
      await stream.settle();
      samples[m].push({
        ms,
        inRuntime,
        hitRate: hits + misses > 0 ? hits / (hits + misses) : null,
        dispatches: after.dispatches - before.dispatches,
        submits: after.submits - before.submits,
      });
    }
  }
  const out = {};
  for (const m of modes) {
    const s = samples[m];
    const ms = median(s.map((x) => x.ms));
    const dispatches = s[0].dispatches;
    out[m] = {
      msPerRecord: ms,
      dispatches,
      submits: s[0].submits,
      usPerKernel: (ms * 1000) / dispatches,
      usPerKernelInRuntime: (median(s.map((x) => x.inRuntime)) * 1000) / dispatches,
      // bind-group cache hits over the timed repetitions (null: cache off or absent)
      hitRate: s[0].hitRate === null ? null : s.reduce((a, x) => a + x.hitRate, 0) / s.length,
    };
  }
  return out;
}

/** Whether this build's runtime has the bind-group cache switch (older builds do not). */
const hasCacheSwitch = (gpu) => "bindCache" in gpu.rt.options;

function setCache(gpu, mode) {
  if (mode === "n/a") return;
  gpu.flush();
  gpu.rt.options.bindCache = mode === "on";
}

function runtimeStream(gpu, kernels) {
  const n = 64;
  const storages = Array.from({ length: 4 }, () => gpu.alloc("f32", n));
  for (const s of storages) gpu.write(s, new Float32Array(n).fill(1));
  const half = new Uint32Array(new Float32Array([0.5]).buffer)[0];
  // Prebuilt dispatches: the stream measures the runtime, not how kernels build their arguments.
  const ds = Array.from({ length: 16 }, (_, i) => ({
    key: "bench:axpy",
    wgsl: () => AXPY,
    buffers: [
      { buffer: storages[i % 4].buffer, access: "rw" },
      { buffer: storages[(i + 1) % 4].buffer, access: "r" },
    ],
    params: [n, i, half],
    groups: [1, 1, 1],
  }));
  return {
    record() {
      for (let i = 0; i < kernels; i++) gpu.rt.dispatch(ds[i & 15]);
    },
    settle: () => gpu.sync(),
  };
}

function elementwiseStream(gpu, kernels) {
  const n = 64;
  const [x, y, z] = [0, 1, 2].map(() => gpu.alloc("f32", n));
  for (const s of [x, y, z]) gpu.write(s, new Float32Array(n).fill(0.5));
  const v = (storage) => ({ storage, shape: [n], strides: [1], offset: 0 });
  const [vx, vy, vz] = [v(x), v(y), v(z)];
  return {
    record() {
      for (let i = 0; i < kernels; i += 4) {
        gpu.binary("mul", vx, vy, vz);
        gpu.binary("add", vz, vx, vy);
        gpu.unary("tanh", vy, vz);
        gpu.binary("sub", vz, vy, vx);
      }
    },
    settle: () => gpu.sync(),
  };
}

/** The gpt2 streams' model, AdamW and one batch of token ids and targets (same seeds). */
function tinyTraining(T, gpu) {
  const model = buildModel(T, TINY, { rng: new T.Rng(1), backend: gpu });
  const opt = new T.AdamW(model.params, { lr: 1e-3, weightDecay: 0.1 });
  const rng = new T.Rng(2);
  return {
    model,
    opt,
    inputs: randomTokens(T, TINY, rng, gpu),
    targets: randomTokens(T, TINY, rng, gpu),
  };
}

function gpt2Stream(T, gpu, steps) {
  const { model, opt, inputs, targets } = tinyTraining(T, gpu);
  const losses = [];
  let pending = [];
  return {
    record() {
      for (let s = 0; s < steps; s++) {
        T.startScope();
        const loss = T.tidy(() => model.forward(inputs, targets));
        loss.backward();
        opt.step();
        opt.zeroGrad();
        pending.push(T.keep(loss));
        T.endScope();
      }
    },
    async settle() {
      for (const loss of pending) {
        losses.push((await loss.dataAsync())[0]);
        loss.dispose();
      }
      pending = [];
    },
    losses,
  };
}

/**
 * The gpt2 stream's step recorded once with `capture` (forward, backward, AdamW; after one
 * eager step, which creates AdamW's moments) and replayed: the host cost of a replayed step.
 */
function gpt2ReplayStream(T, gpu, steps) {
  const { model, opt, inputs, targets } = tinyTraining(T, gpu);
  const step = () => {
    const loss = model.forward(inputs, targets);
    loss.backward();
    opt.step();
    return loss;
  };
  T.tidy(() => {
    step();
    opt.zeroGrad();
  });
  const recorded = T.capture(gpu, step);
  const losses = [];
  return {
    record() {
      for (let s = 0; s < steps; s++) recorded.replay();
    },
    async settle() {
      losses.push((await recorded.result.dataAsync())[0]);
    },
    losses,
  };
}

export async function main(args) {
  const o = parseArgs(args);
  const { T, gpu } = await webgpu({ dawnOptions: o.dawnOptions });
  const modes = hasCacheSwitch(gpu) ? (o.cache === "both" ? ["on", "off"] : [o.cache]) : ["n/a"];
  const clock = instrument(gpu);
  const results = {};
  results.runtime = await measure(gpu, clock, runtimeStream(gpu, o.kernels), o.reps, modes);
  results.elementwise = await measure(gpu, clock, elementwiseStream(gpu, o.kernels), o.reps, modes);
  const gpt = gpt2Stream(T, gpu, o.steps);
  results.gpt2 = await measure(gpu, clock, gpt, o.reps, modes);
  const replayed = gpt2ReplayStream(T, gpu, o.steps);
  results["gpt2 replayed"] = await measure(gpu, clock, replayed, o.reps, modes);
  for (const name of ["gpt2", "gpt2 replayed"]) {
    for (const m of modes) {
      const r = results[name][m];
      r.dispatchesPerStep = r.dispatches / o.steps;
      r.submitsPerStep = r.submits / o.steps;
      r.msPerStep = r.msPerRecord / o.steps;
    }
  }
  // a replay encodes recorded steps without Runtime.dispatch: no runtime share to report
  for (const m of modes) results["gpt2 replayed"][m].usPerKernelInRuntime = null;
  const ratio = (r) => (r.on && r.off ? r.off.usPerKernel / r.on.usPerKernel : null);
  const ratios = {
    runtime: ratio(results.runtime),
    elementwise: ratio(results.elementwise),
    gpt2: ratio(results.gpt2),
  };
  const finite = [...gpt.losses, ...replayed.losses].every(Number.isFinite);
  if (!finite) throw new Error(`webgpu-record: the gpt2 stream produced a non-finite loss`);
  if (o.json) {
    console.log(
      JSON.stringify({
        bench: "webgpu-record",
        adapter: gpu.info.adapter,
        config: { ...o, gpt2: TINY },
        results,
        speedup: ratios,
        loss: [gpt.losses[0], gpt.losses.at(-1)],
      }),
    );
  } else {
    console.log(
      `webgpu-record: CPU time to record kernels (median of ${o.reps}); adapter: ${gpu.info.adapter}${o.dawnOptions.length ? `; Dawn options ${o.dawnOptions.join(" ")}` : ""}`,
    );
    const rows = [
      [
        "stream",
        "cache",
        "kernels",
        "submits",
        "ms recording",
        "µs/kernel",
        "of which runtime",
        "cache hits",
      ],
    ];
    for (const [name, r] of Object.entries(results)) {
      for (const m of modes) {
        rows.push([
          name,
          m,
          String(r[m].dispatches),
          String(r[m].submits),
          r[m].msPerRecord.toFixed(2),
          r[m].usPerKernel.toFixed(2),
          r[m].usPerKernelInRuntime === null ? "-" : r[m].usPerKernelInRuntime.toFixed(2),
          r[m].hitRate === null ? "-" : `${(100 * r[m].hitRate).toFixed(1)}%`,
        ]);
      }
    }
    const w = rows[0].map((_, j) => Math.max(...rows.map((row) => row[j].length)));
    for (const row of rows) console.log(`  ${row.map((c, j) => c.padStart(w[j])).join("  ")}`);
    const g = results.gpt2[modes[0]];
    const g2 = results["gpt2 replayed"][modes[0]];
    console.log(
      `  gpt2 step (${o.steps} per repetition): ${g.dispatchesPerStep} kernels and ${g.submitsPerStep} submits per step, ${g.msPerStep.toFixed(2)} ms recording per step (cache ${modes[0]}); replayed: ${g2.dispatchesPerStep} kernels, ${g2.msPerStep.toFixed(2)} ms per step (${(g.msPerStep / g2.msPerStep).toFixed(1)}x less)`,
    );
    if (modes.length === 2)
      console.log(
        `  µs/kernel, off/on: runtime ${ratios.runtime.toFixed(2)}x, elementwise ${ratios.elementwise.toFixed(2)}x, gpt2 ${ratios.gpt2.toFixed(2)}x`,
      );
  }
  gpu.dispose();
}
