import Database from "better-sqlite3";
import type { JsonValue } from "../agent.js";
import { type Checkpoint, type Checkpointer, validateKey } from "./checkpointer.js";

type Row = { thread_id: string; step: number; state: string; created_at: string; metadata: string };

/**
 * The default checkpointer: one SQLite file (WAL mode, synchronous=FULL), so a checkpoint
 * that `put` has resolved survives kill -9 and power loss. Several threads and processes can
 * share one file.
 */
export class SqliteCheckpointer implements Checkpointer {
  private readonly db: Database.Database;
  private readonly stmts;

  /** `path` is a file name, or ":memory:". */
  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(`CREATE TABLE IF NOT EXISTS checkpoints (
      thread_id TEXT NOT NULL,
      step INTEGER NOT NULL,
      state TEXT NOT NULL,
      created_at TEXT NOT NULL,
      metadata TEXT NOT NULL,
      PRIMARY KEY (thread_id, step)
    ) WITHOUT ROWID`);
    this.stmts = {
      put: this.db.prepare(
        "INSERT OR REPLACE INTO checkpoints (thread_id, step, state, created_at, metadata) VALUES (?, ?, ?, ?, ?)",
      ),
      latest: this.db.prepare(
        "SELECT * FROM checkpoints WHERE thread_id = ? ORDER BY step DESC LIMIT 1",
      ),
      get: this.db.prepare("SELECT * FROM checkpoints WHERE thread_id = ? AND step = ?"),
      list: this.db.prepare(
        "SELECT * FROM checkpoints WHERE thread_id = ? ORDER BY step DESC LIMIT ?",
      ),
      threads: this.db.prepare("SELECT DISTINCT thread_id FROM checkpoints ORDER BY thread_id"),
      delete: this.db.prepare("DELETE FROM checkpoints WHERE thread_id = ?"),
    };
  }

  async put(
    threadId: string,
    step: number,
    state: JsonValue,
    metadata: Record<string, string> = {},
  ) {
    validateKey(threadId, step);
    this.stmts.put.run(
      threadId,
      step,
      JSON.stringify(state),
      new Date().toISOString(),
      JSON.stringify(metadata),
    );
  }

  async getLatest(threadId: string): Promise<Checkpoint | undefined> {
    validateKey(threadId);
    return toCheckpoint(this.stmts.latest.get(threadId) as Row | undefined);
  }

  async get(threadId: string, step: number): Promise<Checkpoint | undefined> {
    validateKey(threadId, step);
    return toCheckpoint(this.stmts.get.get(threadId, step) as Row | undefined);
  }

  async list(threadId: string, options: { limit?: number } = {}): Promise<Checkpoint[]> {
    validateKey(threadId);
    const rows = this.stmts.list.all(threadId, options.limit ?? -1) as Row[];
    return rows.map((r) => toCheckpoint(r) as Checkpoint);
  }

  async threads(): Promise<string[]> {
    return (this.stmts.threads.all() as { thread_id: string }[]).map((r) => r.thread_id);
  }

  async deleteThread(threadId: string): Promise<void> {
    validateKey(threadId);
    this.stmts.delete.run(threadId);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function toCheckpoint(row: Row | undefined): Checkpoint | undefined {
  if (!row) return undefined;
  return {
    threadId: row.thread_id,
    step: row.step,
    state: JSON.parse(row.state),
    createdAt: row.created_at,
    metadata: JSON.parse(row.metadata),
  };
}
