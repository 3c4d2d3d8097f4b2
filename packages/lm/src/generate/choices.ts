/** Decoding constrained to one of a fixed set of strings (e.g. "yes" / "no", action names). */
import type { Tokenizer } from "../tokenizer/index.js";
import { automatonConstraint, type ByteAutomaton, type TokenConstraint } from "./constraint.js";

/** State: bytes matched so far and the choices that still agree with them. */
export interface ChoiceState {
  pos: number;
  live: readonly number[];
}

/** A byte automaton accepting exactly the given strings. */
export function choiceAutomaton(choices: readonly string[]): ByteAutomaton<ChoiceState> {
  if (!Array.isArray(choices) || choices.length === 0)
    throw new TypeError("choices: need at least one choice");
  const enc = new TextEncoder();
  const bytes = choices.map((c, i) => {
    if (typeof c !== "string" || c.length === 0)
      throw new TypeError(`choices[${i}] must be a non-empty string, got ${JSON.stringify(c)}`);
    return enc.encode(c);
  });
  const all = bytes.map((_, i) => i);
  return {
    initial: () => ({ pos: 0, live: all }),
    step(s, byte) {
      const live = s.live.filter((i) => bytes[i]![s.pos] === byte);
      return live.length ? { pos: s.pos + 1, live } : undefined;
    },
    accepts: (s) => s.live.some((i) => bytes[i]!.length === s.pos),
    key: (s) => `${s.pos}:${s.live.join(",")}`,
  };
}

/** A token constraint that makes the model output exactly one of `choices`. */
export function choiceConstraint(
  choices: readonly string[],
  tokenizer: Tokenizer,
): TokenConstraint<ChoiceState> {
  return automatonConstraint(choiceAutomaton(choices), tokenizer);
}
