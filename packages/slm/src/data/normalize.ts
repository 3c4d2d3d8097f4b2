/**
 * Question normalization, the same at training and at inference: lower case, numbers and
 * percentages in one spelling, and the app's entity mentions in their surface form
 * ("Cafe 3" → `cafe3`, "hot dogs" → `hot_dog`, "New York" → `new_york`, "point 9" → `point9`),
 * so the model copies names and values instead of spelling them. Nothing is dropped: words the
 * normalizer does not know stay as they are.
 */
import type { AppName } from "@athanor/optiguide";
import { actionContext } from "../actions/resolve.js";
import { surfaceName } from "../actions/spec.js";

interface Rule {
  re: RegExp;
  to: string;
}

const rulesByApp = new Map<AppName, Rule[]>();

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Plural and spacing variants of a multi-word or simple name. */
function nameVariants(name: string): string[] {
  const words = name.split(/[\s_]+/);
  const joined = words.join("[ _-]?");
  const last = words.at(-1)!;
  if (last.endsWith("s") && last.length > 3) return [`${joined.slice(0, -1)}s?`];
  return [`${joined}(?:e?s)?`];
}

function rulesFor(app: AppName): Rule[] {
  let rules = rulesByApp.get(app);
  if (rules) return rules;
  rules = [];
  const { spec } = actionContext(app);
  for (const et of spec.entities.values()) {
    const numbered = [...et.members.keys()].every((k) => /^[a-z]+\d+$/.test(k));
    for (const surface of et.members.keys()) {
      const m = /^([a-z]+)(\d+)$/.exec(surface);
      if (numbered && m) {
        // "cafe 3", "Cafe3", "cafe #3", "cafe no. 3", "cafe number 3"; for typed numbers (plant3)
        // the type word is the prefix.
        const word = m[1]!;
        const alts = [word];
        if (word === "point") alts.push("node", "city", "location", "vertex", "stop");
        if (word === "plant") alts.push("facility", "factory");
        if (word === "warehouse") alts.push("depot", "distribution center", "customer");
        const pre = `(?:${alts.map(esc).join("|")})(?:e?s)?`;
        // Any number, not only the members: "cafe 9" must reach validation as `cafe9` (an
        // error that lists the cafes), never become a value. Shifts keep their own names.
        const digits = et.name === "shift" ? m[2]! : "(\\d+)";
        rules.push({
          re: new RegExp(`\\b${pre}\\s*(?:#|no\\.?\\s*|number\\s*)?\\s*${digits}\\b`, "g"),
          to: et.name === "shift" ? surface : `${word}$1`,
        });
        if (et.name !== "shift") break;
      } else {
        for (const v of nameVariants(surface))
          rules.push({ re: new RegExp(`\\b${v}\\b`, "g"), to: surface });
      }
    }
    for (const g of et.groups?.keys() ?? [])
      rules.push({ re: new RegExp(`\\b${esc(g)}s?\\b`, "g"), to: g });
  }
  // Longer names first, so "ice cream" wins over "cream".
  rules.sort((a, b) => b.re.source.length - a.re.source.length);
  rulesByApp.set(app, rules);
  return rules;
}

const NUMBER_WORDS: Record<string, string> = {
  two: "2",
  three: "3",
  four: "4",
  five: "5",
  six: "6",
  seven: "7",
  eight: "8",
  nine: "9",
  ten: "10",
};

/** Normalizes a question for the model (see the file comment). */
export function normalizeQuestion(app: AppName, text: string): string {
  let s = ` ${text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()} `;
  s = s.replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"');
  s = s.replace(/(\d),(\d{3})\b/g, "$1$2");
  s = s.replace(/\$\s*(\d)/g, "$1");
  s = s.replace(/\b(two|three|four|five|six|seven|eight|nine|ten)\b/g, (w) => NUMBER_WORDS[w]!);
  s = s.replace(/(\d)\s*(?:%|percent\b|per cent\b|pct\b)/g, "$1%");
  for (const r of rulesFor(app)) s = s.replace(r.re, r.to);
  // An app with one kind of numbered thing (tsp's points): "from point9 to 4" names point4.
  const types = [...actionContext(app).spec.entities.values()];
  if (types.length === 1) {
    const prefix = /^([a-z]+)\d+$/.exec([...types[0]!.members.keys()][0]!)?.[1];
    if (prefix && new RegExp(`\\b${prefix}\\d`).test(s))
      s = s.replace(
        /\b(to|and|from|between|with|&|-)\s+(\d)\b(?!\s*%|\.\d)/g,
        (m, w: string, d: string) => (types[0]!.members.has(prefix + d) ? `${w} ${prefix}${d}` : m),
      );
  }
  s = s.replace(/([?!,;:()"])/g, " $1 ").replace(/\.(?!\d)/g, " . ");
  s = s.replace(/\s+/g, " ").trim();
  return s;
}

/**
 * A question with its entities and numbers replaced by placeholders, in order of first mention:
 * `cafe#1`, `supplier#2`, `num#1`. The model reads and writes placeholders only, so it learns
 * where a name or a value goes, never the name itself; `slots` maps them back.
 */
export interface Delexicalized {
  text: string;
  /** Placeholder → surface name or number (`cafe#1` → `cafe3`, `num#1` → `13`). */
  slots: Map<string, string>;
}

/** The types of the app's entities by surface name, and the prefixes of its numbered types. */
function entityIndex(app: AppName): { byName: Map<string, string>; numbered: Map<string, string> } {
  const { spec } = actionContext(app);
  const byName = new Map<string, string>();
  const numbered = new Map<string, string>();
  for (const et of spec.entities.values())
    for (const name of et.members.keys()) {
      byName.set(name, et.name);
      const m = /^([a-z]+)\d+$/.exec(name);
      if (m && et.name !== "shift") numbered.set(m[1]!, et.name);
    }
  return { byName, numbered };
}

export function delexicalize(app: AppName, question: string): Delexicalized {
  const { byName, numbered } = entityIndex(app);
  const slots = new Map<string, string>();
  const back = new Map<string, string>();
  const counts = new Map<string, number>();
  const slot = (type: string, value: string) => {
    const key = `${type}\u0000${value}`;
    let ph = back.get(key);
    if (!ph) {
      const k = (counts.get(type) ?? 0) + 1;
      counts.set(type, k);
      ph = `${type}#${k}`;
      back.set(key, ph);
      slots.set(ph, value);
    }
    return ph;
  };
  const text = normalizeQuestion(app, question).replace(/[a-z0-9_.]+/g, (w) => {
    const type = byName.get(w);
    if (type) return slot(type, w);
    // A numbered name the app does not have ("cafe9") still becomes an entity, so the action
    // names it and validation reports it.
    const m = /^([a-z]+)(\d+)$/.exec(w);
    if (m && numbered.has(m[1]!)) return slot(numbered.get(m[1]!)!, w);
    if (/^\d+(?:\.\d+)?$/.test(w)) return slot("num", w);
    return w;
  });
  return { text, slots };
}

/** Rewrites an action line with the placeholders of a delexicalized question (for training). */
export function delexicalizeAction(action: string, slots: Map<string, string>): string {
  const back = new Map<string, string>();
  for (const [ph, v] of slots) back.set(v, ph);
  return action
    .split(" ")
    .map((w) => {
      const ph = back.get(w);
      if (ph && !ph.startsWith("num#")) return ph;
      const m = /^([=+\-*/]|<=|>=)(\d+(?:\.\d+)?)(%?)$/.exec(w);
      if (m && back.get(m[2]!)?.startsWith("num#")) return `${m[1]}${back.get(m[2]!)}${m[3]}`;
      return w;
    })
    .join(" ");
}

/** Puts names and numbers back into an action line the model wrote with placeholders. */
export function relexicalizeAction(line: string, slots: Map<string, string>): string {
  return line.replace(/\b([a-z]+)#(\d+)/g, (m) => slots.get(m) ?? m);
}

/** The prompt the model sees for a question, and its placeholders. */
export function promptOf(app: AppName, question: string): Delexicalized {
  const d = delexicalize(app, question);
  return { text: `${app} : ${d.text} =>`, slots: d.slots };
}

/** The prompt text the model sees for a question. */
export function promptText(app: AppName, question: string): string {
  return promptOf(app, question).text;
}

export { surfaceName };
