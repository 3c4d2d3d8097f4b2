/**
 * An app's built model plus the naming OptiGuide needs on top of `@athanor/opt`'s `Model`:
 * variables by their gurobipy name (`buy[hot dog]`, with spaces), aliases (tsp's `vars[j,i]` is
 * `vars[i,j]`), and constraint labels that may repeat (`_`) or hold spaces (`Why not select?`),
 * which the `Model` cannot use as names. Model names are the labels with whitespace replaced and
 * a `#n` suffix where a label repeats; {@link AppModel.label} maps back.
 */
import { type LinExpr, Model, type Relation, type Var, type VarOptions } from "@athanor/opt";
import type { VarLookup } from "./expr.js";
import { type KeyPart, varName } from "./keys.js";

export class AppModel {
  readonly model: Model;
  private readonly byName = new Map<string, Var>();
  private readonly familyKeys = new Map<string, KeyPart[][]>();
  private readonly aliases = new Map<string, string>();
  private readonly labels = new Map<string, string>();
  private readonly used = new Set<string>();

  constructor(name: string) {
    this.model = new Model(name);
  }

  /** Adds `family[key]` for each key; returns a getter by key parts. */
  addFamily(
    family: string,
    keys: KeyPart[][],
    opts: VarOptions | ((key: KeyPart[]) => VarOptions) = {},
  ) {
    const list = this.familyKeys.get(family) ?? [];
    this.familyKeys.set(family, list);
    for (const k of keys) {
      const name = varName(family, k);
      if (this.byName.has(name)) continue; // a repeated key (gurobipy would fail; data validation reports it)
      const v = this.model.addVar(this.unique(name), typeof opts === "function" ? opts(k) : opts);
      this.byName.set(name, v);
      list.push(k);
    }
    return (...key: KeyPart[]): Var => this.get(varName(family, key));
  }

  /** Adds one variable by its full name (`z[supplier1]` or `t`). */
  addVar(name: string, opts: VarOptions = {}): Var {
    if (this.byName.has(name) || this.aliases.has(name))
      throw new Error(`variable ${name} already exists`);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[(.*)\])?$/.exec(name);
    if (!m)
      throw new Error(`bad variable name "${name}" (expected family[part,part] or a plain name)`);
    const v = this.model.addVar(this.unique(name), opts);
    this.byName.set(name, v);
    const parts: KeyPart[] = m[2] === undefined ? [] : m[2].split(",");
    const list = this.familyKeys.get(m[1]!) ?? [];
    this.familyKeys.set(m[1]!, list);
    list.push(parts);
    return v;
  }

  /** Makes `alias` another name of `target` (tsp's `vars[j,i] = vars[i,j]`). */
  alias(alias: string, target: string): void {
    if (!this.byName.has(target)) throw new Error(`alias target ${target} does not exist`);
    if (!this.byName.has(alias)) this.aliases.set(alias, target);
  }

  /** The variable with this gurobipy-style name (aliases resolved); throws when unknown. */
  get(name: string): Var {
    const v = this.byName.get(this.aliases.get(name) ?? name);
    if (!v) throw new Error(this.unknownVar(name));
    return v;
  }

  has(name: string): boolean {
    return this.byName.has(this.aliases.get(name) ?? name);
  }

  /** Canonical names of all variables, in creation order. */
  varNames(): string[] {
    return [...this.byName.keys()];
  }

  aliasMap(): Record<string, string> {
    return Object.fromEntries(this.aliases);
  }

  /** Variable families and the number of key parts of each. */
  families(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [f, keys] of this.familyKeys) out[f] = keys[0]?.length ?? 0;
    return out;
  }

  /** Canonical name of a model column (the `Var`'s model name may be sanitized). */
  nameOf(v: Var): string {
    return this.colNames()[v.index]!;
  }

  private cols?: string[];
  private colNames(): string[] {
    if (!this.cols || this.cols.length !== this.byName.size) {
      this.cols = [];
      for (const [n, v] of this.byName) this.cols[v.index] = n;
    }
    return this.cols;
  }

  /** Adds a row labelled `label` (labels may repeat and contain spaces). */
  addRow(rel: Relation, label: string, family?: string): void {
    const name = this.unique(label);
    this.model.add(rel, { name, family });
    this.labels.set(name, label);
  }

  /** The label a model row was added with. */
  label(rowName: string): string {
    return this.labels.get(rowName) ?? rowName;
  }

  /** Resolves `family[parts]` for the expression parser; `null` parts are wildcards. */
  readonly lookup: VarLookup = (family, parts) => {
    const keys = this.familyKeys.get(family);
    if (!keys) throw new Error(this.unknownFamily(family));
    if (!parts.includes(null)) {
      const name = varName(family, parts as string[]);
      this.get(name);
      return [this.aliases.get(name) ?? name];
    }
    const out = new Set<string>();
    const consider = (k: KeyPart[]) => {
      if (k.length !== parts.length) return;
      if (k.every((p, i) => parts[i] === null || String(p) === parts[i]))
        out.add(varName(family, k));
    };
    for (const k of keys) consider(k);
    // Aliased keys (tsp) match patterns too: vars[3,*] includes vars[5,3] through vars[3,5].
    for (const [a, target] of this.aliases) {
      const m = /^([^[]+)\[(.*)\]$/.exec(a);
      if (m?.[1] === family && [...out].every((n) => n !== target)) {
        const k = m[2]!.split(",");
        if (k.length === parts.length && k.every((p, i) => parts[i] === null || p === parts[i]))
          out.add(target);
      }
    }
    return [...out];
  };

  /** A model name for a label: whitespace replaced, `#n` appended while taken. */
  private unique(label: string): string {
    const base = label.replace(/\s/g, "_") || "_";
    let name = base;
    for (
      let k = 2;
      this.used.has(name) || this.model.findConstraint(name) || this.model.findVariable(name);
      k++
    )
      name = `${base}#${k}`;
    this.used.add(name);
    return name;
  }

  private unknownVar(name: string): string {
    const m = /^([^[]+)\[/.exec(name);
    const fam = m?.[1] ?? name;
    const keys = this.familyKeys.get(fam);
    if (!keys) return this.unknownFamily(fam);
    const sample = keys.slice(0, 4).map((k) => varName(fam, k));
    return `unknown variable ${name}: ${fam} has ${keys.length} members, e.g. ${sample.join(", ")}`;
  }

  private unknownFamily(fam: string): string {
    return `unknown variable family "${fam}" (the model has ${[...this.familyKeys.keys()].join(", ")})`;
  }
}

export type { LinExpr };
