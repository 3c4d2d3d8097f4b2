// The matmul kernel-variant sweep: the GPU check's "tiles" part (bench/_webgpu-device.mjs).
// Every f32 variant of MATMUL_VARIANTS (packages/tensor/src/webgpu/kernels/matmul.ts, where each
// variant's hypothesis is written down) on square f32 products at each size, once with Dawn's
// defaults and once with Dawn's robustness transform off (`disable_robustness`: no index clamps
// in the shaders, the remaining suspect of issue 8's slow kernels), in one process, so the
// winner is measured against the shipped kernel ("large") in the same run.
//
// Per variant and size: the first call (pipeline compile + run) is timed apart; then GFLOP/s =
// 2n³ / median of `reps` timings, each of `batch` back-to-back matmuls followed by a GPU sync
// (batch sized so a timing is ≥ 30 ms: launch and sync costs stay out of the figure). Each result
// is checked twice so that a fast wrong kernel cannot win: 32 sampled output elements against
// host dot products (|err|/√n), and the whole output against "large"'s on the device (max
// |diff|/√n). A variant the device cannot run (workgroup memory, invocations) is reported with
// the kernel's error and skipped. The sweep stops early (reporting what it has) past
// `budgetS` seconds, so a one-shot GPU session keeps time for its other parts.

import { timeBatches, warmGpu } from "./_webgpu-common.mjs";

/**
 * Backends of the sweep, referenced for the life of the process: each Dawn option set is its own
 * Dawn instance, and Dawn must not be garbage-collected under a device made from it.
 */
const KEEP = [];

/** x rounded to `digits` decimals / to 2 significant digits (keeps the JSON line short). */
const round = (x, digits) => Math.round(x * 10 ** digits) / 10 ** digits;
const sig = (x) => (Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(2)) : x);

/** Deterministic sample positions (a small LCG) in an n×n output. */
function samples(n, count) {
  let s = 12345;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % n;
  };
  return Array.from({ length: count }, () => [next(), next()]);
}

/**
 * Runs the sweep and returns its figures (one JSON-able object).
 * @param T the tensor package
 * @param o { sizes: number[], reps: number, variants?: string[], robustness: "both" | "default",
 *            budgetS: number }
 */
export async function tileSweep(T, o) {
  if (!o.sizes.length || !o.sizes.every((n) => Number.isInteger(n) && n > 0))
    throw new Error(`tile sweep: --tile-sizes must be positive integers, got ${o.sizes.join(",")}`);
  if (!Number.isInteger(o.reps) || o.reps < 1)
    throw new Error(`tile sweep: --tile-reps must be a positive integer, got ${o.reps}`);
  if (o.robustness !== "both" && o.robustness !== "default")
    throw new Error(`tile sweep: --tile-robustness must be both or default, got ${o.robustness}`);
  if (!(o.budgetS > 0))
    throw new Error(`tile sweep: --tile-budget-s must be a positive number, got ${o.budgetS}`);
  const names = o.variants ?? Object.keys(T.MATMUL_VARIANTS);
  for (const name of names) {
    if (!Object.hasOwn(T.MATMUL_VARIANTS, name))
      throw new Error(
        `tile sweep: unknown variant ${JSON.stringify(name)}; known: ${Object.keys(T.MATMUL_VARIANTS).join(", ")}`,
      );
  }
  const configs = [{ robustness: "default", options: {} }];
  if (o.robustness === "both")
    configs.push({
      robustness: "disabled",
      options: { dawnOptions: ["enable-dawn-features=disable_robustness"] },
    });
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const out = { part: "tile-sweep", sizes: o.sizes, reps: o.reps, configs: [], stopped: null };
  for (const cfg of configs) {
    const entry = { robustness: cfg.robustness, results: {} };
    out.configs.push(entry);
    let g;
    try {
      g = await T.createWebGpuBackend({ name: `tiles-${cfg.robustness}`, ...cfg.options });
    } catch (e) {
      entry.error = String(e?.message ?? e);
      continue;
    }
    KEEP.push(g);
    entry.adapter = g.info.adapter;
    for (const n of o.sizes) {
      const a = T.randn([n, n], { backend: g });
      const b = T.randn([n, n], { backend: g });
      const [av, bv] = await Promise.all([a.dataAsync(), b.dataAsync()]);
      const pts = samples(n, 32);
      const want = pts.map(([i, j]) => {
        let s = 0;
        for (let k = 0; k < n; k++) s += av[i * n + k] * bv[k * n + j];
        return s;
      });
      const idx = T.tensor(
        pts.map(([i, j]) => i * n + j),
        [pts.length],
        { dtype: "i32", backend: g },
      );
      // Untimed products first: in every H200 sweep of 2026-11-26 the first kernel timed at 4096
      // ("large") came out 2.5-4x slower than the same kernel in the matmul part of the run
      // (100 ms of warm-up still left it 10% slow).
      const product = () => T.ops.matmul(a, b).dispose();
      await warmGpu(g, product);
      let ref = null; // "large"'s output, the device-side reference
      for (const name of names) {
        if (elapsed() > o.budgetS) {
          out.stopped ??= `time budget of ${o.budgetS} s spent before ${cfg.robustness}/${n}/${name}`;
          break;
        }
        const r = {};
        entry.results[name] ??= {};
        entry.results[name][n] = r;
        try {
          g.setMatmulTile(name);
          const first = performance.now();
          const c = T.ops.matmul(a, b);
          await g.sync();
          r.firstCallMs = round(performance.now() - first, 0);
          const got = await T.tidy(() =>
            T.ops.indexSelect(T.ops.reshape(c, [n * n]), 0, idx),
          ).dataAsync();
          r.sampleErr = sig(Math.max(...want.map((w, i) => Math.abs(w - got[i]))) / Math.sqrt(n));
          if (ref) {
            const d = T.tidy(() => T.ops.max(T.ops.abs(T.ops.sub(c, ref))));
            r.diffVsLarge = sig((await d.itemAsync()) / Math.sqrt(n));
            d.dispose();
          }
          r.ok = r.sampleErr <= 1e-4 && (r.diffVsLarge ?? 0) <= 1e-4;
          if (name === "large" && r.ok) ref = c;
          else c.dispose();
          // batches of back-to-back products lasting ≥ 30 ms, each followed by one sync
          const { sec, batch } = await timeBatches(g, product, { reps: o.reps, minMs: 30 });
          r.gflops = round((2 * n ** 3) / sec / 1e9, 1);
          r.ms = round(sec * 1000, 3);
          r.batch = batch;
        } catch (e) {
          r.error = String(e?.message ?? e);
        }
      }
      g.setMatmulTile(undefined);
      ref?.dispose();
      for (const x of [a, b, idx]) x.dispose();
      // ratios to the shipped kernel in the same run
      const base = entry.results.large?.[n]?.gflops;
      if (base)
        for (const name of names) {
          const r = entry.results[name]?.[n];
          if (r?.gflops) r.vsLarge = round(r.gflops / base, 3);
        }
    }
    g.dispose();
  }
  // the fastest correct result per size over both configurations (vsLarge: against "large" in
  // the same configuration)
  out.best = {};
  for (const n of o.sizes) {
    let best = null;
    for (const cfg of out.configs)
      for (const [name, bySize] of Object.entries(cfg.results)) {
        const r = bySize[n];
        if (r?.ok && r.gflops && (!best || r.gflops > best.gflops))
          best = {
            variant: name,
            robustness: cfg.robustness,
            gflops: r.gflops,
            vsLarge: r.vsLarge,
          };
      }
    // against the shipped kernel as users get it: "large" with Dawn's defaults
    const shipped = out.configs[0].results.large?.[n]?.gflops;
    if (best && shipped) best.vsShipped = round(best.gflops / shipped, 3);
    out.best[n] = best;
  }
  out.seconds = round(elapsed(), 1);
  return out;
}

/** A readable table of a sweep's figures (one row per variant, a column per size and config). */
export function sweepTable(out) {
  const lines = [];
  for (const cfg of out.configs) {
    lines.push(`robustness ${cfg.robustness}${cfg.error ? `: ${cfg.error}` : ` (${cfg.adapter})`}`);
    if (cfg.error) continue;
    lines.push(
      `${"variant".padEnd(40)} | ${out.sizes.map((n) => `${n} GFLOP/s (x large)`.padStart(24)).join(" | ")} | first call ms`,
    );
    for (const [name, bySize] of Object.entries(cfg.results)) {
      const cells = out.sizes.map((n) => {
        const r = bySize[n];
        if (!r) return "-".padStart(24);
        if (r.error) return "error".padStart(24);
        const mark = r.ok ? "" : " WRONG";
        return `${r.gflops.toFixed(1)} (${r.vsLarge?.toFixed(2) ?? "-"})${mark}`.padStart(24);
      });
      const first = out.sizes.map((n) => bySize[n]?.firstCallMs?.toFixed(0) ?? "-").join("/");
      lines.push(`${name.padEnd(40)} | ${cells.join(" | ")} | ${first}`);
      for (const n of out.sizes) if (bySize[n]?.error) lines.push(`  ${n}: ${bySize[n].error}`);
    }
  }
  if (out.stopped) lines.push(`stopped: ${out.stopped}`);
  return lines.join("\n");
}

/**
 * The kernel each matmul size class should run, from a tile sweep: per class ("large",
 * "medium"), the fastest correct variant with the class's output tile (BM×BN: variants of
 * another shape would move the class boundaries of pickTile), at the sweep's largest size for
 * "large" and the next size down for "medium", with Dawn's defaults (what users get). Classes
 * whose winner is their own kernel are left out. `variants`: the tensor package's
 * MATMUL_VARIANTS (whose "large" and "medium" are the classes' shipped kernels).
 */
export function bestTiles(sweep, variants) {
  const sizes = [...sweep.sizes].sort((a, b) => b - a);
  const choice = {};
  for (const [cls, n] of [
    ["large", sizes[0]],
    ["medium", sizes[1] ?? sizes[0]],
  ]) {
    const own = variants[cls];
    const sameShape = (name) => variants[name]?.BM === own.BM && variants[name]?.BN === own.BN;
    const best = fastestAt(sweep, n, sameShape);
    if (best && best !== cls) choice[cls] = best;
  }
  return choice;
}

/**
 * The fastest correct variant of a sweep at size `n` with Dawn's defaults among those `accept`
 * takes (default: all, whatever their output tile; a winner of another shape than its class's
 * needs pickTile's boundaries revisited before it can ship), or null.
 */
export function fastestAt(sweep, n, accept = () => true) {
  const results = sweep.configs.find((c) => c.robustness === "default")?.results ?? {};
  let best = null;
  for (const [name, bySize] of Object.entries(results)) {
    const r = bySize[n];
    if (r?.ok && r.gflops && accept(name) && (!best || r.gflops > best.gflops))
      best = { name, gflops: r.gflops };
  }
  return best?.name ?? null;
}
