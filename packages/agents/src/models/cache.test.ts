import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { llmMessageText } from "../messages.js";
import type { CreateRequest, CreateResult, ModelClient, StreamChunk } from "../model-client.js";
import { collectStream } from "../model-client.js";
import { CachedModelClient } from "./cache.js";
import { ModelCacheError } from "./errors.js";
import { ReplayModelClient } from "./replay.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "athanor-cache-"));
  dirs.push(dir);
  return dir;
}
const open: CachedModelClient[] = [];
function cached(inner: ModelClient, path: string): CachedModelClient {
  const c = new CachedModelClient(inner, { path });
  open.push(c);
  return c;
}
afterEach(() => {
  for (const c of open.splice(0)) c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ask = (text: string, extra: Partial<CreateRequest> = {}): CreateRequest => ({
  messages: [{ role: "user", content: text }],
  ...extra,
});

/** A client that counts calls and can be told to fail. */
class CountingClient implements ModelClient {
  readonly capabilities = { tools: true, vision: false, structuredOutput: true, streaming: true };
  calls = 0;
  fail = false;
  constructor(readonly modelId = "counting") {}
  async create(request: CreateRequest): Promise<CreateResult> {
    this.calls += 1;
    if (this.fail) throw new Error("model down");
    const text = llmMessageText(request.messages.at(-1)!);
    return {
      content: `answer #${this.calls} to ${String(text)}`,
      toolCalls: [],
      finishReason: "stop",
      usage: { promptTokens: 1, completionTokens: 2 },
    };
  }
  async *stream(request: CreateRequest): AsyncIterable<StreamChunk> {
    const result = await this.create(request);
    yield { type: "text-delta", delta: result.content ?? "" };
    yield { type: "finish", result };
  }
}

describe("CachedModelClient", () => {
  it("answers repeated requests from the cache, marked cached", async () => {
    const inner = new CountingClient();
    const model = cached(inner, join(tempDir(), "cache.sqlite"));
    const first = await model.create(ask("hi"));
    expect(first.cached).toBeUndefined();
    const second = await model.create(ask("hi"));
    expect(second).toEqual({ ...first, cached: true });
    expect(inner.calls).toBe(1);
    expect(model.stats()).toEqual({ entries: 1, hits: 1, misses: 1 });
  });

  it("keys on model, messages, tools, format and sampling parameters", async () => {
    const inner = new CountingClient();
    const path = join(tempDir(), "cache.sqlite");
    const model = cached(inner, path);
    const variants: CreateRequest[] = [
      ask("hi"),
      ask("hello"),
      ask("hi", { temperature: 0.5 }),
      ask("hi", { seed: 1 }),
      ask("hi", { maxTokens: 5 }),
      ask("hi", { responseFormat: { type: "json_object" } }),
      ask("hi", { tools: [{ name: "t", description: "", parameters: { type: "object" } }] }),
    ];
    for (const r of variants) await model.create(r);
    expect(inner.calls).toBe(variants.length);
    for (const r of variants)
      expect((await model.create({ ...r, signal: new AbortController().signal })).cached).toBe(
        true,
      );
    expect(inner.calls).toBe(variants.length);
    const otherModel = cached(new CountingClient("other"), path);
    expect((await otherModel.create(ask("hi"))).cached).toBeUndefined();
  });

  it("caches streams and replays hits as a stream", async () => {
    const inner = new CountingClient();
    const model = cached(inner, join(tempDir(), "cache.sqlite"));
    const live = await collectStream(model.stream(ask("s")));
    const chunks: StreamChunk[] = [];
    for await (const c of model.stream(ask("s"))) chunks.push(c);
    expect(chunks.map((c) => c.type)).toEqual(["text-delta", "finish"]);
    expect(chunks.at(-1)).toEqual({ type: "finish", result: { ...live, cached: true } });
    expect((await model.create(ask("s"))).cached).toBe(true);
    expect(inner.calls).toBe(1);
  });

  it("never caches errors", async () => {
    const inner = new CountingClient();
    const model = cached(inner, join(tempDir(), "cache.sqlite"));
    inner.fail = true;
    await expect(model.create(ask("x"))).rejects.toThrow("model down");
    inner.fail = false;
    expect((await model.create(ask("x"))).cached).toBeUndefined();
    expect(inner.calls).toBe(2);
  });

  it("persists across instances and uses WAL", async () => {
    const path = join(tempDir(), "new", "dir", "cache.sqlite");
    const a = cached(new CountingClient(), path);
    await a.create(ask("persist"));
    a.close();
    const inner = new CountingClient();
    const b = cached(inner, path);
    expect((await b.create(ask("persist"))).cached).toBe(true);
    expect(inner.calls).toBe(0);
    const Database = (await import("better-sqlite3")).default;
    const db = new Database(path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });

  it("refuses a file that is not a cache, clearly", () => {
    const dir = tempDir();
    const text = join(dir, "notes.txt");
    writeFileSync(text, "this is not a database ".repeat(100));
    expect(() => cached(new CountingClient(), text)).toThrow(ModelCacheError);
    expect(() => cached(new CountingClient(), text)).toThrow(
      /notes.txt is not a valid model cache/,
    );
    const other = join(dir, "other.sqlite");
    return import("better-sqlite3").then(({ default: Database }) => {
      const db = new Database(other);
      db.exec("CREATE TABLE users (id INTEGER)");
      db.close();
      expect(() => cached(new CountingClient(), other)).toThrow(
        /not a model cache \(it has tables users\)/,
      );
    });
  });

  it("is safe for several processes writing the same file", async () => {
    const path = join(tempDir(), "shared.sqlite");
    const script = join(tempDir(), "writer.mts");
    const cacheModule = fileURLToPath(new URL("./cache.ts", import.meta.url));
    writeFileSync(
      script,
      `import { CachedModelClient } from ${JSON.stringify(cacheModule)};
const [path, who] = process.argv.slice(2);
const inner = {
  modelId: "echo",
  capabilities: { tools: true, vision: false, structuredOutput: true, streaming: true },
  async create(request) {
    const content = "echo " + request.messages[0].content;
    return { content, toolCalls: [], finishReason: "stop", usage: { promptTokens: 1, completionTokens: 1 } };
  },
  stream() {
    throw new Error("unused");
  },
};
const cache = new CachedModelClient(inner, { path });
for (let i = 0; i < 40; i++) {
  await cache.create({ messages: [{ role: "user", content: who + i }] });
  await cache.create({ messages: [{ role: "user", content: "shared" + i }] });
}
cache.close();
`,
    );
    const run = (who: string) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", script, path, who], {
          stdio: ["ignore", "ignore", "pipe"],
        });
        let stderr = "";
        child.stderr.on("data", (d) => {
          stderr += String(d);
        });
        child.on("error", reject);
        child.on("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`writer ${who} exited ${code}: ${stderr}`)),
        );
      });
    await Promise.all([run("a"), run("b"), run("c")]);
    const model = cached(ReplayModelClient.fromResults([], { modelId: "echo" }), path);
    expect(model.stats().entries).toBe(3 * 40 + 40);
    for (const content of ["a0", "b7", "c39", "shared12"]) {
      const result = await model.create({ messages: [{ role: "user", content }] });
      expect(result).toMatchObject({ content: `echo ${content}`, cached: true });
    }
  });
});
