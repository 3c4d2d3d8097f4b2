// The "attention" part of the GPU-machine check (bench/_webgpu-device.mjs): every tiled-attention
// variant (FLASH_VARIANTS, packages/tensor/src/webgpu/kernels/flash.ts) and the row kernels,
// causal forward + backward at the GPT-2 step's shape [8, 6, 256, 64]. One backend per variant,
// the same inputs (seeded, written from the host) in each. A sample is `iters` calls recorded
// back to back (one per layer of the 6-layer step) and ended by a GPU sync; the figure is the
// median of `reps` samples per call. Each variant's output and q/k/v gradients are compared
// with the default variant's (max relative difference over every value).

/** Seeded standard normals (Box-Muller over a 32-bit LCG): identical inputs for every variant. */
function normals(n, seed) {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967297;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median ms per call of `reps` samples, each `iters` calls of `fn` ended by a GPU sync. */
async function msPerCall(gpu, fn, reps, iters) {
  const samples = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) fn();
    await gpu.sync();
    samples.push((performance.now() - t0) / iters);
  }
  return median(samples);
}

/**
 * Times `kinds` (variant names, or "rows" for the row kernels; default: "rows" and every
 * variant). Returns the JSON-line object: per kind fwdBwdMs, fwdMs (per call), compileS (the
 * first forward + backward, pipelines included), maxRelDiff (against `reference`, the default
 * variant) and vsDefault (fwdBwdMs / the default's), or error.
 */
export async function attentionSweep(T, opts = {}) {
  const shape = opts.shape ?? [8, 6, 256, 64];
  const reps = opts.reps ?? 5;
  const iters = opts.iters ?? 6;
  const reference = opts.reference ?? "r32-l4-vec4"; // the shipped default (DEFAULT_FLASH_VARIANT)
  const kinds = opts.kinds ?? ["rows", ...Object.keys(T.FLASH_VARIANTS)];
  const n = shape.reduce((p, d) => p * d, 1);
  const host = [1, 2, 3, 4].map((seed) => normals(n, seed)); // q, k, v, output weights
  const results = {};
  const grads = {};
  for (const kind of [reference, ...kinds.filter((k) => k !== reference)]) {
    let g;
    try {
      g = await T.createWebGpuBackend(
        kind === "rows"
          ? { attentionKernel: "rows" }
          : { attentionKernel: "tiled", attentionVariant: kind },
      );
      const [q, k, v] = host
        .slice(0, 3)
        .map((x) => T.tensor(x, shape, { backend: g }).requireGrad());
      const w = T.tensor(host[3], shape, { backend: g });
      const fwdBwd = () =>
        T.tidy(() => {
          T.ops.sum(T.ops.mul(T.ops.attention(q, k, v, { causal: true }), w)).backward();
          for (const x of [q, k, v]) x.zeroGrad();
        });
      const fwd = () => T.tidy(() => void T.ops.attention(q, k, v, { causal: true }));
      // first call: compiles the pipelines; its output and gradients are the ones compared
      const t0 = performance.now();
      const out = T.tidy(() => {
        const o = T.ops.attention(q, k, v, { causal: true });
        T.ops.sum(T.ops.mul(o, w)).backward();
        return o;
      });
      const got = await Promise.all([out, q.grad, k.grad, v.grad].map((t) => t.dataAsync()));
      const compileS = (performance.now() - t0) / 1000;
      out.dispose();
      for (const x of [q, k, v]) x.zeroGrad();
      const time = (fn) => msPerCall(g, fn, reps, iters);
      await time(fwdBwd); // warm: buffer pool, bind groups
      const fwdBwdMs = await time(fwdBwd);
      const fwdMs = await time(fwd);
      if (kind === reference) grads.reference = got;
      const maxRelDiff = grads.reference
        ? Math.max(...got.map((x, i) => T.testing.maxRelError(x, grads.reference[i])))
        : null;
      results[kind] = { fwdBwdMs, fwdMs, compileS, maxRelDiff };
    } catch (e) {
      results[kind] = { error: String(e?.message ?? e) };
    } finally {
      g?.dispose();
    }
  }
  const base = results[reference]?.fwdBwdMs;
  for (const r of Object.values(results)) if (r.fwdBwdMs && base) r.vsDefault = r.fwdBwdMs / base;
  const timed = Object.entries(results).filter(([, r]) => r.fwdBwdMs);
  const best = timed.sort((a, b) => a[1].fwdBwdMs - b[1].fwdBwdMs)[0]?.[0] ?? null;
  return { part: "attention-variants", shape, causal: true, reps, iters, reference, best, results };
}

/** A readable table of a sweep (fixed-width text). */
export function attentionTable(sweep) {
  const rows = [["kernel", "fwd+bwd ms", "fwd ms", "vs default", "max rel diff", "compile s"]];
  for (const [kind, r] of Object.entries(sweep.results)) {
    if (r.error) rows.push([kind, `error: ${r.error}`, "", "", "", ""]);
    else
      rows.push([
        kind,
        r.fwdBwdMs.toFixed(3),
        r.fwdMs.toFixed(3),
        r.vsDefault?.toFixed(2) ?? "",
        r.maxRelDiff === null ? "" : r.maxRelDiff.toExponential(1),
        r.compileS.toFixed(1),
      ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r) => r.map((x, c) => x.padEnd(widths[c])).join("  ");
  return [
    `attention variants at [${sweep.shape.join(", ")}], causal, per call (median of ${sweep.reps} samples of ${sweep.iters} calls); best: ${sweep.best}`,
    ...rows.map(line),
  ].join("\n");
}

/** The backend options for an attention sweep's fastest kernel ({} for the default). */
export function bestAttention(sweep) {
  if (!sweep.best || sweep.best === sweep.reference) return {};
  return sweep.best === "rows" ? { attentionKernel: "rows" } : { attentionVariant: sweep.best };
}

/**
 * Decode-step attention (the device check's "attention-decode" part): one query per sequence
 * (q [B, H, 1, D]) against caches of each length in `lengths`, causal, forward only, with the
 * tiled kernels forced and with the row kernels (the default for one query since 2026-11-26).
 * Median ms per call of `reps` samples of `iters` calls; each pair's outputs compared.
 */
export async function decodeAttention(T, opts = {}) {
  const [B, H, D] = opts.shape ?? [8, 8, 64];
  const lengths = opts.lengths ?? [256, 1024, 4096];
  const reps = opts.reps ?? 7;
  const iters = opts.iters ?? 8;
  const backends = {};
  for (const kernel of ["tiled", "rows"])
    backends[kernel] = await T.createWebGpuBackend({
      attentionKernel: kernel,
      name: `decode-${kernel}`,
    });
  const results = {};
  try {
    for (const Tk of lengths) {
      const row = {};
      const outs = {};
      for (const [kernel, gpu] of Object.entries(backends)) {
        const make = (shape, seed) =>
          T.tensor(
            normals(
              shape.reduce((p, d) => p * d, 1),
              seed,
            ),
            shape,
            { backend: gpu },
          );
        const q = make([B, H, 1, D], 1);
        const k = make([B, H, Tk, D], 2);
        const v = make([B, H, Tk, D], 3);
        const call = () => T.ops.attention(q, k, v, { causal: true });
        const first = call();
        outs[kernel] = await first.dataAsync();
        first.dispose();
        const ms = await msPerCall(gpu, () => T.tidy(() => void call()), reps, iters);
        row[`${kernel}Ms`] = +ms.toFixed(4);
        for (const t of [q, k, v]) t.dispose();
      }
      row.maxRelDiff = T.testing.maxRelError(outs.rows, outs.tiled);
      row.rowsVsTiled = row.tiledMs / row.rowsMs;
      results[Tk] = row;
    }
  } finally {
    for (const gpu of Object.values(backends)) gpu.dispose();
  }
  return { part: "attention-decode", shape: [B, H, 1, D], results };
}
