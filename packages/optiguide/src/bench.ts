/**
 * The benchmark: runs questions through an edit source (the oracle, or a model's writer) and the
 * app's script, scores each against `GT EXEC RESULT`, and reports accuracy per app and per
 * question type, with latency.
 */
import type { Solver } from "@athanor/opt";
import { getApp } from "./apps/index.js";
import type { AppName } from "./data.js";
import type { Edit } from "./edit.js";
import { oracleEdit } from "./oracle.js";
import {
  devQuestionsPath,
  type GroundTruth,
  isCorrect,
  loadQuestions,
  parseGroundTruth,
  type Question,
  questionType,
} from "./questions.js";
import { type Outcome, runApp } from "./whatif.js";

/** An edit its source has already run (an agent pipeline needs the outcome for its debug rounds). */
export interface RanEdit {
  edit: Edit;
  outcome: Outcome;
}

/**
 * Produces the edit for a question: the oracle, a task model, or an LLM pipeline. A source that
 * already ran the edit returns its outcome too, so the benchmark does not solve it again.
 */
export type EditSource = (app: AppName, q: Question) => Promise<Edit | RanEdit> | Edit | RanEdit;

export const oracleSource: EditSource = (app, q) => oracleEdit(getApp(app), q);

export interface QuestionResult {
  app: AppName;
  index: number;
  type: string;
  question: string;
  correct: boolean;
  expected: GroundTruth;
  status: Outcome["status"];
  objective?: number;
  /** Our conflict set when infeasible (Gurobi's is in `expected`). */
  conflict?: string[];
  message?: string;
  edit?: Edit;
  /** Edit source + sandbox + solves, in milliseconds. */
  latencyMs: number;
  /** Time inside HiGHS. */
  solveMs: number;
  solves: number;
}

export interface Tally {
  n: number;
  correct: number;
  accuracy: number;
}

export interface AppSummary extends Tally {
  app: AppName;
  latencyP50Ms: number;
  latencyP95Ms: number;
  solveP50Ms: number;
  solveP95Ms: number;
  wallMs: number;
}

export interface BenchReport {
  mode: string;
  results: QuestionResult[];
  apps: AppSummary[];
  /** Keyed by `app/type`. */
  types: Record<string, Tally>;
  overall: Tally;
  wallMs: number;
}

export interface BenchOptions {
  /** Apps to run (default all six). */
  apps: AppName[];
  /** A question file in the benchmark's format instead of the dev split (its app from code_path). */
  questionsFile?: string;
  /** Where edits come from (default: the oracle). */
  source?: EditSource;
  mode?: string;
  /** Questions in flight at once (default 4). */
  concurrency?: number;
  solver?: Solver;
  /**
   * Solve each distinct edit once per run and reuse its outcome for the paraphrases that share
   * it (the dev split has 648 questions but 120 distinct snippets). Default false: the benchmark
   * times every question.
   */
  memo?: boolean;
  /** Called after each question. */
  onResult?: (r: QuestionResult) => void;
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function tally(rs: QuestionResult[]): Tally {
  const correct = rs.filter((r) => r.correct).length;
  return { n: rs.length, correct, accuracy: rs.length ? correct / rs.length : 0 };
}

/** Runs one question: edit source, sandbox, solves, scoring. Never throws for a bad edit. */
export async function runQuestion(
  app: AppName,
  q: Question,
  index: number,
  source: EditSource,
  solver?: Solver,
  memo?: Map<string, Promise<Outcome>>,
): Promise<QuestionResult> {
  const t0 = performance.now();
  const expected = parseGroundTruth(q["GT EXEC RESULT"]);
  const base = { app, index, type: questionType(q), question: q.QUESTION, expected };
  let edit: Edit | undefined;
  let outcome: Outcome;
  try {
    const got = await source(app, q);
    const e = "outcome" in got ? got.edit : got;
    edit = e;
    const id = `${app}\u0000${e.kind}\u0000${e.code}`;
    let pending = memo?.get(id) ?? ("outcome" in got ? Promise.resolve(got.outcome) : undefined);
    if (!pending) {
      pending = runApp(getApp(app), e, { solver });
      memo?.set(id, pending);
    }
    outcome = await pending;
  } catch (e) {
    outcome = { status: "error", plan: [], message: (e as Error).message, solveMs: 0, solves: 0 };
  }
  return {
    ...base,
    correct: isCorrect(outcome, expected),
    status: outcome.status,
    objective: outcome.objective,
    conflict: outcome.conflict,
    message: outcome.message,
    edit,
    latencyMs: performance.now() - t0,
    solveMs: outcome.solveMs,
    solves: outcome.solves,
  };
}

/** Runs the benchmark and summarizes it. */
export async function runBenchmark(opts: BenchOptions): Promise<BenchReport> {
  const t0 = performance.now();
  const source = opts.source ?? oracleSource;
  const sets = opts.questionsFile
    ? [loadQuestions(opts.questionsFile)]
    : opts.apps.map((a) => loadQuestions(devQuestionsPath(a), a));
  const results: QuestionResult[] = [];
  const apps: AppSummary[] = [];
  const memo = opts.memo ? new Map<string, Promise<Outcome>>() : undefined;
  for (const { app, questions } of sets) {
    const ta = performance.now();
    const mine: QuestionResult[] = new Array(questions.length);
    let next = 0;
    const worker = async () => {
      while (next < questions.length) {
        const i = next++;
        mine[i] = await runQuestion(app, questions[i]!, i, source, opts.solver, memo);
        opts.onResult?.(mine[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
    results.push(...mine);
    const lat = mine.map((r) => r.latencyMs);
    const sol = mine.map((r) => r.solveMs);
    apps.push({
      app,
      ...tally(mine),
      latencyP50Ms: percentile(lat, 50),
      latencyP95Ms: percentile(lat, 95),
      solveP50Ms: percentile(sol, 50),
      solveP95Ms: percentile(sol, 95),
      wallMs: performance.now() - ta,
    });
  }
  const types: Record<string, Tally> = {};
  const byType = new Map<string, QuestionResult[]>();
  for (const r of results) {
    const k = `${r.app}/${r.type}`;
    byType.set(k, [...(byType.get(k) ?? []), r]);
  }
  for (const [k, rs] of [...byType].sort(([a], [b]) => a.localeCompare(b))) types[k] = tally(rs);
  return {
    mode: opts.mode ?? "oracle",
    results,
    apps,
    types,
    overall: tally(results),
    wallMs: performance.now() - t0,
  };
}
