/**
 * The code that talks to HiGHS: one job in, one plain-data result out. It runs inside the
 * pool's worker threads and, for the in-process solver, on the calling thread.
 *
 * `highsCore` must stay SELF-CONTAINED: the pool starts workers from its source text
 * (`highsCore.toString()`), so it may use only its parameters, globals and type imports,
 * never a module-level value. That keeps one implementation for both paths and lets the
 * worker run from `src` under Vitest and from `dist` in production alike.
 */

import type { Highs, Model as HighsModel, ModelData } from "highs";
import type { CompiledModel } from "./model.js";

/** Solver-facing options of one job (seconds, fractions, raw HiGHS option values). */
export interface JobOptions {
  timeLimit?: number;
  mipGap?: number;
  /** Compute a conflict (IIS) when the model is infeasible. */
  conflict?: boolean;
  /** Row limit above which a MIP conflict is not minimized by the deletion filter. */
  conflictFilterLimit?: number;
  /** Seconds conflict analysis may take on top of the solve (default 30; `timeLimit` caps it too). */
  conflictTimeLimit?: number;
  /** Raw HiGHS options applied last (e.g. `{ presolve: "off" }`). */
  highs?: Record<string, string | number | boolean>;
}

/** Status names shared by every solve path. */
export type SolveStatus =
  | "optimal"
  | "infeasible"
  | "unbounded"
  | "infeasible_or_unbounded"
  | "time_limit"
  | "limit"
  | "error";

/** A conflict: constraints (and variable bounds) that cannot hold together. */
export interface ConflictData {
  /** Row indices of the conflicting constraints. */
  rows: number[];
  /** Column indices whose bounds take part (LP conflicts only; empty for MIPs). */
  cols: number[];
  /** True when the set is proven irreducible (removing any row makes it feasible). */
  irreducible: boolean;
  /** How it was found: HiGHS's IIS on the LP, or a deletion filter over MIP solves. */
  method: "highs-iis" | "deletion-filter" | "highs-iis-unrefined";
}

/** Plain-data result of a job, posted from the worker. */
export interface JobResult {
  status: SolveStatus;
  /** HiGHS model status code (see HiGHS `kModelStatus*`). */
  highsStatus: number;
  message?: string;
  hasSolution: boolean;
  objective?: number;
  bestBound?: number;
  gap?: number;
  colValue?: Float64Array;
  rowValue?: Float64Array;
  /** LP only, when HiGHS reports a valid dual solution. */
  colDual?: Float64Array;
  rowDual?: Float64Array;
  conflict?: ConflictData;
  iterations?: number;
  nodes?: number;
  seconds: number;
  /** Size of the WebAssembly memory after the job (bytes). */
  wasmMemory: number;
}

/** The solver core. Self-contained: see the file header. */
export function highsCore() {
  const INF = Number.POSITIVE_INFINITY;
  const STATUS: Record<number, SolveStatus> = {
    7: "optimal",
    8: "infeasible",
    9: "infeasible_or_unbounded",
    10: "unbounded",
    11: "limit",
    12: "limit",
    13: "time_limit",
    14: "limit",
    16: "limit",
    17: "limit",
  };

  function toData(
    h: Highs,
    m: CompiledModel,
    rows: number[] | null,
    relax: boolean,
    zeroCost = false,
  ): ModelData {
    let starts = m.starts;
    let indices = m.indices;
    let values = m.values;
    let rowLower = m.rowLower;
    let rowUpper = m.rowUpper;
    if (rows !== null) {
      let nnz = 0;
      for (const r of rows) nnz += m.starts[r + 1]! - m.starts[r]!;
      starts = new Int32Array(rows.length + 1);
      indices = new Int32Array(nnz);
      values = new Float64Array(nnz);
      rowLower = new Float64Array(rows.length);
      rowUpper = new Float64Array(rows.length);
      let p = 0;
      rows.forEach((r, i) => {
        for (let q = m.starts[r]!; q < m.starts[r + 1]!; q++, p++) {
          indices[p] = m.indices[q]!;
          values[p] = m.values[q]!;
        }
        starts[i + 1] = p;
        rowLower[i] = m.rowLower[r]!;
        rowUpper[i] = m.rowUpper[r]!;
      });
    }
    const numRows = rowLower.length;
    const numCols = m.colCost.length;
    const S = h.constants.objectiveSense;
    return {
      numCols,
      numRows,
      sense: m.sense === "max" ? S.maximize : S.minimize,
      offset: m.offset,
      colCost: zeroCost ? new Float64Array(numCols) : m.colCost,
      colLower: m.colLower,
      colUpper: m.colUpper,
      rowLower,
      rowUpper,
      matrix: { format: "csr", numRows, numCols, starts, indices, values },
      ...(m.integrality && !relax
        ? { integrality: m.integrality as Int32Array & ModelData["integrality"] }
        : {}),
    };
  }

  function info(model: HighsModel, name: string): number | undefined {
    try {
      const v = model.info.get(name);
      return typeof v === "bigint" ? Number(v) : v;
    } catch {
      return undefined;
    }
  }

  function baseOptions(model: HighsModel, timeLimit: number): void {
    model.options.set({ output_flag: false });
    if (Number.isFinite(timeLimit)) model.options.set({ time_limit: Math.max(timeLimit, 1e-3) });
  }

  /**
   * A feasibility oracle over subsets of rows: one HiGHS instance holding the whole model with a
   * zero objective (HiGHS can stop at the first feasible point); rows outside the subset are
   * relaxed to free rows instead of rebuilding the model for every test.
   */
  function rowOracle(h: Highs, m: CompiledModel) {
    const model = h.createModel(toData(h, m, null, false, true));
    model.options.set({ output_flag: false });
    const on = new Uint8Array(m.rowNames.length).fill(1);
    const set = (r: number, v: boolean) => {
      if ((on[r] === 1) === v) return;
      on[r] = v ? 1 : 0;
      model.changeRowBounds(r, v ? m.rowLower[r]! : -INF, v ? m.rowUpper[r]! : INF);
    };
    return {
      /** HiGHS model status with exactly `rows` enforced. */
      status(rows: readonly number[], timeLimit: number): number {
        const want = new Uint8Array(on.length);
        for (const r of rows) want[r] = 1;
        for (let r = 0; r < on.length; r++) set(r, want[r] === 1);
        if (Number.isFinite(timeLimit))
          model.options.set({ time_limit: Math.max(timeLimit, 1e-3) });
        model.clearSolver();
        return model.run().modelStatus;
      },
      dispose: () => model.dispose(),
    };
  }

  /**
   * Deletion filter with shrinking chunks: try to drop a chunk of candidate rows; when the rest
   * stays infeasible the chunk goes, otherwise halve the chunk, and a single row whose removal
   * makes the model feasible is in the conflict. O(|conflict| log n) solves when the conflict is
   * small, n solves at worst. A test that hits the time limit keeps its rows (not proven).
   */
  function deletionFilter(h: Highs, m: CompiledModel, cand: number[], left: () => number) {
    const oracle = rowOracle(h, m);
    try {
      if (oracle.status(cand, left()) !== 8) return { rows: [] as number[], irreducible: false };
      let irreducible = true;
      let k = 0;
      let size = Math.max(1, cand.length >> 1);
      while (k < cand.length) {
        if (left() <= 0) {
          irreducible = false;
          break;
        }
        size = Math.min(size, cand.length - k);
        const trial = cand.slice(0, k).concat(cand.slice(k + size));
        const st = oracle.status(trial, left());
        if (st === 8) cand = trial;
        else if (size > 1) size = (size + 1) >> 1;
        else {
          if (st !== 7) irreducible = false;
          k++;
          size = Math.max(1, (cand.length - k) >> 1);
        }
      }
      return { rows: cand, irreducible };
    } finally {
      oracle.dispose();
    }
  }

  function conflict(
    h: Highs,
    m: CompiledModel,
    deadline: number,
    filterLimit: number,
  ): ConflictData {
    const isMip = m.integrality?.some((t) => t !== 0) ?? false;
    const left = () => (deadline - performance.now()) / 1000;
    // 1. HiGHS's IIS on the LP (relaxation): presolve off, strategy "from LP" + "irreducible".
    let rows: number[] = [];
    let cols: number[] = [];
    let irreducible = false;
    let lpInfeasible = false;
    const model = h.createModel(toData(h, m, null, true));
    try {
      baseOptions(model, left());
      model.options.set({ presolve: "off", iis_strategy: 6 });
      lpInfeasible = model.run().modelStatus === 8;
      if (lpInfeasible) {
        const iis = model.getIis();
        rows = Array.from(iis.rowIndex);
        // Columns listed with bound type "free" (1) are in the IIS's rows but their bounds are not.
        cols = Array.from(iis.colIndex).filter((_, k) => iis.colBound[k] !== 1);
        irreducible = rows.length + cols.length > 0 && rows.every((r) => iis.rowStatus[r] === 1);
      }
    } finally {
      model.dispose();
    }
    if (!isMip) {
      return { rows, cols, irreducible, method: irreducible ? "highs-iis" : "highs-iis-unrefined" };
    }
    // 2. MIP: an LP conflict is a MIP conflict but maybe not an irreducible one; when the
    //    relaxation is feasible, integrality is part of the cause and every row is a suspect.
    //    A deletion filter over MIP feasibility solves makes the row set irreducible.
    const cand =
      lpInfeasible && rows.length > 0
        ? rows
        : Array.from({ length: m.rowNames.length }, (_, i) => i);
    if (cand.length > filterLimit) {
      return { rows: cand, cols: [], irreducible: false, method: "highs-iis-unrefined" };
    }
    const filtered = deletionFilter(h, m, cand, left);
    return {
      rows: filtered.rows,
      cols: [],
      irreducible: filtered.irreducible,
      method: "deletion-filter",
    };
  }

  function solve(h: Highs, m: CompiledModel, o: JobOptions): JobResult {
    const t0 = performance.now();
    const timeLimit = o.timeLimit ?? INF;
    const deadline = t0 + timeLimit * 1000;
    const isMip = m.integrality?.some((t) => t !== 0) ?? false;
    if (m.colCost.length === 0) return emptyModel(h, m, t0);
    let model: HighsModel;
    try {
      model = h.createModel(toData(h, m, null, false));
    } catch (e) {
      return {
        status: "error",
        highsStatus: -1,
        message:
          `HiGHS refused the model (${e instanceof Error ? e.message : String(e)}): ` +
          "look for coefficients or costs of magnitude 1e15 or more, or a lower bound of +Infinity",
        hasSolution: false,
        seconds: (performance.now() - t0) / 1000,
        wasmMemory: h.memoryBytes,
      };
    }
    let result: JobResult;
    try {
      model.options.set({ output_flag: false });
      if (Number.isFinite(timeLimit)) model.options.set({ time_limit: timeLimit });
      if (o.mipGap !== undefined) model.options.set({ mip_rel_gap: o.mipGap });
      for (const [k, v] of Object.entries(o.highs ?? {})) {
        try {
          model.options.set(k, v);
        } catch (e) {
          throw new Error(
            `HiGHS option ${k} = ${JSON.stringify(v)}: ${e instanceof Error ? e.message : e}`,
          );
        }
      }
      let code: number = model.run().modelStatus;
      if (code === 9 && model.options.get("presolve") !== "off") {
        // Presolve may not tell infeasible from unbounded: ask again without it.
        model.options.set({ presolve: "off" });
        model.clearSolver();
        code = model.run().modelStatus;
      }
      let status: SolveStatus = STATUS[code] ?? "error";
      if (code === 6) status = "optimal"; // empty model
      const primal = info(model, "primal_solution_status") === 2 || code === 6;
      const dual = !isMip && info(model, "dual_solution_status") === 2;
      const sol = primal || dual ? model.getSolution() : undefined;
      result = {
        status,
        highsStatus: code,
        hasSolution: primal,
        seconds: 0,
        wasmMemory: 0,
        iterations: info(model, isMip ? "mip_node_count" : "simplex_iteration_count"),
      };
      if (status === "error") result.message = `HiGHS ended with model status ${code}`;
      if (primal && sol) {
        result.objective = model.getObjectiveValue();
        result.colValue = sol.colValue;
        result.rowValue = sol.rowValue;
      }
      if (dual && sol && status === "optimal") {
        result.colDual = sol.colDual;
        result.rowDual = sol.rowDual;
      }
      if (isMip) {
        result.nodes = info(model, "mip_node_count");
        result.bestBound = info(model, "mip_dual_bound");
        result.gap = info(model, "mip_gap");
      }
    } catch (e) {
      result = {
        status: "error",
        highsStatus: -1,
        message: e instanceof Error ? e.message : String(e),
        hasSolution: false,
        seconds: 0,
        wasmMemory: 0,
      };
    } finally {
      model.dispose();
    }
    if (result.status === "infeasible" && o.conflict) {
      try {
        const budget = performance.now() + (o.conflictTimeLimit ?? 30) * 1000;
        result.conflict = conflict(h, m, Math.min(deadline, budget), o.conflictFilterLimit ?? 300);
      } catch (e) {
        result.message = `conflict analysis failed: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    result.seconds = (performance.now() - t0) / 1000;
    result.wasmMemory = h.memoryBytes;
    return result;
  }

  /** A model without variables: feasible when every row admits 0; the objective is the offset. */
  function emptyModel(h: Highs, m: CompiledModel, t0: number): JobResult {
    const bad: number[] = [];
    for (let i = 0; i < m.rowLower.length; i++)
      if (m.rowLower[i]! > 0 || m.rowUpper[i]! < 0) bad.push(i);
    const base = {
      highsStatus: 6,
      seconds: (performance.now() - t0) / 1000,
      wasmMemory: h.memoryBytes,
    };
    if (bad.length > 0) {
      return {
        ...base,
        status: "infeasible",
        hasSolution: false,
        conflict: { rows: [bad[0]!], cols: [], irreducible: true, method: "highs-iis" },
      };
    }
    return {
      ...base,
      status: "optimal",
      hasSolution: true,
      objective: m.offset,
      colValue: new Float64Array(0),
      rowValue: new Float64Array(m.rowLower.length),
    };
  }

  return { solve };
}
