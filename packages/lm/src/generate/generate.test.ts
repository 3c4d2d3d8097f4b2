import { Tensor, tensor } from "@athanor/tensor";
import { describe, expect, it } from "vitest";
import type { CausalLM, ForwardOptions, HostInput, KVCache } from "../model/causal-lm.js";
import { fixturePath } from "../testing/fixtures.js";
import { Tokenizer } from "../tokenizer/index.js";
import { choiceConstraint } from "./choices.js";
import { generate, streamGenerate, type TokenEvent } from "./generate.js";
import { jsonSchemaConstraint } from "./json-schema.js";

/** The toy model's cache: per row, the ids and mask values of every cached position. */
class ToyCache implements KVCache {
  ids: number[][];
  real: boolean[][];
  constructor(
    readonly batchSize: number,
    readonly maxLength: number,
  ) {
    this.ids = Array.from({ length: batchSize }, () => []);
    this.real = Array.from({ length: batchSize }, () => []);
  }
  get length(): number {
    return this.ids[0]!.length;
  }
  dispose(): void {}
}

/**
 * A deterministic model whose next-token distribution depends on every real (unmasked) token
 * before it and on the position id: so padding, masks, positions and the cache must all be
 * right for batched generation to match one-prompt-at-a-time generation. It also checks the
 * position ids it is given against the mask.
 */
/** Values of a mask / positions input (host array or cpu tensor). */
function hostInput(x: HostInput | undefined): ArrayLike<number> | undefined {
  if (x === undefined) return undefined;
  return x instanceof Tensor ? x.data() : (x as ArrayLike<number>);
}

class ToyLM implements CausalLM {
  readonly info;
  forwards = 0;
  constructor(
    readonly vocabSize = 512,
    eos: number[] = [0],
  ) {
    this.info = { modelType: "toy", vocabSize, maxPositions: 256, eosTokenIds: eos, bosTokenId: 0 };
  }
  createCache(batchSize: number, maxLength: number): ToyCache {
    return new ToyCache(batchSize, maxLength);
  }
  parameters(): Map<string, Tensor> {
    return new Map();
  }
  forward(inputIds: Tensor, o: ForwardOptions = {}) {
    this.forwards++;
    const [B, T] = inputIds.shape as [number, number];
    const ids = inputIds.data();
    const cache = (o.cache as ToyCache | undefined) ?? new ToyCache(B, T);
    const past = cache.length;
    const mask = hostInput(o.attentionMask);
    const pos = hostInput(o.positionIds);
    const V = this.vocabSize;
    const logits = new Float32Array(B * T * V);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const real = mask ? mask[b * (past + T) + past + t] === 1 : true;
        cache.ids[b]!.push(ids[b * T + t]!);
        cache.real[b]!.push(real);
        const before = cache.real[b]!.filter(Boolean).length - (real ? 1 : 0);
        const p = pos ? pos[b * T + t]! : before;
        if (real && p !== before) throw new Error(`toy: position ${p}, expected ${before}`);
        let s = 0;
        cache.ids[b]!.forEach((id, j) => {
          if (cache.real[b]![j]) s = (s * 31 + id + 7) % 100003;
        });
        const peak = (s + 3 * p) % V;
        for (let v = 0; v < V; v++)
          logits[(b * T + t) * V + v] = -0.05 * ((v - peak + V) % V) + ((v * 13) % 7) * 0.01;
      }
    }
    return { logits: tensor(logits, [B, T, V]) };
  }
}

const tok = () => Tokenizer.fromFile(fixturePath("tokenizer-bpe512/tokenizer.json"));

describe("generate", () => {
  it("greedy decoding follows the model's argmax with one forward per step", () => {
    const m = new ToyLM();
    const { outputs, stats } = generate(m, [[5, 6, 7]], { maxNewTokens: 6, eosTokenIds: [] });
    expect(outputs[0]!.tokens).toHaveLength(6);
    expect(outputs[0]!.finishReason).toBe("length");
    expect(m.forwards).toBe(6); // prefill + 5 decode steps (the last token needs no forward)
    expect(stats.stepMs).toHaveLength(5);
    // Same as re-running the whole sequence without a cache each step.
    const seq = [5, 6, 7];
    for (let i = 0; i < 6; i++) {
      const l = new ToyLM().forward(
        tensor(Int32Array.from(seq), [1, seq.length], { dtype: "i32" }),
      ).logits;
      const last = Array.from(l.data()).slice((seq.length - 1) * 512);
      seq.push(last.indexOf(Math.max(...last)));
    }
    expect(outputs[0]!.tokens).toEqual(seq.slice(3));
  });

  it("a batch of prompts of different lengths gives what each prompt gives alone", () => {
    const prompts = [[9], [4, 8, 15, 16, 23, 42], [100, 200, 300]];
    for (const temperature of [0, 0.8]) {
      const batch = generate(new ToyLM(512, []), prompts, { maxNewTokens: 12, temperature });
      prompts.forEach((p, i) => {
        const alone = generate(new ToyLM(512, []), [p], { maxNewTokens: 12, temperature });
        if (temperature === 0) expect(batch.outputs[i]!.tokens).toEqual(alone.outputs[0]!.tokens);
        else expect(batch.outputs[i]!.tokens).toHaveLength(12);
      });
    }
  });

  it("finished rows stop producing tokens while others continue", () => {
    const m = new ToyLM(512, []);
    const free = generate(m, [[1, 2], [3]], { maxNewTokens: 10 }).outputs;
    const eos = free[0]!.tokens[2]!; // row 0 will stop at its third token
    const res = generate(new ToyLM(512, [eos]), [[1, 2], [3]], { maxNewTokens: 10 }).outputs;
    expect(res[0]!.tokens).toEqual(free[0]!.tokens.slice(0, 3));
    expect(res[0]!.finishReason).toBe("eos");
    const cut = free[1]!.tokens.indexOf(eos);
    expect(res[1]!.tokens).toEqual(cut >= 0 ? free[1]!.tokens.slice(0, cut + 1) : free[1]!.tokens);
  });

  it("sampling is reproducible by seed and honours top-k", () => {
    const a = generate(new ToyLM(), [[1]], { maxNewTokens: 20, temperature: 1, seed: 7 });
    const b = generate(new ToyLM(), [[1]], { maxNewTokens: 20, temperature: 1, seed: 7 });
    const c = generate(new ToyLM(), [[1]], { maxNewTokens: 20, temperature: 1, seed: 8 });
    expect(a.outputs[0]!.tokens).toEqual(b.outputs[0]!.tokens);
    expect(a.outputs[0]!.tokens).not.toEqual(c.outputs[0]!.tokens);
    // top-k 1 is greedy whatever the temperature.
    const greedy = generate(new ToyLM(), [[1]], { maxNewTokens: 10, eosTokenIds: [] });
    const k1 = generate(new ToyLM(), [[1]], {
      maxNewTokens: 10,
      temperature: 5,
      topK: 1,
      seed: 3,
      eosTokenIds: [],
    });
    expect(k1.outputs[0]!.tokens).toEqual(greedy.outputs[0]!.tokens);
  });

  it("streams text deltas that add up to the decoded text, and stops on stop strings", async () => {
    const t = tok();
    const events: TokenEvent[] = [];
    const it = streamGenerate(new ToyLM(512, []), ["def f(x):"], {
      tokenizer: t,
      maxNewTokens: 30,
    });
    let r = await it.next();
    while (!r.done) {
      events.push(r.value);
      r = await it.next();
    }
    const out = r.value.outputs[0]!;
    expect(events.map((e) => e.text).join("")).toBe(out.text);
    expect(out.text).toBe(t.decode(out.tokens, { skipSpecialTokens: true }));
    // Stop on a piece of that text that spans tokens: the text ends right before it.
    const pieces = events.map((e) => e.text);
    const start = pieces[0]!.length + pieces[1]!.length - 1;
    const stop = out.text.slice(start, start + 3);
    expect(stop.length).toBe(3);
    const streamed: string[] = [];
    const stopped = generate(new ToyLM(512, []), ["def f(x):"], {
      tokenizer: t,
      maxNewTokens: 30,
      stop: [stop],
      onToken: (e) => streamed.push(e.text),
    }).outputs[0]!;
    expect(stopped.finishReason).toBe("stop");
    expect(stopped.text).toBe(out.text.slice(0, out.text.indexOf(stop)));
    expect(streamed.join("")).toBe(stopped.text);
  });

  it("stops unfinished rows when the signal aborts", async () => {
    const ac = new AbortController();
    const it = streamGenerate(new ToyLM(512, []), [[1], [2, 3]], {
      maxNewTokens: 50,
      signal: ac.signal,
    });
    let n = 0;
    let r = await it.next();
    while (!r.done) {
      if (++n === 4) ac.abort();
      r = await it.next();
    }
    for (const o of r.value.outputs) {
      expect(o.finishReason).toBe("aborted");
      expect(o.tokens.length).toBeLessThan(50);
    }
  });

  it("frees the cache when a stream is abandoned", async () => {
    const m = new ToyLM(512, []);
    let disposed = 0;
    const create = m.createCache.bind(m);
    m.createCache = (b, n) => {
      const c = create(b, n);
      c.dispose = () => {
        disposed++;
      };
      return c;
    };
    for await (const e of streamGenerate(m, [[1]], { maxNewTokens: 20 })) if (e.token >= 0) break;
    expect(disposed).toBe(1);
  });

  it("constrains output to a fixed set of choices", () => {
    const t = tok();
    const choices = ["north", "south", "east", "west side"];
    const c = choiceConstraint(choices, t);
    for (const seed of [1, 2, 3]) {
      const out = generate(new ToyLM(512, []), ["go "], {
        tokenizer: t,
        constraint: c,
        temperature: 1,
        seed,
      }).outputs[0]!;
      expect(choices).toContain(out.text);
      expect(out.finishReason).toBe("constraint");
    }
  });

  it("constrains output to JSON valid for a schema", () => {
    const t = tok();
    const schema = {
      type: "object",
      properties: {
        action: { enum: ["move", "wait"] },
        steps: { type: "integer" },
        note: { type: "string", maxLength: 8 },
      },
      required: ["action", "steps", "note"],
    };
    const c = jsonSchemaConstraint(schema, t);
    const res = generate(new ToyLM(512, [0]), ["plan: ", "act: "], {
      tokenizer: t,
      constraint: c,
      temperature: 1,
      seed: 5,
      maxNewTokens: 200,
    });
    for (const out of res.outputs) {
      expect(out.finishReason).toBe("constraint");
      const v = JSON.parse(out.text);
      expect(Object.keys(v)).toEqual(["action", "steps", "note"]);
      expect(["move", "wait"]).toContain(v.action);
      expect(Number.isInteger(v.steps)).toBe(true);
      expect(v.note.length).toBeLessThanOrEqual(8);
    }
  });

  it("rejects bad input with clear errors", () => {
    const m = new ToyLM();
    expect(() => generate(m, [], {})).toThrow(/non-empty array/);
    expect(() => generate(m, ["hi"], {})).toThrow(/no tokenizer/);
    expect(() => generate(m, [[600]], {})).toThrow(/token id 600, outside the vocabulary/);
    expect(() => generate(m, [[1]], { temperature: -1 })).toThrow(/temperature/);
    expect(() => generate(m, [[1]], { topP: 0 })).toThrow(/topP/);
    expect(() => generate(m, [[1]], { maxNewTokens: 0 })).toThrow(/maxNewTokens/);
    expect(() => generate(m, [[1]], { stop: ["x"] })).toThrow(/stop strings need a tokenizer/);
    expect(() => generate(m, [new Array(256).fill(1)], {})).toThrow(/no room/);
  });
});
