/**
 * Decoding constrained to a JSON Schema: a pushdown automaton over UTF-8 bytes that accepts
 * exactly the compact JSON texts (no insignificant whitespace) valid for the schema.
 *
 * Supported: `type` (string, number, integer, boolean, null, object, array, or a list of
 * them), `enum`, `const`, `properties` + `required` (properties are written in the schema's
 * order; optional ones may be skipped), `additionalProperties` (a schema or true, for objects
 * without `properties`), `items`, `minItems` / `maxItems`, `minLength` / `maxLength`,
 * `anyOf` / `oneOf`, and `{}` (any JSON value). Annotations (`title`, `description`, ...) are
 * ignored; any other keyword is an error naming its path, so a schema is never silently
 * weakened. Number parts have at most 16 digits (exponents 3), so a number always ends.
 *
 * The state is a set of alternative stacks (for `anyOf`, enums and unions), each a persistent
 * linked list of frames, so a step shares everything below the top frame.
 */
import type { Tokenizer } from "../tokenizer/index.js";
import { automatonConstraint, type ByteAutomaton, type TokenConstraint } from "./constraint.js";

export class JsonSchemaError extends Error {
  override name = "JsonSchemaError";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`JSON schema at ${path}: ${message}`);
  }
}

// ---- schema → nodes ----------------------------------------------------------------------

type SchemaNode =
  | { id: number; kind: "string"; minLength: number; maxLength: number }
  | { id: number; kind: "number"; integer: boolean }
  | { id: number; kind: "literal"; texts: Uint8Array[] }
  | {
      id: number;
      kind: "object";
      props: { key: Uint8Array; keyFirst: Uint8Array; node: SchemaNode; required: boolean }[];
      additional: SchemaNode | null;
    }
  | { id: number; kind: "array"; items: SchemaNode; minItems: number; maxItems: number }
  | { id: number; kind: "anyOf"; options: SchemaNode[] };

const IGNORED = new Set([
  "title",
  "description",
  "$schema",
  "$id",
  "$comment",
  "default",
  "examples",
  "format",
]);
const enc = new TextEncoder();

class Compiler {
  private nextId = 0;

  compile(s: unknown, path: string): SchemaNode {
    if (s === true || (isObject(s) && Object.keys(s).every((k) => IGNORED.has(k))))
      return this.any();
    if (!isObject(s)) throw new JsonSchemaError(path, "a schema must be an object or true");
    const known = new Set([
      ...IGNORED,
      "type",
      "enum",
      "const",
      "properties",
      "required",
      "additionalProperties",
      "items",
      "minItems",
      "maxItems",
      "minLength",
      "maxLength",
      "anyOf",
      "oneOf",
    ]);
    for (const k of Object.keys(s))
      if (!known.has(k))
        throw new JsonSchemaError(`${path}.${k}`, `keyword "${k}" is not supported`);
    if ("const" in s) return this.literal([s.const], path);
    if ("enum" in s) {
      if (!Array.isArray(s.enum) || s.enum.length === 0)
        throw new JsonSchemaError(`${path}.enum`, "must be a non-empty array");
      return this.literal(s.enum, path);
    }
    for (const alt of ["anyOf", "oneOf"] as const) {
      if (alt in s) {
        const list = s[alt];
        if (!Array.isArray(list) || list.length === 0)
          throw new JsonSchemaError(`${path}.${alt}`, "must be a non-empty array of schemas");
        return this.node({
          kind: "anyOf",
          options: list.map((o, i) => this.compile(o, `${path}.${alt}[${i}]`)),
        });
      }
    }
    const type = s.type ?? inferType(s);
    if (type === undefined) return this.any();
    if (Array.isArray(type)) {
      return this.node({
        kind: "anyOf",
        options: type.map((t, i) => this.typed(s, t, `${path}.type[${i}]`, path)),
      });
    }
    return this.typed(s, type, `${path}.type`, path);
  }

  private typed(s: Record<string, unknown>, type: unknown, typePath: string, path: string) {
    switch (type) {
      case "string":
        return this.node({
          kind: "string",
          minLength: count(s.minLength, `${path}.minLength`, 0),
          maxLength: count(s.maxLength, `${path}.maxLength`, Number.POSITIVE_INFINITY),
        });
      case "number":
      case "integer":
        return this.node({ kind: "number", integer: type === "integer" });
      case "boolean":
        return this.literal([true, false], path);
      case "null":
        return this.literal([null], path);
      case "object":
        return this.object(s, path);
      case "array": {
        const items = s.items === undefined ? this.any() : this.compile(s.items, `${path}.items`);
        const minItems = count(s.minItems, `${path}.minItems`, 0);
        const maxItems = count(s.maxItems, `${path}.maxItems`, Number.POSITIVE_INFINITY);
        if (minItems > maxItems) throw new JsonSchemaError(path, "minItems > maxItems");
        return this.node({ kind: "array", items, minItems, maxItems });
      }
      default:
        throw new JsonSchemaError(typePath, `unknown type ${JSON.stringify(type)}`);
    }
  }

  private object(s: Record<string, unknown>, path: string): SchemaNode {
    const props = s.properties ?? {};
    if (!isObject(props)) throw new JsonSchemaError(`${path}.properties`, "must be an object");
    const required = s.required ?? [];
    if (!Array.isArray(required) || required.some((r) => typeof r !== "string"))
      throw new JsonSchemaError(`${path}.required`, "must be an array of property names");
    for (const r of required)
      if (!(r in props))
        throw new JsonSchemaError(`${path}.required`, `"${r}" is not one of the properties`);
    const names = Object.keys(props);
    let additional: SchemaNode | null = null;
    const ap = s.additionalProperties;
    if (names.length === 0 && ap !== false) {
      additional =
        ap === undefined || ap === true
          ? this.any()
          : this.compile(ap, `${path}.additionalProperties`);
    } else if (ap !== undefined && ap !== false) {
      throw new JsonSchemaError(
        `${path}.additionalProperties`,
        "only false is supported next to properties (extra keys are never generated)",
      );
    }
    return this.node({
      kind: "object",
      props: names.map((k) => ({
        key: enc.encode(`${JSON.stringify(k)}:`),
        keyFirst: enc.encode(`,${JSON.stringify(k)}:`),
        node: this.compile(props[k], `${path}.properties.${k}`),
        required: required.includes(k),
      })),
      additional,
    });
  }

  private literal(values: unknown[], path: string): SchemaNode {
    const texts = values.map((v, i) => {
      const t = JSON.stringify(v);
      if (t === undefined) throw new JsonSchemaError(`${path}.enum[${i}]`, "not a JSON value");
      return enc.encode(t);
    });
    return this.node({ kind: "literal", texts });
  }

  private anyNode: SchemaNode | null = null;
  /** Any JSON value (objects with any keys, arrays of anything). */
  private any(): SchemaNode {
    if (this.anyNode) return this.anyNode;
    const options: SchemaNode[] = [];
    const node = this.node({ kind: "anyOf", options });
    this.anyNode = node;
    options.push(
      this.node({ kind: "string", minLength: 0, maxLength: Number.POSITIVE_INFINITY }),
      this.node({ kind: "number", integer: false }),
      this.literal([true, false, null], "(any)"),
      this.node({ kind: "object", props: [], additional: node }),
      this.node({
        kind: "array",
        items: node,
        minItems: 0,
        maxItems: Number.POSITIVE_INFINITY,
      }),
    );
    return node;
  }

  private node<T extends Omit<SchemaNode, "id">>(n: T): SchemaNode {
    return { ...n, id: this.nextId++ } as unknown as SchemaNode;
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function inferType(s: Record<string, unknown>): string | undefined {
  if ("properties" in s || "additionalProperties" in s || "required" in s) return "object";
  if ("items" in s || "minItems" in s || "maxItems" in s) return "array";
  if ("minLength" in s || "maxLength" in s) return "string";
  return undefined;
}

function count(v: unknown, path: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || (v as number) < 0)
    throw new JsonSchemaError(path, `must be an integer ≥ 0, got ${JSON.stringify(v)}`);
  return v as number;
}

// ---- frames and the automaton ------------------------------------------------------------

type Frame =
  /** Expecting a value of `node`. */
  | { t: "value"; node: SchemaNode }
  /** Matching fixed bytes. */
  | { t: "lit"; bytes: Uint8Array; pos: number }
  /** Inside a string (after the opening quote); `len` characters so far. */
  | {
      t: "str";
      node: Extract<SchemaNode, { kind: "string" }>;
      len: number;
      /** 0: normal; 1: after a backslash; 2..5: that many hex digits of \u still to read. */
      esc: number;
      /** UTF-8 continuation bytes still expected. */
      cont: number;
    }
  /** A number; `st` is the position in the number grammar, `d` the digits of this part. */
  | { t: "num"; integer: boolean; st: NumState; d: number }
  /** An object; `next` is the first property not yet decided; `first` until one is written. */
  | { t: "obj"; node: Extract<SchemaNode, { kind: "object" }>; next: number; first: boolean }
  /** An array with `n` items written. */
  | { t: "arr"; node: Extract<SchemaNode, { kind: "array" }>; n: number };

/** sign: after "-"; zero: "0"; int: [1-9][0-9]*; dot: after "."; frac; e: after e/E; esign; exp. */
type NumState = "start" | "sign" | "zero" | "int" | "dot" | "frac" | "e" | "esign" | "exp";
const NUM_FINAL = new Set<NumState>(["zero", "int", "frac", "exp"]);
/** Digits allowed in an integer or fraction part (beyond them a double has no more precision). */
const MAX_DIGITS = 16;
const MAX_EXP_DIGITS = 3;

interface Stack {
  frame: Frame;
  next: Stack | null;
}

/** The automaton's state: alternative stacks (null: a complete value, nothing may follow). */
export type JsonState = readonly (Stack | null)[];

const push = (next: Stack | null, frame: Frame): Stack => ({ frame, next });

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
const isHex = (b: number) => isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);

/** Successor stacks of `stack` after `b` (empty: rejected). */
function step(stack: Stack | null, b: number, out: (Stack | null)[]): void {
  if (stack === null) return;
  const f = stack.frame;
  const rest = stack.next;
  switch (f.t) {
    case "value":
      for (const s of startValue(f.node, rest)) step(s, b, out);
      return;
    case "lit":
      if (f.bytes[f.pos] !== b) return;
      out.push(f.pos + 1 === f.bytes.length ? rest : push(rest, { ...f, pos: f.pos + 1 }));
      return;
    case "str":
      stepString(f, rest, b, out);
      return;
    case "num": {
      const st = numStep(f.st, b, f.integer);
      if (st) {
        // Digits in the current part (integer, fraction, exponent), bounded.
        const d = st === f.st ? f.d + 1 : isDigit(b) ? 1 : 0;
        if (d <= (st === "exp" ? MAX_EXP_DIGITS : MAX_DIGITS))
          out.push(push(rest, { ...f, st, d }));
      } else if (NUM_FINAL.has(f.st)) step(rest, b, out); // the number ended; b belongs to the parent
      return;
    }
    case "obj": {
      const { node } = f;
      const done = !node.props.slice(f.next).some((p) => p.required);
      if (b === 0x7d /* } */ && done) out.push(rest);
      if (node.additional) {
        if (f.first ? b === QUOTE : b === 0x2c /* , */) {
          // A free key: a string, ':', a value, then back to this object.
          let s = push(rest, { ...f, first: false });
          s = push(s, { t: "value", node: node.additional });
          s = push(s, { t: "lit", bytes: COLON, pos: 0 });
          s = push(s, { t: "str", node: ANY_KEY, len: 0, esc: 0, cont: 0 });
          out.push(f.first ? s : push(s, { t: "lit", bytes: QUOTE_BYTES, pos: 0 }));
        }
        return;
      }
      for (let j = f.next; j < node.props.length; j++) {
        const p = node.props[j]!;
        const key = f.first ? p.key : p.keyFirst;
        if (key[0] === b) {
          let s = push(rest, { t: "obj", node, next: j + 1, first: false });
          s = push(s, { t: "value", node: p.node });
          out.push(key.length === 1 ? s : push(s, { t: "lit", bytes: key, pos: 1 }));
        }
        if (p.required) break;
      }
      return;
    }
    case "arr": {
      const { node, n } = f;
      if (b === 0x5d /* ] */ && n >= node.minItems) out.push(rest);
      if (n < node.maxItems) {
        const s = push(push(rest, { t: "arr", node, n: n + 1 }), { t: "value", node: node.items });
        if (n === 0) step(s, b, out);
        else if (b === 0x2c) out.push(s);
      }
      return;
    }
  }
}

const COLON = enc.encode(":");
const QUOTE_BYTES = enc.encode('"');
const ANY_KEY = {
  id: -1,
  kind: "string",
  minLength: 0,
  maxLength: Number.POSITIVE_INFINITY,
} as const;

/** The stacks that begin a value of `node` (their top frame consumes the first byte). */
function startValue(node: SchemaNode, rest: Stack | null): (Stack | null)[] {
  switch (node.kind) {
    case "string":
      return [
        push(push(rest, { t: "str", node, len: 0, esc: 0, cont: 0 }), {
          t: "lit",
          bytes: QUOTE_BYTES,
          pos: 0,
        }),
      ];
    case "number":
      return [push(rest, { t: "num", integer: node.integer, st: "start", d: 0 })];
    case "literal":
      return node.texts.map((bytes) => push(rest, { t: "lit", bytes, pos: 0 }));
    case "object":
      return [
        push(push(rest, { t: "obj", node, next: 0, first: true }), {
          t: "lit",
          bytes: enc.encode("{"),
          pos: 0,
        }),
      ];
    case "array":
      return [
        push(push(rest, { t: "arr", node, n: 0 }), { t: "lit", bytes: enc.encode("["), pos: 0 }),
      ];
    case "anyOf":
      return node.options.flatMap((o) => startValue(o, rest));
  }
}

function stepString(
  f: Extract<Frame, { t: "str" }>,
  rest: Stack | null,
  b: number,
  out: (Stack | null)[],
): void {
  const { node } = f;
  if (f.cont > 0) {
    if (b >= 0x80 && b <= 0xbf) out.push(push(rest, { ...f, cont: f.cont - 1 }));
    return;
  }
  if (f.esc === 1) {
    if (b === 0x75 /* u */) out.push(push(rest, { ...f, esc: 5 }));
    else if ('"\\/bfnrt'.includes(String.fromCharCode(b)))
      out.push(push(rest, { ...f, esc: 0, len: f.len + 1 }));
    return;
  }
  if (f.esc > 1) {
    if (isHex(b))
      out.push(
        push(rest, {
          ...f,
          esc: f.esc === 2 ? 0 : f.esc - 1,
          len: f.esc === 2 ? f.len + 1 : f.len,
        }),
      );
    return;
  }
  if (b === QUOTE) {
    if (f.len >= node.minLength) out.push(rest);
    return;
  }
  if (b < 0x20 || f.len >= node.maxLength) return;
  if (b === BACKSLASH) {
    out.push(push(rest, { ...f, esc: 1 }));
    return;
  }
  if (b < 0x80) out.push(push(rest, { ...f, len: f.len + 1 }));
  else if (b >= 0xc2 && b <= 0xdf) out.push(push(rest, { ...f, len: f.len + 1, cont: 1 }));
  else if (b >= 0xe0 && b <= 0xef) out.push(push(rest, { ...f, len: f.len + 1, cont: 2 }));
  else if (b >= 0xf0 && b <= 0xf4) out.push(push(rest, { ...f, len: f.len + 1, cont: 3 }));
}

function numStep(st: NumState, b: number, integer: boolean): NumState | undefined {
  const d = isDigit(b);
  switch (st) {
    case "start":
      return b === 0x2d ? "sign" : b === 0x30 ? "zero" : d ? "int" : undefined;
    case "sign":
      return b === 0x30 ? "zero" : d ? "int" : undefined;
    case "zero":
    case "int":
      if (st === "int" && d) return "int";
      if (integer) return undefined;
      return b === 0x2e ? "dot" : b === 0x65 || b === 0x45 ? "e" : undefined;
    case "dot":
      return d ? "frac" : undefined;
    case "frac":
      return d ? "frac" : b === 0x65 || b === 0x45 ? "e" : undefined;
    case "e":
      return b === 0x2b || b === 0x2d ? "esign" : d ? "exp" : undefined;
    case "esign":
    case "exp":
      return d ? "exp" : undefined;
  }
}

function accepts(stack: Stack | null): boolean {
  if (stack === null) return true;
  const f = stack.frame;
  return f.t === "num" && NUM_FINAL.has(f.st) && accepts(stack.next);
}

function frameKey(f: Frame): string {
  switch (f.t) {
    case "value":
      return `v${f.node.id}`;
    case "lit":
      return `l${Array.from(f.bytes.subarray(f.pos)).join(".")}`;
    case "str":
      return `s${f.node.id}:${Math.min(f.len, f.node.minLength)}:${Number.isFinite(f.node.maxLength) ? f.len : ""}:${f.esc}:${f.cont}`;
    case "num":
      return `n${f.integer ? "i" : ""}${f.st}${f.d}`;
    case "obj":
      return `o${f.node.id}:${f.next}:${f.first ? 1 : 0}`;
    case "arr":
      return `a${f.node.id}:${Math.min(f.n, f.node.minItems)}:${Number.isFinite(f.node.maxItems) ? f.n : ""}`;
  }
}

function stackKey(s: Stack | null): string {
  let k = "";
  for (let x = s; x; x = x.next) k += `${frameKey(x.frame)}|`;
  return k;
}

/** A byte automaton accepting the compact JSON texts valid for `schema`. */
export function jsonSchemaAutomaton(schema: unknown): ByteAutomaton<JsonState> {
  const root = new Compiler().compile(schema, "$");
  return {
    initial: () => [push(null, { t: "value", node: root })],
    step(state, b) {
      const out: (Stack | null)[] = [];
      for (const s of state) step(s, b, out);
      return out.length ? out : undefined;
    },
    accepts: (state) => state.some(accepts),
    key: (state) => [...new Set(state.map(stackKey))].sort().join("/"),
  };
}

/** A token constraint that makes the model output JSON valid for `schema`. */
export function jsonSchemaConstraint(
  schema: unknown,
  tokenizer: Tokenizer,
): TokenConstraint<JsonState> {
  return automatonConstraint(jsonSchemaAutomaton(schema), tokenizer);
}
