/**
 * Declarative components: teams, agents, models and termination conditions written as JSON or
 * YAML and validated with Zod. `loadComponents` turns a declaration into live objects.
 *
 *   models:
 *     default: { provider: env }                # ATHANOR_BASE_URL / ATHANOR_MODEL / ...
 *   team:
 *     type: round_robin
 *     participants:
 *       - { type: assistant, name: writer, model: default, systemMessage: "Write haiku." }
 *       - { type: assistant, name: critic, model: default, systemMessage: "Say APPROVE when good." }
 *     termination: { any: [{ type: text_mention, text: APPROVE }, { type: max_messages, max: 8 }] }
 */
import { z } from "zod";

const name = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_-]*$/,
    "use letters, digits, '_' and '-', starting with a letter or '_'",
  );

export const ModelSpec = z.discriminatedUnion("provider", [
  z
    .object({
      provider: z
        .literal("env")
        .describe("the endpoint ATHANOR_BASE_URL / ATHANOR_MODEL / AZURE_* describe"),
    })
    .strict(),
  z
    .object({
      provider: z.literal("openai"),
      model: z.string().min(1),
      baseURL: z.string().url().optional(),
      /** The environment variable that holds the key (never the key itself). */
      apiKeyEnv: z.string().optional(),
      timeoutMs: z.number().positive().optional(),
      maxRetries: z.number().int().min(0).optional(),
    })
    .strict(),
  z
    .object({
      provider: z.literal("replay"),
      /** A JSONL recording (RecordingModelClient), relative to the declaration file. */
      path: z.string().min(1),
      mode: z.enum(["sequence", "match"]).optional(),
    })
    .strict(),
  z
    .object({
      provider: z.literal("scripted"),
      results: z.array(z.string()).min(1),
    })
    .strict(),
]);
export type ModelSpec = z.infer<typeof ModelSpec>;

export type TerminationSpec =
  | { type: "max_messages"; max: number; includeAgentEvents?: boolean }
  | { type: "text_mention"; text: string; sources?: string[] }
  | {
      type: "token_usage";
      maxTotalTokens?: number;
      maxPromptTokens?: number;
      maxCompletionTokens?: number;
    }
  | { type: "timeout"; seconds: number }
  | { type: "handoff"; target: string }
  | { type: "source_match"; sources: string[] }
  | { type: "function_call"; functionName: string }
  | { type: "stop_message" }
  | { any: TerminationSpec[] }
  | { all: TerminationSpec[] };

export const TerminationSpec: z.ZodType<TerminationSpec> = z.lazy(() =>
  z.union([
    z.object({ any: z.array(TerminationSpec).min(1) }).strict(),
    z.object({ all: z.array(TerminationSpec).min(1) }).strict(),
    z.discriminatedUnion("type", [
      z
        .object({
          type: z.literal("max_messages"),
          max: z.number().int().positive(),
          includeAgentEvents: z.boolean().optional(),
        })
        .strict(),
      z
        .object({
          type: z.literal("text_mention"),
          text: z.string().min(1),
          sources: z.array(z.string()).optional(),
        })
        .strict(),
      z
        .object({
          type: z.literal("token_usage"),
          maxTotalTokens: z.number().int().positive().optional(),
          maxPromptTokens: z.number().int().positive().optional(),
          maxCompletionTokens: z.number().int().positive().optional(),
        })
        .strict(),
      z.object({ type: z.literal("timeout"), seconds: z.number().positive() }).strict(),
      z.object({ type: z.literal("handoff"), target: z.string().min(1) }).strict(),
      z.object({ type: z.literal("source_match"), sources: z.array(z.string()).min(1) }).strict(),
      z.object({ type: z.literal("function_call"), functionName: z.string().min(1) }).strict(),
      z.object({ type: z.literal("stop_message") }).strict(),
    ]),
  ]),
);

export const MemorySpec = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("list"),
      name: z.string().optional(),
      items: z.array(z.string()).default([]),
    })
    .strict(),
  z
    .object({
      type: z.literal("sqlite"),
      path: z.string().min(1),
      name: z.string().optional(),
      topK: z.number().int().positive().optional(),
    })
    .strict(),
]);
export type MemorySpec = z.infer<typeof MemorySpec>;

export const AssistantSpec = z
  .object({
    type: z.literal("assistant"),
    name,
    description: z.string().optional(),
    /** A key of `models`. */
    model: z.string().default("default"),
    systemMessage: z.string().nullable().optional(),
    /** Names of tools given to the loader. */
    tools: z.array(z.string()).default([]),
    handoffs: z.array(z.string()).default([]),
    maxToolIterations: z.number().int().positive().optional(),
    reflectOnToolUse: z.boolean().optional(),
    streaming: z.boolean().optional(),
    memory: z.array(MemorySpec).default([]),
  })
  .strict();

export const CodeExecutorSpec = z
  .object({
    type: z.literal("code_executor"),
    name,
    description: z.string().optional(),
    executor: z
      .discriminatedUnion("type", [
        z
          .object({
            type: z.literal("local"),
            workDir: z.string().optional(),
            timeoutMs: z.number().positive().optional(),
          })
          .strict(),
        z
          .object({ type: z.literal("sandbox"), timeoutMs: z.number().positive().optional() })
          .strict(),
      ])
      .default({ type: "sandbox" }),
    /** Ask a human (the loader's input function) before running code. */
    approval: z.boolean().default(false),
    sources: z.array(z.string()).optional(),
  })
  .strict();

export const UserProxySpec = z
  .object({
    type: z.literal("user_proxy"),
    name,
    description: z.string().optional(),
    mode: z.enum(["ALWAYS", "TERMINATE", "NEVER"]).default("ALWAYS"),
  })
  .strict();

export interface GraphEdgeSpec {
  from: string;
  to: string;
  /** Text the source's message must contain. */
  condition?: string;
  group?: string;
}

export type TeamSpec = {
  type: "round_robin" | "selector" | "swarm" | "graph";
  name?: string;
  description?: string;
  participants: ParticipantSpec[];
  termination?: TerminationSpec;
  maxTurns?: number;
  /** selector: the model (a key of `models`) and its options. */
  model?: string;
  selectorPrompt?: string;
  allowRepeatedSpeaker?: boolean;
  maxSelectorAttempts?: number;
  fallback?: "previous" | "first" | "round_robin";
  transitions?: { allowed?: Record<string, string[]>; disallowed?: Record<string, string[]> };
  /** graph: its edges, entry points and "any"-activated nodes. */
  edges?: GraphEdgeSpec[];
  entryPoints?: string[];
  anyActivation?: string[];
};

export type ParticipantSpec =
  | z.infer<typeof AssistantSpec>
  | z.infer<typeof CodeExecutorSpec>
  | z.infer<typeof UserProxySpec>
  | ({ type: "team" } & { team: TeamSpec });

export const TeamSpec: z.ZodType<TeamSpec> = z.lazy(() =>
  z
    .object({
      type: z.enum(["round_robin", "selector", "swarm", "graph"]),
      name: name.optional(),
      description: z.string().optional(),
      participants: z.array(ParticipantSpec).min(1),
      termination: TerminationSpec.optional(),
      maxTurns: z.number().int().positive().optional(),
      model: z.string().optional(),
      selectorPrompt: z.string().optional(),
      allowRepeatedSpeaker: z.boolean().optional(),
      maxSelectorAttempts: z.number().int().positive().optional(),
      fallback: z.enum(["previous", "first", "round_robin"]).optional(),
      transitions: z
        .object({
          allowed: z.record(z.string(), z.array(z.string())).optional(),
          disallowed: z.record(z.string(), z.array(z.string())).optional(),
        })
        .strict()
        .optional(),
      edges: z
        .array(
          z
            .object({
              from: z.string(),
              to: z.string(),
              condition: z.string().optional(),
              group: z.string().optional(),
            })
            .strict(),
        )
        .optional(),
      entryPoints: z.array(z.string()).optional(),
      anyActivation: z.array(z.string()).optional(),
    })
    .strict(),
) as z.ZodType<TeamSpec>;

export const ParticipantSpec: z.ZodType<ParticipantSpec> = z.lazy(() =>
  z.discriminatedUnion("type", [
    AssistantSpec,
    CodeExecutorSpec,
    UserProxySpec,
    z.object({ type: z.literal("team"), team: TeamSpec }).strict(),
  ]),
) as z.ZodType<ParticipantSpec>;

/** A declaration file: named models, and one team (or a single agent). */
export const ComponentFile = z
  .object({
    models: z.record(z.string(), ModelSpec).default({}),
    team: TeamSpec.optional(),
    agent: ParticipantSpec.optional(),
  })
  .strict()
  .refine((f) => (f.team === undefined) !== (f.agent === undefined), {
    message: "declare exactly one of `team` or `agent`",
  });
export type ComponentFile = z.infer<typeof ComponentFile>;
