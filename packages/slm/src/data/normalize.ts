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
        rules.push({
          re: new RegExp(`\\b${pre}\\s*(?:#|no\\.?\\s*|number\\s*)?\\s*${m[2]}\\b`, "g"),
          to: surface,
        });
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

/** Normalizes a question for the model (see the file comment). */
export function normalizeQuestion(app: AppName, text: string): string {
  let s = ` ${text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()} `;
  s = s.replace(/[\u2018\u2019]/g, "'").replace(/[\u201c\u201d]/g, '"');
  s = s.replace(/(\d),(\d{3})\b/g, "$1$2");
  s = s.replace(/\$\s*(\d)/g, "$1");
  s = s.replace(/(\d)\s*(?:%|percent\b|per cent\b|pct\b)/g, "$1%");
  for (const r of rulesFor(app)) s = s.replace(r.re, r.to);
  s = s.replace(/([?!.,;:()"])/g, " $1 ");
  s = s.replace(/\s+/g, " ").trim();
  return s;
}

/** The prompt the model sees for a question. */
export function promptText(app: AppName, question: string): string {
  return `${app} : ${normalizeQuestion(app, question)} =>`;
}

export { surfaceName };
