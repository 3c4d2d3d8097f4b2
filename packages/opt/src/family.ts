/** Indexed families of variables, `x[k1,k2]`, and the naming of their members. STABLE API (see model.ts). */

import { type Key, LinExpr, type Var } from "./expr.js";

/**
 * An indexed family of variables, e.g. `x[s, r]` over supplier-roastery pairs. Members are
 * named `family[k1,k2,...]`. Immutable after creation and shared by clones.
 */
export class VarFamily {
  /** @internal */ readonly _byKey = new Map<string, Var>();
  /** @internal */ readonly _keys: (readonly Key[])[] = [];

  /** @internal Use `model.addVars`. */
  constructor(readonly name: string) {}

  /** Number of members. */
  get size(): number {
    return this._keys.length;
  }

  /** The member with this key; throws a clear error when there is none. */
  get(...key: Key[]): Var {
    const v = this._byKey.get(keyId(key));
    if (v === undefined) {
      throw new RangeError(
        `variable family ${this.name} has no member ${memberName(this.name, key)}`,
      );
    }
    return v;
  }

  /** The member with this key, or `undefined`. */
  find(...key: Key[]): Var | undefined {
    return this._byKey.get(keyId(key));
  }

  has(...key: Key[]): boolean {
    return this._byKey.has(keyId(key));
  }

  /** Members in creation order. */
  vars(): Var[] {
    return this._keys.map((k) => this._byKey.get(keyId(k))!);
  }

  /** Keys in creation order. */
  keys(): (readonly Key[])[] {
    return this._keys.slice();
  }

  /** `[key, var]` pairs in creation order (an array: map and filter it directly). */
  entries(): [readonly Key[], Var][] {
    return this._keys.map((k) => [k, this._byKey.get(keyId(k))!]);
  }

  /**
   * Members whose key matches `pattern`, where `"*"` matches anything (gurobipy's
   * `select`). With no pattern, every member. O(size) per call.
   */
  select(...pattern: (Key | "*")[]): Var[] {
    if (pattern.length === 0) return this.vars();
    const out: Var[] = [];
    for (const k of this._keys) {
      if (k.length !== pattern.length) continue;
      let ok = true;
      for (let i = 0; i < k.length && ok; i++) ok = pattern[i] === "*" || pattern[i] === k[i];
      if (ok) out.push(this._byKey.get(keyId(k))!);
    }
    return out;
  }

  /** Sum of the members matching `pattern` (see `select`), as a new expression. */
  sum(...pattern: (Key | "*")[]): LinExpr {
    const e = new LinExpr();
    for (const v of this.select(...pattern)) e.addTerm(v, 1);
    return e;
  }
}

/** Name of a family member: `x[a,b]`. */
export function memberName(family: string, key: readonly Key[]): string {
  return `${family}[${key.join(",")}]`;
}

export function keyId(key: readonly Key[]): string {
  return key.length === 1 ? String(key[0]) : key.join("\u001f");
}
