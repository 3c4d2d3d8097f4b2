import type { Command } from "commander";
import { registerAgents } from "./agents.js";
import { registerDoctor } from "./doctor.js";

/** Each system's command group registers itself here (one file per group in this folder). */
export function registerCommands(program: Command): void {
  registerAgents(program);
  registerDoctor(program);
}
