/**
 * The linear-expression language of constraint edits: what `addConstr("...")` takes.
 *
 *   relation := expr ("<=" | ">=" | "==") expr
 *   expr     := ["+" | "-"] term (("+" | "-") term)*
 *   term     := factor (("*" | "/") factor)*      at most one factor may hold variables
 *   factor   := number | variable | "sum(" expr ")" | "(" expr ")"
 *   variable := name "[" part ("," part)* "]" | name
 *
 * Parts are written bare or quoted (`buy[hot dog]`, `buy["hot dog"]`, `x[Gu, Sun7]`); inside
 * `sum(...)` a part may be `*`, which sums the family over every value of that part, as
 * gurobipy's `x.sum("Bob", "*")` does. Variables are checked against the model when parsed.
 */

export type Sense = "<=" | ">=" | "==";

export interface LinearExpr {
  /** Coefficient per canonical variable name. */
  terms: Map<string, number>;
  constant: number;
}

export interface LinearRelation {
  /** All variables on the left: `terms · x  sense  rhs`. */
  terms: Map<string, number>;
  sense: Sense;
  rhs: number;
}

/**
 * Resolves `family[parts]` to canonical variable names. A `null` part is a wildcard (several names);
 * otherwise exactly one name. Throws a descriptive error for an unknown family or key.
 */
export type VarLookup = (family: string, parts: (string | null)[]) => string[];

export class ExprError extends Error {
  constructor(message: string, text: string, at: number) {
    super(`${message} at column ${at + 1} of "${text}"`);
    this.name = "ExprError";
  }
}

type Tok =
  | { t: "num"; v: number; at: number }
  | { t: "var"; family: string; parts: (string | null)[] | null; at: number }
  | { t: "op"; v: string; at: number };

function unquote(p: string): string {
  const s = p.trim();
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s.at(-1) === s[0]) return s.slice(1, -1);
  return s;
}

function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?)/i.exec(text.slice(i));
    if (num) {
      out.push({ t: "num", v: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (id) {
      const at = i;
      i += id[0].length;
      let j = i;
      while (text[j] === " ") j++;
      if (text[j] === "[") {
        const close = text.indexOf("]", j);
        if (close < 0) throw new ExprError("unclosed '['", text, j);
        const raw = text.slice(j + 1, close);
        const parts = raw.split(",").map((p) => (p.trim() === "*" ? null : unquote(p)));
        if (parts.some((p) => p === ""))
          throw new ExprError(`empty index in "${id[0]}[${raw}]"`, text, j);
        out.push({ t: "var", family: id[0], parts, at });
        i = close + 1;
      } else out.push({ t: "var", family: id[0], parts: null, at });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === "<=" || two === ">=" || two === "==") {
      out.push({ t: "op", v: two, at: i });
      i += 2;
      continue;
    }
    if ("+-*/()".includes(c)) {
      out.push({ t: "op", v: c, at: i });
      i++;
      continue;
    }
    if (c === "<" || c === ">")
      throw new ExprError(`strict "${c}" is not allowed in a linear model; use "${c}="`, text, i);
    if (c === "=") throw new ExprError('use "==" for equality', text, i);
    throw new ExprError(`unexpected "${c}"`, text, i);
  }
  return out;
}

class Parser {
  private pos = 0;
  private wildcardDepth = 0;
  constructor(
    private readonly text: string,
    private readonly toks: Tok[],
    private readonly lookup: VarLookup,
  ) {}

  private peek(): Tok | undefined {
    return this.toks[this.pos];
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t?.t === "op" && t.v === v;
  }
  private fail(message: string): never {
    throw new ExprError(message, this.text, this.peek()?.at ?? this.text.length);
  }
  private expect(v: string): void {
    if (!this.isOp(v)) this.fail(`expected "${v}"`);
    this.pos++;
  }

  atEnd(): boolean {
    return this.pos >= this.toks.length;
  }

  relation(): LinearRelation {
    const lhs = this.expr();
    const t = this.peek();
    if (t?.t !== "op" || !["<=", ">=", "=="].includes(t.v))
      this.fail('expected a relation "<=", ">=" or "=="');
    this.pos++;
    const rhs = this.expr();
    if (!this.atEnd()) this.fail("unexpected text after the relation");
    const terms = new Map(lhs.terms);
    for (const [v, c] of rhs.terms) terms.set(v, (terms.get(v) ?? 0) - c);
    for (const [v, c] of terms) if (c === 0) terms.delete(v);
    return { terms, sense: (t as { v: Sense }).v, rhs: rhs.constant - lhs.constant };
  }

  expr(): LinearExpr {
    let sign = 1;
    if (this.isOp("+") || this.isOp("-")) {
      sign = this.isOp("-") ? -1 : 1;
      this.pos++;
    }
    let acc = scale(this.term(), sign);
    while (this.isOp("+") || this.isOp("-")) {
      const s = this.isOp("-") ? -1 : 1;
      this.pos++;
      acc = add(acc, scale(this.term(), s));
    }
    return acc;
  }

  private term(): LinearExpr {
    let acc = this.factor();
    while (this.isOp("*") || this.isOp("/")) {
      const op = (this.peek() as { v: string }).v;
      this.pos++;
      const rhs = this.factor();
      if (op === "/") {
        if (rhs.terms.size > 0) this.fail("cannot divide by a variable");
        if (rhs.constant === 0) this.fail("division by zero");
        acc = scale(acc, 1 / rhs.constant);
      } else if (acc.terms.size === 0) acc = scale(rhs, acc.constant);
      else if (rhs.terms.size === 0) acc = scale(acc, rhs.constant);
      else this.fail("product of two variables is not linear");
    }
    return acc;
  }

  private factor(): LinearExpr {
    const t = this.peek();
    if (!t) this.fail("expression ends early");
    if (t.t === "num") {
      this.pos++;
      return { terms: new Map(), constant: t.v };
    }
    if (t.t === "op") {
      if (t.v === "(") {
        this.pos++;
        const e = this.expr();
        this.expect(")");
        return e;
      }
      if (t.v === "-") {
        this.pos++;
        return scale(this.factor(), -1);
      }
      this.fail(`unexpected "${t.v}"`);
    }
    this.pos++;
    if (t.family === "sum" && t.parts === null && this.isOp("(")) {
      this.pos++;
      this.wildcardDepth++;
      const e = this.expr();
      this.wildcardDepth--;
      this.expect(")");
      return e;
    }
    const parts = t.parts ?? [];
    if (parts.includes(null) && this.wildcardDepth === 0)
      throw new ExprError('"*" is only allowed inside sum(...)', this.text, t.at);
    let names: string[];
    try {
      names = this.lookup(t.family, parts);
    } catch (e) {
      throw new ExprError((e as Error).message, this.text, t.at);
    }
    const terms = new Map<string, number>();
    for (const n of names) terms.set(n, (terms.get(n) ?? 0) + 1);
    return { terms, constant: 0 };
  }
}

function scale(e: LinearExpr, k: number): LinearExpr {
  const terms = new Map<string, number>();
  for (const [v, c] of e.terms) terms.set(v, c * k);
  return { terms, constant: e.constant * k };
}

function add(a: LinearExpr, b: LinearExpr): LinearExpr {
  const terms = new Map(a.terms);
  for (const [v, c] of b.terms) terms.set(v, (terms.get(v) ?? 0) + c);
  return { terms, constant: a.constant + b.constant };
}

/** Parses `"x[s1,r1] >= x[s1,r2] + 1"` into `terms · x  sense  rhs`. */
export function parseRelation(text: string, lookup: VarLookup): LinearRelation {
  if (typeof text !== "string")
    throw new Error(`a constraint must be a string, got ${typeof text}`);
  return new Parser(text, tokenize(text), lookup).relation();
}

/** Parses a linear expression (no relation). */
export function parseExpression(text: string, lookup: VarLookup): LinearExpr {
  const p = new Parser(text, tokenize(text), lookup);
  const e = p.expr();
  if (!p.atEnd()) throw new ExprError("unexpected text after the expression", text, text.length);
  return e;
}
