/**
 * The checkpointer conformance suite: framework-agnostic cases (node:assert) that every
 * Checkpointer must pass. Run them from any test framework:
 *
 *   for (const c of checkpointerConformance) it(c.name, () => c.run(() => new MyCheckpointer()));
 */
import assert from "node:assert/strict";
import type { Checkpointer } from "./checkpointer.js";

export interface ConformanceCase {
  name: string;
  run(factory: () => Checkpointer | Promise<Checkpointer>): Promise<void>;
}

async function using(
  factory: () => Checkpointer | Promise<Checkpointer>,
  body: (cp: Checkpointer) => Promise<void>,
): Promise<void> {
  const cp = await factory();
  try {
    await body(cp);
  } finally {
    await cp.close?.();
  }
}

export const checkpointerConformance: ConformanceCase[] = [
  {
    name: "an unknown thread has no checkpoints",
    run: (f) =>
      using(f, async (cp) => {
        assert.equal(await cp.getLatest("nope"), undefined);
        assert.equal(await cp.get("nope", 0), undefined);
        assert.deepEqual(await cp.list("nope"), []);
      }),
  },
  {
    name: "put then get round-trips state and metadata exactly",
    run: (f) =>
      using(f, async (cp) => {
        const state = {
          text: 'héllo \u{1F600} "quoted"\n',
          n: 1.5,
          neg: -3,
          flag: false,
          none: null,
          list: [1, "two", { three: [3] }],
        };
        await cp.put("t", 0, state, { agent: "a" });
        const got = await cp.get("t", 0);
        assert.ok(got);
        assert.deepEqual(got.state, state);
        assert.deepEqual(got.metadata, { agent: "a" });
        assert.equal(got.threadId, "t");
        assert.equal(got.step, 0);
        assert.ok(!Number.isNaN(Date.parse(got.createdAt)), "createdAt is an ISO date");
      }),
  },
  {
    name: "getLatest returns the highest step, whatever the write order",
    run: (f) =>
      using(f, async (cp) => {
        await cp.put("t", 1, { s: 1 });
        await cp.put("t", 3, { s: 3 });
        await cp.put("t", 2, { s: 2 });
        assert.deepEqual((await cp.getLatest("t"))?.state, { s: 3 });
      }),
  },
  {
    name: "writing an existing step replaces it",
    run: (f) =>
      using(f, async (cp) => {
        await cp.put("t", 1, { v: "old" });
        await cp.put("t", 1, { v: "new" });
        assert.deepEqual((await cp.get("t", 1))?.state, { v: "new" });
        assert.equal((await cp.list("t")).length, 1);
      }),
  },
  {
    name: "list is newest first and honours limit",
    run: (f) =>
      using(f, async (cp) => {
        for (let i = 0; i < 5; i++) await cp.put("t", i, { i });
        assert.deepEqual(
          (await cp.list("t")).map((c) => c.step),
          [4, 3, 2, 1, 0],
        );
        assert.deepEqual(
          (await cp.list("t", { limit: 2 })).map((c) => c.step),
          [4, 3],
        );
      }),
  },
  {
    name: "threads are isolated, listed and deletable",
    run: (f) =>
      using(f, async (cp) => {
        await cp.put("b", 0, { who: "b" });
        await cp.put("a", 0, { who: "a" });
        await cp.put("a", 1, { who: "a1" });
        assert.deepEqual(await cp.threads(), ["a", "b"]);
        assert.deepEqual((await cp.getLatest("b"))?.state, { who: "b" });
        await cp.deleteThread("a");
        assert.equal(await cp.getLatest("a"), undefined);
        assert.deepEqual(await cp.threads(), ["b"]);
        assert.deepEqual((await cp.getLatest("b"))?.state, { who: "b" });
      }),
  },
  {
    name: "stored state is a copy: later mutation of the input or output changes nothing",
    run: (f) =>
      using(f, async (cp) => {
        const state = { list: [1, 2] };
        await cp.put("t", 0, state);
        state.list.push(3);
        const got = await cp.get("t", 0);
        assert.ok(got);
        assert.deepEqual(got.state, { list: [1, 2] });
        (got.state as { list: number[] }).list.push(4);
        assert.deepEqual((await cp.get("t", 0))?.state, { list: [1, 2] });
      }),
  },
  {
    name: "bad keys are rejected with a clear error",
    run: (f) =>
      using(f, async (cp) => {
        await assert.rejects(() => cp.put("", 0, {}), /threadId/);
        await assert.rejects(() => cp.put("t", -1, {}), /step/);
        await assert.rejects(() => cp.put("t", 1.5, {}), /step/);
      }),
  },
  {
    name: "a large state (1 MB) round-trips",
    run: (f) =>
      using(f, async (cp) => {
        const state = {
          big: "x".repeat(1 << 20),
          items: Array.from({ length: 1000 }, (_, i) => ({ i })),
        };
        await cp.put("t", 7, state);
        assert.deepEqual((await cp.getLatest("t"))?.state, state);
      }),
  },
];
