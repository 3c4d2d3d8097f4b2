import os from "node:os";
import type { Command } from "commander";
import { printJson } from "../output.js";

/** `athanor doctor`: what this machine offers Athanor (runtime, cores, accelerated paths). */
export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("report the runtime and which accelerated paths are active")
    .option("--json", "print JSON")
    .action((opts: { json?: boolean }) => {
      const report = {
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpus: os.cpus().length,
        memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      };
      if (opts.json) printJson(report);
      else for (const [k, v] of Object.entries(report)) console.log(`${k.padEnd(12)} ${v}`);
    });
}
