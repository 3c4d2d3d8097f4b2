export { type InputSpec, makeInputs, type OpCase, opCases } from "./cases.js";
export {
  type CaseOutputs,
  type ConformanceFailure,
  compareCase,
  compareCaseAsync,
  maxRelError,
  poisoned,
  runCase,
  runCaseAsync,
} from "./conformance.js";
export {
  type GradcheckOptions,
  type GradcheckResult,
  gradcheck,
  gradcheckBackend,
} from "./gradcheck.js";
export {
  rowMajor,
  type StridedOperand,
  stridedMatmul,
  stridedSpan,
  transposedLast2,
} from "./strided.js";
