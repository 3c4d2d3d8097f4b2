import type { Command } from "commander";
import { registerAgentsChat } from "./agents-chat.js";
import { registerAgentsRun } from "./agents-run.js";

/**
 * `athanor agents ...`: each subcommand lives in its own file (agents-*.ts) and registers
 * itself on the group here.
 */
export function registerAgents(program: Command): void {
  const group = program
    .command("agents")
    .description("AutoGen: chat with agents and run teams declared in YAML/JSON");
  registerAgentsChat(group);
  registerAgentsRun(group);
  void group;
}
