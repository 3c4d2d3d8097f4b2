// Shared by lm-decode and lm-train: the ~10M-parameter Llama-shaped model of issue 6, and the
// PyTorch baseline (bench/lm_torch.py, Debian's python3-torch at /usr/bin/python3).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { torchPython } from "./_python.mjs";

export const SHAPE = { layers: 8, width: 256, heads: 8, kvHeads: 4, hidden: 768, vocab: 8192 };

/** The HF config.json of that model (random init; positions enough for the runs). */
export function llamaConfig(s = SHAPE, maxPositions = 512) {
  return {
    model_type: "llama",
    hidden_size: s.width,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    intermediate_size: s.hidden,
    vocab_size: s.vocab,
    max_position_embeddings: maxPositions,
    rms_norm_eps: 1e-5,
    hidden_act: "silu",
    tie_word_embeddings: false,
    bos_token_id: 0,
    eos_token_id: 0,
  };
}

// Beside this module, or (in the device check's bundle, which lives elsewhere) under bench/.
const SCRIPT = [dirname(fileURLToPath(import.meta.url)), join(process.cwd(), "bench")]
  .map((d) => join(d, "lm_torch.py"))
  .find((f) => existsSync(f));

/** Runs the PyTorch side; returns its JSON figures, or { skipped: reason }. */
export function runTorch(mode, config, threads) {
  if (!SCRIPT) return { skipped: "bench/lm_torch.py not found (run from the repository root)" };
  const r = spawnSync(torchPython(), [SCRIPT, mode, JSON.stringify(config), String(threads)], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
    env: { ...process.env, OMP_NUM_THREADS: String(threads) },
  });
  if (r.status !== 0) {
    const err = (r.stderr ?? r.error?.message ?? "").trim();
    return {
      skipped: /No module named '?torch'?/.test(err)
        ? "PyTorch is not installed (apt-get install -y python3-torch libopenblas0-openmp)"
        : `PyTorch run failed: ${err.split("\n").pop()}`,
    };
  }
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

export const fmt = (x, d = 1) => (x === undefined || x === null ? "—" : Number(x).toFixed(d));

/**
 * Runs the PyTorch side once per thread count and keeps the fastest run (on a shared machine
 * PyTorch's OpenMP pool can collapse with 2 threads when the cores are busy; the baseline is
 * its best showing). `score` picks the figure to compare.
 */
export function bestTorch(mode, config, threadList, score) {
  const runs = threadList.map((t) => runTorch(mode, config, t));
  const ok = runs.filter((r) => !r.skipped);
  if (ok.length === 0) return runs[0];
  const best = ok.reduce((a, b) => (score(b) > score(a) ? b : a));
  return { ...best, byThreads: ok.map((r) => ({ threads: r.threads, value: score(r) })) };
}

/**
 * `--backend cpu|webgpu`: with "webgpu" the model is made on a WebGPU device (Dawn) and the
 * PyTorch peer runs on CUDA (`device` in its config) when it has one. Returns the backend's
 * description and the extra PyTorch config.
 */
export async function useBackend(T, name) {
  if (name === "cpu") return { backend: "cpu", torchConfig: {} };
  if (name !== "webgpu") throw new Error(`--backend must be cpu or webgpu, got ${name}`);
  const gpu = await T.createWebGpuBackend();
  T.setBackend(gpu);
  return { backend: `webgpu (${gpu.info.adapter})`, torchConfig: { device: "cuda" }, gpu };
}
