export * from "./expr.js";
export * from "./files.js";
export { ModelFormatError } from "./format-error.js";
export type { ConflictData, JobOptions, JobResult, SolveStatus } from "./highs-core.js";
export { type LpWriteOptions, readLp, writeLp } from "./lp-format.js";
export * from "./model.js";
export { readMps, writeMps } from "./mps-format.js";
export { type Conflict, Solution } from "./solution.js";
export {
  closeDefaultSolver,
  defaultSolver,
  InProcessSolver,
  type PoolOptions,
  type SolveOptions,
  type Solver,
  SolverPool,
  solve,
} from "./solver.js";
