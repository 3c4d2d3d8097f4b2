#!/usr/bin/env node
// Compiles the cpu backend's WebAssembly kernels from assembly/*.ts to build/kernels*.wasm with
// the AssemblyScript compiler (a pinned devDependency): SIMD on, imported shared memory (so
// worker threads share every buffer), no runtime, no allocator (the JavaScript side owns the
// heap). Run by `npm run build:assets`.
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const here = join(pkg, "assembly");
const sources = readdirSync(here).map((f) => join(here, f));
// Two builds of the same source: plain SIMD (runs everywhere with WebAssembly SIMD) and SIMD +
// relaxed SIMD (fused multiply-add in the matmul micro-kernel; chosen at load time where the
// runtime validates it: Node 22+, current browsers, Node 20 with --experimental-wasm-relaxed-simd).
const builds = [
  { file: "build/kernels.wasm", flags: [] },
  { file: "build/kernels-relaxed.wasm", flags: ["--enable", "relaxed-simd"] },
];
const upToDate = (out) =>
  existsSync(out) && sources.every((f) => statSync(f).mtimeMs <= statSync(out).mtimeMs);

mkdirSync(join(pkg, "build"), { recursive: true });
for (const { file, flags } of builds) {
  const out = join(pkg, file);
  if (upToDate(out)) {
    console.log(`tensor: ${file} is up to date`);
    continue;
  }
  // Written under a private name and renamed, so concurrent builds never expose a partial file.
  const tmp = `${out}.${process.pid}.tmp`;
  const { error, stderr } = await asc.main(
    [
      join(here, "index.ts"),
      "--outFile",
      tmp,
      "-O3",
      "--runtime",
      "stub",
      "--enable",
      "simd",
      "--enable",
      "threads",
      ...flags,
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
  console.log(
    `tensor: built ${file} (WebAssembly SIMD kernels${flags.length ? ", relaxed SIMD" : ""})`,
  );
}
