// GPU time of the webgpu backend's reduction kernels (row kernels, axis reductions, argmax)
// with subgroup operations and with shared-memory trees, in one run on one device: each kernel
// is timed by timestamp queries (`profile: true`), one call per submit, calls alternating
// between the two paths, median of the repetitions; and
// the two paths' outputs are compared so that a fast wrong kernel cannot pass.
//
//   npm run bench -- webgpu-reduce [--json] [--rows N] [--cols 1024,4096] [--reps N]
//
// On a software adapter (lavapipe) the kernels run on the CPU: those times say how the two
// WGSL variants compile there, not how they run on a GPU.
import { webgpu } from "./_webgpu-common.mjs";

function parseArgs(args) {
  const o = { json: false, rows: null, cols: null, reps: 15 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--json") o.json = true;
    else if (a === "--rows") o.rows = Number(args[++i]);
    else if (a === "--cols") o.cols = args[++i].split(",").map(Number);
    else if (a === "--reps") o.reps = Number(args[++i]);
    else if (a === "--help" || a === "-h") {
      console.log(
        "usage: npm run bench -- webgpu-reduce [--json] [--rows N] [--cols 1024,4096] [--reps N]",
      );
      process.exit(0);
    } else throw new Error(`webgpu-reduce: unknown argument ${a}`);
  }
  return o;
}

const view = (storage, shape) => {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, d) => p * d, 1));
  return { storage, shape, strides, offset: 0 };
};

/** The kernels timed: each `run` records exactly one kernel on backend `b`. */
const KERNELS = [
  { name: "softmax", run: (b, v) => b.softmax(v.x, v.o) },
  { name: "logSoftmax backward", run: (b, v) => b.logSoftmaxBackward(v.x, v.g, v.o) },
  { name: "crossEntropy", run: (b, v) => b.crossEntropy(v.x, v.t, -100, v.r1, v.r2) },
  { name: "layerNorm", run: (b, v) => b.layerNorm(v.x, v.w, v.w2, 1e-5, v.o, v.r1, v.r2) },
  {
    name: "layerNorm backward (dx)",
    run: (b, v) => b.layerNormBackward(v.x, v.w, v.r1, v.r2, v.g, v.o, null, null),
  },
  { name: "rmsNorm", run: (b, v) => b.rmsNorm(v.x, v.w, 1e-6, v.o, v.r2) },
  { name: "sum last axis", run: (b, v) => b.reduce("sum", v.x, [1], v.k) },
  { name: "max last axis", run: (b, v) => b.reduce("max", v.x, [1], v.k) },
  { name: "argmax last axis", run: (b, v) => b.argmax(v.x, 1, v.ki) },
];

/** Operands of [rows, cols] on backend `b` (same values on every backend). */
function operands(b, rows, cols) {
  const n = rows * cols;
  const f = (size, fn) => {
    const s = b.alloc("f32", size);
    b.write(
      s,
      Float32Array.from({ length: size }, (_, i) => fn(i)),
    );
    return s;
  };
  const i32 = (size, fn) => {
    const s = b.alloc("i32", size);
    b.write(
      s,
      Int32Array.from({ length: size }, (_, i) => fn(i)),
    );
    return s;
  };
  const x = f(n, (i) => Math.sin(i * 0.37) * 3 + Math.cos(i * 0.011));
  const g = f(n, (i) => Math.cos(i * 0.23));
  return {
    x: view(x, [rows, cols]),
    g: view(g, [rows, cols]),
    o: view(b.alloc("f32", n), [rows, cols]),
    w: view(
      f(cols, (i) => 1 + 0.01 * (i % 7)),
      [cols],
    ),
    w2: view(
      f(cols, (i) => 0.1 * (i % 3)),
      [cols],
    ),
    t: view(
      i32(rows, (r) => (r * 7919) % cols),
      [rows],
    ),
    r1: view(b.alloc("f32", rows), [rows]),
    r2: view(b.alloc("f32", rows), [rows]),
    k: view(b.alloc("f32", rows), [rows, 1]),
    ki: view(b.alloc("i32", rows), [rows, 1]),
  };
}

const OUTPUT = {
  softmax: "o",
  "logSoftmax backward": "o",
  crossEntropy: "r1",
  layerNorm: "o",
  "layerNorm backward (dx)": "o",
  rmsNorm: "o",
  "sum last axis": "k",
  "max last axis": "k",
  "argmax last axis": "ki",
};

/** GPU ms of one call of `k` (its own submit and timestamp pair). */
async function oneCall(b, v, k) {
  k.run(b, v);
  const prof = await b.profile(true);
  const calls = prof.reduce((s, p) => s + p.calls, 0);
  if (calls !== 1) throw new Error(`webgpu-reduce: ${k.name} recorded ${calls} kernels, not 1`);
  return prof[0].ms;
}

/**
 * Median GPU ms per call of `k` on the subgroup (`sg`) and shared-memory (`wg`) backends,
 * calls alternating between the two so that both see the same machine load.
 */
async function timePair(sg, vs, wg, vw, k, reps) {
  await oneCall(sg, vs, k); // compile + warm up
  await oneCall(wg, vw, k);
  const a = [];
  const b = [];
  for (let i = 0; i < reps; i++) {
    a.push(await oneCall(sg, vs, k));
    b.push(await oneCall(wg, vw, k));
  }
  const median = (xs) => xs.sort((p, q) => p - q)[Math.floor(xs.length / 2)];
  const outs = await Promise.all([sg.read(vs[OUTPUT[k.name]]), wg.read(vw[OUTPUT[k.name]])]);
  return { sgMs: median(a), wgMs: median(b), outs };
}

function maxRelDiff(a, b) {
  let scale = 1;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]) / scale);
  return d;
}

export async function main(args) {
  const o = parseArgs(args);
  const { gpu: sg } = await webgpu({ profile: true, subgroups: true });
  const { gpu: wg } = await webgpu({ profile: true, subgroups: false });
  if (!sg.info.features.includes("timestamp-query"))
    throw new Error(`webgpu-reduce: adapter "${sg.info.adapter}" has no timestamp-query`);
  const soft = sg.info.software;
  const rows = o.rows ?? (soft ? 1024 : 4096);
  const colsList = o.cols ?? (soft ? [128, 4096] : [1024, 4096, 32768]);
  const results = [];
  for (const cols of colsList) {
    const vs = operands(sg, rows, cols);
    const vw = operands(wg, rows, cols);
    for (const k of KERNELS) {
      const t = await timePair(sg, vs, wg, vw, k, o.reps);
      const diff = maxRelDiff(t.outs[0], t.outs[1]);
      if (!(diff <= 1e-4))
        throw new Error(`webgpu-reduce: ${k.name} [${rows},${cols}]: paths differ by ${diff}`);
      results.push({
        kernel: k.name,
        shape: [rows, cols],
        subgroupMs: t.sgMs,
        sharedMs: t.wgMs,
        ratio: t.sgMs / t.wgMs,
        diff,
      });
    }
  }
  const device = `${sg.info.adapter}${soft ? " (software: CPU time, not GPU time)" : ""}`;
  console.log(`webgpu reductions, subgroups vs shared memory: ${device}`);
  console.log(
    `kernel time per call (timestamp queries, median of ${o.reps}, alternating paths), ${new Date().toISOString()}`,
  );
  const head = ["kernel", "shape", "subgroups ms", "shared ms", "sg / shared", "max diff"];
  const table = results.map((r) => [
    r.kernel,
    `[${r.shape.join(",")}]`,
    r.subgroupMs.toFixed(4),
    r.sharedMs.toFixed(4),
    `${r.ratio.toFixed(2)}x`,
    r.diff.toExponential(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(line(head));
  for (const row of table) console.log(line(row));
  sg.dispose();
  wg.dispose();
  if (o.json)
    console.log(JSON.stringify({ bench: "webgpu-reduce", device, software: soft, results }));
}
