/**
 * The benchmark's question files (`{"questions": [...], "code_path": ...}`) and scoring: a
 * question is correct when the executed edit reproduces `GT EXEC RESULT` — the objective within
 * 1e-6 relative, or `infeasible` where the ground truth is infeasible (IIS lists are not unique:
 * ours is reported beside Gurobi's).
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { type AppName, DATA_DIR, isAppName } from "./data.js";
import type { Outcome } from "./whatif.js";

export interface Question {
  QUESTION: string;
  "GT EXEC RESULT": number | string;
  TYPE?: string;
  "DATA CODE"?: string;
  "CONSTRAINT CODE"?: string;
  "MACRO GEN QUESTION"?: string;
  raw_question_hash?: string;
  [field: string]: unknown;
}

export interface QuestionFile {
  questions: Question[];
  code_path?: string;
}

export type GroundTruth =
  | { status: "optimal"; objective: number }
  | { status: "infeasible"; conflict: string[] };

/** The dev split's file for an app. */
export function devQuestionsPath(app: AppName): string {
  return `${DATA_DIR}questions/dev/${app}.json`;
}

/** Reads a question file; `app` is taken from `code_path` (`.../coffee.py`) unless given. */
export function loadQuestions(
  path: string,
  app?: AppName,
): { app: AppName; questions: Question[] } {
  let parsed: QuestionFile;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8")) as QuestionFile;
  } catch (e) {
    throw new Error(`cannot read questions from ${path}: ${(e as Error).message}`);
  }
  if (!parsed || !Array.isArray(parsed.questions))
    throw new Error(
      `${path} is not a benchmark file: expected {"questions": [...], "code_path": ...}`,
    );
  const fromPath = parsed.code_path ? basename(parsed.code_path).replace(/\.py$/, "") : undefined;
  const name = app ?? fromPath;
  if (!name || !isAppName(name))
    throw new Error(
      `${path}: cannot tell the app (code_path ${JSON.stringify(parsed.code_path)}); pass it explicitly`,
    );
  parsed.questions.forEach((q, i) => {
    if (q["GT EXEC RESULT"] === undefined)
      throw new Error(`${path}: question ${i} has no "GT EXEC RESULT"`);
  });
  return { app: name, questions: parsed.questions };
}

/** The question's ground-truth snippet (DATA CODE or CONSTRAINT CODE). */
export function questionCode(q: Question): string {
  const code = q["CONSTRAINT CODE"] ?? q["DATA CODE"];
  if (typeof code !== "string")
    throw new Error("the question has neither DATA CODE nor CONSTRAINT CODE");
  return code;
}

/** The question's template type; tsp questions have none, so their snippet kind stands in. */
export function questionType(q: Question): string {
  if (q.TYPE) return q.TYPE;
  return q["CONSTRAINT CODE"] !== undefined ? "constraint-code" : "data-code";
}

/** Parses `GT EXEC RESULT`: a number, or "infeasible\nConflicting Constraints:\n['a', 'b']". */
export function parseGroundTruth(gt: number | string): GroundTruth {
  if (typeof gt === "number") return { status: "optimal", objective: gt };
  const s = String(gt).trim();
  if (/^infeasible/i.test(s)) {
    const list = /\[(.*)\]/s.exec(s)?.[1] ?? "";
    const conflict = [...list.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)].map(
      (m) => m[1] ?? m[2] ?? "",
    );
    return { status: "infeasible", conflict };
  }
  const n = Number(s);
  if (Number.isFinite(n)) return { status: "optimal", objective: n };
  throw new Error(`unreadable GT EXEC RESULT ${JSON.stringify(gt)}`);
}

export const OBJECTIVE_RTOL = 1e-6;

/** Whether an outcome reproduces the ground truth. */
export function isCorrect(outcome: Outcome, gt: GroundTruth): boolean {
  if (gt.status === "infeasible") return outcome.status === "infeasible";
  if (outcome.status !== "optimal" || outcome.objective === undefined) return false;
  const diff = Math.abs(outcome.objective - gt.objective);
  return diff <= OBJECTIVE_RTOL * Math.max(1, Math.abs(gt.objective));
}
