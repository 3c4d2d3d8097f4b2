/**
 * The AutoGen paper's application A3, multi-agent coding (OptiGuide): a writer writes code to
 * answer a supply-chain what-if question, a safeguard checks the code before anything runs,
 * the code runs in the QuickJS sandbox, and the writer interprets the output. The paper
 * reports the safeguard agent raising the F1 score of spotting unsafe code (by 8% with GPT-4,
 * 35% with GPT-3.5) over a single agent, and the whole design cutting the code needed.
 *
 * The flow is a GraphFlow: writer -> safeguard -> runner (SAFE) -> writer, with the safeguard
 * sending unsafe code back to the writer (DANGER). The graph ends when the writer answers
 * without code. The runner sees only the writer's latest message (a MessageFilterAgent), so a
 * rejected draft can never run.
 *
 *   npx tsx packages/agents/examples/writer-safeguard.ts            # offline, from the fixture
 *   npx tsx packages/agents/examples/writer-safeguard.ts --live     # against your endpoint
 */
import {
  AssistantAgent,
  CodeExecutorAgent,
  DiGraphBuilder,
  GraphFlow,
  MessageFilterAgent,
  type ModelClient,
  type ReplayResult,
  SandboxedJsExecutor,
} from "../src/index.js";
import { exampleModel, isMain, parseArgs, printRun } from "./shared.js";

export const WHAT_IF_TASK = `Two roasteries ship coffee to three cafes. Unit shipping costs: r1 -> c1 5, r1 -> c2 4, r1 -> c3 3; r2 -> c1 6, r2 -> c2 3, r2 -> c3 7. Capacity: r1 150, r2 50. Demand: c1 30, c2 60, c3 50. What if demand at c2 rises by 20%? Give the shipping plan (cheapest lanes first) and its total cost.`;

const WRITER_SYSTEM_MESSAGE = `You answer supply-chain what-if questions by writing ONE fenced \`\`\`javascript block that prints the answer with console.log. A safeguard reviews your code and a runner executes it; you then see its output. Use only the data in the question: no file system, network or process access. Once you have the output, answer in plain words, without code.`;

const SAFEGUARD_SYSTEM_MESSAGE = `You review JavaScript before it runs. Reply SAFE if it only computes on data written in the code, or DANGER followed by the reason if it touches the file system, the network, processes or the environment.`;

export const AUTHORED: ReplayResult[] = [
  // writer: a first draft that reads data from the host
  "I will load the network data and re-plan.\n```javascript\nconst fs = require('fs');\nconst net = JSON.parse(fs.readFileSync('/srv/supply/network.json', 'utf8'));\nconsole.log(net);\n```",
  // safeguard
  "DANGER: the code reads the host file system (require('fs'), /srv/supply/network.json). Use only the data given in the question.",
  // writer: the data inline
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the model's JavaScript uses template literals
  "Understood; here is a version with the data inline.\n```javascript\nconst cost = { r1: { c1: 5, c2: 4, c3: 3 }, r2: { c1: 6, c2: 3, c3: 7 } };\nconst capacity = { r1: 150, r2: 50 };\nconst demand = { c1: 30, c2: 60 * 1.2, c3: 50 };\nconst lanes = [];\nfor (const r in cost) for (const c in cost[r]) lanes.push({ r, c, unit: cost[r][c] });\nlanes.sort((a, b) => a.unit - b.unit);\nconst left = { ...capacity };\nconst need = { ...demand };\nlet total = 0;\nfor (const { r, c, unit } of lanes) {\n  const q = Math.min(left[r], need[c]);\n  if (q <= 0) continue;\n  left[r] -= q;\n  need[c] -= q;\n  total += q * unit;\n  console.log(`${r} -> ${c}: ${q} units at ${unit}`);\n}\nconsole.log(`total cost: ${total}`);\n```",
  // safeguard
  "SAFE",
  // writer: interprets the output
  "With c2's demand up 20% (60 -> 72 units), the cheapest-lanes-first plan ships r1 -> c3 50, r2 -> c2 50, r1 -> c2 22 and r1 -> c1 30, for a total cost of 538 (up from 490: r1 covers the extra 12 units of c2 at 4 each, since r2 is at capacity).",
];

export function whatIfTeam(model: ModelClient) {
  const writer = new AssistantAgent("writer", {
    modelClient: model,
    systemMessage: WRITER_SYSTEM_MESSAGE,
  });
  const safeguard = new AssistantAgent("safeguard", {
    modelClient: model,
    systemMessage: SAFEGUARD_SYSTEM_MESSAGE,
  });
  const executor = new SandboxedJsExecutor({ timeoutMs: 5_000 });
  const runner = new MessageFilterAgent(new CodeExecutorAgent("runner", { executor }), [
    { source: "writer", position: "last" },
  ]);
  const graph = new DiGraphBuilder()
    .addNode(writer)
    .addNode(safeguard)
    .addNode(runner)
    .addEdge(writer, safeguard, { condition: "```" })
    .addEdge(safeguard, runner, {
      condition: (m) => m.type === "text" && m.content.trim().startsWith("SAFE"),
    })
    .addEdge(safeguard, writer, { condition: "DANGER", group: "rejected" })
    .addEdge(runner, writer, { group: "output" })
    .setEntryPoint(writer)
    .build();
  const team = new GraphFlow([writer, safeguard, runner], {
    name: "optiguide",
    graph,
    maxTurns: 12,
  });
  return { team, dispose: () => executor.dispose() };
}

if (isMain(import.meta.url)) {
  const args = parseArgs(process.argv.slice(2));
  const model = exampleModel("writer-safeguard", {
    live: args.live,
    record: args.record,
    ...(args.author ? { author: AUTHORED } : {}),
  });
  const { team, dispose } = whatIfTeam(model);
  try {
    await printRun(team, args.task ?? WHAT_IF_TASK);
  } finally {
    await dispose();
  }
}
