import type { Command } from "commander";
import { registerAgents } from "./agents.js";
import { registerDoctor } from "./doctor.js";
import { registerXplain } from "./xplain.js";
import { registerOpt } from "./opt.js";
import { registerOptiguide } from "./optiguide.js";

/** Each system's command group registers itself here (one file per group in this folder). */
export function registerCommands(program: Command): void {
  registerAgents(program);
  registerDoctor(program);
  registerXplain(program);
  registerOpt(program);
  registerOptiguide(program);
}
