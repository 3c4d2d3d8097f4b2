import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CreateRequest, StreamChunk } from "../model-client.js";
import { collectStream } from "../model-client.js";
import { ReplayMismatchError } from "./errors.js";
import { RecordingModelClient } from "./recording.js";
import { ReplayModelClient, readRecording } from "./replay.js";

const dirs: string[] = [];
function tempFile(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), "athanor-replay-"));
  dirs.push(dir);
  return join(dir, name);
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ask = (text: string): CreateRequest => ({ messages: [{ role: "user", content: text }] });

async function drain(stream: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const out: StreamChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

describe("ReplayModelClient.fromResults", () => {
  it("fills in defaults and answers in sequence", async () => {
    const model = ReplayModelClient.fromResults([
      "hi",
      { toolCalls: [{ name: "add", arguments: { a: 1, b: 2 } }] },
      { content: "done", usage: { promptTokens: 3, completionTokens: 1 } },
    ]);
    expect(model.modelId).toBe("replay");
    expect(model.capabilities).toEqual({
      tools: true,
      vision: true,
      structuredOutput: true,
      streaming: true,
    });
    expect(await model.create(ask("a"))).toEqual({
      content: "hi",
      toolCalls: [],
      finishReason: "stop",
      usage: { promptTokens: 0, completionTokens: 0 },
    });
    expect(await model.create(ask("b"))).toEqual({
      content: null,
      toolCalls: [{ id: "call_1_0", name: "add", arguments: '{"a":1,"b":2}' }],
      finishReason: "tool_calls",
      usage: { promptTokens: 0, completionTokens: 0 },
    });
    expect((await model.create(ask("c"))).usage).toEqual({ promptTokens: 3, completionTokens: 1 });
    expect(model.requests.map((r) => r.messages[0])).toEqual([
      { role: "user", content: "a" },
      { role: "user", content: "b" },
      { role: "user", content: "c" },
    ]);
    expect(model.remaining).toBe(0);
  });

  it("replays streams as chunks of the result", async () => {
    const model = ReplayModelClient.fromResults([
      { content: "Let me add", toolCalls: [{ id: "c1", name: "add", arguments: "{}" }] },
    ]);
    const chunks = await drain(model.stream(ask("x")));
    expect(chunks.map((c) => c.type)).toEqual(["text-delta", "tool-call-delta", "finish"]);
    expect(chunks[1]).toEqual({
      type: "tool-call-delta",
      index: 0,
      id: "c1",
      name: "add",
      argumentsDelta: "{}",
    });
  });

  it("says when the script is exhausted", async () => {
    const model = ReplayModelClient.fromResults(["only"]);
    await model.create(ask("one"));
    await expect(model.create(ask("two more"))).rejects.toThrow(
      /replay exhausted: the recording has 1 answer\(s\), this is call #2 \(last message user: "two more"\)/,
    );
  });

  it("returns copies, so callers cannot change the recording", async () => {
    const model = ReplayModelClient.fromExchanges(
      [
        {
          v: 1,
          model: "m",
          call: "create",
          hash: "",
          request: ask("a"),
          result: {
            content: null,
            toolCalls: [{ id: "c", name: "f", arguments: "{}" }],
            finishReason: "tool_calls",
            usage: { promptTokens: 0, completionTokens: 0 },
          },
        },
      ],
      { mode: "match" },
    );
    const first = await model.create(ask("a"));
    first.toolCalls.push({ id: "z", name: "z", arguments: "" });
    expect((await model.create(ask("a"))).toolCalls).toHaveLength(1);
  });

  it("rejects an aborted call and bad scripts", async () => {
    const model = ReplayModelClient.fromResults(["x"]);
    await expect(model.create({ ...ask("a"), signal: AbortSignal.abort() })).rejects.toThrow(
      /aborted/,
    );
    expect(model.remaining).toBe(1);
    expect(() => ReplayModelClient.fromResults([{ toolCalls: [{ name: "" }] }])).toThrow(
      /needs a name/,
    );
    expect(() =>
      ReplayModelClient.fromResults([{ content: "x", finishReason: "done" as never }]),
    ).toThrow(/unknown finishReason/);
  });
});

describe("RecordingModelClient + ReplayModelClient.fromFile", () => {
  async function record(path: string) {
    const live = ReplayModelClient.fromResults(
      [
        "4",
        { content: "Paris", usage: { promptTokens: 9, completionTokens: 1 } },
        "streamed answer",
      ],
      { modelId: "live-model" },
    );
    const recorder = new RecordingModelClient(live, { path });
    await recorder.create({ ...ask("2+2?"), temperature: 0, signal: new AbortController().signal });
    await recorder.create(ask("capital of France?"));
    await collectStream(recorder.stream(ask("stream please")));
    return recorder;
  }

  it("appends one JSON line per exchange, without the signal", async () => {
    const path = tempFile("nested/dir/chat.jsonl");
    const recorder = await record(path);
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines).toHaveLength(3);
    const first = JSON.parse(lines[0]);
    expect(first).toMatchObject({
      v: 1,
      model: "live-model",
      call: "create",
      request: { messages: [{ role: "user", content: "2+2?" }], temperature: 0 },
      result: { content: "4", finishReason: "stop" },
    });
    expect(first.request.signal).toBeUndefined();
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(lines[2]).call).toBe("stream");
    expect(recorder.exchanges).toHaveLength(3);
  });

  it("replays a recording in sequence, deterministically", async () => {
    const path = tempFile("chat.jsonl");
    await record(path);
    for (let run = 0; run < 2; run++) {
      const replay = ReplayModelClient.fromFile(path);
      expect(replay.modelId).toBe("live-model");
      expect((await replay.create({ ...ask("2+2?"), temperature: 0 })).content).toBe("4");
      expect((await replay.create(ask("capital of France?"))).usage).toEqual({
        promptTokens: 9,
        completionTokens: 1,
      });
      expect((await collectStream(replay.stream(ask("stream please")))).content).toBe(
        "streamed answer",
      );
    }
  });

  it("says where a sequence replay diverges", async () => {
    const path = tempFile("chat.jsonl");
    await record(path);
    const replay = ReplayModelClient.fromFile(path);
    await expect(replay.create(ask("2+2?"))).rejects.toThrow(
      "call #1 diverges from the recording: request.temperature: expected 0, received nothing",
    );
    const again = ReplayModelClient.fromFile(path);
    await again.create({ ...ask("2+2?"), temperature: 0 });
    await expect(again.create(ask("capital of Spain?"))).rejects.toThrow(
      'call #2 diverges from the recording: request.messages[0].content: expected "capital of France?", received "capital of Spain?"',
    );
    const unchecked = ReplayModelClient.fromFile(path, { checkRequests: false });
    expect((await unchecked.create(ask("anything"))).content).toBe("4");
  });

  it("matches requests by hash in match mode, in any order", async () => {
    const path = tempFile("chat.jsonl");
    await record(path);
    const replay = ReplayModelClient.fromFile(path, { mode: "match" });
    expect((await replay.create(ask("stream please"))).content).toBe("streamed answer");
    expect((await replay.create(ask("capital of France?"))).content).toBe("Paris");
    // Key order and undefined fields do not matter.
    expect(
      (
        await replay.create({
          temperature: 0,
          messages: [{ content: "2+2?", role: "user" }],
          seed: undefined,
        })
      ).content,
    ).toBe("4");
    // A repeated request gets the last recorded answer again.
    expect((await replay.create(ask("capital of France?"))).content).toBe("Paris");
    await expect(replay.create(ask("capital of Spain?"))).rejects.toThrow(
      /call #5 matches no recorded request \(hash [0-9a-f]{12}, last message user: "capital of Spain\?"\); closest recorded request differs at request.messages\[0\].content/,
    );
  });

  it("reports a broken recording file with its line", () => {
    const path = tempFile("bad.jsonl");
    writeFileSync(path, '{"v":1,"result":{"content":"ok","toolCalls":[]}}\n\nnot json\n');
    expect(() => readRecording(path)).toThrow(`${path}:3: not a JSON line`);
    writeFileSync(path, '{"v":1}\n');
    expect(() => ReplayModelClient.fromFile(path)).toThrow(`${path}:1: not a recorded exchange`);
    expect(() => ReplayModelClient.fromFile(tempFile("missing.jsonl"))).toThrow(
      ReplayMismatchError,
    );
  });

  it("does not record failed calls", async () => {
    const path = tempFile("fail.jsonl");
    const recorder = new RecordingModelClient(ReplayModelClient.fromResults([]), { path });
    await expect(recorder.create(ask("x"))).rejects.toThrow(/exhausted/);
    expect(recorder.exchanges).toHaveLength(0);
  });
});
