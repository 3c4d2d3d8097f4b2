export { changeCode, compileEdit, pathCode } from "./compile.js";
export {
  type ActionResult,
  baselineOutcome,
  executePlan,
  type Plan,
  planActions,
  type ShownValue,
} from "./execute.js";
export {
  type ActionContext,
  ActionError,
  actionContext,
  type ResolvedAction,
  resolveAction,
  resolveActions,
  resolveKey,
  type Step,
  valueAt,
} from "./resolve.js";
export {
  type AppSpec,
  appSpec,
  type DataPath,
  type DecisionSpec,
  type EntityType,
  type ParamSpec,
  surfaceName,
  type TotalSpec,
} from "./spec.js";
export {
  type Action,
  ActionSyntaxError,
  type Bound,
  formatAction,
  formatActions,
  formatChange,
  parseAction,
  parseActions,
  parseChange,
  type ValueChange,
  VERBS,
  type Verb,
} from "./syntax.js";
