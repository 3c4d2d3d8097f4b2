/**
 * The modeling API: variables (continuous / integer / binary, alone or in named indexed
 * families), linear constraints with names and families, a linear objective, and
 * `clone()` + patch methods, which are the basis of what-if analysis.
 *
 * STABLE API. The public members of `Model` (here), `VarFamily` (family.ts), `Constraint`
 * (constraint.ts) and the types in these files are stable: `packages/optiguide` and `packages/xplain` build on them. New
 * members may be added; existing ones keep their meaning.
 *
 * ```ts
 * const m = new Model("coffee");
 * const x = m.addVars("x", [["supplier1", "roastery1"], ["supplier1", "roastery2"]], { type: "integer" });
 * m.addConstraint(x.sum("supplier1", "*"), "<=", 150, { name: "supply_supplier1", family: "supply" });
 * m.minimize(sum([x.get("supplier1", "roastery1").times(5), x.get("supplier1", "roastery2").times(4)]));
 * const what = m.clone();
 * what.setRhs("supply_supplier1", 75);          // patch by name
 * ```
 *
 * Costs: adding a variable is O(1); adding a constraint is O(terms); `clone()` is
 * O(variables + constraints) and shares coefficient arrays (a patched row gets its own
 * copy); `compile()` is O(variables + constraints + nonzeros). Variables are never
 * deleted (fix them instead), so `Var` handles stay valid in every clone.
 */

import { Constraint } from "./constraint.js";
import {
  type ExprLike,
  type Key,
  LinExpr,
  type Relation,
  relation,
  type Sense,
  Var,
} from "./expr.js";
import { keyId, memberName, VarFamily } from "./family.js";

export { Constraint, type ConstraintSense } from "./constraint.js";
export { memberName, VarFamily } from "./family.js";

/** Domain of a variable. `binary` is an integer variable with bounds inside [0, 1]. */
export type VarType = "continuous" | "integer" | "binary";

/** Options of a new variable. Defaults: `lb = 0`, `ub = Infinity` (binary: 0 and 1), continuous. */
export interface VarOptions {
  lb?: number;
  ub?: number;
  type?: VarType;
}

/** Options of a new constraint; a bare string is taken as its name. */
export interface ConstraintOptions {
  /** Unique name; `c<n>` when omitted. Answers and conflict sets quote it. */
  name?: string;
  /** Family the constraint belongs to, e.g. `supply`; see `model.constraintsIn(family)`. */
  family?: string;
  /** The member's key inside its family, e.g. `["supplier1"]`. */
  key?: readonly Key[];
}

/** Objective direction. */
export type ObjectiveSense = "min" | "max";

/**
 * A numeric snapshot of a model in HiGHS's layout: column arrays, row bounds and the
 * constraint matrix in compressed sparse row form, with names. It is plain data
 * (typed arrays, strings), so it can be posted to a worker or written to a file.
 */
export interface CompiledModel {
  name: string;
  sense: ObjectiveSense;
  /** Objective constant. */
  offset: number;
  colNames: string[];
  colCost: Float64Array;
  colLower: Float64Array;
  colUpper: Float64Array;
  /** 1 for integer columns, 0 for continuous; `undefined` for a pure LP. */
  integrality?: Int32Array;
  rowNames: string[];
  rowLower: Float64Array;
  rowUpper: Float64Array;
  /** CSR matrix: row i holds `indices/values[starts[i] .. starts[i+1])`. */
  starts: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

/** A linear or mixed-integer optimization model. See the file header for an example. */
export class Model {
  private readonly _vars: Var[] = [];
  private _lb: number[] = [];
  private _ub: number[] = [];
  private _type: VarType[] = [];
  private _cost: number[] = [];
  private _offset = 0;
  private _sense: ObjectiveSense = "min";
  private readonly _varByName = new Map<string, Var>();
  private readonly _families = new Map<string, VarFamily>();
  private _rows: Constraint[] = [];
  private _removedRows = 0;
  private readonly _rowByName = new Map<string, Constraint>();
  private _autoRow = 0;

  constructor(readonly name = "model") {}

  // ---------------------------------------------------------------- variables

  /** Adds one variable. Its name must be unique (`v<index>` when omitted). */
  addVar(name?: string, opts: VarOptions = {}): Var {
    const index = this._vars.length;
    const n = name ?? `v${index}`;
    if (this._varByName.has(n)) throw new RangeError(`duplicate variable name ${n}`);
    checkName(n, "variable");
    const type = opts.type ?? "continuous";
    const [lb, ub] = normBounds(n, type, opts.lb, opts.ub);
    const v = new Var(index, n);
    this._vars.push(v);
    this._lb.push(lb);
    this._ub.push(ub);
    this._type.push(type);
    this._cost.push(0);
    this._varByName.set(n, v);
    return v;
  }

  /**
   * Adds an indexed family `name[key]`, one variable per key (a scalar key or a tuple).
   * `opts` may depend on the key. Returns the family; `model.family(name)` finds it later.
   */
  addVars(
    name: string,
    keys: Iterable<Key | readonly Key[]>,
    opts: VarOptions | ((key: readonly Key[]) => VarOptions) = {},
  ): VarFamily {
    if (this._families.has(name)) throw new RangeError(`duplicate variable family ${name}`);
    checkName(name, "variable family");
    const fam = new VarFamily(name);
    for (const k of keys) {
      const key: readonly Key[] = Array.isArray(k) ? (k as readonly Key[]).slice() : [k as Key];
      const id = keyId(key);
      if (fam._byKey.has(id)) throw new RangeError(`duplicate key ${memberName(name, key)}`);
      const v = this.addVar(memberName(name, key), typeof opts === "function" ? opts(key) : opts);
      fam._byKey.set(id, v);
      fam._keys.push(key);
    }
    this._families.set(name, fam);
    return fam;
  }

  get numVars(): number {
    return this._vars.length;
  }

  /** All variables in column order. */
  variables(): readonly Var[] {
    return this._vars;
  }

  /** The variable with this name; throws when there is none. */
  variable(name: string): Var {
    const v = this._varByName.get(name);
    if (v === undefined) throw new RangeError(`model ${this.name} has no variable ${name}`);
    return v;
  }

  findVariable(name: string): Var | undefined {
    return this._varByName.get(name);
  }

  /** The variable family with this name; throws when there is none. */
  family(name: string): VarFamily {
    const f = this._families.get(name);
    if (f === undefined) throw new RangeError(`model ${this.name} has no variable family ${name}`);
    return f;
  }

  families(): VarFamily[] {
    return [...this._families.values()];
  }

  lowerBound(v: Var | string): number {
    return this._lb[this.resolveVar(v).index]!;
  }
  upperBound(v: Var | string): number {
    return this._ub[this.resolveVar(v).index]!;
  }
  varType(v: Var | string): VarType {
    return this._type[this.resolveVar(v).index]!;
  }

  /** Whether any variable is integer or binary. */
  get isMip(): boolean {
    return this._type.some((t) => t !== "continuous");
  }

  // -------------------------------------------------------------- constraints

  /** Adds `lhs sense rhs`. `opts` is a name or `{ name, family, key }`. */
  addConstraint(
    lhs: ExprLike,
    sense: Sense,
    rhs: ExprLike,
    opts?: string | ConstraintOptions,
  ): Constraint {
    return this.add(relation(lhs, sense, rhs), opts);
  }

  /** Adds `lower <= expr <= upper`. */
  addRange(
    lower: number,
    expr: ExprLike,
    upper: number,
    opts?: string | ConstraintOptions,
  ): Constraint {
    return this.add({ expr: LinExpr.from(expr), lower, upper }, opts);
  }

  /** Adds a relation built with `le` / `ge` / `eq` / `between`. */
  add(rel: Relation, opts?: string | ConstraintOptions): Constraint {
    const o: ConstraintOptions = typeof opts === "string" ? { name: opts } : (opts ?? {});
    let name = o.name;
    if (name === undefined) {
      do name = `c${this._autoRow++}`;
      while (this._rowByName.has(name));
    } else {
      checkName(name, "constraint");
      if (this._rowByName.has(name)) throw new RangeError(`duplicate constraint name ${name}`);
    }
    if (Number.isNaN(rel.lower) || Number.isNaN(rel.upper)) {
      throw new RangeError(`constraint ${name}: NaN bound`);
    }
    const { vars, coefs, constant } = this.merge(rel.expr, `constraint ${name}`);
    const c = new Constraint(
      name,
      o.family,
      o.key,
      vars,
      coefs,
      rel.lower - constant,
      rel.upper - constant,
    );
    this._rows.push(c);
    this._rowByName.set(name, c);
    return c;
  }

  /**
   * Adds a constraint family: one member per key, named `family[key]` unless `opts.name`
   * says otherwise (e.g. `(k) => "supply_" + k[0]` for gurobipy-style names). `build`
   * returns the member's relation, or `undefined` to skip that key.
   */
  addConstraints(
    family: string,
    keys: Iterable<Key | readonly Key[]>,
    build: (key: readonly Key[]) => Relation | undefined,
    opts: { name?: (key: readonly Key[]) => string } = {},
  ): Constraint[] {
    const out: Constraint[] = [];
    for (const k of keys) {
      const key: readonly Key[] = Array.isArray(k) ? (k as readonly Key[]).slice() : [k as Key];
      const rel = build(key);
      if (rel === undefined) continue;
      const name = opts.name ? opts.name(key) : memberName(family, key);
      out.push(this.add(rel, { name, family, key }));
    }
    return out;
  }

  get numConstraints(): number {
    return this._rows.length - this._removedRows;
  }

  /** Constraints in row order (removed ones excluded). */
  constraints(): readonly Constraint[] {
    this.compact();
    return this._rows;
  }

  /** The constraint with this name; throws when there is none. */
  constraint(name: string): Constraint {
    const c = this._rowByName.get(name);
    if (c === undefined) throw new RangeError(`model ${this.name} has no constraint ${name}`);
    return c;
  }

  findConstraint(name: string): Constraint | undefined {
    return this._rowByName.get(name);
  }

  /** Members of a constraint family in row order. */
  constraintsIn(family: string): Constraint[] {
    return this.constraints().filter((c) => c.family === family);
  }

  /** Names of the constraint families present. */
  constraintFamilies(): string[] {
    const s = new Set<string>();
    for (const c of this.constraints()) if (c.family !== undefined) s.add(c.family);
    return [...s];
  }

  // ---------------------------------------------------------------- objective

  /** Sets the objective to minimize `expr` (replacing any previous objective). */
  minimize(expr: ExprLike): void {
    this.setObjective(expr, "min");
  }

  /** Sets the objective to maximize `expr` (replacing any previous objective). */
  maximize(expr: ExprLike): void {
    this.setObjective(expr, "max");
  }

  setObjective(expr: ExprLike, sense: ObjectiveSense): void {
    if (sense !== "min" && sense !== "max") {
      throw new RangeError(`objective sense must be "min" or "max", got ${JSON.stringify(sense)}`);
    }
    const e = LinExpr.from(expr);
    const cost = new Array<number>(this._vars.length).fill(0);
    for (let k = 0; k < e.vars.length; k++) {
      const v = e.vars[k]!;
      this.checkOwn(v, "objective");
      cost[v.index]! += e.coefs[k]!;
    }
    this._cost = cost;
    this._offset = e.constant;
    this._sense = sense;
  }

  get objectiveSense(): ObjectiveSense {
    return this._sense;
  }

  /** The objective as a new expression. */
  objective(): LinExpr {
    const e = new LinExpr();
    for (let j = 0; j < this._vars.length; j++) {
      if (this._cost[j] !== 0) e.addTerm(this._vars[j]!, this._cost[j]!);
    }
    e.constant = this._offset;
    return e;
  }

  objectiveCoefficient(v: Var | string): number {
    return this._cost[this.resolveVar(v).index]!;
  }

  // ------------------------------------------------------------ clone & patch

  /** An independent copy. `Var` handles are shared; constraints are looked up by name. */
  clone(name = this.name): Model {
    const m = new Model(name);
    m._vars.push(...this._vars);
    m._lb = this._lb.slice();
    m._ub = this._ub.slice();
    m._type = this._type.slice();
    m._cost = this._cost.slice();
    m._offset = this._offset;
    m._sense = this._sense;
    for (const [k, v] of this._varByName) m._varByName.set(k, v);
    for (const [k, f] of this._families) m._families.set(k, f);
    this.compact();
    m._rows = this._rows.map((c) => {
      const d = new Constraint(c.name, c.family, c.key, c._vars, c._coefs, c._lower, c._upper);
      m._rowByName.set(d.name, d);
      return d;
    });
    m._autoRow = this._autoRow;
    return m;
  }

  /** Sets both bounds of a variable. */
  setBounds(v: Var | string, lb: number, ub: number): void {
    const x = this.resolveVar(v);
    const [l, u] = normBounds(x.name, this._type[x.index]!, lb, ub);
    this._lb[x.index] = l;
    this._ub[x.index] = u;
  }
  setLowerBound(v: Var | string, lb: number): void {
    const x = this.resolveVar(v);
    this.setBounds(x, lb, this._ub[x.index]!);
  }
  setUpperBound(v: Var | string, ub: number): void {
    const x = this.resolveVar(v);
    this.setBounds(x, this._lb[x.index]!, ub);
  }
  /** Fixes a variable: both bounds set to `value`. */
  fix(v: Var | string, value: number): void {
    this.setBounds(v, value, value);
  }
  /** Changes a variable's domain; `binary` also clamps its bounds into [0, 1]. */
  setType(v: Var | string, type: VarType): void {
    const x = this.resolveVar(v);
    if (type !== "continuous" && type !== "integer" && type !== "binary") {
      throw new RangeError(`unknown variable type ${JSON.stringify(type)}`);
    }
    this._type[x.index] = type;
    if (type === "binary") {
      this._lb[x.index] = Math.max(this._lb[x.index]!, 0);
      this._ub[x.index] = Math.min(this._ub[x.index]!, 1);
    }
  }

  setObjectiveCoefficient(v: Var | string, coef: number): void {
    if (!Number.isFinite(coef))
      throw new RangeError(`objective coefficient must be finite, got ${coef}`);
    this._cost[this.resolveVar(v).index] = coef;
  }
  setObjectiveOffset(offset: number): void {
    if (!Number.isFinite(offset))
      throw new RangeError(`objective offset must be finite, got ${offset}`);
    this._offset = offset;
  }
  setObjectiveSense(sense: ObjectiveSense): void {
    if (sense !== "min" && sense !== "max") throw new RangeError(`bad objective sense ${sense}`);
    this._sense = sense;
  }

  /** Sets (or with 0, removes) the coefficient of `v` in constraint `c`. O(row length). */
  setCoefficient(c: Constraint | string, v: Var | string, coef: number): void {
    const row = this.resolveRow(c);
    const x = this.resolveVar(v);
    if (!Number.isFinite(coef)) throw new RangeError(`coefficient must be finite, got ${coef}`);
    const vars = row._vars.slice();
    const coefs = row._coefs.slice();
    const k = vars.indexOf(x);
    if (k >= 0 && coef === 0) {
      vars.splice(k, 1);
      coefs.splice(k, 1);
    } else if (k >= 0) coefs[k] = coef;
    else if (coef !== 0) {
      vars.push(x);
      coefs.push(coef);
    }
    row._vars = vars;
    row._coefs = coefs;
  }

  /** Sets the right-hand side of a `<=`, `>=` or `==` constraint (see `Constraint.rhs`). */
  setRhs(c: Constraint | string, rhs: number): void {
    const row = this.resolveRow(c);
    if (Number.isNaN(rhs)) throw new RangeError(`constraint ${row.name}: NaN right-hand side`);
    switch (row.sense) {
      case "<=":
        row._upper = rhs;
        return;
      case ">=":
        row._lower = rhs;
        return;
      case "==":
        row._lower = rhs;
        row._upper = rhs;
        return;
      default:
        throw new RangeError(
          `constraint ${row.name} is a ${row.sense} row: use setConstraintBounds`,
        );
    }
  }

  /** Sets both bounds of a constraint's activity. */
  setConstraintBounds(c: Constraint | string, lower: number, upper: number): void {
    const row = this.resolveRow(c);
    if (Number.isNaN(lower) || Number.isNaN(upper)) {
      throw new RangeError(`constraint ${row.name}: NaN bound`);
    }
    row._lower = lower;
    row._upper = upper;
  }

  /** Removes a constraint (amortized O(1)). Its name becomes free again. */
  removeConstraint(c: Constraint | string): void {
    const row = this.resolveRow(c);
    row._removed = true;
    this._rowByName.delete(row.name);
    this._removedRows++;
  }

  // ------------------------------------------------------------------ compile

  /** Number of nonzero constraint coefficients. */
  get numNonzeros(): number {
    let n = 0;
    for (const c of this.constraints()) n += c._vars.length;
    return n;
  }

  /** The model as plain numeric data (see `CompiledModel`). */
  compile(): CompiledModel {
    const rows = this.constraints();
    const n = this._vars.length;
    const m = rows.length;
    const starts = new Int32Array(m + 1);
    let nnz = 0;
    for (let i = 0; i < m; i++) {
      nnz += rows[i]!._vars.length;
      starts[i + 1] = nnz;
    }
    const indices = new Int32Array(nnz);
    const values = new Float64Array(nnz);
    const rowLower = new Float64Array(m);
    const rowUpper = new Float64Array(m);
    const rowNames = new Array<string>(m);
    for (let i = 0; i < m; i++) {
      const r = rows[i]!;
      let p = starts[i]!;
      for (let k = 0; k < r._vars.length; k++, p++) {
        indices[p] = r._vars[k]!.index;
        values[p] = r._coefs[k]!;
      }
      rowLower[i] = r._lower;
      rowUpper[i] = r._upper;
      rowNames[i] = r.name;
    }
    let integrality: Int32Array | undefined;
    if (this.isMip) {
      integrality = new Int32Array(n);
      for (let j = 0; j < n; j++) integrality[j] = this._type[j] === "continuous" ? 0 : 1;
    }
    return {
      name: this.name,
      sense: this._sense,
      offset: this._offset,
      colNames: this._vars.map((v) => v.name),
      colCost: Float64Array.from(this._cost),
      colLower: Float64Array.from(this._lb),
      colUpper: Float64Array.from(this._ub),
      integrality,
      rowNames,
      rowLower,
      rowUpper,
      starts,
      indices,
      values,
    };
  }

  /** Rebuilds a model from compiled data (e.g. read from an LP or MPS file). */
  static fromCompiled(data: CompiledModel): Model {
    const m = new Model(data.name);
    const n = data.colNames.length;
    for (let j = 0; j < n; j++) {
      const type: VarType = data.integrality?.[j] ? "integer" : "continuous";
      const v = m.addVar(data.colNames[j], { type });
      m._lb[v.index] = data.colLower[j]!;
      m._ub[v.index] = data.colUpper[j]!;
    }
    m._cost = Array.from(data.colCost);
    m._offset = data.offset;
    m._sense = data.sense;
    for (let i = 0; i < data.rowNames.length; i++) {
      const e = new LinExpr();
      for (let p = data.starts[i]!; p < data.starts[i + 1]!; p++) {
        e.addTerm(m._vars[data.indices[p]!]!, data.values[p]!);
      }
      m.add({ expr: e, lower: data.rowLower[i]!, upper: data.rowUpper[i]! }, data.rowNames[i]);
    }
    return m;
  }

  /** Multi-line human-readable listing (for small models and debugging). */
  toString(): string {
    const lines = [
      `${this._sense === "min" ? "minimize" : "maximize"} ${this.objective()}`,
      "subject to",
    ];
    for (const c of this.constraints()) lines.push(`  ${c}`);
    for (const v of this._vars) {
      const t = this._type[v.index] === "continuous" ? "" : ` ${this._type[v.index]}`;
      lines.push(`  ${this._lb[v.index]} <= ${v.name} <= ${this._ub[v.index]}${t}`);
    }
    return lines.join("\n");
  }

  // ----------------------------------------------------------------- internal

  private _scratch = new Int32Array(0);

  /** `expr.merged()` with ownership checks, O(terms) through a reusable position array. */
  private merge(e: LinExpr, where: string): { vars: Var[]; coefs: number[]; constant: number } {
    if (this._scratch.length < this._vars.length) {
      this._scratch = new Int32Array(Math.max(this._vars.length, 2 * this._scratch.length)).fill(
        -1,
      );
    }
    const pos = this._scratch;
    const vars: Var[] = [];
    const coefs: number[] = [];
    const n = e.vars.length;
    for (let k = 0; k < n; k++) {
      const v = e.vars[k]!;
      if (this._vars[v.index] !== v) this.checkOwn(v, where);
      const at = pos[v.index]!;
      if (at < 0) {
        pos[v.index] = vars.length;
        vars.push(v);
        coefs.push(e.coefs[k]!);
      } else coefs[at]! += e.coefs[k]!;
    }
    let w = 0;
    for (let k = 0; k < vars.length; k++) {
      pos[vars[k]!.index] = -1;
      if (coefs[k] !== 0) {
        vars[w] = vars[k]!;
        coefs[w++] = coefs[k]!;
      }
    }
    vars.length = w;
    coefs.length = w;
    return { vars, coefs, constant: e.constant };
  }

  private checkOwn(v: Var, where: string): void {
    if (!(v instanceof Var)) throw new TypeError(`${where}: expected a Var`);
    if (this._vars[v.index] !== v) {
      throw new RangeError(`${where}: variable ${v.name} does not belong to model ${this.name}`);
    }
  }

  private resolveVar(v: Var | string): Var {
    if (typeof v === "string") return this.variable(v);
    this.checkOwn(v, "variable");
    return v;
  }

  private resolveRow(c: Constraint | string): Constraint {
    if (typeof c === "string") return this.constraint(c);
    if (this._rowByName.get(c.name) !== c) {
      throw new RangeError(
        `constraint ${c.name} is not in model ${this.name} (removed, or from another model: look it up by name)`,
      );
    }
    return c;
  }

  private compact(): void {
    if (this._removedRows === 0) return;
    this._rows = this._rows.filter((c) => !c._removed);
    this._removedRows = 0;
  }
}

function checkName(name: string, what: string): void {
  if (typeof name !== "string" || name.length === 0)
    throw new RangeError(`${what} name must be a non-empty string`);
  if (/\s/.test(name))
    throw new RangeError(`${what} name ${JSON.stringify(name)} contains whitespace`);
}

function normBounds(
  name: string,
  type: VarType,
  lb: number | undefined,
  ub: number | undefined,
): [number, number] {
  let l = lb ?? 0;
  let u = ub ?? (type === "binary" ? 1 : Infinity);
  if (Number.isNaN(l) || Number.isNaN(u)) throw new RangeError(`variable ${name}: NaN bound`);
  if (l === Infinity || u === -Infinity) {
    throw new RangeError(
      `variable ${name}: bounds [${l}, ${u}] leave no value (lower +Infinity or upper -Infinity)`,
    );
  }
  if (type === "binary") {
    l = Math.max(l, 0);
    u = Math.min(u, 1);
  }
  return [l, u];
}
