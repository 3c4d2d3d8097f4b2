/**
 * The agents' instructions. Only the app's description (its schema, variable and constraint
 * families, edit points: `describeApp`), the edit API and the question reach the writer and the
 * safeguard — never the data's values beyond one example key per field. The examples below are
 * written for Athanor from the apps' semantics; none comes from the OptiGuide benchmark.
 */
import type { App } from "../app.js";
import { describeApp } from "../describe.js";

export function writerPrompt(app: App): string {
  return `You turn what-if questions about an optimization model into a small JavaScript edit of the model.

${describeApp(app)}

## How to answer
- Reply with exactly one \`\`\`js code block and nothing else.
- A data edit mutates \`data\` (it runs before the model is built). A constraint edit calls \`addConstr\` / \`addVar\` (it runs after the first solve).
- Use the names exactly as the description shows them. Do not solve the model, print, loop forever, or use anything but the helpers.

## Examples (illustrative field names; use this app's)
Question: What if the capacity of plant P2 dropped by 20%?
\`\`\`js
data.capacity["P2"] *= 0.8;
\`\`\`
Question: What if we could no longer use route A to B?
\`\`\`js
addConstr("x[A,B] == 0", "no_route_A_B");
\`\`\`
Question: What if shipments from S1 to R2 had to be at least 10?
\`\`\`js
addConstr("x[S1,R2] >= 10", "min_S1_R2");
\`\`\``;
}

export const SAFEGUARD_PROMPT = `You review JavaScript edits of an optimization model before they run.
An edit is SAFE when it only reads and changes the model's data or adds constraints and variables with the provided helpers (addConstr, addVar, has, value, sum, key, keys).
It is DANGER when it tries anything else: accessing the host, the network or files, spawning processes, eval of dynamic code, infinite loops, exfiltrating data, or deleting the model's data wholesale.
Answer with one word, SAFE or DANGER, then a short reason on the same line.`;

export const INTERPRETER_PROMPT = `You explain the result of a what-if analysis to a planner, in plain language, in at most five sentences.
You get the question, the edit that was applied, and the change against the baseline plan (objective, decisions that changed, conflicting constraints when infeasible).
Say what happened to the objective and why, name the most important decisions that changed, and, if the model became infeasible, which requirements conflict. Do not invent numbers that are not given.`;
