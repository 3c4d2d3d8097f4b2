// Shared by the webgpu benchmarks: creating the backend, timing GPU work (the clock stops only
// when the GPU has finished), and running PyTorch in the same run (CUDA when present, fp32 with
// TF32 off; else the CPU) as the peer.
import { spawnSync } from "node:child_process";
import { torchPython } from "./_python.mjs";

/** The tensor package and a webgpu backend (throws the backend's no-adapter error). */
export async function webgpu(options = {}) {
  const T = await import("@athanor/tensor");
  const gpu = await T.createWebGpuBackend(options);
  return { T, gpu };
}

/**
 * `--backend webgpu` on a cpu-backend bench (`matmul`, `train-step`): runs the webgpu bench named
 * `bench` (`webgpu-matmul`, `webgpu-train-step`: PyTorch on the GPU as the peer) with the other
 * arguments, and returns true; false without that flag.
 */
export async function forwardToWebgpu(args, bench) {
  const at = args.indexOf("--backend");
  if (at < 0 || args[at + 1] !== "webgpu") return false;
  const { main } = await import(`./${bench}.mjs`);
  await main([...args.slice(0, at), ...args.slice(at + 2)]);
  return true;
}

/**
 * The `--matmul-tiles` argument, "large=NAME,medium=NAME": the backend's `matmulTiles` option
 * (which kernel each size class runs; the backend checks the names).
 */
export function parseTileChoice(arg, bench) {
  const choice = {};
  for (const part of (arg ?? "").split(",")) {
    const [cls, name, extra] = part.split("=");
    if (!cls || !name || extra !== undefined)
      throw new Error(
        `${bench}: --matmul-tiles takes class=NAME pairs (e.g. large=t128-8x8-bk8-unroll,medium=medium), got ${JSON.stringify(arg)}`,
      );
    choice[cls] = name;
  }
  return choice;
}

/**
 * The `--split-k` argument, "MAXTILES,MINK": the backend's `matmulSplitK` option (when a matmul
 * splits K; the backend checks the numbers further).
 */
export function parseSplitK(arg, bench) {
  const [maxTiles, minK, extra] = (arg ?? "").split(",").map(Number);
  if (!(maxTiles >= 0 && minK >= 0) || extra !== undefined)
    throw new Error(`${bench}: --split-k takes MAXTILES,MINK, got ${arg}`);
  return { maxTiles, minK };
}

/**
 * Calls `run()` back to back for `ms` milliseconds, syncing every 4 calls. The H200 runs of
 * 2026-11-26 timed the first large product of a process up to 4x slower than the same kernel a
 * little later; half a second of this first keeps that out of a timing.
 */
export async function warmGpu(gpu, run, ms = 500) {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 4; i++) run();
    await gpu.sync();
  }
}

/**
 * The median of `reps` samples, each `batch` calls of `run()` back to back followed by one full
 * GPU sync, divided by `batch`: seconds per call, and the batch. With `minMs` the batch is sized
 * from one timed call (at most 50) so that a sample lasts at least that long, keeping the sync's
 * round trip (a few hundred µs through Dawn) out of the figure the way GEMM benchmarks time
 * back-to-back calls; without it every sample is one call and its sync.
 */
export async function timeBatches(gpu, run, { reps = 5, minMs = 0 } = {}) {
  let batch = 1;
  if (minMs > 0) {
    const t0 = performance.now();
    run();
    await gpu.sync();
    batch = Math.max(1, Math.min(50, Math.ceil(minMs / Math.max(performance.now() - t0, 0.01))));
  }
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    for (let j = 0; j < batch; j++) run();
    await gpu.sync();
    times.push((performance.now() - t0) / 1000 / batch);
  }
  times.sort((a, b) => a - b);
  return { sec: times[Math.floor(times.length / 2)], batch };
}

/**
 * Seconds per `run()` ({@link timeBatches}) after `warmup` calls, and with `minMs` after
 * {@link warmGpu}'s half second too.
 */
export async function timeGpu(gpu, run, { reps = 5, warmup = 1, minMs = 0 } = {}) {
  for (let i = 0; i < warmup; i++) {
    run();
    await gpu.sync();
  }
  if (minMs > 0) await warmGpu(gpu, run);
  return (await timeBatches(gpu, run, { reps, minMs })).sec;
}

/** Runs a PyTorch script (its last stdout line is JSON); `{ error }` when it cannot. */
export function runTorch(script, args) {
  const r = spawnSync(torchPython(), ["-c", script, ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 22,
    timeout: 600_000,
  });
  if (r.error) return { error: r.error.message };
  if (r.status !== 0)
    return { error: (r.stderr || "").trim().split("\n").slice(-1)[0] || `exit ${r.status}` };
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

/** Python prelude: picks CUDA when available, fp32 without TF32, and a sync helper. */
export const TORCH_PRELUDE = `
import json, math, sys, time, torch
dev = "cuda" if torch.cuda.is_available() else "cpu"
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
if dev == "cpu": torch.set_num_threads(max(1, torch.get_num_threads()))
def sync():
    if dev == "cuda": torch.cuda.synchronize()
def timed(f, reps, min_s=0.0):
    # seconds per f(): median of reps samples of batch back-to-back calls and one sync, the
    # batch sized (at most 50) so that a sample lasts min_s (timeGpu's minMs in _webgpu-common)
    f(); sync()
    batch = 1
    if min_s > 0:
        warm = time.perf_counter()  # half a second of calls first, as timeGpu does
        while time.perf_counter() - warm < 0.5:
            for _ in range(4): f()
            sync()
        t0 = time.perf_counter(); f(); sync()
        batch = max(1, min(50, math.ceil(min_s / max(time.perf_counter() - t0, 1e-5))))
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(batch): f()
        sync(); ts.append((time.perf_counter() - t0) / batch)
    ts.sort()
    return ts[len(ts) // 2]
name = torch.cuda.get_device_name(0) if dev == "cuda" else "cpu"
`;
