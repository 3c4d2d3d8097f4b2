/**
 * What an OptiGuide application is: its data, how the model is built from it, the script that
 * runs after the build (solves, the constraint edit point, later stages), and what a writer needs
 * to know to edit it.
 */
import type { AppModel } from "./app-model.js";
import type { AppData, AppName } from "./data.js";

/**
 * One step of the script after `build`: a solve, the constraint edit point, or a stage that adds
 * rows (diet's `limit_dairy`). Mirrors the patched source script, which OptiGuide runs top to bottom.
 */
export type ScriptStep =
  | { step: "solve" }
  | { step: "edit-point" }
  | { step: "stage"; name: string; apply(am: AppModel, data: AppData): void };

/** A field of the app's data: what it holds and which names its keys may use. */
export interface FieldSchema {
  /** One line: what the field is. */
  doc: string;
  /**
   * `dict`: object keyed by tuples of names from `keys` (sets named by field); `list`: array of
   * numbers (or of arrays); `set`: a list of names fixed before the data edit point; `number`.
   */
  type: "dict" | "list" | "set" | "number" | "tuples";
  /** For dict / tuples: the set each key part must come from (field names of sets). */
  keys?: string[];
  /** Sets are read-only: the source fixes them before the data edit point. */
  readonly?: boolean;
}

export interface App {
  name: AppName;
  /** One line. */
  title: string;
  /** The app's data before any edit (a fresh copy each call). */
  data(): AppData;
  /** Field-by-field description; also used to validate edited data. */
  schema: Record<string, FieldSchema>;
  /** Builds the model from (possibly edited) data, as the source script does. */
  build(data: AppData): AppModel;
  /** What runs after the build; default: solve, edit point, solve. */
  script?: ScriptStep[];
  /** Where edits go, as in the source. */
  editPoints: { data: string; constraint: string };
  /** Named constraint families, as in the source (ground-truth conflict lists quote them). */
  constraintFamilies: Record<string, string>;
  /** Variable families (gurobipy names) and what they mean. */
  variableFamilies: Record<string, string>;
  /** Baseline result of the unedited script (README table). */
  baseline: number | "infeasible";
  /** Solve method: default one HiGHS solve; tsp adds subtour cuts until one tour remains. */
  exactTsp?: boolean;
  /** Families whose nonzero values describe the plan (default: all). */
  planFamilies?: string[];
}

export const DEFAULT_SCRIPT: ScriptStep[] = [
  { step: "solve" },
  { step: "edit-point" },
  { step: "solve" },
];
