import type { Command } from "commander";
import { registerDoctor } from "./doctor.js";

/** Each system's command group registers itself here (one file per group in this folder). */
export function registerCommands(program: Command): void {
  registerDoctor(program);
}
