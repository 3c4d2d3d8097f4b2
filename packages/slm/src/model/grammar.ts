/**
 * The action grammar of an app as a byte automaton, for constrained decoding with
 * `@athanor/lm`'s `automatonConstraint`: the model can only write lines the parser accepts,
 * with the app's own verbs, targets and entity names in the right places (" ; " joins
 * actions). Values are validated later against the data (a grammar cannot know that a pair of
 * cities is not an arc); that check makes an invalid action an error, never a wrong answer.
 */
import type { ByteAutomaton } from "@athanor/lm";
import type { AppName } from "@athanor/optiguide";
import { actionContext } from "../actions/resolve.js";
import type { AppSpec } from "../actions/spec.js";

/** A word slot: a set of words, or a value pattern. */
type Slot = { words: Set<string> } | { pattern: "change" | "bound" };

// A value is a number or a number placeholder of the question (`num#1`).
const V = String.raw`(?:\d{1,6}(?:\.\d{1,4})?|num#\d)`;
const VP = String.raw`(?:\d{1,6}(?:\.\d{0,4})?|n|nu|num|num#|num#\d)`;
const CHANGE_PREFIX = new RegExp(`^(?:[=*/]${VP}?|[+-](?:${VP}|${V}%)?)?$`);
const CHANGE = new RegExp(`^(?:[=*/]${V}|[+-]${V}%?)$`);
const BOUND_PREFIX = new RegExp(`^(?:[<>](?:=${VP}?)?)?$`);
const BOUND = new RegExp(`^[<>]=${V}$`);

/** A placeholder names one thing: it cannot fill two key parts of one action (`point#1 point#1`). */
const isEntityPlaceholder = (w: string) => w.includes("#") && !w.startsWith("num#");

function prefixOk(slot: Slot, s: string, used: readonly string[] = []): boolean {
  if ("words" in slot) {
    for (const w of slot.words) if (w.startsWith(s) && !used.includes(w)) return true;
    return false;
  }
  return (slot.pattern === "change" ? CHANGE_PREFIX : BOUND_PREFIX).test(s);
}

function complete(slot: Slot, s: string, used: readonly string[] = []): boolean {
  if ("words" in slot) return slot.words.has(s) && !used.includes(s);
  return (slot.pattern === "change" ? CHANGE : BOUND).test(s);
}

const one = (w: string): Slot => ({ words: new Set([w]) });

/**
 * Every action shape of an app, as word slots. Key parts are the app's names, or, with
 * `placeholders`, only the entity placeholders of the question (`cafe#1`), so the model can name
 * nothing the question did not mention.
 */
export function signatures(spec: AppSpec, placeholders?: readonly string[]): Slot[][] {
  const keySlot = (type: string, wildcard: boolean): Slot => {
    const et = spec.entities.get(type)!;
    const names = placeholders
      ? placeholders.filter((p) => p.startsWith(`${type}#`))
      : [...et.members.keys()];
    const words = new Set([...names, ...(et.groups?.keys() ?? [])]);
    if (wildcard) words.add("*");
    return { words };
  };
  const keys = (types: string[], wildcard = true) => types.map((t) => keySlot(t, wildcard));
  const change: Slot = { pattern: "change" };
  const bound: Slot = { pattern: "bound" };
  const sigs: Slot[][] = [[one("decline")], [one("show"), one("objective")]];
  for (const p of spec.params.values()) {
    sigs.push([one("show"), one(p.name), ...keys(p.keys)]);
    sigs.push([one("set"), one(p.name), ...keys(p.keys), change]);
  }
  for (const t of spec.totals.values()) {
    sigs.push([one("show"), one(t.name), ...keys(t.keys)]);
    sigs.push([one("limit"), one(t.name), ...keys(t.keys), bound]);
  }
  for (const d of spec.decisions.values()) {
    sigs.push([one("show"), one(d.name), ...keys(d.keys)]);
    for (const verb of ["forbid", "why", "whynot"])
      sigs.push([one(verb), one(d.name), ...keys(d.keys, verb === "forbid")]);
    sigs.push([one("fix"), one(d.name), ...keys(d.keys), change]);
    sigs.push([one("limit"), one(d.name), ...keys(d.keys), bound]);
    // only / exclusive / apart relate two kinds of thing (a roastery and its cafes).
    if (d.keys.length === 2 && d.keys[0] !== d.keys[1]) {
      sigs.push([one("only"), one(d.name), ...keys(d.keys, false)]);
      sigs.push([one("exclusive"), one(d.name), ...keys(d.keys, false)]);
      sigs.push([
        one("apart"),
        one(d.name),
        keySlot(d.keys[0]!, false),
        keySlot(d.keys[0]!, false),
      ]);
    }
  }
  return sigs;
}

/** Where the automaton is: live signatures, word index, current word, and what came before. */
export interface GrammarState {
  alive: number[];
  pos: number;
  buf: string;
  /** 0: nothing yet (a leading space is allowed); 1: inside an action; 2: after a complete
   *  action and a space (";" next); 3: after ";" (a space next). */
  phase: 0 | 1 | 2 | 3;
  /** Actions completed before this one (at most MAX_ACTIONS in a line). */
  done: number;
  /** Entity placeholders the current action already names. */
  used: string[];
}

/** Most actions in one line (a what-if needs at most two: move a worker off one shift and onto another). */
export const MAX_ACTIONS = 3;

/** A byte automaton over the action lines of an app (see the file comment and `signatures`). */
export function actionAutomaton(
  app: AppName,
  placeholders?: readonly string[],
): ByteAutomaton<GrammarState> {
  const sigs = signatures(actionContext(app).spec, placeholders).filter((sig) =>
    sig.every((slot) => !("words" in slot) || slot.words.size > 0),
  );
  const all = sigs.map((_, i) => i);
  const start: GrammarState = { alive: all, pos: 0, buf: "", phase: 0, done: 0, used: [] };
  const ended = (st: GrammarState) =>
    st.alive.some(
      (i) => sigs[i]!.length === st.pos + 1 && complete(sigs[i]![st.pos]!, st.buf, st.used),
    );
  // Every slot still ahead must have a word left once `used` are taken (no dead ends).
  const open = (sig: Slot[], from: number, used: readonly string[]) =>
    sig
      .slice(from)
      .every((slot) => !("words" in slot) || [...slot.words].some((w) => !used.includes(w)));
  return {
    initial: () => start,
    step(st, byte) {
      const ch = String.fromCharCode(byte);
      if (st.phase === 2) return ch === ";" ? { ...st, phase: 3 } : undefined;
      if (st.phase === 3)
        return ch === " "
          ? { alive: all, pos: 0, buf: "", phase: 1, done: st.done, used: [] }
          : undefined;
      if (ch === " ") {
        if (st.phase === 0 && st.pos === 0 && st.buf === "") return { ...st, phase: 1 };
        const used = isEntityPlaceholder(st.buf) ? [...st.used, st.buf] : st.used;
        const alive = st.alive.filter((i) => {
          const sig = sigs[i]!;
          return (
            sig.length > st.pos + 1 &&
            complete(sig[st.pos]!, st.buf, st.used) &&
            open(sig, st.pos + 1, used)
          );
        });
        if (alive.length > 0)
          return { alive, pos: st.pos + 1, buf: "", phase: 1, done: st.done, used };
        return ended(st) && st.done + 1 < MAX_ACTIONS
          ? { alive: [], pos: 0, buf: "", phase: 2, done: st.done + 1, used: [] }
          : undefined;
      }
      if (byte < 0x21 || byte > 0x7e) return undefined;
      const buf = st.buf + ch;
      if (buf.length > 24) return undefined;
      const alive = st.alive.filter((i) => {
        const sig = sigs[i]!;
        return sig.length > st.pos && prefixOk(sig[st.pos]!, buf, st.used);
      });
      return alive.length > 0 ? { ...st, alive, buf, phase: 1 } : undefined;
    },
    accepts: (st) => st.phase === 1 && ended(st),
    key: (st) =>
      `${st.phase}|${st.done}|${st.pos}|${st.buf}|${st.used.join(",")}|${st.alive.join(",")}`,
  };
}
