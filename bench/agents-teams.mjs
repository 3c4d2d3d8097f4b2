// Team turn overhead: how much a checkpoint after every turn costs. A RoundRobinGroupChat of
// three ScriptedAgents (no model, no delay, so only the team machinery is timed) runs N turns
// with no checkpointer, the in-memory one, and SQLite (WAL, synchronous=FULL, a file in the
// OS temp dir); then a fresh team resumes from the SQLite file's latest checkpoint.
// `npm run bench -- agents-teams [--json] [--turns 300]`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  InMemoryCheckpointer,
  MaxMessageTermination,
  RoundRobinGroupChat,
  ScriptedAgent,
  SqliteCheckpointer,
} from "@athanor/agents";

function parseArgs(args) {
  const opts = { json: false, turns: 300 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--json") opts.json = true;
    else if (a === "--turns") opts.turns = Number(args[++i]);
    else if (a === "--help" || a === "-h") {
      console.log("usage: npm run bench -- agents-teams [--json] [--turns 300]");
      process.exit(0);
    } else throw new Error(`agents-teams bench: unknown argument ${a}`);
  }
  if (!(Number.isInteger(opts.turns) && opts.turns > 0))
    throw new Error("--turns must be a positive integer");
  return opts;
}

const makeTeam = (turns, checkpointer) =>
  new RoundRobinGroupChat(
    ["a", "b", "c"].map(
      (n) => new ScriptedAgent(n, (_in, t) => `${n} says something short at turn ${t}.`),
    ),
    { termination: new MaxMessageTermination(turns + 1), checkpointer, threadId: "bench" },
  );

async function timeRun(turns, checkpointer) {
  const team = makeTeam(turns, checkpointer);
  const t0 = performance.now();
  await team.run("start");
  const ms = performance.now() - t0;
  return { ms, usPerTurn: (ms * 1000) / turns, team };
}

export async function main(args) {
  const opts = parseArgs(args);
  const dir = mkdtempSync(join(tmpdir(), "athanor-bench-teams-"));
  try {
    await timeRun(50); // warm-up
    const none = await timeRun(opts.turns);
    const memory = await timeRun(opts.turns, new InMemoryCheckpointer());
    const sqlite = new SqliteCheckpointer(join(dir, "cp.db"));
    const file = await timeRun(opts.turns, sqlite);
    const latest = await sqlite.getLatest("bench");
    const stateBytes = Buffer.byteLength(JSON.stringify(latest.state));
    const t0 = performance.now();
    const resumed = makeTeam(opts.turns);
    await resumed.loadState((await sqlite.getLatest("bench")).state);
    const resumeMs = performance.now() - t0;
    await sqlite.close();

    const rows = [
      ["none", none.ms, none.usPerTurn, 1],
      ["in-memory", memory.ms, memory.usPerTurn, memory.ms / none.ms],
      ["sqlite (sync=FULL)", file.ms, file.usPerTurn, file.ms / none.ms],
    ];
    console.log(`agents-teams: ${opts.turns} turns, 3 scripted agents, round robin`);
    console.log("checkpointer          total ms   us/turn   x none");
    for (const [name, ms, us, ratio] of rows) {
      console.log(
        `${name.padEnd(20)}  ${ms.toFixed(1).padStart(8)}  ${us.toFixed(0).padStart(8)}  ${ratio.toFixed(2).padStart(7)}`,
      );
    }
    console.log(
      `final checkpoint: ${(stateBytes / 1024).toFixed(1)} KiB; resume (read + loadState): ${resumeMs.toFixed(1)} ms`,
    );
    if (opts.json) {
      console.log(
        JSON.stringify({
          turns: opts.turns,
          usPerTurn: { none: none.usPerTurn, memory: memory.usPerTurn, sqlite: file.usPerTurn },
          ratio: { memory: memory.ms / none.ms, sqlite: file.ms / none.ms },
          finalStateBytes: stateBytes,
          resumeMs,
        }),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
