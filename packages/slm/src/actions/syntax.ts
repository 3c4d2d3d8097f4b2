/**
 * The action language's surface syntax: one short line per action, words separated by single
 * spaces, several actions joined by " ; ". Made for a tiny model: every word is a name, a key
 * part or one value, so most of an action is copied from the question.
 *
 *   show ship supplier1 roastery2          the plan's value of a decision (or a parameter's value)
 *   show objective                         the plan's total cost
 *   set demand cafe3 +13%                  change a parameter: =V, +V, -V, *F, /F, +P%, -P%
 *   set cost * boston * *0.5               `*` in a key: every value that exists
 *   forbid ship supplier2 roastery2        decision == 0
 *   fix buy fries =3                       decision == V (+V / -V / *F / ±P%: relative to the plan)
 *   limit shifts bob <=3                   bound a decision or a total (<=V, >=V)
 *   why ship supplier2 roastery2           why is it used? solve with it forbidden and compare
 *   whynot flow pens detroit boston        why is it not used (more)? force one unit and compare
 *   only deliver roastery1 cafe1           roastery1 serves cafe1 only
 *   exclusive deliver roastery2 cafe2      ... and cafe2 buys from roastery2 only
 *   apart work gu bob                      never on the same shift
 *   decline                                not a question about this app
 */

export type Verb =
  | "show"
  | "set"
  | "forbid"
  | "fix"
  | "limit"
  | "why"
  | "whynot"
  | "only"
  | "exclusive"
  | "apart"
  | "decline";

export const VERBS: readonly Verb[] = [
  "show",
  "set",
  "forbid",
  "fix",
  "limit",
  "why",
  "whynot",
  "only",
  "exclusive",
  "apart",
  "decline",
];

/** A change of a value: `=3`, `+2`, `-20%`, `*0.5`, `/2`. */
export interface ValueChange {
  op: "=" | "+" | "-" | "*" | "/";
  value: number;
  /** `+13%` / `-13%`: scale by (1 ± value/100). */
  percent: boolean;
}

export interface Bound {
  sense: "<=" | ">=";
  value: number;
}

export type Action =
  | { verb: "decline" }
  | { verb: "show"; target: string; key: string[] }
  | { verb: "set"; target: string; key: string[]; change: ValueChange }
  | { verb: "fix"; target: string; key: string[]; change: ValueChange }
  | { verb: "limit"; target: string; key: string[]; bound: Bound }
  | {
      verb: "forbid" | "why" | "whynot" | "only" | "exclusive" | "apart";
      target: string;
      key: string[];
    };

export class ActionSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: string,
    readonly column: number,
  ) {
    super(`${message} (at column ${column + 1} of "${line}")`);
    this.name = "ActionSyntaxError";
  }
}

const NUMBER = /^-?(?:\d+(?:\.\d+)?|\.\d+)$/;
const WORD = /^(?:\*|[a-z0-9_]+)$/;

function parseNumber(s: string): number | undefined {
  return NUMBER.test(s) ? Number(s) : undefined;
}

/** `=3`, `+13%`, `*0.5` → a change, or undefined when the word is not one. */
export function parseChange(word: string): ValueChange | undefined {
  const m = /^([=+\-*/])(.+?)(%?)$/.exec(word);
  if (!m) return undefined;
  const value = parseNumber(m[2]!);
  if (value === undefined || value < 0) return undefined;
  const op = m[1] as ValueChange["op"];
  const percent = m[3] === "%";
  if (percent && op !== "+" && op !== "-") return undefined;
  return { op, value, percent };
}

function parseBound(word: string): Bound | undefined {
  const m = /^(<=|>=)(.+)$/.exec(word);
  if (!m) return undefined;
  const value = parseNumber(m[2]!);
  return value === undefined ? undefined : { sense: m[1] as Bound["sense"], value };
}

/** Parses one action (no " ; "). */
export function parseAction(line: string): Action {
  const text = line.trim();
  if (!text) throw new ActionSyntaxError("empty action", line, 0);
  const words = text.split(/\s+/);
  const col = (i: number) => {
    let c = line.indexOf(text);
    for (let k = 0; k < i; k++) c = line.indexOf(words[k + 1]!, c + words[k]!.length);
    return Math.max(0, c);
  };
  const verb = words[0]!.toLowerCase() as Verb;
  if (!VERBS.includes(verb))
    throw new ActionSyntaxError(
      `unknown verb "${words[0]}" (verbs: ${VERBS.join(", ")})`,
      line,
      col(0),
    );
  if (verb === "decline") {
    if (words.length > 1) throw new ActionSyntaxError("decline takes no arguments", line, col(1));
    return { verb };
  }
  if (words.length < 2)
    throw new ActionSyntaxError(
      `${verb} needs a target (a parameter or decision)`,
      line,
      text.length,
    );
  const target = words[1]!.toLowerCase();
  if (!/^[a-z][a-z0-9_]*$/.test(target))
    throw new ActionSyntaxError(`"${words[1]}" is not a name`, line, col(1));
  const needsValue = verb === "set" || verb === "fix" || verb === "limit";
  const keyWords = needsValue ? words.slice(2, -1) : words.slice(2);
  if (needsValue && words.length < 3)
    throw new ActionSyntaxError(
      `${verb} needs a value at the end (${verb === "limit" ? "<=V or >=V" : "=V, +V, -V, *F, /F, +P% or -P%"})`,
      line,
      text.length,
    );
  const key = keyWords.map((w, i) => {
    const k = w.toLowerCase();
    if (!WORD.test(k))
      throw new ActionSyntaxError(`"${w}" is not a key (a name, or * for all)`, line, col(2 + i));
    return k;
  });
  if (verb === "set" || verb === "fix") {
    const last = words.at(-1)!;
    const change = parseChange(last);
    if (!change)
      throw new ActionSyntaxError(
        `"${last}" is not a change (=V, +V, -V, *F, /F, +P% or -P%)`,
        line,
        col(words.length - 1),
      );
    return { verb, target, key, change };
  }
  if (verb === "limit") {
    const last = words.at(-1)!;
    const bound = parseBound(last);
    if (!bound)
      throw new ActionSyntaxError(
        `"${last}" is not a bound (<=V or >=V)`,
        line,
        col(words.length - 1),
      );
    return { verb, target, key, bound };
  }
  return { verb, target, key };
}

/** Parses a line of actions joined by ";". */
export function parseActions(text: string): Action[] {
  const parts = text.split(";");
  return parts.map((p) => parseAction(p));
}

export function formatChange(c: ValueChange): string {
  return `${c.op}${c.value}${c.percent ? "%" : ""}`;
}

/** The canonical line of an action (what the model is trained to write). */
export function formatAction(a: Action): string {
  switch (a.verb) {
    case "decline":
      return "decline";
    case "set":
    case "fix":
      return [a.verb, a.target, ...a.key, formatChange(a.change)].join(" ");
    case "limit":
      return [a.verb, a.target, ...a.key, `${a.bound.sense}${a.bound.value}`].join(" ");
    default:
      return [a.verb, a.target, ...a.key].join(" ");
  }
}

export function formatActions(actions: Action[]): string {
  return actions.map(formatAction).join(" ; ");
}
