export type { App, FieldSchema, ScriptStep } from "./app.js";
export { AppModel } from "./app-model.js";
export { APPS, getApp } from "./apps/index.js";
export {
  type AppSummary,
  type BenchOptions,
  type BenchReport,
  type EditSource,
  oracleSource,
  percentile,
  type QuestionResult,
  type RanEdit,
  runBenchmark,
  runQuestion,
  type Tally,
} from "./bench.js";
export { APP_NAMES, type AppData, type AppName, DATA_DIR, isAppName } from "./data.js";
export { describeApp, EDIT_API } from "./describe.js";
export {
  type ConstraintSpec,
  type Edit,
  EditError,
  inferEditKind,
  runEdit,
  type VarSpec,
} from "./edit.js";
export { ExprError, type LinearRelation, parseRelation } from "./expr.js";
export { joinKey, splitKey } from "./keys.js";
export { oracleEdit, translateContext } from "./oracle.js";
export * from "./pipeline/index.js";
export {
  devQuestionsPath,
  type GroundTruth,
  isCorrect,
  loadQuestions,
  OBJECTIVE_RTOL,
  parseGroundTruth,
  type Question,
  type QuestionFile,
  questionCode,
  questionType,
} from "./questions.js";
export { runInSandbox, type SandboxOptions, type SandboxResult } from "./sandbox.js";
export { PySyntaxError, parsePython } from "./translate/python.js";
export {
  snippetKind,
  type TranslateContext,
  TranslateError,
  translateSnippet,
} from "./translate/translate.js";
export { DataError, validateData } from "./validate.js";
export {
  type Decision,
  type Outcome,
  type OutcomeStatus,
  type PlanChange,
  planChanges,
  type RunOptions,
  runApp,
} from "./whatif.js";
