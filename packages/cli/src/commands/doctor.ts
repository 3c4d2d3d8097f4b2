import os from "node:os";
import { cpuBackendInfo, webgpuAvailable } from "@athanor/tensor";
import type { Command } from "commander";
import { printJson } from "../output.js";

/** `athanor doctor`: what this machine offers Athanor (runtime, cores, accelerated paths). */
export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("report the runtime and which accelerated paths are active")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      const gpu = await webgpuAvailable();
      const report = {
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpus: os.cpus().length,
        memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
        tensorCpu: tensorCpuLine(),
        webgpu: gpu.available
          ? `adapter ${gpu.adapter}; features: ${gpu.features.join(", ") || "none of subgroups, shader-f16, timestamp-query"}`
          : `no adapter (${gpu.reason.split("\n")[0]})`,
      };
      if (opts.json) printJson(report);
      else for (const [k, v] of Object.entries(report)) console.log(`${k.padEnd(12)} ${v}`);
    });
}

/** The tensor engine's cpu backend paths: WebAssembly SIMD, threads, BLAS library or none. */
function tensorCpuLine(): string {
  const i = cpuBackendInfo();
  if (!i.available) return "WebAssembly kernels not built (run npm run build)";
  const blas = i.blas ? `BLAS ${i.blasConfig ?? i.blas}` : `no BLAS (${i.blasUnavailable})`;
  const simd = i.wasmSimd ? (i.relaxedSimd ? "yes (relaxed, FMA)" : "yes") : "no";
  return `wasm SIMD ${simd}, ${i.threads} threads, ${blas}`;
}
