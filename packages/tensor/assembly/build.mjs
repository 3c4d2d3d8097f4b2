#!/usr/bin/env node
// Compiles the cpu backend's WebAssembly kernels from assembly/*.ts to build/kernels.wasm with
// the AssemblyScript compiler (a pinned devDependency): SIMD on, imported shared memory (so
// worker threads share every buffer), no runtime, no allocator (the JavaScript side owns the
// heap). Run by `npm run build:assets`.
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(pkg, "build/kernels.wasm");
const here = join(pkg, "assembly");
const sources = readdirSync(here).map((f) => join(here, f));
if (existsSync(out) && sources.every((f) => statSync(f).mtimeMs <= statSync(out).mtimeMs)) {
  console.log("tensor: build/kernels.wasm is up to date");
  process.exit(0);
}
mkdirSync(join(pkg, "build"), { recursive: true });
// Written under a private name and renamed, so concurrent builds never expose a partial file.
const tmp = `${out}.${process.pid}.tmp`;
const { error, stderr } = await asc.main(
  [
    join(pkg, "assembly/index.ts"),
    "--outFile",
    tmp,
    "-O3",
    "--runtime",
    "stub",
    "--enable",
    "simd",
    "--enable",
    "threads",
    "--importMemory",
    "--sharedMemory",
    "--initialMemory",
    "1",
    "--maximumMemory",
    "65536",
    "--noAssert",
    "--use",
    "abort=",
  ],
  {},
);
if (error) {
  console.error(stderr.toString());
  console.error(`tensor: WebAssembly kernels failed to compile: ${error.message}`);
  process.exit(1);
}
renameSync(tmp, out);
console.log("tensor: built build/kernels.wasm (WebAssembly SIMD kernels)");
