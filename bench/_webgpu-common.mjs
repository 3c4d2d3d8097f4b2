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

/** Median of `reps` timings of `run()` followed by a full GPU sync, in seconds. */
export async function timeGpu(gpu, run, { reps = 5, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i++) {
    run();
    await gpu.sync();
  }
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    await gpu.sync();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
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
name = torch.cuda.get_device_name(0) if dev == "cuda" else "cpu"
`;
