/**
 * The child process of crash-resume.test.ts: runs a checkpointed team, printing each new chat
 * message as one JSON line as soon as it is recorded, and the whole transcript at the end.
 * The parent kills it with SIGKILL mid-run and starts it again.
 *
 *   tsx test/crash-child.ts <db> <threadId> <turns>
 */
// Imports the modules it needs, not the package index, so each start stays fast.
import { SqliteCheckpointer } from "../src/state/sqlite-checkpointer.js";
import { RoundRobinGroupChat } from "../src/teams/round-robin.js";
import { ScriptedAgent } from "../src/teams/scripted.js";
import { MaxMessageTermination } from "../src/termination/conditions.js";

const [db, threadId, turns] = process.argv.slice(2);
const agents = ["a", "b", "c"].map(
  (name) => new ScriptedAgent(name, (_incoming, turn) => `${name}#${turn}`, { delayMs: 15 }),
);
const checkpointer = new SqliteCheckpointer(db);
const team = new RoundRobinGroupChat(agents, {
  termination: new MaxMessageTermination(Number(turns) + 1),
  checkpointer,
  threadId,
});
for await (const item of team.runStream({ task: "count", resume: true })) {
  if (item.type === "text") process.stdout.write(`${JSON.stringify({ message: item.content })}\n`);
}
process.stdout.write(
  `${JSON.stringify({ transcript: team.transcript.map((m) => (m.type === "text" ? m.content : m.type)) })}\n`,
);
await checkpointer.close();
