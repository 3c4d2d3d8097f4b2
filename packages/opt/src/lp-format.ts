/**
 * CPLEX LP format, as HiGHS writes and reads it: `min`/`max`, `st`, `bounds`, `general`,
 * `binary`, `end`; `\` comments. Our extension: a ranged row is written `name: lo <= expr <= hi`
 * (HiGHS writes ranges as two rows, `<name>lo` and `<name>up`, and its reader rejects this form:
 * use MPS for ranged models that HiGHS itself must read).
 *
 * Names are written as they are. HiGHS's LP reader aborts on `[` and `]`, which family members
 * (`x[a,b]`) contain; `writeLp(model, { safeNames: true })` writes `x(a,b)` instead.
 */

import { fmtNum, ModelFormatError, modelNameOf, parseNum } from "./format-error.js";
import type { Model } from "./model.js";
import { RawBuilder } from "./raw-builder.js";

export interface LpWriteOptions {
  /** Replace `[`/`]` in names by `(`/`)`, which every LP reader accepts. */
  safeNames?: boolean;
}

/** The model as CPLEX LP text. */
export function writeLp(model: Model, opts: LpWriteOptions = {}): string {
  const d = model.compile();
  const nm = opts.safeNames
    ? (s: string) => s.replaceAll("[", "(").replaceAll("]", ")")
    : (s: string) => s;
  const term = (c: number, name: string) =>
    `${c < 0 ? "-" : "+"}${fmtNum(Math.abs(c))} ${nm(name)}`;
  const out: string[] = [`\\ Model ${d.name}, written by @athanor/opt`];
  out.push(d.sense === "max" ? "max" : "min");
  const obj: string[] = [];
  // Every column appears in the objective (zero costs too), so a reader meets them in column order.
  d.colCost.forEach((c, j) => {
    obj.push(term(c, d.colNames[j]!));
  });
  if (d.offset !== 0) obj.push(`${d.offset < 0 ? "-" : "+"}${fmtNum(Math.abs(d.offset))}`);
  out.push(` obj: ${obj.join(" ")}`);
  out.push("st");
  const first = d.colNames[0];
  for (let i = 0; i < d.rowNames.length; i++) {
    const terms: string[] = [];
    for (let p = d.starts[i]!; p < d.starts[i + 1]!; p++)
      terms.push(term(d.values[p]!, d.colNames[d.indices[p]!]!));
    if (terms.length === 0) {
      if (first === undefined) continue; // a row over no variables in a model without any
      terms.push(`+0 ${nm(first)}`);
    }
    const lo = d.rowLower[i]!;
    const up = d.rowUpper[i]!;
    const lhs = `${nm(d.rowNames[i]!)}: ${terms.join(" ")}`;
    if (lo === up) out.push(` ${lhs} = ${fmtNum(lo)}`);
    else if (lo > -Infinity && up < Infinity)
      out.push(` ${nm(d.rowNames[i]!)}: ${fmtNum(lo)} <= ${terms.join(" ")} <= ${fmtNum(up)}`);
    else if (lo > -Infinity) out.push(` ${lhs} >= ${fmtNum(lo)}`);
    else if (up < Infinity) out.push(` ${lhs} <= ${fmtNum(up)}`);
    else out.push(` ${lhs} >= -inf`);
  }
  out.push("bounds");
  for (let j = 0; j < d.colNames.length; j++) {
    const lo = d.colLower[j]!;
    const up = d.colUpper[j]!;
    const n = nm(d.colNames[j]!);
    if (lo === 0 && up === Infinity) continue;
    if (lo === up) out.push(` ${n} = ${fmtNum(lo)}`);
    else if (lo === -Infinity && up === Infinity) out.push(` ${n} free`);
    else if (up === Infinity) out.push(` ${n} >= ${fmtNum(lo)}`);
    else out.push(` ${fmtNum(lo)} <= ${n} <= ${fmtNum(up)}`);
  }
  if (d.integrality?.some((t) => t !== 0)) {
    out.push("general");
    d.integrality.forEach((t, j) => {
      if (t !== 0) out.push(` ${nm(d.colNames[j]!)}`);
    });
  }
  out.push("end", "");
  return out.join("\n");
}

interface Tok {
  text: string;
  line: number;
}

type Section =
  | "objective"
  | "constraints"
  | "bounds"
  | "general"
  | "binary"
  | "semi"
  | "sos"
  | "end";

const SECTION_WORDS: Record<string, Section | "min" | "max"> = {
  min: "min",
  minimize: "min",
  minimise: "min",
  minimum: "min",
  max: "max",
  maximize: "max",
  maximise: "max",
  maximum: "max",
  st: "constraints",
  "s.t.": "constraints",
  "st.": "constraints",
  bounds: "bounds",
  bound: "bounds",
  general: "general",
  generals: "general",
  gen: "general",
  integer: "general",
  integers: "general",
  binary: "binary",
  binaries: "binary",
  bin: "binary",
  semi: "semi",
  "semi-continuous": "semi",
  semis: "semi",
  sos: "sos",
  end: "end",
};

/** Splits LP text into tokens with line numbers. */
function tokenize(text: string): Tok[] {
  const toks: Tok[] = [];
  const lines = text.split(/\r?\n/);
  const re = /\s*(<=|>=|=<|=>|[<>=:+-]|[^\s<>=:+-]+)/y;
  lines.forEach((raw, k) => {
    const cut = raw.indexOf("\\");
    const line = cut >= 0 ? raw.slice(0, cut) : raw;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    // biome-ignore lint/suspicious/noAssignInExpressions: tokenizer loop
    while ((m = re.exec(line)) !== null) {
      if (m[1] === undefined) break;
      toks.push({ text: m[1], line: k + 1 });
    }
  });
  // "subject to" / "such that" are two words; number exponents like 1e+5 were split at "+".
  const out: Tok[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    const low = t.text.toLowerCase();
    const next = toks[i + 1]?.text.toLowerCase();
    if ((low === "subject" && next === "to") || (low === "such" && next === "that")) {
      out.push({ text: "st", line: t.line });
      i++;
    } else if (
      /^(\d+\.?\d*|\.\d+)e$/i.test(t.text) &&
      (next === "+" || next === "-") &&
      toks[i + 2]
    ) {
      out.push({ text: t.text + toks[i + 1]!.text + toks[i + 2]!.text, line: t.line });
      i += 2;
    } else out.push(t);
  }
  return out;
}

const REL = new Set(["<=", ">=", "=<", "=>", "<", ">", "="]);
const normRel = (r: string) =>
  r === "=<" || r === "<" ? "<=" : r === "=>" || r === ">" ? ">=" : r;

/** Reads CPLEX LP text. Throws `ModelFormatError` (with the line) on bad input. */
export function readLp(text: string, source = "<input>"): Model {
  const toks = tokenize(text);
  const b = new RawBuilder(modelNameOf(source, /\.lp$/i));
  let pos = 0;
  const fail = (line: number, msg: string): never => {
    throw new ModelFormatError("lp", line, msg, source);
  };
  const lastLine = toks.length ? toks[toks.length - 1]!.line : 1;
  const peek = () => toks[pos];
  const sectionOf = (t: Tok | undefined) => (t ? SECTION_WORDS[t.text.toLowerCase()] : undefined);
  const isName = (s: string) => /^[^\d.+\-<>=:][^\s<>=:+-]*$/.test(s) && parseNum(s) === undefined;

  /** Reads `[sign] [number] [name]` terms until a relation, a section word or the end. */
  const expr = (stopAtRel: boolean) => {
    const terms: { name: string; coef: number; line: number }[] = [];
    let constant = 0;
    let any = false;
    while (pos < toks.length) {
      const t = peek()!;
      if (REL.has(t.text) || (!stopAtRel && sectionOf(t))) break;
      if (sectionOf(t) && toks[pos + 1]?.text !== ":") break;
      let sign = 1;
      const before = pos;
      while (peek() && (peek()!.text === "+" || peek()!.text === "-")) {
        if (peek()!.text === "-") sign = -sign;
        pos++;
      }
      const u = peek();
      if (!u) fail(lastLine, "expression ends unexpectedly");
      if (REL.has(u!.text) || (sectionOf(u) && toks[pos + 1]?.text !== ":")) {
        if (pos > before) fail(toks[pos - 1]!.line, "expression ends with a dangling sign");
        break;
      }
      let coef = 1;
      const num = parseNum(u!.text);
      if (num !== undefined) {
        coef = num;
        pos++;
        const v = peek();
        if (v && isName(v.text) && !sectionOf(v) && toks[pos + 1]?.text !== ":") {
          terms.push({ name: v.text, coef: sign * coef, line: v.line });
          pos++;
        } else constant += sign * coef;
      } else if (isName(u!.text)) {
        if (toks[pos + 1]?.text === ":") break; // next constraint's label
        terms.push({ name: u!.text, coef: sign, line: u!.line });
        pos++;
      } else fail(u!.line, `unexpected ${JSON.stringify(u!.text)} in an expression`);
      any = true;
    }
    return { terms, constant, any };
  };

  const num = (what: string): number => {
    let sign = 1;
    while (peek() && (peek()!.text === "+" || peek()!.text === "-")) {
      if (peek()!.text === "-") sign = -sign;
      pos++;
    }
    const t = peek();
    if (!t) return fail(lastLine, `expected ${what}, got the end of the file`);
    const v = parseNum(t.text);
    // A missing number is reported on the line that needed it, not on the next one.
    if (v === undefined)
      fail(toks[pos - 1]?.line ?? t.line, `expected ${what}, got ${JSON.stringify(t.text)}`);
    pos++;
    return sign * v!;
  };

  // Objective sense.
  const head = peek();
  const sense = sectionOf(head);
  if (sense !== "min" && sense !== "max") {
    return fail(
      head?.line ?? 1,
      `expected "minimize" or "maximize" at the start, got ${JSON.stringify(head?.text ?? "")}`,
    );
  }
  b.sense = sense;
  pos++;
  if (toks[pos + 1]?.text === ":") pos += 2; // objective label
  const obj = expr(false);
  for (const t of obj.terms) b.cost[b.col(t.name)]! += t.coef;
  b.offset = obj.constant;

  let section: Section | "min" | "max" | undefined = sectionOf(peek());
  let unnamed = 0;
  while (pos < toks.length) {
    const t = peek()!;
    const s = sectionOf(t);
    if (s && toks[pos + 1]?.text !== ":") {
      if (s === "min" || s === "max")
        fail(t.line, `a second objective section ${JSON.stringify(t.text)}`);
      section = s;
      pos++;
      if (s === "end") break;
      continue;
    }
    switch (section) {
      case "constraints": {
        let name: string | undefined;
        const line = t.line;
        if (toks[pos + 1]?.text === ":") {
          name = t.text;
          if (!isName(name)) fail(t.line, `bad constraint name ${JSON.stringify(name)}`);
          pos += 2;
        }
        let lower = -Infinity;
        let upper = Infinity;
        // Ranged form: lo <= expr <= hi (lo may be signed, e.g. -inf).
        const save = pos;
        let ranged = false;
        {
          let q = pos;
          while (toks[q] && (toks[q]!.text === "+" || toks[q]!.text === "-")) q++;
          if (
            toks[q] &&
            parseNum(toks[q]!.text) !== undefined &&
            toks[q + 1] &&
            REL.has(toks[q + 1]!.text)
          )
            ranged = true;
        }
        if (ranged) {
          const lo = num("a number");
          const r1 = normRel(peek()!.text);
          pos++;
          const e = expr(true);
          const r2t = peek();
          if (!r2t || !REL.has(r2t.text))
            fail(r2t?.line ?? lastLine, "ranged constraint needs a second relation");
          const r2 = normRel(r2t!.text);
          pos++;
          const hi = num("a number");
          if (r1 !== r2 || r1 === "=") fail(line, `ranged constraint must read lo <= expr <= hi`);
          [lower, upper] =
            r1 === "<=" ? [lo - e.constant, hi - e.constant] : [hi - e.constant, lo - e.constant];
          addRow(name, e.terms, lower, upper, line);
          break;
        }
        pos = save;
        const e = expr(true);
        if (!e.any) fail(line, "empty constraint");
        const rt = peek();
        if (!rt || !REL.has(rt.text)) {
          fail(
            toks[pos - 1]?.line ?? lastLine,
            `constraint ${name ?? ""} needs <=, >= or = and a right-hand side${rt ? `, got ${JSON.stringify(rt.text)}` : ""}`,
          );
        }
        const rel = normRel(rt!.text);
        pos++;
        const rhs = num("a right-hand side number") - e.constant;
        if (rel === "<=") upper = rhs;
        else if (rel === ">=") lower = rhs;
        else lower = upper = rhs;
        addRow(name, e.terms, lower, upper, line);
        break;
      }
      case "bounds":
        bound();
        break;
      case "general":
      case "binary": {
        if (!isName(t.text))
          fail(t.line, `expected a variable name, got ${JSON.stringify(t.text)}`);
        const j = b.col(t.text);
        b.integer[j] = true;
        if (section === "binary") {
          b.lower[j] = Math.max(b.lower[j]!, 0);
          b.upper[j] = Math.min(b.upper[j]!, 1);
        }
        pos++;
        break;
      }
      case "semi":
      case "sos":
        fail(
          t.line,
          `${section === "semi" ? "semi-continuous variables" : "SOS constraints"} are not supported`,
        );
        break;
      default:
        fail(
          t.line,
          `unexpected ${JSON.stringify(t.text)} after the objective (expected "subject to")`,
        );
    }
  }
  if (section !== "end") fail(lastLine, `missing "end"`);
  if (pos + 1 < toks.length) fail(toks[pos + 1]!.line, `text after "end"`);
  return b.build();

  function addRow(
    name: string | undefined,
    terms: { name: string; coef: number }[],
    lower: number,
    upper: number,
    line: number,
  ): void {
    const n = name ?? `R${++unnamed}`;
    const i = b.row(n, lower, upper);
    if (i === undefined) fail(line, `duplicate constraint name ${JSON.stringify(n)}`);
    for (const t of terms) b.entry(i!, b.col(t.name), t.coef);
  }

  function bound(): void {
    const line = peek()!.line;
    const sameLine = () => peek() !== undefined && peek()!.line === line;
    const t0 = peek()!;
    // name free | name rel num | num rel name [rel num]
    if (isName(t0.text) && !/^[+-]/.test(t0.text)) {
      pos++;
      const j = b.col(t0.text);
      const r = peek();
      if (r && r.line === line && r.text.toLowerCase() === "free") {
        b.lower[j] = -Infinity;
        b.upper[j] = Infinity;
        pos++;
        return;
      }
      if (!r || r.line !== line || !REL.has(r.text))
        fail(line, `bound for ${t0.text} needs "free" or a relation`);
      pos++;
      const v = num("a bound");
      const rel = normRel(r!.text);
      if (rel === "<=") b.upper[j] = v;
      else if (rel === ">=") b.lower[j] = v;
      else b.lower[j] = b.upper[j] = v;
      return;
    }
    const lo = num("a bound or a variable name");
    const r1 = peek();
    if (!r1 || !REL.has(r1.text)) fail(line, "bound needs a relation");
    pos++;
    const vt = peek();
    if (!vt || !isName(vt.text)) fail(line, "bound needs a variable name");
    pos++;
    const j = b.col(vt!.text);
    const rel1 = normRel(r1!.text);
    if (rel1 === "<=") b.lower[j] = lo;
    else if (rel1 === ">=") b.upper[j] = lo;
    else b.lower[j] = b.upper[j] = lo;
    if (sameLine() && REL.has(peek()!.text)) {
      const rel2 = normRel(peek()!.text);
      pos++;
      const hi = num("a bound");
      if (rel2 !== rel1) fail(line, "bound must read lo <= x <= hi");
      if (rel2 === "<=") b.upper[j] = hi;
      else b.lower[j] = hi;
    }
  }
}
