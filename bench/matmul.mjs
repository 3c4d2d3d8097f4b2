// f32 square matmul, GFLOP/s: the tensor engine's cpu backend on both matmul paths
// (WebAssembly SIMD kernels, BLAS addon) with 1 and 2 threads, against XNNPACK (tfjs's wasm
// backend) and PyTorch (CPU, OpenBLAS) in the same run. A peer that is not installed is
// skipped with a note. `npm run bench -- matmul [--json] [--sizes 256,512] [--threads 1,2]`.
// `--backend webgpu` runs `webgpu-matmul` instead (its options, PyTorch on the GPU as the peer).
//
// Peers, for benchmarking only: `@tensorflow/tfjs-core` + `@tensorflow/tfjs-backend-wasm`
// (devDependencies of packages/tensor); PyTorch as Debian's python3-torch with
// libopenblas0-openmp, run with /usr/bin/python3 and an explicit thread count.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { forwardToWebgpu } from "./_webgpu-common.mjs";

const require = createRequire(import.meta.url);

function parseArgs(args) {
  const opts = {
    json: false,
    sizes: [256, 512, 1024, 2048],
    threads: [1, 2],
    minTime: 1,
    cpuTime: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--json") opts.json = true;
    else if (a === "--sizes") opts.sizes = args[++i].split(",").map(Number);
    else if (a === "--threads") opts.threads = args[++i].split(",").map(Number);
    else if (a === "--min-time") opts.minTime = Number(args[++i]);
    else if (a === "--cpu-time") opts.cpuTime = true;
    else if (a === "--help" || a === "-h") {
      console.log(
        "usage: npm run bench -- matmul [--json] [--sizes 256,512,1024,2048] [--threads 1,2] [--min-time s] [--cpu-time]",
      );
      process.exit(0);
    } else throw new Error(`matmul bench: unknown argument ${a}`);
  }
  return opts;
}

/**
 * Best GFLOP/s of `run` over repetitions filling at least `minTime` seconds (after a warm-up).
 * With `cpuTime`, time is this process's CPU time (all threads) instead of wall-clock time:
 * on a busy shared machine that measures the work done, not the share of cores obtained.
 */
function measure(n, minTime, run) {
  run();
  let best = Number.POSITIVE_INFINITY;
  let total = 0;
  let reps = 0;
  while (total < minTime || reps < 2) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    run();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const dt = clock === "cpu" ? (c.user + c.system) / 1e6 : wall;
    best = Math.min(best, dt);
    total += wall;
    reps++;
  }
  return (2 * n ** 3) / best / 1e9;
}

let clock = "wall";

function randomFill(arr, seed) {
  let s = seed >>> 0;
  for (let i = 0; i < arr.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    arr[i] = s / 2 ** 32 - 0.5;
  }
}

/** The cpu backend on one path with one thread count (null when that path is unavailable). */
async function athanorEngine(path, threads, notes) {
  const t = await import("@athanor/tensor");
  const info = t.cpuBackendInfo();
  if (path === "blas" && !info.blas) {
    if (!notes.some((n) => n.startsWith("BLAS path")))
      notes.push(`BLAS path skipped: ${info.blasUnavailable}`);
    return null;
  }
  const b = t.createCpuBackend({
    threads,
    blas: path === "blas",
    name: `bench-${path}-${threads}`,
  });
  return {
    info,
    run(n, minTime) {
      const view = (s) => ({ storage: s, shape: [n, n], strides: [n, 1], offset: 0 });
      const host = new Float32Array(n * n);
      const [a, c, o] = [b.alloc("f32", n * n), b.alloc("f32", n * n), b.alloc("f32", n * n)];
      randomFill(host, 1);
      b.write(a, host);
      randomFill(host, 2);
      b.write(c, host);
      const g = measure(n, minTime, () => b.matmul(view(a), view(c), view(o)));
      for (const s of [a, c, o]) b.free(s);
      return g;
    },
    close: () => b.dispose(),
  };
}

/** XNNPACK through tfjs's wasm backend (one thread: no thread support in Node). */
async function xnnpackEngine(notes) {
  let tf;
  let wasm;
  try {
    tf = await import("@tensorflow/tfjs-core");
    wasm = await import("@tensorflow/tfjs-backend-wasm");
  } catch {
    notes.push(
      "XNNPACK skipped: @tensorflow/tfjs-core / @tensorflow/tfjs-backend-wasm not installed",
    );
    return null;
  }
  const dir = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist/");
  wasm.setWasmPaths(dir);
  await tf.setBackend("wasm");
  await tf.ready();
  const threaded = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  if (!threaded)
    notes.push("XNNPACK runs 1 thread only: tfjs-backend-wasm has no thread support in Node");
  return {
    run(n, minTime) {
      const a = tf.randomNormal([n, n]);
      const b = tf.randomNormal([n, n]);
      const g = measure(n, minTime, () => {
        const c = tf.matMul(a, b);
        c.dataSync();
        c.dispose();
      });
      a.dispose();
      b.dispose();
      return g;
    },
  };
}

const TORCH_SERVER = `
import json, sys, time
import torch
print(json.dumps({"version": torch.__version__}), flush=True)
for line in sys.stdin:
    th, n, min_time, clock = line.split()
    th, n, min_time = int(th), int(n), float(min_time)
    timer = time.process_time if clock == "cpu" else time.perf_counter
    torch.set_num_threads(th)
    a = torch.rand(n, n) - 0.5; b = torch.rand(n, n) - 0.5
    torch.mm(a, b)
    best = float("inf"); total = 0.0; reps = 0
    while total < min_time or reps < 2:
        w0 = time.perf_counter(); t0 = timer(); torch.mm(a, b); dt = timer() - t0
        best = min(best, dt); total += time.perf_counter() - w0; reps += 1
    print(json.dumps(2 * n ** 3 / best / 1e9), flush=True)
`;

/** PyTorch in a persistent /usr/bin/python3 process, so its runs interleave with ours. */
async function pytorchEngine(notes) {
  const child = spawn("/usr/bin/python3", ["-c", TORCH_SERVER], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(stderr.trim().split("\n").pop() || "python exited");
    return JSON.parse(r.value);
  };
  try {
    const hello = await next();
    notes.push(`PyTorch ${hello.version} (/usr/bin/python3, torch.set_num_threads(n) per row)`);
  } catch (e) {
    notes.push(
      `PyTorch skipped: ${e.code === "ENOENT" ? "/usr/bin/python3 not found" : e.message}`,
    );
    child.kill();
    return null;
  }
  return {
    async run(threads, n, minTime) {
      child.stdin.write(`${threads} ${n} ${minTime} ${clock}\n`);
      return next();
    },
    close: () => child.stdin.end(),
  };
}

export async function main(args) {
  if (await forwardToWebgpu(args, "webgpu-matmul")) return;
  const opts = parseArgs(args);
  clock = opts.cpuTime ? "cpu" : "wall";
  const notes = [];
  const out = {};
  const xnn = await xnnpackEngine(notes);
  const torch = await pytorchEngine(notes);
  let info = null;
  // For each thread count and size, every engine runs back to back, so a busy shared machine
  // disturbs them alike.
  for (const threads of opts.threads) {
    const ours = {};
    for (const path of ["wasm", "blas"]) {
      const e = await athanorEngine(path, threads, notes);
      if (e) {
        ours[path] = e;
        info = e.info;
      }
    }
    for (const n of opts.sizes) {
      for (const path of ["wasm", "blas"]) {
        if (ours[path]) out[`${path}/${threads}/${n}`] = ours[path].run(n, opts.minTime);
      }
      if (xnn && threads === 1) out[`xnnpack/1/${n}`] = xnn.run(n, opts.minTime);
      if (torch) out[`pytorch/${threads}/${n}`] = await torch.run(threads, n, opts.minTime);
    }
    for (const e of Object.values(ours)) e.close();
  }
  torch?.close();
  if (!info) info = (await import("@athanor/tensor")).cpuBackendInfo();

  const f = (v) => (v === undefined ? "-" : v.toFixed(1));
  const ratio = (a, b) => (a === undefined || b === undefined ? "-" : `${(a / b).toFixed(2)}x`);
  const header = [
    "size",
    "threads",
    "wasm",
    "BLAS",
    "XNNPACK",
    "PyTorch",
    "wasm/XNNPACK",
    "BLAS/PyTorch",
  ];
  const rows = [];
  const figures = [];
  for (const threads of opts.threads) {
    for (const n of opts.sizes) {
      const wasm = out[`wasm/${threads}/${n}`];
      const blas = out[`blas/${threads}/${n}`];
      const xnn = out[`xnnpack/${threads}/${n}`];
      const torch = out[`pytorch/${threads}/${n}`];
      rows.push([
        n,
        threads,
        f(wasm),
        f(blas),
        f(xnn),
        f(torch),
        ratio(wasm, xnn),
        ratio(blas, torch),
      ]);
      figures.push({ size: n, threads, wasm, blas, xnnpack: xnn, pytorch: torch });
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padStart(widths[i])).join("  ");
  console.log(
    `f32 square matmul, GFLOP/s (best of repeated runs, ${clock === "cpu" ? "per CPU-second of all threads" : "wall clock"})`,
  );
  console.log(
    `cpu backend: wasm SIMD ${info.wasmSimd ? (info.relaxedSimd ? "yes (relaxed SIMD, FMA)" : "yes") : "no"}, BLAS ${info.blas ? (info.blasConfig ?? info.blas) : `none (${info.blasUnavailable})`}`,
  );
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  for (const n of notes) console.log(`note: ${n}`);
  if (opts.json)
    console.log(
      JSON.stringify({ bench: "matmul", unit: "GFLOP/s", clock, blas: info.blasConfig, figures }),
    );
  // tfjs keeps handles open; end explicitly once everything is printed.
  process.exitCode = 0;
  setImmediate(() => process.exit(0));
}
