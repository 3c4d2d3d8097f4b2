/**
 * Turns validated declarations into live teams and agents. Every error names the file and
 * the path inside it (`team.participants[1].model: unknown model "fast" (declared: default)`).
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import YAML from "yaml";
import type { z } from "zod";
import type { ChatAgent } from "../agent.js";
import { AssistantAgent } from "../agents/assistant-agent.js";
import { CodeExecutorAgent } from "../agents/code-executor-agent.js";
import { type InputFunction, terminalInput, UserProxyAgent } from "../agents/user-proxy-agent.js";
import type { CodeExecutor } from "../code/executor.js";
import { LocalCommandLineExecutor } from "../code/local.js";
import { SandboxedJsExecutor } from "../code/sandbox-executor.js";
import { approvalFromInput, codeExecutionApproval } from "../human/approval.js";
import { ListMemory } from "../memory/list-memory.js";
import type { Memory } from "../memory/memory.js";
import { SqliteMemory } from "../memory/sqlite-memory.js";
import type { ModelClient } from "../model-client.js";
import { modelClientFromConfig, modelClientFromEnv } from "../models/env.js";
import { ReplayModelClient } from "../models/replay.js";
import type { Checkpointer } from "../state/checkpointer.js";
import { DiGraphBuilder, GraphFlow } from "../teams/graph.js";
import { RoundRobinGroupChat } from "../teams/round-robin.js";
import { SelectorGroupChat } from "../teams/selector.js";
import { Swarm } from "../teams/swarm.js";
import type { Team } from "../teams/team.js";
import {
  FunctionCallTermination,
  HandoffTermination,
  MaxMessageTermination,
  SourceMatchTermination,
  StopMessageTermination,
  TextMentionTermination,
  TimeoutTermination,
  TokenUsageTermination,
} from "../termination/conditions.js";
import {
  AndTermination,
  OrTermination,
  type TerminationCondition,
} from "../termination/termination.js";
import { formatZodError, type Tool } from "../tools/tool.js";
import {
  ComponentFile,
  type ModelSpec,
  type ParticipantSpec,
  type TeamSpec,
  type TerminationSpec,
} from "./schema.js";

export class ComponentError extends Error {
  override name = "ComponentError";
}

export interface LoadOptions {
  /** Tools that declarations may name. */
  tools?: Record<string, Tool>;
  /** Where user proxies and approvals ask a human (default: the terminal). */
  input?: InputFunction;
  /** Replaces declared models by name (e.g. a ReplayModelClient in tests). */
  models?: Record<string, ModelClient>;
  /** Environment for `provider: env` and `apiKeyEnv` (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Relative paths (replay files, SQLite memories) resolve against this (default: the cwd). */
  baseDir?: string;
  /** Given to the top-level team. */
  checkpointer?: Checkpointer;
  threadId?: string;
}

export interface Loaded {
  /** The declared team, or the single declared agent. */
  component: Team | ChatAgent;
  team?: Team;
  models: Record<string, ModelClient>;
  /** Releases executors and SQLite handles. */
  dispose(): Promise<void>;
}

/** Parses JSON or YAML text (YAML is a superset of JSON) and validates it. */
export function parseComponents(text: string, source = "components"): ComponentFile {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new ComponentError(`${source}: not valid YAML/JSON: ${(err as Error).message}`);
  }
  const parsed = ComponentFile.safeParse(raw);
  if (!parsed.success)
    throw new ComponentError(`${source}: ${formatZodError(parsed.error as z.ZodError)}`);
  return parsed.data;
}

/** Reads, validates and builds a declaration file (.yaml, .yml or .json). */
export function loadComponentFile(path: string, options: LoadOptions = {}): Loaded {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ComponentError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return buildComponents(
    parseComponents(text, path),
    { baseDir: dirname(resolve(path)), ...options },
    path,
  );
}

export function buildComponents(
  file: ComponentFile,
  options: LoadOptions = {},
  source = "components",
): Loaded {
  const disposers: (() => Promise<void> | void)[] = [];
  const env = options.env ?? process.env;
  const baseDir = options.baseDir ?? process.cwd();
  const at = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  const fail = (where: string, what: string): never => {
    throw new ComponentError(`${source}: ${where}: ${what}`);
  };

  const models: Record<string, ModelClient> = {};
  for (const [key, spec] of Object.entries(file.models)) {
    models[key] = options.models?.[key] ?? buildModel(spec, `models.${key}`);
  }
  for (const [key, client] of Object.entries(options.models ?? {})) models[key] ??= client;

  function buildModel(spec: ModelSpec, where: string): ModelClient {
    switch (spec.provider) {
      case "env": {
        const client = modelClientFromEnv(env);
        return (
          client ??
          fail(
            where,
            "provider env, but no endpoint is configured (set ATHANOR_BASE_URL and ATHANOR_MODEL)",
          )
        );
      }
      case "openai": {
        const apiKey = spec.apiKeyEnv ? env[spec.apiKeyEnv] : undefined;
        if (spec.apiKeyEnv && !apiKey)
          fail(where, `apiKeyEnv names ${spec.apiKeyEnv}, which is not set`);
        return modelClientFromConfig({
          provider: "openai",
          model: spec.model,
          ...(spec.baseURL ? { baseURL: spec.baseURL } : {}),
          ...(apiKey ? { apiKey } : {}),
          ...(spec.timeoutMs ? { timeoutMs: spec.timeoutMs } : {}),
          ...(spec.maxRetries !== undefined ? { retry: { maxRetries: spec.maxRetries } } : {}),
        });
      }
      case "replay":
        try {
          return ReplayModelClient.fromFile(at(spec.path), spec.mode ? { mode: spec.mode } : {});
        } catch (err) {
          return fail(where, (err as Error).message);
        }
      case "scripted":
        return ReplayModelClient.fromResults(spec.results);
    }
  }

  const model = (key: string, where: string): ModelClient =>
    models[key] ??
    fail(
      where,
      `unknown model ${JSON.stringify(key)} (declared: ${Object.keys(models).join(", ") || "none"})`,
    );

  const input = (): InputFunction => options.input ?? terminalInput;

  function buildMemory(spec: ParticipantSpec & { type: "assistant" }, where: string): Memory[] {
    return spec.memory.map((m, i) => {
      if (m.type === "list")
        return new ListMemory({ name: m.name, items: m.items.map((content) => ({ content })) });
      try {
        const memory = new SqliteMemory(at(m.path), { name: m.name, topK: m.topK });
        disposers.push(() => memory.close());
        return memory;
      } catch (err) {
        return fail(`${where}.memory[${i}]`, (err as Error).message);
      }
    });
  }

  function buildParticipant(spec: ParticipantSpec, where: string, top = false): ChatAgent {
    try {
      switch (spec.type) {
        case "assistant":
          return new AssistantAgent(spec.name, {
            modelClient: model(spec.model, `${where}.model`),
            ...(spec.description ? { description: spec.description } : {}),
            ...(spec.systemMessage !== undefined ? { systemMessage: spec.systemMessage } : {}),
            tools: spec.tools.map(
              (t, i) =>
                options.tools?.[t] ??
                fail(
                  `${where}.tools[${i}]`,
                  `unknown tool ${JSON.stringify(t)} (given: ${Object.keys(options.tools ?? {}).join(", ") || "none"})`,
                ),
            ),
            handoffs: spec.handoffs,
            ...(spec.maxToolIterations ? { maxToolIterations: spec.maxToolIterations } : {}),
            ...(spec.reflectOnToolUse !== undefined
              ? { reflectOnToolUse: spec.reflectOnToolUse }
              : {}),
            ...(spec.streaming !== undefined ? { streaming: spec.streaming } : {}),
            memory: buildMemory(spec, where),
          });
        case "code_executor": {
          const executor: CodeExecutor =
            spec.executor.type === "local"
              ? new LocalCommandLineExecutor({
                  ...(spec.executor.workDir ? { workDir: at(spec.executor.workDir) } : {}),
                  ...(spec.executor.timeoutMs ? { timeoutMs: spec.executor.timeoutMs } : {}),
                })
              : new SandboxedJsExecutor(
                  spec.executor.timeoutMs ? { timeoutMs: spec.executor.timeoutMs } : {},
                );
          disposers.push(() => executor.dispose());
          return new CodeExecutorAgent(spec.name, {
            executor,
            ...(spec.description ? { description: spec.description } : {}),
            ...(spec.approval
              ? { approval: codeExecutionApproval(approvalFromInput(input())) }
              : {}),
            ...(spec.sources ? { sources: spec.sources } : {}),
          });
        }
        case "user_proxy":
          return new UserProxyAgent(spec.name, {
            inputFunc: input(),
            humanInputMode: spec.mode,
            ...(spec.description ? { description: spec.description } : {}),
          });
        case "team":
          return buildTeam(spec.team, `${where}.team`, top);
      }
    } catch (err) {
      if (err instanceof ComponentError) throw err;
      return fail(where, (err as Error).message);
    }
  }

  function buildTeam(spec: TeamSpec, where: string, top: boolean): Team {
    const participants = spec.participants.map((p, i) =>
      buildParticipant(p, `${where}.participants[${i}]`),
    );
    const common = {
      ...(spec.name ? { name: spec.name } : {}),
      ...(spec.description ? { description: spec.description } : {}),
      ...(spec.termination ? { termination: buildTermination(spec.termination) } : {}),
      ...(spec.maxTurns ? { maxTurns: spec.maxTurns } : {}),
      ...(top && options.checkpointer ? { checkpointer: options.checkpointer } : {}),
      ...(top && options.threadId ? { threadId: options.threadId } : {}),
    };
    try {
      switch (spec.type) {
        case "round_robin":
          return new RoundRobinGroupChat(participants, common);
        case "swarm":
          return new Swarm(participants, common);
        case "selector":
          return new SelectorGroupChat(participants, {
            ...common,
            model: model(spec.model ?? "default", `${where}.model`),
            ...(spec.selectorPrompt ? { selectorPrompt: spec.selectorPrompt } : {}),
            ...(spec.allowRepeatedSpeaker !== undefined
              ? { allowRepeatedSpeaker: spec.allowRepeatedSpeaker }
              : {}),
            ...(spec.maxSelectorAttempts ? { maxSelectorAttempts: spec.maxSelectorAttempts } : {}),
            ...(spec.fallback ? { fallback: spec.fallback } : {}),
            ...(spec.transitions ? { transitions: spec.transitions } : {}),
          });
        case "graph": {
          const builder = new DiGraphBuilder();
          const any = new Set(spec.anyActivation ?? []);
          for (const p of participants)
            builder.addNode(p, { activation: any.has(p.name) ? "any" : "all" });
          for (const e of spec.edges ?? []) {
            builder.addEdge(e.from, e.to, {
              ...(e.condition !== undefined ? { condition: e.condition } : {}),
              ...(e.group ? { group: e.group } : {}),
            });
          }
          if (spec.entryPoints) builder.setEntryPoint(...spec.entryPoints);
          return new GraphFlow(participants, { ...common, graph: builder.build() });
        }
      }
    } catch (err) {
      if (err instanceof ComponentError) throw err;
      return fail(where, (err as Error).message);
    }
  }

  const component = file.team
    ? buildTeam(file.team, "team", true)
    : buildParticipant(file.agent as ParticipantSpec, "agent", true);
  return {
    component,
    ...(file.team ? { team: component as Team } : {}),
    models,
    async dispose() {
      for (const d of disposers.reverse()) await d();
    },
  };
}

export function buildTermination(spec: TerminationSpec): TerminationCondition {
  if ("any" in spec) return new OrTermination(spec.any.map(buildTermination));
  if ("all" in spec) return new AndTermination(spec.all.map(buildTermination));
  switch (spec.type) {
    case "max_messages":
      return new MaxMessageTermination(spec.max, { includeAgentEvents: spec.includeAgentEvents });
    case "text_mention":
      return new TextMentionTermination(spec.text, spec.sources ? { sources: spec.sources } : {});
    case "token_usage":
      return new TokenUsageTermination(spec);
    case "timeout":
      return new TimeoutTermination(spec.seconds);
    case "handoff":
      return new HandoffTermination(spec.target);
    case "source_match":
      return new SourceMatchTermination(spec.sources);
    case "function_call":
      return new FunctionCallTermination(spec.functionName);
    case "stop_message":
      return new StopMessageTermination();
  }
}
