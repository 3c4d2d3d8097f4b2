/**
 * The OptiGuide pipeline as agents: a writer turns the question into an edit, a safeguard
 * reviews it (SAFE / DANGER), the edit runs in the sandbox and the solver answers, errors go
 * back to the writer for up to `debugRounds` more tries, and an interpreter explains the
 * result against the baseline plan.
 */
import {
  AssistantAgent,
  addUsage,
  extractCodeBlocks,
  type ModelClient,
  messageText,
  type Usage,
  ZERO_USAGE,
} from "@athanor/agents";
import type { Solver } from "@athanor/opt";
import type { App } from "../app.js";
import { type Edit, inferEditKind } from "../edit.js";
import { type Outcome, runApp } from "../whatif.js";
import { comparePlans, describeChange, type PlanChange } from "./change.js";
import { INTERPRETER_PROMPT, SAFEGUARD_PROMPT, writerPrompt } from "./prompts.js";

export interface OptiGuideOptions {
  /** Writes the edits. */
  writer: ModelClient;
  /** Reviews them (default: the writer's client). */
  safeguard?: ModelClient;
  /** Explains results; without one the explanation is the computed change in plain text. */
  interpreter?: ModelClient;
  /** Skip the safeguard (the sandbox still confines the edit). Default false. */
  skipSafeguard?: boolean;
  /** Extra tries after a failed edit, with the error fed back to the writer. Default 3. */
  debugRounds?: number;
  solver?: Solver;
  /** Sandbox limits for the edit code. */
  editTimeoutMs?: number;
  solveTimeLimit?: number;
}

export interface Round {
  /** What the writer replied. */
  reply: string;
  edit?: Edit;
  safeguard?: { verdict: "SAFE" | "DANGER"; reason: string };
  outcome?: Outcome;
  /** Why this round did not produce an answer. */
  error?: string;
}

export interface Answer {
  app: string;
  question: string;
  /** answered: the edit ran and the solver gave a status; refused: the safeguard said DANGER;
   *  failed: no working edit within the debug rounds. */
  status: "answered" | "refused" | "failed";
  edit?: Edit;
  outcome?: Outcome;
  baseline: Outcome;
  change?: PlanChange;
  explanation: string;
  rounds: Round[];
  usage: Usage;
  ms: { total: number; solve: number };
}

export type AskEvent =
  | { type: "edit"; round: number; edit: Edit }
  | { type: "safeguard"; round: number; verdict: "SAFE" | "DANGER"; reason: string }
  | { type: "outcome"; round: number; outcome: Outcome }
  | { type: "retry"; round: number; error: string };

/** Pulls the edit out of a writer's reply: its first js/javascript block (or any block). */
export function editFromReply(reply: string): Edit | undefined {
  const blocks = extractCodeBlocks(reply);
  const block = blocks.find((b) => b.language === "javascript") ?? blocks[0];
  if (!block) return undefined;
  return { kind: inferEditKind(block.code), code: block.code.trim() };
}

export function parseVerdict(reply: string): { verdict: "SAFE" | "DANGER"; reason: string } {
  const m = /\b(SAFE|DANGER)\b[\s:.,-]*(.*)/is.exec(reply);
  if (!m)
    return {
      verdict: "DANGER",
      reason: `the safeguard's reply did not say SAFE: ${reply.slice(0, 200)}`,
    };
  return {
    verdict: m[1]!.toUpperCase() as "SAFE" | "DANGER",
    reason: m[2]!.trim() || "(no reason given)",
  };
}

export class OptiGuide {
  private baseline?: Promise<Outcome>;

  constructor(
    readonly app: App,
    private readonly options: OptiGuideOptions,
  ) {}

  /** The unedited model's outcome (solved once, then reused). */
  baselineOutcome(): Promise<Outcome> {
    this.baseline ??= runApp(this.app, undefined, this.runOptions());
    return this.baseline;
  }

  async ask(
    question: string,
    opts: { signal?: AbortSignal; onEvent?: (e: AskEvent) => void } = {},
  ): Promise<Answer> {
    const t0 = performance.now();
    const baseline = await this.baselineOutcome();
    let usage: Usage = { ...ZERO_USAGE };
    const writer = new AssistantAgent("writer", {
      modelClient: this.options.writer,
      systemMessage: writerPrompt(this.app),
      request: { temperature: 0 },
    });
    const rounds: Round[] = [];
    const maxRounds = 1 + (this.options.debugRounds ?? 3);
    let solveMs = 0;
    let next = question;
    const finish = async (status: Answer["status"], last?: Round): Promise<Answer> => {
      const change = last?.outcome ? comparePlans(baseline, last.outcome) : undefined;
      let explanation: string;
      if (status === "refused")
        explanation = `The edit was not run: the safeguard judged it unsafe (${last?.safeguard?.reason}).`;
      else if (status === "failed")
        explanation = `No working edit after ${rounds.length} tr${rounds.length === 1 ? "y" : "ies"}: ${last?.error}`;
      else if (this.options.interpreter && change && last?.edit) {
        const interpreter = new AssistantAgent("interpreter", {
          modelClient: this.options.interpreter,
          systemMessage: INTERPRETER_PROMPT,
          request: { temperature: 0 },
        });
        const r = await interpreter.run(
          `Question: ${question}\n\nEdit (${last.edit.kind}):\n\`\`\`js\n${last.edit.code}\n\`\`\`\n\nChange against the baseline:\n${describeChange(change, 20)}`,
          { signal: opts.signal },
        );
        usage = addUsage(usage, r.message.usage);
        explanation = messageText(r.message);
      } else explanation = change ? describeChange(change) : "";
      return {
        app: this.app.name,
        question,
        status,
        edit: last?.edit,
        outcome: last?.outcome,
        baseline,
        change,
        explanation,
        rounds,
        usage,
        ms: { total: performance.now() - t0, solve: solveMs },
      };
    };

    for (let i = 0; i < maxRounds; i++) {
      const r = await writer.run(next, { signal: opts.signal });
      usage = addUsage(usage, r.message.usage);
      const round: Round = { reply: messageText(r.message) };
      rounds.push(round);
      const edit = editFromReply(round.reply);
      if (!edit) {
        round.error = "the reply has no code block";
        next =
          "Your reply had no ```js code block. Reply with exactly one ```js block containing the edit.";
        opts.onEvent?.({ type: "retry", round: i, error: round.error });
        continue;
      }
      round.edit = edit;
      opts.onEvent?.({ type: "edit", round: i, edit });
      if (!this.options.skipSafeguard) {
        const guard = new AssistantAgent("safeguard", {
          modelClient: this.options.safeguard ?? this.options.writer,
          systemMessage: SAFEGUARD_PROMPT,
          request: { temperature: 0 },
        });
        const g = await guard.run(`\`\`\`js\n${edit.code}\n\`\`\``, { signal: opts.signal });
        usage = addUsage(usage, g.message.usage);
        round.safeguard = parseVerdict(messageText(g.message));
        opts.onEvent?.({ type: "safeguard", round: i, ...round.safeguard });
        if (round.safeguard.verdict === "DANGER") return finish("refused", round);
      }
      opts.signal?.throwIfAborted();
      const outcome = await runApp(this.app, edit, this.runOptions());
      solveMs += outcome.solveMs;
      round.outcome = outcome;
      opts.onEvent?.({ type: "outcome", round: i, outcome });
      if (outcome.status !== "error") return finish("answered", round);
      round.error = outcome.message ?? "the edit failed";
      next = `Running your edit failed: ${round.error}\nFix the edit and reply with one \`\`\`js block.`;
      opts.onEvent?.({ type: "retry", round: i, error: round.error });
    }
    return finish("failed", rounds.at(-1));
  }

  private runOptions() {
    return {
      solver: this.options.solver,
      editTimeoutMs: this.options.editTimeoutMs,
      solveTimeLimit: this.options.solveTimeLimit,
    };
  }
}
