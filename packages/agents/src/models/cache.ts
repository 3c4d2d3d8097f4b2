/**
 * A response cache in SQLite: identical requests (same model, messages, tools, format and
 * sampling parameters) are answered from the cache with `cached: true`. Errors are never
 * cached. WAL mode with a busy timeout, so several processes can share one file.
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import type { CreateRequest, CreateResult, ModelClient, StreamChunk } from "../model-client.js";
import { streamFromResult } from "../model-client.js";
import { requestHash } from "./canonical.js";
import { ModelCacheError, throwIfAborted } from "./errors.js";

const SCHEMA = "athanor-model-cache";
const VERSION = "1";

export interface CacheOptions {
  /** SQLite file (created when missing), or ":memory:". */
  path: string;
  /** How long a process waits for another's write lock, in ms. Default 5000. */
  busyTimeoutMs?: number;
}

export interface CacheStats {
  /** Entries stored in the file (all models). */
  entries: number;
  /** Hits and misses of this instance. */
  hits: number;
  misses: number;
}

type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

export class CachedModelClient implements ModelClient {
  private readonly db: Database;
  private readonly getStmt: Statement;
  private readonly putStmt: Statement;
  private hits = 0;
  private misses = 0;

  constructor(
    readonly inner: ModelClient,
    readonly options: CacheOptions,
  ) {
    this.db = openCache(options.path, options.busyTimeoutMs ?? 5000);
    this.getStmt = this.db.prepare("SELECT result FROM responses WHERE key = ?");
    this.putStmt = this.db.prepare(
      "INSERT OR REPLACE INTO responses (key, model, result, created_at) VALUES (?, ?, ?, ?)",
    );
  }

  get modelId(): string {
    return this.inner.modelId;
  }

  get capabilities() {
    return this.inner.capabilities;
  }

  /** The cache key of a request for this client's model. */
  key(request: CreateRequest): string {
    return requestHash(request, this.inner.modelId);
  }

  async create(request: CreateRequest): Promise<CreateResult> {
    throwIfAborted(request.signal);
    const key = this.key(request);
    const hit = this.lookup(key);
    if (hit) return hit;
    const result = await this.inner.create(request);
    this.store(key, result);
    return result;
  }

  async *stream(request: CreateRequest): AsyncIterable<StreamChunk> {
    throwIfAborted(request.signal);
    const key = this.key(request);
    const hit = this.lookup(key);
    if (hit) {
      yield* streamFromResult(hit);
      return;
    }
    for await (const chunk of this.inner.stream(request)) {
      if (chunk.type === "finish") this.store(key, chunk.result);
      yield chunk;
    }
  }

  stats(): CacheStats {
    const row = this.db.prepare("SELECT count(*) AS n FROM responses").get() as { n: number };
    return { entries: row.n, hits: this.hits, misses: this.misses };
  }

  /** Deletes every entry (of every model) from the file. */
  clear(): void {
    this.db.prepare("DELETE FROM responses").run();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private lookup(key: string): CreateResult | undefined {
    const row = this.getStmt.get(key) as { result: string } | undefined;
    if (!row) {
      this.misses += 1;
      return undefined;
    }
    let result: CreateResult;
    try {
      result = JSON.parse(row.result) as CreateResult;
    } catch {
      throw new ModelCacheError(
        `${this.options.path}: cache entry ${key.slice(0, 12)} is not JSON (corrupt cache)`,
      );
    }
    if (typeof result !== "object" || result === null || !Array.isArray(result.toolCalls)) {
      throw new ModelCacheError(
        `${this.options.path}: cache entry ${key.slice(0, 12)} is not a model result`,
      );
    }
    this.hits += 1;
    return { ...result, cached: true };
  }

  private store(key: string, result: CreateResult): void {
    const { cached: _cached, ...plain } = result;
    this.putStmt.run(key, this.inner.modelId, JSON.stringify(plain), Date.now());
  }
}

let sqlite: typeof BetterSqlite3 | undefined;

/** better-sqlite3 is a native addon: load it only when a cache is opened. */
function loadSqlite(): typeof BetterSqlite3 {
  sqlite ??= createRequire(import.meta.url)("better-sqlite3") as typeof BetterSqlite3;
  return sqlite;
}

function openCache(path: string, busyTimeoutMs: number): Database {
  const Sqlite = loadSqlite();
  let db: Database | undefined;
  if (path !== ":memory:" && path !== "") mkdirSync(dirname(path), { recursive: true });
  try {
    db = new Sqlite(path, { timeout: busyTimeoutMs });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
    ).map((t) => t.name);
    if (tables.length > 0 && !tables.includes("cache_meta")) {
      throw new ModelCacheError(
        `${path} is an SQLite database but not a model cache (it has tables ${tables.slice(0, 5).join(", ")})`,
      );
    }
    db.exec(`
      CREATE TABLE IF NOT EXISTS cache_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS responses (
        key TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      INSERT OR IGNORE INTO cache_meta (key, value) VALUES ('schema', '${SCHEMA}'), ('version', '${VERSION}');
    `);
    const meta = Object.fromEntries(
      (
        db.prepare("SELECT key, value FROM cache_meta").all() as { key: string; value: string }[]
      ).map((r) => [r.key, r.value]),
    );
    if (meta.schema !== SCHEMA || meta.version !== VERSION) {
      throw new ModelCacheError(
        `${path} is not a model cache of this version (schema ${meta.schema ?? "?"} v${meta.version ?? "?"}, expected ${SCHEMA} v${VERSION})`,
      );
    }
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof ModelCacheError) throw error;
    throw new ModelCacheError(`${path} is not a valid model cache: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
