import Database from "better-sqlite3";
import type { JsonValue } from "../agent.js";
import { type LLMMessage, messageText } from "../messages.js";
import { memoryContextMessage, validateItem } from "./list-memory.js";
import type { Memory, MemoryItem, MemoryQueryResult } from "./memory.js";

export interface SqliteMemoryOptions {
  /** The collection inside the file; several memories can share one file (default "default"). */
  name?: string;
  /** How many items `updateContext` adds (default 5). */
  topK?: number;
}

type Row = {
  id: number;
  content: string;
  mime_type: string | null;
  metadata: string;
  score: number;
};

/**
 * A durable, searchable memory in SQLite: full-text search (FTS5, Porter stemming) ranked by
 * BM25. Before a turn it adds the items most relevant to the latest user message.
 */
export class SqliteMemory implements Memory {
  readonly name: string;
  private readonly db: Database.Database;
  private readonly topK: number;

  constructor(path: string, options: SqliteMemoryOptions = {}) {
    this.name = options.name ?? "default";
    this.topK = options.topK ?? 5;
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS memory_items (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        collection TEXT NOT NULL,
        content TEXT NOT NULL,
        mime_type TEXT,
        metadata TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS memory_items_collection ON memory_items (collection);
      CREATE VIRTUAL TABLE IF NOT EXISTS memory_fts USING fts5(
        content, content='memory_items', content_rowid='id', tokenize='porter unicode61'
      );
      CREATE TRIGGER IF NOT EXISTS memory_items_ai AFTER INSERT ON memory_items BEGIN
        INSERT INTO memory_fts (rowid, content) VALUES (new.id, new.content);
      END;
      CREATE TRIGGER IF NOT EXISTS memory_items_ad AFTER DELETE ON memory_items BEGIN
        INSERT INTO memory_fts (memory_fts, rowid, content) VALUES ('delete', old.id, old.content);
      END;
    `);
  }

  async add(item: MemoryItem): Promise<void> {
    validateItem(item);
    this.db
      .prepare(
        "INSERT INTO memory_items (collection, content, mime_type, metadata) VALUES (?, ?, ?, ?)",
      )
      .run(this.name, item.content, item.mimeType ?? null, JSON.stringify(item.metadata ?? {}));
  }

  /** Items sharing words with `query` (stemmed), best match first; score = -BM25 (higher is better). */
  async query(query: string, options: { limit?: number } = {}): Promise<MemoryQueryResult[]> {
    const words = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])];
    if (words.length === 0) return [];
    const match = words.map((w) => `"${w}"`).join(" OR ");
    const rows = this.db
      .prepare(
        `SELECT m.id, m.content, m.mime_type, m.metadata, -bm25(memory_fts) AS score
         FROM memory_fts JOIN memory_items m ON m.id = memory_fts.rowid
         WHERE memory_fts MATCH ? AND m.collection = ?
         ORDER BY score DESC, m.id DESC LIMIT ?`,
      )
      .all(match, this.name, options.limit ?? 10) as Row[];
    return rows.map((r) => ({ item: toItem(r), score: r.score }));
  }

  async updateContext(context: LLMMessage[]): Promise<MemoryItem[]> {
    const last = [...context].reverse().find((m) => m.role === "user");
    if (last?.role !== "user") return [];
    const text =
      typeof last.content === "string"
        ? last.content
        : messageText({
            type: "multimodal",
            content: last.content,
            id: "",
            source: "",
            createdAt: "",
          });
    const results = await this.query(text, { limit: this.topK });
    if (results.length === 0) return [];
    const items = results.map((r) => r.item);
    context.push(memoryContextMessage(items, "Relevant memory content"));
    return items;
  }

  async clear(): Promise<void> {
    this.db.prepare("DELETE FROM memory_items WHERE collection = ?").run(this.name);
  }

  /** All items of the collection, oldest first: the state travels without the file. */
  async saveState(): Promise<JsonValue> {
    const rows = this.db
      .prepare(
        "SELECT id, content, mime_type, metadata, 0 AS score FROM memory_items WHERE collection = ? ORDER BY id",
      )
      .all(this.name) as Row[];
    return { items: rows.map(toItem) as unknown as JsonValue };
  }

  /** Replaces the collection's items with the saved ones. */
  async loadState(state: JsonValue): Promise<void> {
    const items = (state as { items?: unknown } | null)?.items;
    if (!Array.isArray(items))
      throw new Error(`SqliteMemory(${this.name}).loadState: state.items must be an array`);
    const load = this.db.transaction((list: MemoryItem[]) => {
      this.db.prepare("DELETE FROM memory_items WHERE collection = ?").run(this.name);
      const insert = this.db.prepare(
        "INSERT INTO memory_items (collection, content, mime_type, metadata) VALUES (?, ?, ?, ?)",
      );
      for (const item of list) {
        validateItem(item);
        insert.run(
          this.name,
          item.content,
          item.mimeType ?? null,
          JSON.stringify(item.metadata ?? {}),
        );
      }
    });
    load(items as MemoryItem[]);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toItem(r: Row): MemoryItem {
  const metadata = JSON.parse(r.metadata) as Record<string, string>;
  return {
    content: r.content,
    ...(r.mime_type ? { mimeType: r.mime_type as MemoryItem["mimeType"] } : {}),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
}
