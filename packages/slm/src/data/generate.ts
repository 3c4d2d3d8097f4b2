/**
 * The task-data generator: our templates (./templates.ts) expanded with programmatic
 * paraphrase (alternations, what-if frames, entity spellings, number spellings) and value
 * augmentation (every entity and value drawn at random), plus off-domain requests to decline.
 * Seeded: the same seed gives the same data. Every generated action is validated against its
 * app before it is kept, so the model never learns an action that cannot run.
 */
import { seededRandom } from "@athanor/lm";
import { APP_NAMES, type AppName } from "@athanor/optiguide";
import { planActions } from "../actions/execute.js";
import { ActionError, actionContext } from "../actions/resolve.js";
import { OFF_DOMAIN } from "./offdomain.js";
import { CLAUSE_FRAMES, NP_FRAMES, TEMPLATES, type Template } from "./templates.js";

export interface Example {
  app: AppName;
  /** Question kind (template kind, or `decline`). */
  kind: string;
  question: string;
  /** The action line the model must write. */
  action: string;
}

export interface GenerateOptions {
  apps?: readonly AppName[];
  seed?: number;
  /** Examples drawn per template (default 60). */
  perTemplate?: number;
  /** Off-domain examples per app (default 120). */
  declinePerApp?: number;
}

/** The generator's seeded PRNG: the lm package's mulberry32, so data and training share one. */
export const rng: (seed: number) => () => number = seededRandom;

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** Expands `[a|b|]` alternations (nested allowed) with random choices. */
export function expand(r: Rand, text: string): string {
  let s = text;
  for (;;) {
    const m = /\[([^[\]]*)\]/.exec(s);
    if (!m) return s;
    s = s.slice(0, m.index) + pick(r, m[1]!.split("|")) + s.slice(m.index + m[0].length);
  }
}

const NUMBER_WORDS = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
];

interface SlotValue {
  /** How the question says it. */
  text: string;
  /** How the action says it. */
  action: string;
}

/** How a question may spell an entity (surface `cafe3` → "Cafe 3", "cafe #3", ...). */
function spellEntity(r: Rand, type: string, surface: string, appName: string): string {
  const m = /^([a-z]+?)(\d+)$/.exec(surface);
  if (m && type !== "shift") {
    const [, word, num] = m;
    const words: Record<string, string[]> = {
      point: ["point", "point", "node", "location", "city", "stop"],
      plant: ["plant", "plant", "facility", "factory"],
      warehouse: ["warehouse", "warehouse", "depot", "customer"],
    };
    const w = pick(r, words[word!] ?? [word!]);
    const cap = r() < 0.4 ? w[0]!.toUpperCase() + w.slice(1) : w;
    const sep = pick(r, [" ", " ", "", " #", " number "]);
    return `${cap}${sep}${num}`;
  }
  const name = actionContext(appName as AppName)
    .spec.entities.get(type)!
    .members.get(surface)!;
  if (
    type === "food" &&
    r() < 0.4 &&
    !name.endsWith("s") &&
    name !== "milk" &&
    name !== "ice cream"
  )
    return `${name}s`;
  if (type === "commodity" && r() < 0.3) return name.toLowerCase().replace(/s$/, "");
  if (type === "shift" && r() < 0.3) return name.toLowerCase();
  return r() < 0.5 ? name : name.toLowerCase();
}

function slotValue(r: Rand, app: AppName, slot: string, used: Map<string, SlotValue>): SlotValue {
  const base = slot.replace(/\d+$/, "");
  const { spec } = actionContext(app);
  const et = spec.entities.get(base);
  if (et) {
    const taken = new Set(
      [...used.entries()].filter(([k]) => k.replace(/\d+$/, "") === base).map(([, v]) => v.action),
    );
    const choices = [...et.members.keys()].filter((m) => !taken.has(m));
    const surface = pick(r, choices);
    // The second point of a pair is often a bare number ("from point 9 to 4").
    if (base === "point" && slot !== base && r() < 0.35)
      return { text: surface.replace("point", ""), action: surface };
    return { text: spellEntity(r, base, surface, app), action: surface };
  }
  switch (base) {
    case "roast": {
      const v = pick(r, ["light", "dark"]);
      return { text: v, action: v };
    }
    case "day": {
      const groups = [...(spec.entities.get("shift")?.groups?.keys() ?? [])];
      const g = pick(r, groups);
      const text =
        g === "weekend"
          ? pick(r, ["the weekend", "weekends", "the weekends"])
          : pick(r, [
              g,
              `${g}s`,
              g[0]!.toUpperCase() + g.slice(1),
              `${g[0]!.toUpperCase()}${g.slice(1)}s`,
            ]);
      return { text, action: g };
    }
    case "pct": {
      const v = r() < 0.3 ? pick(r, [5, 10, 15, 20, 25, 30, 40, 50]) : int(r, 1, 95);
      const text = pick(r, [`${v}`, `${v}`, `${v}`, `${v} `]);
      return { text, action: String(v) };
    }
    case "n": {
      const v = int(r, 1, 9);
      return { text: r() < 0.2 ? NUMBER_WORDS[v]! : String(v), action: String(v) };
    }
    case "amt": {
      const v = r() < 0.5 ? int(r, 1, 60) : int(r, 10, 400);
      return { text: String(v), action: String(v) };
    }
    case "cost": {
      const v = r() < 0.8 ? int(r, 1, 60) : int(r, 1, 99) / 10 + int(r, 0, 5);
      const s = String(Number(v.toFixed(1)));
      return { text: r() < 0.2 ? `$${s}` : s, action: s };
    }
    default:
      throw new Error(`template slot {${slot}} is not known for ${app}`);
  }
}

function render(r: Rand, app: AppName, t: Template): { question: string; action: string } {
  const forms: { text: string; frame?: readonly string[]; key?: string }[] = [
    ...(t.q ?? []).map((text) => ({ text })),
    ...(t.c ?? []).map((text) => ({ text, frame: CLAUSE_FRAMES, key: "{c}" })),
    ...(t.np ?? []).map((text) => ({ text, frame: NP_FRAMES, key: "{np}" })),
  ];
  const form = pick(r, forms);
  let text = expand(r, form.text);
  if (form.frame) text = expand(r, pick(r, form.frame)).replace(form.key!, text);
  const used = new Map<string, SlotValue>();
  const fill = (s: string, side: "text" | "action") =>
    s.replace(/\{([a-z]+\d*)\}/g, (_, slot: string) => {
      let v = used.get(slot);
      if (!v) {
        v = slotValue(r, app, slot, used);
        used.set(slot, v);
      }
      return v[side];
    });
  let question = fill(text, "text")
    .replace(/\s+([?.,])/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
  if (r() < 0.7) question = question[0]!.toUpperCase() + question.slice(1);
  if (r() < 0.1) question = question.replace(/[?.]$/, "");
  return { question, action: fill(t.a, "action") };
}

function isValid(app: AppName, action: string): boolean {
  try {
    planActions(app, action);
    return true;
  } catch (e) {
    if (e instanceof ActionError) return false;
    throw e;
  }
}

/** Generates the task data (see the file comment). */
export function generateExamples(options: GenerateOptions = {}): Example[] {
  const apps = options.apps ?? APP_NAMES;
  const r = rng(options.seed ?? 0);
  const per = options.perTemplate ?? 60;
  const out: Example[] = [];
  const seen = new Set<string>();
  for (const app of apps) {
    for (const t of TEMPLATES[app] ?? []) {
      const forms = (t.q?.length ?? 0) + (t.c?.length ?? 0) + (t.np?.length ?? 0);
      const n = Math.round(per * Math.min(2, 0.5 + forms / 6) * (t.weight ?? 1));
      for (let i = 0, tries = 0; i < n && tries < n * 4; tries++) {
        const { question, action } = render(r, app, t);
        const id = `${app}\u0000${question.toLowerCase()}`;
        if (seen.has(id)) continue;
        // Values drawn at random can name something the app lacks (a capacity on a pair of
        // cities that is not an arc): only actions that validate are kept.
        if (!isValid(app, action)) continue;
        seen.add(id);
        out.push({ app, kind: t.kind, question, action });
        i++;
      }
    }
    const declines = options.declinePerApp ?? 120;
    for (let i = 0; i < declines; i++) {
      let question = expand(r, pick(r, OFF_DOMAIN));
      if (r() < 0.6) question = question[0]!.toUpperCase() + question.slice(1);
      out.push({ app, kind: "decline", question, action: "decline" });
    }
  }
  // A seeded shuffle, so a prefix of the data covers every app and kind.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
