export * from "./expr.js";
export type { ConflictData, JobOptions, JobResult, SolveStatus } from "./highs-core.js";
export * from "./model.js";
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
