#!/usr/bin/env node
// Builds the optional BLAS addon (native/build/Release/athanor_blas.node) with node-gyp. Never
// fails the build: without a compiler or a BLAS (OpenBLAS: Debian's libopenblas-dev; macOS:
// Accelerate) it prints one line and the cpu backend uses its WebAssembly matmul.
// ATHANOR_BLAS=0 skips the build.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const off = (process.env.ATHANOR_BLAS ?? "").toLowerCase();
if (off === "0" || off === "off" || off === "false") {
  console.log("tensor: BLAS addon skipped (ATHANOR_BLAS=0); matmul uses WebAssembly SIMD");
  process.exit(0);
}
const addon = join(here, "build/Release/athanor_blas.node");
const inputs = ["athanor_blas.c", "binding.gyp", "build.mjs"].map((f) => join(here, f));
if (existsSync(addon) && inputs.every((f) => statSync(f).mtimeMs <= statSync(addon).mtimeMs)) {
  console.log("tensor: BLAS addon is up to date");
  process.exit(0);
}
let gyp;
try {
  gyp = createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js");
} catch {
  console.log(
    "tensor: BLAS addon not built (node-gyp not installed); matmul uses WebAssembly SIMD",
  );
  process.exit(0);
}
// Build against the running Node's own headers when they ship with it (no download needed).
const prefix = join(dirname(process.execPath), "..");
const args = [gyp, "rebuild", "--release"];
if (existsSync(join(prefix, "include/node/node_api.h"))) args.push(`--nodedir=${prefix}`);
const r = spawnSync(process.execPath, args, { cwd: here, encoding: "utf8" });
if (r.status !== 0) {
  const why = `${r.stderr ?? ""}${r.stdout ?? ""}`
    .split("\n")
    .find((l) => /error|not found|cannot find/i.test(l));
  console.log(
    `tensor: BLAS addon not built (${why?.trim() ?? "node-gyp failed"}); matmul uses WebAssembly SIMD`,
  );
  process.exit(0);
}
console.log("tensor: built the BLAS addon (native/build/Release/athanor_blas.node)");
