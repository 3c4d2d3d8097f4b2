import type { Command } from "commander";
import { registerAgents } from "./agents.js";
import { registerDoctor } from "./doctor.js";
import { registerLm } from "./lm.js";
import { registerOpt } from "./opt.js";
import { registerOptiguide } from "./optiguide.js";
import { registerSlm } from "./slm.js";
import { registerStart } from "./start.js";
import { registerXplain } from "./xplain.js";

/** Each system's command group registers itself here (one file per group in this folder). */
export function registerCommands(program: Command): void {
  registerAgents(program);
  registerDoctor(program);
  registerLm(program);
  registerStart(program);
  registerXplain(program);
  registerOpt(program);
  registerOptiguide(program);
  registerSlm(program);
}
