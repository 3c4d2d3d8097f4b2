/**
 * Free MPS: whitespace-separated fields, names without spaces. Sections NAME, OBJSENSE,
 * ROWS, COLUMNS (with INTORG / INTEND markers), RHS, RANGES, BOUNDS, ENDATA, as HiGHS
 * writes them. The objective constant is the negated RHS of the objective row (HiGHS's and
 * CPLEX's convention). Fixed-format files whose names contain no spaces read the same way.
 */

import { fmtNum, ModelFormatError, modelNameOf, parseNum } from "./format-error.js";
import type { Model } from "./model.js";
import { RawBuilder } from "./raw-builder.js";

/** The model as free-MPS text. Exact: numbers are written in shortest round-trip form. */
export function writeMps(model: Model): string {
  const d = model.compile();
  const rowNameSet = new Set(d.rowNames);
  let objName = "obj";
  while (rowNameSet.has(objName)) objName = `_${objName}`;
  const out: string[] = [`NAME ${d.name}`];
  if (d.sense === "max") out.push("OBJSENSE", "    MAX");
  out.push("ROWS", ` N  ${objName}`);
  const kind: string[] = [];
  for (let i = 0; i < d.rowNames.length; i++) {
    const lo = d.rowLower[i]!;
    const up = d.rowUpper[i]!;
    const k = lo === up ? "E" : up < Infinity ? "L" : lo > -Infinity ? "G" : "N";
    kind.push(k);
    out.push(` ${k}  ${d.rowNames[i]}`);
  }
  // Column-wise entries from the CSR matrix.
  const n = d.colNames.length;
  const count = new Int32Array(n + 1);
  for (const j of d.indices) count[j + 1]!++;
  for (let j = 0; j < n; j++) count[j + 1]! += count[j]!;
  const rowOf = new Int32Array(d.indices.length);
  const valOf = new Float64Array(d.indices.length);
  const fill = count.slice(0, n);
  for (let i = 0; i < d.rowNames.length; i++) {
    for (let p = d.starts[i]!; p < d.starts[i + 1]!; p++) {
      const q = fill[d.indices[p]!]!++;
      rowOf[q] = i;
      valOf[q] = d.values[p]!;
    }
  }
  out.push("COLUMNS");
  let inInt = false;
  let marker = 0;
  for (let j = 0; j < n; j++) {
    const isInt = (d.integrality?.[j] ?? 0) !== 0;
    if (isInt !== inInt) {
      out.push(
        `    MARKER${String(marker++).padStart(4, "0")}  'MARKER'  '${isInt ? "INTORG" : "INTEND"}'`,
      );
      inInt = isInt;
    }
    const name = d.colNames[j]!;
    const c = d.colCost[j]!;
    if (c !== 0 || count[j] === count[j + 1]) out.push(`    ${name}  ${objName}  ${fmtNum(c)}`);
    for (let q = count[j]!; q < count[j + 1]!; q++)
      out.push(`    ${name}  ${d.rowNames[rowOf[q]!]}  ${fmtNum(valOf[q]!)}`);
  }
  if (inInt) out.push(`    MARKER${String(marker++).padStart(4, "0")}  'MARKER'  'INTEND'`);
  out.push("RHS");
  if (d.offset !== 0) out.push(`    RHS  ${objName}  ${fmtNum(-d.offset)}`);
  const ranges: string[] = [];
  for (let i = 0; i < d.rowNames.length; i++) {
    const lo = d.rowLower[i]!;
    const up = d.rowUpper[i]!;
    const k = kind[i]!;
    const rhs = k === "L" ? up : k === "N" ? 0 : lo;
    if (rhs !== 0) out.push(`    RHS  ${d.rowNames[i]}  ${fmtNum(rhs)}`);
    if (k === "L" && lo > -Infinity) ranges.push(`    RNG  ${d.rowNames[i]}  ${fmtNum(up - lo)}`);
  }
  if (ranges.length > 0) out.push("RANGES", ...ranges);
  const bounds: string[] = [];
  for (let j = 0; j < n; j++) {
    const lo = d.colLower[j]!;
    const up = d.colUpper[j]!;
    const name = d.colNames[j]!;
    const isInt = (d.integrality?.[j] ?? 0) !== 0;
    if (lo === up) {
      bounds.push(` FX BND  ${name}  ${fmtNum(lo)}`);
      continue;
    }
    if (lo === -Infinity && up === Infinity) {
      bounds.push(` FR BND  ${name}`);
      continue;
    }
    if (lo === -Infinity) bounds.push(` MI BND  ${name}`);
    else if (lo !== 0) bounds.push(` LO BND  ${name}  ${fmtNum(lo)}`);
    if (up < Infinity) bounds.push(` UP BND  ${name}  ${fmtNum(up)}`);
    else if (isInt) bounds.push(` PL BND  ${name}`);
  }
  if (bounds.length > 0) out.push("BOUNDS", ...bounds);
  out.push("ENDATA", "");
  return out.join("\n");
}

const SECTIONS = new Set([
  "NAME",
  "OBJSENSE",
  "OBJSENCE",
  "ROWS",
  "COLUMNS",
  "RHS",
  "RANGES",
  "BOUNDS",
  "ENDATA",
  "OBJNAME",
]);

/** Reads free (or space-free fixed) MPS text. Throws `ModelFormatError` (with the line) on bad input. */
export function readMps(text: string, source = "<input>"): Model {
  const fail = (line: number, msg: string): never => {
    throw new ModelFormatError("mps", line, msg, source);
  };
  const lines = text.split(/\r?\n/);
  let b: RawBuilder | undefined;
  let name = modelNameOf(source, /\.mps$/i);
  let section = "";
  let objRow: string | undefined;
  let pendingSense: "min" | "max" | undefined;
  const kinds = new Map<string, string>();
  const rhsSeen = new Map<number, number>();
  const rangeSeen = new Map<number, number>();
  let inInt = false;
  let sawEnd = false;
  const builder = () => {
    b ??= new RawBuilder(name);
    if (pendingSense) b.sense = pendingSense;
    return b;
  };
  const number = (tok: string | undefined, line: number, what: string): number => {
    const v = tok === undefined ? undefined : parseNum(tok);
    if (v === undefined)
      fail(line, `expected ${what}, got ${tok === undefined ? "nothing" : JSON.stringify(tok)}`);
    return v!;
  };
  const rowOf = (r: string, line: number): number | "obj" => {
    if (r === objRow) return "obj";
    const i = builder().rowIndex.get(r);
    if (i === undefined) fail(line, `unknown row ${JSON.stringify(r)} (not declared in ROWS)`);
    return i!;
  };

  for (let k = 0; k < lines.length; k++) {
    const ln = k + 1;
    const raw = lines[k]!;
    if (/^\s*($|\*)/.test(raw)) continue;
    const f = raw.trim().split(/\s+/);
    const head = f[0]!.toUpperCase();
    if (!/^\s/.test(raw) && SECTIONS.has(head)) {
      section = head === "OBJSENCE" ? "OBJSENSE" : head;
      if (section === "NAME") {
        name = f.slice(1).join(" ") || name;
        if (b) fail(ln, "NAME must come first");
      } else if (section === "OBJSENSE" && f[1]) {
        pendingSense = parseSense(f[1], ln);
      } else if (section === "ENDATA") {
        sawEnd = true;
        break;
      }
      continue;
    }
    switch (section) {
      case "OBJSENSE":
        pendingSense = parseSense(f[0]!, ln);
        if (b) b.sense = pendingSense;
        break;
      case "OBJNAME":
        objRow = f[0];
        break;
      case "ROWS": {
        if (f.length !== 2) fail(ln, "a ROWS line is: <type N|L|G|E> <row name>");
        const t = f[0]!.toUpperCase();
        const r = f[1]!;
        if (!["N", "L", "G", "E"].includes(t))
          fail(ln, `unknown row type ${JSON.stringify(f[0])} (use N, L, G or E)`);
        if (kinds.has(r) || r === objRow) fail(ln, `duplicate row ${JSON.stringify(r)}`);
        if (t === "N" && objRow === undefined) {
          objRow = r;
          continue;
        }
        kinds.set(r, t);
        const lo = t === "G" || t === "E" ? 0 : -Infinity;
        const up = t === "L" || t === "E" ? 0 : Infinity;
        builder().row(r, lo, up);
        break;
      }
      case "COLUMNS": {
        if (f[1] === "'MARKER'" || f[1]?.toUpperCase() === "'MARKER'") {
          const m = (f[2] ?? "").toUpperCase();
          if (m === "'INTORG'") inInt = true;
          else if (m === "'INTEND'") inInt = false;
          else fail(ln, `unknown marker ${JSON.stringify(f[2] ?? "")} (use 'INTORG' or 'INTEND')`);
          break;
        }
        if (f.length !== 3 && f.length !== 5)
          fail(ln, "a COLUMNS line is: <column> <row> <value> [<row> <value>]");
        const bb = builder();
        const known = bb.colIndex.has(f[0]!);
        const j = bb.col(f[0]!);
        if (!known && inInt) bb.integer[j] = true;
        for (let p = 1; p < f.length; p += 2) {
          const v = number(f[p + 1], ln, `a coefficient for row ${f[p]}`);
          const r = rowOf(f[p]!, ln);
          if (r === "obj") bb.cost[j]! += v;
          else bb.entry(r, j, v);
        }
        break;
      }
      case "RHS": {
        if (f.length !== 3 && f.length !== 5 && f.length !== 2 && f.length !== 4) {
          fail(ln, "an RHS line is: [<set name>] <row> <value> [<row> <value>]");
        }
        const start = f.length % 2 === 1 ? 1 : 0;
        const bb = builder();
        for (let p = start; p < f.length; p += 2) {
          const v = number(f[p + 1], ln, `a right-hand side for row ${f[p]}`);
          const r = rowOf(f[p]!, ln);
          if (r === "obj") bb.offset = -v;
          else rhsSeen.set(r, v);
        }
        break;
      }
      case "RANGES": {
        const start = f.length % 2 === 1 ? 1 : 0;
        for (let p = start; p < f.length; p += 2) {
          const v = number(f[p + 1], ln, `a range for row ${f[p]}`);
          const r = rowOf(f[p]!, ln);
          if (r === "obj") fail(ln, "the objective row cannot have a range");
          rangeSeen.set(r as number, v);
        }
        break;
      }
      case "BOUNDS": {
        const t = f[0]!.toUpperCase();
        const noValue = ["FR", "MI", "PL", "BV"].includes(t);
        if (!["UP", "LO", "FX", "FR", "MI", "PL", "BV", "LI", "UI"].includes(t)) {
          fail(
            ln,
            `unknown bound type ${JSON.stringify(f[0])} (use UP, LO, FX, FR, MI, PL, BV, LI or UI)`,
          );
        }
        // <type> [<bound set>] <column> [<value>]
        let col: string;
        let val: string | undefined;
        if (noValue) col = f.length >= 3 ? f[2]! : f[1]!;
        else if (f.length === 4) [col, val] = [f[2]!, f[3]];
        else if (f.length === 3) [col, val] = [f[1]!, f[2]];
        else return fail(ln, `bound ${t} needs a column and a value`);
        const bb = builder();
        const j = bb.colIndex.get(col!);
        if (j === undefined) fail(ln, `bound on unknown column ${JSON.stringify(col!)}`);
        const v = noValue ? 0 : number(val, ln, `a value for bound ${t}`);
        switch (t) {
          case "UP":
            bb.upper[j!] = v;
            break;
          case "LO":
            bb.lower[j!] = v;
            break;
          case "FX":
            bb.lower[j!] = v;
            bb.upper[j!] = v;
            break;
          case "FR":
            bb.lower[j!] = -Infinity;
            bb.upper[j!] = Infinity;
            break;
          case "MI":
            bb.lower[j!] = -Infinity;
            break;
          case "PL":
            bb.upper[j!] = Infinity;
            break;
          case "BV":
            bb.integer[j!] = true;
            bb.lower[j!] = 0;
            bb.upper[j!] = 1;
            break;
          case "LI":
            bb.integer[j!] = true;
            bb.lower[j!] = v;
            break;
          case "UI":
            bb.integer[j!] = true;
            bb.upper[j!] = v;
            break;
        }
        break;
      }
      case "":
        fail(ln, `data before any section header: ${JSON.stringify(raw.trim())}`);
        break;
      default:
        fail(ln, `unexpected line in section ${section}`);
    }
  }
  if (!sawEnd) fail(lines.length, "missing ENDATA");
  const bb = builder();
  // Right-hand sides and ranges, by row type.
  for (let i = 0; i < bb.rowNames.length; i++) {
    const t = kinds.get(bb.rowNames[i]!)!;
    const rhs = rhsSeen.get(i) ?? 0;
    const R = rangeSeen.get(i);
    let lo = bb.rowLower[i]!;
    let up = bb.rowUpper[i]!;
    if (t === "L") up = rhs;
    else if (t === "G") lo = rhs;
    else if (t === "E") lo = up = rhs;
    if (R !== undefined) {
      if (t === "L") lo = rhs - Math.abs(R);
      else if (t === "G") up = rhs + Math.abs(R);
      else if (t === "E") {
        if (R >= 0) up = rhs + R;
        else lo = rhs + R;
      }
    }
    bb.rowLower[i] = lo;
    bb.rowUpper[i] = up;
  }
  return bb.build();

  function parseSense(tok: string, line: number): "min" | "max" {
    const s = tok.toUpperCase();
    if (s === "MAX" || s === "MAXIMIZE") return "max";
    if (s === "MIN" || s === "MINIMIZE") return "min";
    return fail(line, `unknown objective sense ${JSON.stringify(tok)} (use MIN or MAX)`);
  }
}
