import type { Tool } from "../tools/tool.js";

/** A Swarm handoff: the agent may pass the conversation to `target`. */
export interface Handoff {
  /** The receiving agent's name. */
  target: string;
  /** What the model reads about when to hand off (default "Hand off to <target>."). */
  description?: string;
  /** The tool's name (default `transfer_to_<target>`). */
  name?: string;
  /** The HandoffMessage's content (default "Transferred to <target>, adopting the role of <target> immediately."). */
  message?: string;
}

export interface HandoffTool extends Tool {
  readonly target: string;
  readonly message: string;
}

/** A handoff as a tool without arguments; calling it returns the handoff message. */
export function handoffTool(h: string | Handoff): HandoffTool {
  const handoff = typeof h === "string" ? { target: h } : h;
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(handoff.target)) {
    throw new Error(`handoff target ${JSON.stringify(handoff.target)} is not a valid agent name`);
  }
  const message =
    handoff.message ??
    `Transferred to ${handoff.target}, adopting the role of ${handoff.target} immediately.`;
  return {
    name: handoff.name ?? `transfer_to_${handoff.target}`,
    description: handoff.description ?? `Hand off to ${handoff.target}.`,
    parameters: { type: "object", properties: {}, additionalProperties: false },
    target: handoff.target,
    message,
    run: async () => message,
  };
}
