import { Command } from "commander";
import { registerCommands } from "./commands/index.js";

/** The `athanor` command: one subcommand group per system. */
export function buildProgram(): Command {
  const program = new Command("athanor")
    .description("Athanor: a TypeScript platform for LLM agents that decide and learn")
    .version("0.1.0")
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  registerCommands(program);
  return program;
}
