/**
 * The oracle's translator: a ground-truth gurobipy snippet (a question's DATA CODE or CONSTRAINT
 * CODE) → an edit in Athanor's edit form (see ../edit.ts). It parses the Python (./python.ts) and
 * generates JavaScript: data names become `data.<name>`, tuple keys become `key(...)` strings,
 * `m.addConstr(lhs <= rhs, name)` becomes `addConstr("lhs <= rhs", name)` with the relation
 * written in the linear-expression language (../expr.ts), `.X` becomes `value("...")`, and
 * `(a, b) in x` on a variable family becomes `has("x[a,b]")`. Nothing is keyed by question.
 */
import type { AppData, Json } from "../data.js";
import type { Edit } from "../edit.js";
import { type PyExpr, type PyFor, type PyStmt, type PyTarget, parsePython } from "./python.js";

/** What the translator needs to know about an app: its data names and its variable families. */
export interface TranslateContext {
  /** The app's data before any edit (names and the shape of each value). */
  data: AppData;
  /** Variable families of the built model and the number of key parts of each. */
  families: Record<string, number>;
}

export class TranslateError extends Error {
  constructor(message: string, line?: number) {
    super(line === undefined ? message : `${message} (snippet line ${line})`);
    this.name = "TranslateError";
  }
}

/** OptiGuide's rule (optiguide.py): a snippet containing `addConstr` goes to the constraint edit point. */
export function snippetKind(code: string): Edit["kind"] {
  return code.includes("addConstr") ? "constraint" : "data";
}

/** Translates a gurobipy snippet into an edit; `kind` follows OptiGuide's placement rule. */
export function translateSnippet(code: string, ctx: TranslateContext): Edit {
  const kind = snippetKind(code);
  const stmts = parsePython(code);
  const gen = new Gen(ctx);
  const lines = gen.block(stmts, 0);
  return { kind, code: lines.join("\n") };
}

const MODEL_NAMES = new Set(["m", "model"]);
const NO_OPS = new Set(["update", "optimize", "write", "setParam"]);

type Piece = { lit: string } | { js: string };

class Gen {
  private readonly locals = new Set<string>();
  private readonly families: Map<string, number>;
  constructor(private readonly ctx: TranslateContext) {
    this.families = new Map(Object.entries(ctx.families));
  }

  block(stmts: PyStmt[], depth: number): string[] {
    return stmts.flatMap((s) => this.stmt(s, depth));
  }

  private stmt(s: PyStmt, depth: number): string[] {
    const pad = "  ".repeat(depth);
    switch (s.k) {
      case "pass":
        return [];
      case "for": {
        const head = `${pad}for (const ${this.bind(s.target)} of ${this.iterable(s.iter, s.line)}) {`;
        return [head, ...this.block(s.body, depth + 1), `${pad}}`];
      }
      case "if": {
        const out = [`${pad}if (${this.val(s.cond, s.line)}) {`, ...this.block(s.body, depth + 1)];
        if (s.orelse.length > 0) out.push(`${pad}} else {`, ...this.block(s.orelse, depth + 1));
        out.push(`${pad}}`);
        return out;
      }
      case "assign":
        return this.assign(s.target, s.value, s.line).map((l) => pad + l);
      case "aug": {
        const target = this.lvalue(s.target, s.line);
        const v = this.val(s.value, s.line);
        if (s.op === "//") return [`${pad}${target} = Math.floor(${target} / ${v});`];
        return [`${pad}${target} ${s.op}= ${v};`];
      }
      case "expr":
        return this.exprStmt(s.e, s.line).map((l) => pad + l);
    }
  }

  private bind(t: PyTarget): string {
    const names = typeof t === "string" ? [t] : t;
    for (const n of names) this.locals.add(n);
    return typeof t === "string" ? t : `[${t.join(", ")}]`;
  }

  private assign(target: PyExpr, value: PyExpr, line: number): string[] {
    // z = m.addVars(...) / v = m.addVar(...): a new variable family.
    if (
      target.k === "name" &&
      value.k === "call" &&
      value.fn.k === "attr" &&
      isModel(value.fn.obj)
    ) {
      if (value.fn.name === "addVars") return this.addVars(target.id, value, line);
      if (value.fn.name === "addVar") {
        this.families.set(target.id, 0);
        return [`addVar(${JSON.stringify(target.id)}${this.varOpts(value.kwargs, line)});`];
      }
    }
    if (target.k === "name" && !(target.id in this.ctx.data) && !this.locals.has(target.id)) {
      this.locals.add(target.id);
      return [`let ${target.id} = ${this.val(value, line)};`];
    }
    return [`${this.lvalue(target, line)} = ${this.val(value, line)};`];
  }

  private addVars(name: string, call: Extract<PyExpr, { k: "call" }>, line: number): string[] {
    if (call.args.length === 0)
      throw new TranslateError("addVars needs at least one index set", line);
    this.families.set(name, call.args.length);
    const idx = call.args.map((_, i) => `k${i}`);
    const out: string[] = [];
    call.args.forEach((a, i) => {
      out.push(`${"  ".repeat(i)}for (const ${idx[i]} of ${this.iterable(a, line)}) {`);
    });
    const nameJs = `\`${name}[${idx.map((k) => `\${${k}}`).join(",")}]\``;
    out.push(`${"  ".repeat(idx.length)}addVar(${nameJs}${this.varOpts(call.kwargs, line)});`);
    for (let i = idx.length - 1; i >= 0; i--) out.push(`${"  ".repeat(i)}}`);
    return out;
  }

  private varOpts(kwargs: Record<string, PyExpr>, line: number): string {
    const opts: string[] = [];
    const vt = kwargs.vtype;
    if (vt) {
      const t = vt.k === "attr" ? vt.name : vt.k === "str" ? vt.v : "";
      const type = {
        BINARY: "binary",
        B: "binary",
        INTEGER: "integer",
        I: "integer",
        CONTINUOUS: "continuous",
        C: "continuous",
      }[t];
      if (!type) throw new TranslateError("unsupported vtype", line);
      opts.push(`type: "${type}"`);
    }
    if (kwargs.lb) opts.push(`lb: ${this.val(kwargs.lb, line)}`);
    if (kwargs.ub) opts.push(`ub: ${this.val(kwargs.ub, line)}`);
    return opts.length > 0 ? `, { ${opts.join(", ")} }` : "";
  }

  private exprStmt(e: PyExpr, line: number): string[] {
    if (e.k !== "call" || e.fn.k !== "attr")
      throw new TranslateError("only calls can stand alone as statements", line);
    const { obj, name } = e.fn;
    if (isModel(obj)) {
      if (NO_OPS.has(name)) return [];
      if (name === "addConstr" || name === "addLConstr") {
        if (e.args.length < 1) throw new TranslateError("addConstr needs a relation", line);
        return [`addConstr(${this.relation(e.args[0]!, line)}${this.nameArg(e, line)});`];
      }
      if (name === "addConstrs") return this.addConstrs(e, line);
      if (name === "addVars" || name === "addVar")
        throw new TranslateError(`assign the result of m.${name}(...) to a name`, line);
      throw new TranslateError(`unsupported model method m.${name}`, line);
    }
    if (name === "append") {
      if (e.args.length !== 1) throw new TranslateError("append takes one argument", line);
      return [`${this.val(obj, line)}.push(${this.val(e.args[0]!, line)});`];
    }
    throw new TranslateError(`unsupported call .${name}(...)`, line);
  }

  private nameArg(e: Extract<PyExpr, { k: "call" }>, line: number): string {
    const n = e.args[1] ?? e.kwargs.name;
    return n ? `, ${this.val(n, line)}` : "";
  }

  /** m.addConstrs((rel for ... if ...), name): one row per generated index, named like gurobipy. */
  private addConstrs(e: Extract<PyExpr, { k: "call" }>, line: number): string[] {
    const g = e.args[0];
    if (g?.k !== "comp")
      throw new TranslateError("addConstrs needs a generator of relations", line);
    const nameExpr = e.args[1] ?? e.kwargs.name;
    const out: string[] = [];
    let depth = 0;
    const index: string[] = [];
    for (const f of g.fors) {
      out.push(
        `${"  ".repeat(depth)}for (const ${this.bind(f.target)} of ${this.iterable(f.iter, line)}) {`,
      );
      depth++;
      index.push(...(typeof f.target === "string" ? [f.target] : f.target));
      for (const c of f.ifs) {
        out.push(`${"  ".repeat(depth)}if (${this.val(c, line)}) {`);
        depth++;
      }
    }
    let name = "";
    if (nameExpr) {
      if (nameExpr.k !== "str") throw new TranslateError("addConstrs name must be a string", line);
      const idx = index.map((i) => `\${${i}}`).join(",");
      // gurobipy names rows name[index]; the special name "_" names each row by its index alone.
      name = nameExpr.v === "_" ? `, \`${idx}\`` : `, \`${escapeTemplate(nameExpr.v)}[${idx}]\``;
    }
    out.push(`${"  ".repeat(depth)}addConstr(${this.relation(g.elt, line)}${name});`);
    while (depth > 0) out.push(`${"  ".repeat(--depth)}}`);
    return out;
  }

  // ---- linear expressions (strings in the expression language) ----

  private relation(e: PyExpr, line: number): string {
    if (e.k !== "cmp" || e.ops.length !== 1 || !["<=", ">=", "=="].includes(e.ops[0]!))
      throw new TranslateError("addConstr takes one relation with <=, >= or ==", line);
    const pieces = [
      ...this.lin(e.items[0]!, line),
      { lit: ` ${e.ops[0]} ` },
      ...this.lin(e.items[1]!, line),
    ];
    return template(pieces);
  }

  private isLin(e: PyExpr): boolean {
    switch (e.k) {
      case "name":
        return this.families.has(e.id) && !this.locals.has(e.id);
      case "sub":
        return this.isLin(e.obj);
      case "attr":
        return false;
      case "bin":
        return this.isLin(e.l) || this.isLin(e.r);
      case "unary":
        return this.isLin(e.e);
      case "call": {
        if (e.fn.k === "attr" && e.fn.name === "sum" && this.isLin(e.fn.obj)) return true;
        if (isSumFn(e.fn))
          return e.args.some((a) => (a.k === "comp" ? this.isLin(a.elt) : this.isLin(a)));
        return false;
      }
      default:
        return false;
    }
  }

  private lin(e: PyExpr, line: number): Piece[] {
    if (!this.isLin(e)) {
      if (e.k === "num") return [{ lit: String(e.v) }];
      return [{ js: this.val(e, line) }];
    }
    switch (e.k) {
      case "name":
        return [{ lit: e.id }];
      case "sub":
        return this.varRef(e, line);
      case "unary":
        return e.op === "-"
          ? [{ lit: "-(" }, ...this.lin(e.e, line), { lit: ")" }]
          : this.lin(e.e, line);
      case "bin": {
        const l = this.lin(e.l, line);
        const r = this.lin(e.r, line);
        if (e.op === "+") return [...l, { lit: " + " }, ...r];
        if (e.op === "-") return [...l, { lit: " - (" }, ...r, { lit: ")" }];
        if (e.op === "*") {
          if (this.isLin(e.l) && this.isLin(e.r))
            throw new TranslateError("product of two variables", line);
          return [{ lit: "(" }, ...l, { lit: ") * (" }, ...r, { lit: ")" }];
        }
        if (e.op === "/" && !this.isLin(e.r))
          return [{ lit: "(" }, ...l, { lit: ") / (" }, ...r, { lit: ")" }];
        throw new TranslateError(`operator ${e.op} is not linear here`, line);
      }
      case "call":
        return this.linCall(e, line);
      default:
        throw new TranslateError(`unsupported expression in a constraint (${e.k})`, line);
    }
  }

  private varRef(e: Extract<PyExpr, { k: "sub" }>, line: number): Piece[] {
    if (e.obj.k !== "name") throw new TranslateError("variables are indexed once: x[a, b]", line);
    const parts = e.index.k === "tuple" ? e.index.items : [e.index];
    return [{ lit: `${e.obj.id}[` }, ...this.keyPieces(parts, line), { lit: "]" }];
  }

  private keyPieces(parts: PyExpr[], line: number): Piece[] {
    const out: Piece[] = [];
    parts.forEach((p, i) => {
      if (i > 0) out.push({ lit: "," });
      if (p.k === "str" || p.k === "num") out.push({ lit: String(p.v) });
      else out.push({ js: this.val(p, line) });
    });
    return out;
  }

  private linCall(e: Extract<PyExpr, { k: "call" }>, line: number): Piece[] {
    if (e.fn.k === "attr" && e.fn.name === "sum" && e.fn.obj.k === "name") {
      // gurobipy tupledict.sum(pattern...) / tupledict.sum([keys]).
      const fam = e.fn.obj.id;
      const arity = this.families.get(fam) ?? 1;
      if (e.args.length === 1 && e.args[0]!.k === "list" && arity === 1) {
        const items = (e.args[0] as { items: PyExpr[] }).items;
        if (items.length === 0) return [{ lit: "0" }];
        const out: Piece[] = [{ lit: "(" }];
        items.forEach((it, i) => {
          if (i > 0) out.push({ lit: " + " });
          out.push({ lit: `${fam}[` }, ...this.keyPieces([it], line), { lit: "]" });
        });
        return [...out, { lit: ")" }];
      }
      const args =
        e.args.length === 0
          ? Array.from({ length: arity }, () => ({ k: "str", v: "*" }) as PyExpr)
          : e.args;
      if (args.length !== arity)
        throw new TranslateError(`${fam}.sum takes ${arity} patterns`, line);
      return [{ lit: `sum(${fam}[` }, ...this.keyPieces(args, line), { lit: "])" }];
    }
    if (isSumFn(e.fn) && e.args.length === 1) {
      const a = e.args[0]!;
      if (a.k !== "comp") throw new TranslateError("sum(...) of variables takes a generator", line);
      const js = `sum(${this.comprehension(a.fors, () => template(this.lin(a.elt, line)), line)})`;
      return [{ js }];
    }
    throw new TranslateError("unsupported call in a constraint", line);
  }

  // ---- plain JavaScript values ----

  private iterable(e: PyExpr, line: number): string {
    // Iterating a dict yields its keys (tuples split back into parts).
    if (e.k === "name" && this.isDataName(e.id) && isObject(this.ctx.data[e.id]))
      return `keys(data.${e.id})`;
    return this.val(e, line);
  }

  private comprehension(fors: PyFor[], elt: () => string, line: number): string {
    // Nested fors: flatMap over all but the last.
    const build = (i: number): string => {
      const f = fors[i]!;
      const v = this.bind(f.target);
      let src = this.iterable(f.iter, line);
      for (const c of f.ifs) src = `${src}.filter((${v}) => ${this.val(c, line)})`;
      const body = i === fors.length - 1 ? elt() : build(i + 1);
      return `${src}.${i === fors.length - 1 ? "map" : "flatMap"}((${v}) => ${body})`;
    };
    return build(0);
  }

  private isDataName(id: string): boolean {
    return !this.locals.has(id) && id in this.ctx.data;
  }

  private lvalue(e: PyExpr, line: number): string {
    if (e.k === "name") {
      if (this.isDataName(e.id)) return `data.${e.id}`;
      if (this.locals.has(e.id)) return e.id;
      throw new TranslateError(`unknown name "${e.id}"`, line);
    }
    if (e.k === "sub") return this.subscript(e, line);
    throw new TranslateError("can only assign to names and subscripts", line);
  }

  private subscript(e: Extract<PyExpr, { k: "sub" }>, line: number): string {
    const obj = this.val(e.obj, line);
    if (e.index.k === "tuple") return `${obj}[${this.keyJs(e.index.items, line)}]`;
    return `${obj}[${this.val(e.index, line)}]`;
  }

  private keyJs(parts: PyExpr[], line: number): string {
    if (parts.every((p) => p.k === "str" || p.k === "num"))
      return JSON.stringify(parts.map((p) => String((p as { v: unknown }).v)).join(","));
    return `key(${parts.map((p) => this.val(p, line)).join(", ")})`;
  }

  val(e: PyExpr, line: number): string {
    switch (e.k) {
      case "num":
        return String(e.v);
      case "str":
        return JSON.stringify(e.v);
      case "name": {
        if (e.id === "True") return "true";
        if (e.id === "False") return "false";
        if (e.id === "None") return "null";
        if (this.locals.has(e.id)) return e.id;
        if (e.id in this.ctx.data) return `data.${e.id}`;
        if (this.families.has(e.id))
          throw new TranslateError(`variable family "${e.id}" used as a value`, line);
        throw new TranslateError(`unknown name "${e.id}"`, line);
      }
      case "tuple":
      case "list":
        return `[${e.items.map((i) => this.val(i, line)).join(", ")}]`;
      case "bin": {
        if (this.isLin(e)) throw new TranslateError("a variable expression used as a value", line);
        const l = this.val(e.l, line);
        const r = this.val(e.r, line);
        if (e.op === "//") return `Math.floor(${l} / ${r})`;
        return `(${l} ${e.op} ${r})`;
      }
      case "unary":
        return e.op === "not" ? `!(${this.val(e.e, line)})` : `${e.op}${this.val(e.e, line)}`;
      case "bool":
        return `(${e.items.map((i) => this.val(i, line)).join(e.op === "and" ? " && " : " || ")})`;
      case "ifexp":
        return `(${this.val(e.cond, line)} ? ${this.val(e.body, line)} : ${this.val(e.orelse, line)})`;
      case "cmp": {
        const parts: string[] = [];
        for (let i = 0; i < e.ops.length; i++)
          parts.push(this.compare(e.ops[i]!, e.items[i]!, e.items[i + 1]!, line));
        return parts.length === 1 ? parts[0]! : `(${parts.join(" && ")})`;
      }
      case "sub": {
        if (this.isLin(e.obj))
          throw new TranslateError("a variable used as a value (read its .X)", line);
        return this.subscript(e, line);
      }
      case "attr": {
        if (e.name === "X" || e.name === "x") {
          if (e.obj.k !== "sub" || !this.isLin(e.obj))
            throw new TranslateError(".X is read from a single variable", line);
          return `value(${template(this.varRef(e.obj, line))})`;
        }
        throw new TranslateError(`unsupported attribute .${e.name}`, line);
      }
      case "call":
        return this.call(e, line);
      case "comp": {
        return this.comprehension(e.fors, () => this.val(e.elt, line), line);
      }
    }
  }

  private compare(op: string, l: PyExpr, r: PyExpr, line: number): string {
    if (op === "in" || op === "not in") {
      const t = this.contains(l, r, line);
      return op === "in" ? t : `!${t}`;
    }
    const js = op === "==" ? "===" : op === "!=" ? "!==" : op;
    return `(${this.val(l, line)} ${js} ${this.val(r, line)})`;
  }

  /** `item in container`: a variable family (has), a dict (key in), or a list (includes). */
  private contains(item: PyExpr, container: PyExpr, line: number): string {
    const parts = item.k === "tuple" ? item.items : [item];
    if (
      container.k === "name" &&
      this.families.has(container.id) &&
      !this.locals.has(container.id)
    ) {
      const ref = template([
        { lit: `${container.id}[` },
        ...this.keyPieces(parts, line),
        { lit: "]" },
      ]);
      return `has(${ref})`;
    }
    const c = this.val(container, line);
    const sample =
      container.k === "name" && this.isDataName(container.id)
        ? this.ctx.data[container.id]
        : undefined;
    if (Array.isArray(sample) || container.k === "list" || container.k === "tuple") {
      if (item.k === "tuple") {
        const conds = parts.map((p, i) => `t[${i}] === ${this.val(p, line)}`).join(" && ");
        return `${c}.some((t) => ${conds})`;
      }
      return `${c}.includes(${this.val(item, line)})`;
    }
    return `(${this.keyJs(parts, line)} in ${c})`;
  }

  private call(e: Extract<PyExpr, { k: "call" }>, line: number): string {
    const args = e.args;
    if (e.fn.k === "name") {
      const a0 = args[0];
      switch (e.fn.id) {
        case "len": {
          if (!a0) break;
          const s = a0.k === "name" && this.isDataName(a0.id) ? this.ctx.data[a0.id] : undefined;
          return isObject(s)
            ? `Object.keys(${this.val(a0, line)}).length`
            : `${this.val(a0, line)}.length`;
        }
        case "list":
        case "tuple":
          if (!a0) return "[]";
          return `[...${this.iterable(a0, line)}]`;
        case "set":
          return a0 ? `[...new Set(${this.iterable(a0, line)})]` : "[]";
        case "range":
          return `range(${args.map((a) => this.val(a, line)).join(", ")})`;
        case "abs":
          return `Math.abs(${this.val(a0!, line)})`;
        case "min":
        case "max":
          return `Math.${e.fn.id}(${args.map((a) => (a.k === "comp" ? `...${this.val(a, line)}` : this.val(a, line))).join(", ")})`;
        case "int":
          return `Math.trunc(${this.val(a0!, line)})`;
        case "float":
          return `Number(${this.val(a0!, line)})`;
        case "round":
          return args.length > 1
            ? `(Math.round(${this.val(a0!, line)} * 10 ** ${this.val(args[1]!, line)}) / 10 ** ${this.val(args[1]!, line)})`
            : `Math.round(${this.val(a0!, line)})`;
        case "sum":
          if (a0) return `${this.val(a0, line)}.reduce((a, b) => a + b, 0)`;
          break;
      }
    }
    if (e.fn.k === "attr") {
      const { obj, name } = e.fn;
      if (name === "keys" && args.length === 0) return `keys(${this.val(obj, line)})`;
      if (name === "values" && args.length === 0) return `Object.values(${this.val(obj, line)})`;
      if (name === "items" && args.length === 0)
        return `keys(${this.val(obj, line)}).map((k) => [k, ${this.val(obj, line)}[Array.isArray(k) ? k.join(",") : k]])`;
      if (name === "get" && args.length >= 1) {
        const k =
          args[0]!.k === "tuple"
            ? this.keyJs((args[0] as { items: PyExpr[] }).items, line)
            : this.val(args[0]!, line);
        return `(${this.val(obj, line)}[${k}] ?? ${args[1] ? this.val(args[1], line) : "null"})`;
      }
    }
    throw new TranslateError("unsupported function call", line);
  }
}

function isModel(e: PyExpr): boolean {
  return e.k === "name" && MODEL_NAMES.has(e.id);
}

function isSumFn(fn: PyExpr): boolean {
  return (
    (fn.k === "name" && (fn.id === "sum" || fn.id === "quicksum")) ||
    (fn.k === "attr" && fn.name === "quicksum" && fn.obj.k === "name" && fn.obj.id === "gp")
  );
}

function isObject(v: Json | undefined): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function escapeTemplate(s: string): string {
  return s.replace(/[`\\]/g, (c) => `\\${c}`).replace(/\$\{/g, "\\${");
}

/** Pieces → a JS string expression: a plain literal when constant, else a template literal. */
function template(pieces: Piece[]): string {
  if (pieces.every((p) => "lit" in p))
    return JSON.stringify(pieces.map((p) => (p as { lit: string }).lit).join(""));
  return `\`${pieces.map((p) => ("lit" in p ? escapeTemplate(p.lit) : `\${${p.js}}`)).join("")}\``;
}
