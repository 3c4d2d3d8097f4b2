/**
 * A parser for the small subset of Python that OptiGuide's ground-truth snippets use: assignments
 * (plain and augmented) to names and subscripts, `for` / `if` / `elif` / `else` blocks, calls with
 * keyword arguments, attribute access, tuples, lists, list and generator comprehensions,
 * conditional expressions, comparisons (with `in` / `not in`) and arithmetic. It reads tab or space
 * indentation like CPython (tabs to the next multiple of 8) and drops comments.
 */

export type PyExpr =
  | { k: "num"; v: number }
  | { k: "str"; v: string }
  | { k: "name"; id: string }
  | { k: "tuple"; items: PyExpr[] }
  | { k: "list"; items: PyExpr[] }
  | { k: "bin"; op: string; l: PyExpr; r: PyExpr }
  | { k: "unary"; op: "-" | "+" | "not"; e: PyExpr }
  | { k: "cmp"; ops: string[]; items: PyExpr[] }
  | { k: "bool"; op: "and" | "or"; items: PyExpr[] }
  | { k: "ifexp"; cond: PyExpr; body: PyExpr; orelse: PyExpr }
  | { k: "call"; fn: PyExpr; args: PyExpr[]; kwargs: Record<string, PyExpr> }
  | { k: "attr"; obj: PyExpr; name: string }
  | { k: "sub"; obj: PyExpr; index: PyExpr }
  | { k: "comp"; kind: "gen" | "list"; elt: PyExpr; fors: PyFor[] };

/** A loop target: a name or a tuple of names (`for i, j in ...`). */
export type PyTarget = string | string[];
export interface PyFor {
  target: PyTarget;
  iter: PyExpr;
  ifs: PyExpr[];
}

export type PyStmt =
  | { k: "expr"; e: PyExpr; line: number }
  | { k: "assign"; target: PyExpr; value: PyExpr; line: number }
  | { k: "aug"; op: string; target: PyExpr; value: PyExpr; line: number }
  | { k: "for"; target: PyTarget; iter: PyExpr; body: PyStmt[]; line: number }
  | { k: "if"; cond: PyExpr; body: PyStmt[]; orelse: PyStmt[]; line: number }
  | { k: "pass"; line: number };

export class PySyntaxError extends Error {
  constructor(message: string, line: number) {
    super(`${message} (snippet line ${line})`);
    this.name = "PySyntaxError";
  }
}

type Tok = {
  t: "name" | "num" | "str" | "op" | "nl" | "indent" | "dedent" | "eof";
  v: string;
  line: number;
};

const OPS = [
  "**=",
  "//=",
  "==",
  "!=",
  "<=",
  ">=",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "**",
  "//",
  "+",
  "-",
  "*",
  "/",
  "%",
  "<",
  ">",
  "=",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ":",
  ".",
];

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  const indents = [0];
  let depth = 0;
  const lines = src.replace(/\r\n?/g, "\n").split("\n");
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!;
    const lineNo = ln + 1;
    let i = 0;
    if (depth === 0) {
      let col = 0;
      for (; i < line.length; i++) {
        if (line[i] === " ") col++;
        else if (line[i] === "\t") col = (Math.floor(col / 8) + 1) * 8;
        else break;
      }
      const rest = line.slice(i).trim();
      if (rest === "" || rest.startsWith("#")) continue;
      if (col > indents.at(-1)!) {
        indents.push(col);
        out.push({ t: "indent", v: "", line: lineNo });
      } else {
        while (col < indents.at(-1)!) {
          indents.pop();
          out.push({ t: "dedent", v: "", line: lineNo });
        }
        if (col !== indents.at(-1)) throw new PySyntaxError("inconsistent indentation", lineNo);
      }
    }
    while (i < line.length) {
      const c = line[i]!;
      if (c === " " || c === "\t") {
        i++;
        continue;
      }
      if (c === "#") break;
      if (c === "\\" && i === line.length - 1) {
        i++;
        continue;
      }
      const rest = line.slice(i);
      const num = /^(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)/.exec(rest);
      if (num) {
        out.push({ t: "num", v: num[0], line: lineNo });
        i += num[0].length;
        continue;
      }
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
      if (name) {
        out.push({ t: "name", v: name[0], line: lineNo });
        i += name[0].length;
        continue;
      }
      if (c === '"' || c === "'") {
        let j = i + 1;
        let s = "";
        while (j < line.length && line[j] !== c) {
          if (line[j] === "\\" && j + 1 < line.length) {
            const e = line[j + 1]!;
            s += e === "n" ? "\n" : e === "t" ? "\t" : e;
            j += 2;
          } else s += line[j++];
        }
        if (j >= line.length) throw new PySyntaxError("unterminated string", lineNo);
        out.push({ t: "str", v: s, line: lineNo });
        i = j + 1;
        continue;
      }
      const op = OPS.find((o) => rest.startsWith(o));
      if (!op) throw new PySyntaxError(`unexpected character "${c}"`, lineNo);
      if ("([{".includes(op)) depth++;
      if (")]}".includes(op)) depth = Math.max(0, depth - 1);
      out.push({ t: "op", v: op, line: lineNo });
      i += op.length;
    }
    if (depth === 0 && out.length > 0 && out.at(-1)!.t !== "nl")
      out.push({ t: "nl", v: "", line: lineNo });
  }
  while (indents.length > 1) {
    indents.pop();
    out.push({ t: "dedent", v: "", line: lines.length });
  }
  out.push({ t: "eof", v: "", line: lines.length });
  return out;
}

const CMP = new Set(["<", "<=", ">", ">=", "==", "!="]);
const AUG = new Set(["+=", "-=", "*=", "/=", "//=", "%=", "**="]);

class Parser {
  private pos = 0;
  constructor(private readonly toks: Tok[]) {}

  private get tok(): Tok {
    return this.toks[this.pos]!;
  }
  private peekType(): Tok["t"] {
    return this.toks[this.pos]!.t;
  }
  private is(v: string, t: Tok["t"] = "op"): boolean {
    return this.peekType() === t && this.tok.v === v;
  }
  private isKw(v: string): boolean {
    return this.is(v, "name");
  }
  private eat(v: string, t: Tok["t"] = "op"): void {
    if (!this.is(v, t))
      throw new PySyntaxError(
        `expected "${v}", found "${this.tok.v || this.peekType()}"`,
        this.tok.line,
      );
    this.pos++;
  }

  module(): PyStmt[] {
    const out: PyStmt[] = [];
    while (this.peekType() !== "eof") {
      if (this.peekType() === "nl") {
        this.pos++;
        continue;
      }
      if (this.peekType() === "indent") throw new PySyntaxError("unexpected indent", this.tok.line);
      out.push(this.stmt());
    }
    return out;
  }

  private block(): PyStmt[] {
    this.eat(":");
    if (this.peekType() !== "nl") {
      const s = this.simple();
      return [s];
    }
    this.pos++;
    if (this.peekType() !== "indent")
      throw new PySyntaxError("expected an indented block", this.tok.line);
    this.pos++;
    const body: PyStmt[] = [];
    while (this.peekType() !== "dedent" && this.peekType() !== "eof") {
      if (this.peekType() === "nl") {
        this.pos++;
        continue;
      }
      body.push(this.stmt());
    }
    if (this.peekType() === "dedent") this.pos++;
    return body;
  }

  private stmt(): PyStmt {
    const line = this.tok.line;
    if (this.isKw("for")) {
      this.pos++;
      const target = this.target();
      this.eat("in", "name");
      const iter = this.exprList();
      return { k: "for", target, iter, body: this.block(), line };
    }
    if (this.isKw("if")) return this.ifStmt();
    return this.simple();
  }

  private ifStmt(): PyStmt {
    const line = this.tok.line;
    this.pos++;
    const cond = this.expr();
    const body = this.block();
    let orelse: PyStmt[] = [];
    if (this.isKw("elif")) orelse = [this.ifStmt()];
    else if (this.isKw("else")) {
      this.pos++;
      orelse = this.block();
    }
    return { k: "if", cond, body, orelse, line };
  }

  private simple(): PyStmt {
    const line = this.tok.line;
    if (this.isKw("pass")) {
      this.pos++;
      this.endLine();
      return { k: "pass", line };
    }
    const lhs = this.exprList();
    let s: PyStmt;
    if (this.is("=")) {
      this.pos++;
      s = { k: "assign", target: lhs, value: this.exprList(), line };
    } else if (this.peekType() === "op" && AUG.has(this.tok.v)) {
      const op = this.tok.v.slice(0, -1);
      this.pos++;
      s = { k: "aug", op, target: lhs, value: this.exprList(), line };
    } else s = { k: "expr", e: lhs, line };
    this.endLine();
    return s;
  }

  private endLine(): void {
    if (this.peekType() === "nl") this.pos++;
    else if (this.peekType() !== "eof" && this.peekType() !== "dedent")
      throw new PySyntaxError(`unexpected "${this.tok.v}"`, this.tok.line);
  }

  private target(): PyTarget {
    const names: string[] = [];
    const paren = this.is("(");
    if (paren) this.pos++;
    for (;;) {
      if (this.peekType() !== "name")
        throw new PySyntaxError("expected a loop variable", this.tok.line);
      names.push(this.tok.v);
      this.pos++;
      if (!this.is(",")) break;
      this.pos++;
    }
    if (paren) this.eat(")");
    return names.length === 1 ? names[0]! : names;
  }

  /** `a, b` (a tuple without parentheses) or one expression. */
  private exprList(): PyExpr {
    const first = this.expr();
    if (!this.is(",")) return first;
    const items = [first];
    while (this.is(",")) {
      this.pos++;
      if (this.peekType() === "nl" || this.is("=") || this.is(")")) break;
      items.push(this.expr());
    }
    return { k: "tuple", items };
  }

  expr(): PyExpr {
    const e = this.orExpr();
    if (this.isKw("if") && !this.inCompHead) {
      this.pos++;
      const cond = this.orExpr();
      this.eat("else", "name");
      return { k: "ifexp", cond, body: e, orelse: this.expr() };
    }
    return e;
  }
  private inCompHead = false;

  private orExpr(): PyExpr {
    const items = [this.andExpr()];
    while (this.isKw("or")) {
      this.pos++;
      items.push(this.andExpr());
    }
    return items.length === 1 ? items[0]! : { k: "bool", op: "or", items };
  }
  private andExpr(): PyExpr {
    const items = [this.notExpr()];
    while (this.isKw("and")) {
      this.pos++;
      items.push(this.notExpr());
    }
    return items.length === 1 ? items[0]! : { k: "bool", op: "and", items };
  }
  private notExpr(): PyExpr {
    if (this.isKw("not")) {
      this.pos++;
      return { k: "unary", op: "not", e: this.notExpr() };
    }
    return this.comparison();
  }
  private comparison(): PyExpr {
    const items = [this.arith()];
    const ops: string[] = [];
    for (;;) {
      if (this.peekType() === "op" && CMP.has(this.tok.v)) {
        ops.push(this.tok.v);
        this.pos++;
      } else if (this.isKw("in")) {
        ops.push("in");
        this.pos++;
      } else if (this.isKw("not") && this.toks[this.pos + 1]?.v === "in") {
        ops.push("not in");
        this.pos += 2;
      } else break;
      items.push(this.arith());
    }
    return ops.length === 0 ? items[0]! : { k: "cmp", ops, items };
  }
  private arith(): PyExpr {
    let l = this.termExpr();
    while (this.is("+") || this.is("-")) {
      const op = this.tok.v;
      this.pos++;
      l = { k: "bin", op, l, r: this.termExpr() };
    }
    return l;
  }
  private termExpr(): PyExpr {
    let l = this.unary();
    while (this.is("*") || this.is("/") || this.is("//") || this.is("%")) {
      const op = this.tok.v;
      this.pos++;
      l = { k: "bin", op, l, r: this.unary() };
    }
    return l;
  }
  private unary(): PyExpr {
    if (this.is("-") || this.is("+")) {
      const op = this.tok.v as "-" | "+";
      this.pos++;
      return { k: "unary", op, e: this.unary() };
    }
    return this.power();
  }
  private power(): PyExpr {
    const base = this.postfix();
    if (this.is("**")) {
      this.pos++;
      return { k: "bin", op: "**", l: base, r: this.unary() };
    }
    return base;
  }
  private postfix(): PyExpr {
    let e = this.atom();
    for (;;) {
      if (this.is(".")) {
        this.pos++;
        if (this.peekType() !== "name")
          throw new PySyntaxError("expected an attribute name", this.tok.line);
        e = { k: "attr", obj: e, name: this.tok.v };
        this.pos++;
      } else if (this.is("(")) {
        this.pos++;
        e = this.callArgs(e);
      } else if (this.is("[")) {
        this.pos++;
        const index = this.exprList();
        this.eat("]");
        e = { k: "sub", obj: e, index };
      } else return e;
    }
  }
  private callArgs(fn: PyExpr): PyExpr {
    const args: PyExpr[] = [];
    const kwargs: Record<string, PyExpr> = {};
    while (!this.is(")")) {
      if (
        this.peekType() === "name" &&
        this.toks[this.pos + 1]?.v === "=" &&
        this.toks[this.pos + 1]?.t === "op"
      ) {
        const k = this.tok.v;
        this.pos += 2;
        kwargs[k] = this.expr();
      } else {
        const a = this.expr();
        if (this.isKw("for")) args.push({ k: "comp", kind: "gen", elt: a, fors: this.compFors() });
        else args.push(a);
      }
      if (!this.is(",")) break;
      this.pos++;
    }
    this.eat(")");
    return { k: "call", fn, args, kwargs };
  }
  private compFors(): PyFor[] {
    const fors: PyFor[] = [];
    while (this.isKw("for")) {
      this.pos++;
      const target = this.target();
      this.eat("in", "name");
      const saved = this.inCompHead;
      this.inCompHead = true;
      const iter = this.orExpr();
      const ifs: PyExpr[] = [];
      while (this.isKw("if")) {
        this.pos++;
        ifs.push(this.orExpr());
      }
      this.inCompHead = saved;
      fors.push({ target, iter, ifs });
    }
    return fors;
  }
  private atom(): PyExpr {
    const t = this.tok;
    if (t.t === "num") {
      this.pos++;
      return { k: "num", v: Number(t.v) };
    }
    if (t.t === "str") {
      this.pos++;
      let v = t.v;
      while (this.peekType() === "str") {
        v += this.tok.v;
        this.pos++;
      }
      return { k: "str", v };
    }
    if (t.t === "name") {
      this.pos++;
      return { k: "name", id: t.v };
    }
    if (this.is("(")) {
      this.pos++;
      if (this.is(")")) {
        this.pos++;
        return { k: "tuple", items: [] };
      }
      const first = this.expr();
      if (this.isKw("for")) {
        const fors = this.compFors();
        this.eat(")");
        return { k: "comp", kind: "gen", elt: first, fors };
      }
      if (this.is(")")) {
        this.pos++;
        return first;
      }
      const items = [first];
      while (this.is(",")) {
        this.pos++;
        if (this.is(")")) break;
        items.push(this.expr());
      }
      this.eat(")");
      return { k: "tuple", items };
    }
    if (this.is("[")) {
      this.pos++;
      if (this.is("]")) {
        this.pos++;
        return { k: "list", items: [] };
      }
      const first = this.expr();
      if (this.isKw("for")) {
        const fors = this.compFors();
        this.eat("]");
        return { k: "comp", kind: "list", elt: first, fors };
      }
      const items = [first];
      while (this.is(",")) {
        this.pos++;
        if (this.is("]")) break;
        items.push(this.expr());
      }
      this.eat("]");
      return { k: "list", items };
    }
    throw new PySyntaxError(`unexpected "${t.v || t.t}"`, t.line);
  }
}

/** Parses a snippet into statements; throws {@link PySyntaxError} with the line on bad input. */
export function parsePython(src: string): PyStmt[] {
  return new Parser(tokenize(src)).module();
}
