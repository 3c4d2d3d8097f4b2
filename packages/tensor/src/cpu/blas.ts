/**
 * The optional BLAS addon (native/athanor_blas.c, built by `npm run build:assets` with
 * node-gyp): cblas_sgemm from OpenBLAS (Linux) or Accelerate (macOS). Absent addon, or
 * `ATHANOR_BLAS=0`, means the WebAssembly matmul is used.
 */

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export interface BlasAddon {
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    aOffset: number,
    lda: number,
    b: Float32Array,
    bOffset: number,
    ldb: number,
    beta: number,
    c: Float32Array,
    cOffset: number,
    ldc: number,
  ): void;
  setThreads(n: number): void;
  info(): { library: string; config: string; threads: number };
}

const ADDON_URL = new URL("../../native/build/Release/athanor_blas.node", import.meta.url);

let cached: { addon: BlasAddon | null; reason: string } | null = null;

/** True unless the environment turns BLAS off (`ATHANOR_BLAS=0|off|false`). */
export function blasAllowedByEnv(): boolean {
  const v = (process.env.ATHANOR_BLAS ?? "").toLowerCase();
  return !(v === "0" || v === "off" || v === "false");
}

/** Loads the addon once; `reason` says why it is unavailable. */
export function loadBlas(): { addon: BlasAddon | null; reason: string } {
  if (cached) return cached;
  const path = fileURLToPath(ADDON_URL);
  if (!existsSync(path)) {
    cached = { addon: null, reason: "addon not built (no compiler or BLAS at build time)" };
    return cached;
  }
  try {
    const addon = createRequire(import.meta.url)(path) as BlasAddon;
    cached = { addon, reason: "" };
  } catch (e) {
    cached = { addon: null, reason: `addon failed to load: ${(e as Error).message}` };
  }
  return cached;
}

let blasThreads = 0;

/**
 * Makes the (process-wide) BLAS thread count `n` before a call; backends with different
 * thread counts share one BLAS library, so each sets its own count when it uses it.
 */
export function useBlasThreads(addon: BlasAddon, n: number): void {
  if (blasThreads !== n) {
    addon.setThreads(n);
    blasThreads = n;
  }
}
