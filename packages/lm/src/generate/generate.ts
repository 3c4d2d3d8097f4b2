/**
 * Autoregressive generation with a KV cache. A batch of prompts of different lengths is
 * left-padded (attention mask + position ids), prefilled in one forward pass, then decoded
 * one token per row per step. A finished row (end-of-sequence, stop string, constraint
 * complete, length) stops producing tokens: it is fed a masked pad that nothing attends to,
 * and the loop ends when every row is done.
 */
import { ops, Rng, type Tensor, tensor, tidy } from "@athanor/tensor";
import type { CausalLM, StepDecoder } from "../model/causal-lm.js";
import type { Tokenizer } from "../tokenizer/index.js";
import { ConstraintError, type TokenConstraint } from "./constraint.js";
import { IncrementalDetokenizer } from "./detokenizer.js";
import {
  applyRepetitionPenalty,
  type SamplingOptions,
  selectToken,
  validateSampling,
} from "./sampling.js";
import { StopMatcher } from "./stop.js";

/** A prompt: text (needs `tokenizer`) or token ids. */
export type Prompt = string | readonly number[];

export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to generate per row (default 128; fewer if the model's positions run out). */
  maxNewTokens?: number;
  /** Seed of the sampling generator (default 0). Same seed, same options: same tokens. */
  seed?: number;
  /** Stop strings, matched on the decoded text; the text is cut before the first one. */
  stop?: readonly string[];
  /** End-of-sequence ids (default the model's). [] never stops on a token. */
  eosTokenIds?: readonly number[];
  /** Restricts the tokens (JSON schema, choices, a grammar); one for all rows or one per row. */
  constraint?: TokenConstraint | readonly (TokenConstraint | null | undefined)[] | null;
  /** Needed for text prompts, stop strings, constraints built on text, and `text` outputs. */
  tokenizer?: Tokenizer;
  /** Add the tokenizer's special tokens (e.g. BOS) to text prompts. Default true. */
  addSpecialTokens?: boolean;
  /** Leave special tokens out of the decoded text (default true). */
  skipSpecialTokens?: boolean;
  /** Called for every generated token, in order (`text` is the new decoded text, maybe ""). */
  onToken?: (event: TokenEvent) => void;
  /** Aborts between steps; unfinished rows end with finishReason "aborted". */
  signal?: AbortSignal;
  /** Storage of the KV cache: "f32" (default) or "f16" (half the memory, f32 attention). */
  cacheDType?: "f32" | "f16";
  /**
   * Record decode steps once (one recording per attention span) and replay them for the
   * rest (`createStepDecoder`; backends that can record work: webgpu). The prompt's prefill
   * runs as usual. Default false.
   */
  captureDecode?: boolean;
}

export interface TokenEvent {
  /** Index of the prompt in the batch. */
  row: number;
  token: number;
  /**
   * Text this token completes: never half a UTF-8 character, never part of a stop string.
   * `token` is -1 for the last event of a row aborted by the signal (text held back until then).
   */
  text: string;
}

export type FinishReason = "eos" | "stop" | "length" | "constraint" | "aborted";

export interface Generation {
  /** Generated ids (an end-of-sequence id included when it ended the row). */
  tokens: number[];
  /** Decoded generated text (stop string and EOS excluded); "" without a tokenizer. */
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
}

export interface GenerationStats {
  /** Prompt tokens (padding excluded) and generated tokens over all rows. */
  promptTokens: number;
  generatedTokens: number;
  /** Milliseconds of the prefill forward pass and of all decode steps. */
  prefillMs: number;
  decodeMs: number;
  /** Milliseconds of each decode step, in order (step i runs at position prompt + i). */
  stepMs: number[];
}

export interface GenerationBatch {
  outputs: Generation[];
  stats: GenerationStats;
}

/**
 * One step of the decode loop: token events to hand out, or logits to read back (the driver
 * reads them, synchronously or not, and resumes the loop with the host values).
 */
type Step = { events: TokenEvent[] } | { read: Tensor };

const asF32 = (d: ArrayLike<number>) => (d instanceof Float32Array ? d : Float32Array.from(d));

/** Host values of a logits tensor, read synchronously (backends with `readSync`). */
function readSync(t: Tensor): Float32Array {
  if (!t.backend.syncRead)
    throw new Error(
      `generate: backend "${t.backend.name}" cannot be read synchronously; use ` +
        "generateAsync or streamGenerate",
    );
  return asF32(t.data());
}

/** Generates for a batch of prompts, synchronously (backends with synchronous reads: cpu). */
export function generate(
  model: CausalLM,
  prompts: readonly Prompt[],
  options: GenerateOptions = {},
): GenerationBatch {
  const steps = decodeLoop(model, prompts, options);
  try {
    let input: Float32Array | undefined;
    for (;;) {
      const r = steps.next(input as Float32Array);
      if (r.done) return r.value;
      input = undefined;
      if ("read" in r.value) input = readSync(r.value.read);
      else for (const e of r.value.events) options.onToken?.(e);
    }
  } finally {
    steps.return(undefined as never); // frees the KV cache if a callback threw
  }
}

/** {@link generate} on any backend (GPU logits are read back asynchronously). */
export async function generateAsync(
  model: CausalLM,
  prompts: readonly Prompt[],
  options: GenerateOptions = {},
): Promise<GenerationBatch> {
  const stream = streamGenerate(model, prompts, options);
  for (;;) {
    const r = await stream.next();
    if (r.done) return r.value;
  }
}

/**
 * Streams the tokens of a batch as they are decoded (yielding to the event loop between
 * steps; logits are read asynchronously, so any backend works); the iterator's return value
 * is the finished batch.
 */
export async function* streamGenerate(
  model: CausalLM,
  prompts: readonly Prompt[],
  options: GenerateOptions = {},
): AsyncGenerator<TokenEvent, GenerationBatch, undefined> {
  const steps = decodeLoop(model, prompts, options);
  try {
    let input: Float32Array | undefined;
    for (;;) {
      const r = steps.next(input as Float32Array);
      if (r.done) return r.value;
      input = undefined;
      if ("read" in r.value) {
        input = asF32(await r.value.read.dataAsync());
        continue;
      }
      for (const e of r.value.events) {
        options.onToken?.(e);
        yield e;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    steps.return(undefined as never); // frees the KV cache when the reader stops early
  }
}

interface Row {
  prompt: number[];
  tokens: number[];
  seen: Set<number>;
  done: FinishReason | null;
  constraint: TokenConstraint | null;
  state: unknown;
  detok: IncrementalDetokenizer | null;
  stop: StopMatcher | null;
  text: string;
  /** Real tokens so far (the next position). */
  position: number;
}

/** The decoding loop: yields each step's token events, returns the batch. */
function* decodeLoop(
  model: CausalLM,
  prompts: readonly Prompt[],
  o: GenerateOptions,
): Generator<Step, GenerationBatch, Float32Array> {
  validateSampling(o);
  if (!Array.isArray(prompts) || prompts.length === 0)
    throw new TypeError("generate: prompts must be a non-empty array of strings or id arrays");
  const { info } = model;
  const tok = o.tokenizer ?? null;
  const stops = o.stop ?? [];
  if (stops.length > 0 && !tok) throw new TypeError("generate: stop strings need a tokenizer");
  const eos = new Set(o.eosTokenIds ?? info.eosTokenIds);
  const penalty = o.repetitionPenalty ?? 1;
  const rng = new Rng(o.seed ?? 0);
  const maxNew = o.maxNewTokens ?? 128;
  if (!Number.isInteger(maxNew) || maxNew < 1)
    throw new RangeError(`generate: maxNewTokens must be a positive integer, got ${maxNew}`);
  const constraints = o.constraint ?? null;
  if (Array.isArray(constraints) && constraints.length !== prompts.length)
    throw new RangeError(
      `generate: ${constraints.length} constraints for ${prompts.length} prompts (give one, or one per prompt)`,
    );

  const rows: Row[] = prompts.map((p, i) => {
    const ids = encodePrompt(p, i, tok, o.addSpecialTokens ?? true, info);
    const constraint =
      (Array.isArray(constraints) ? constraints[i] : (constraints as TokenConstraint | null)) ??
      null;
    return {
      prompt: ids,
      tokens: [],
      seen: new Set(ids),
      done: null,
      constraint,
      state: constraint?.initial(),
      detok: tok ? new IncrementalDetokenizer(tok, o.skipSpecialTokens ?? true) : null,
      stop: stops.length ? new StopMatcher(stops) : null,
      text: "",
      position: ids.length,
    };
  });
  const B = rows.length;
  const L = Math.max(...rows.map((r) => r.prompt.length));
  const room = info.maxPositions - L;
  if (room < 1)
    throw new RangeError(
      `generate: a prompt of ${L} tokens leaves no room in the model's ${info.maxPositions} positions`,
    );
  const limit = Math.min(maxNew, room);
  const pad = info.padTokenId ?? [...eos][0] ?? 0;
  const total = L + limit;

  // Attention mask over every position the cache will hold (1 real, 0 pad / finished).
  const mask = new Float32Array(B * total);
  const prefillIds = new Int32Array(B * L).fill(pad);
  const prefillPos = new Int32Array(B * L);
  let padded = false;
  for (const [b, r] of rows.entries()) {
    const off = L - r.prompt.length;
    if (off > 0) padded = true;
    for (let t = 0; t < r.prompt.length; t++) {
      prefillIds[b * L + off + t] = r.prompt[t]!;
      prefillPos[b * L + off + t] = t;
      mask[b * total + off + t] = 1;
    }
  }

  const stats: GenerationStats = {
    promptTokens: rows.reduce((s, r) => s + r.prompt.length, 0),
    generatedTokens: 0,
    prefillMs: 0,
    decodeMs: 0,
    stepMs: [],
  };
  const cache = model.createCache(B, total, { dtype: o.cacheDType });
  let decoder: StepDecoder | null = null;
  try {
    if (o.captureDecode) {
      if (!model.createStepDecoder)
        throw new TypeError(
          `generate: captureDecode needs a model with createStepDecoder (this ${info.modelType} model has none)`,
        );
      decoder = model.createStepDecoder(cache);
    }
    // Prefill.
    let t0 = performance.now();
    let logits = yield* readLogits(
      model,
      prefillIds,
      prefillPos,
      [B, L],
      padded ? mask : null,
      total,
      L,
      cache,
    );
    stats.prefillMs = performance.now() - t0;
    let past = L;
    for (;;) {
      const events: TokenEvent[] = [];
      for (const [b, r] of rows.entries()) {
        if (r.done) continue;
        if (o.signal?.aborted) {
          finish(r, "aborted", events, b);
          continue;
        }
        const e = pickToken(
          r,
          b,
          logits.subarray(b * info.vocabSize, (b + 1) * info.vocabSize),
          o,
          rng,
          eos,
          penalty,
        );
        if (e) {
          events.push(e);
          if (!r.done && r.tokens.length >= limit) {
            r.done = "length";
            e.text += flushText(r);
          }
        }
        if (r.done) padded = true; // its next positions are masked
      }
      yield { events };
      if (rows.every((r) => r.done)) break;
      // Next step: one token per row; finished rows get a masked pad.
      const ids = new Int32Array(B);
      const pos = new Int32Array(B);
      for (const [b, r] of rows.entries()) {
        if (r.done) {
          ids[b] = pad;
          pos[b] = Math.max(0, r.position - 1);
        } else {
          ids[b] = r.tokens[r.tokens.length - 1]!;
          pos[b] = r.position;
          mask[b * total + past] = 1;
        }
      }
      t0 = performance.now();
      logits = decoder
        ? yield { read: decoder.step(ids, pos, padded ? mask : null) } // the decoder owns it
        : yield* readLogits(model, ids, pos, [B, 1], padded ? mask : null, total, past + 1, cache);
      const ms = performance.now() - t0;
      stats.stepMs.push(ms);
      stats.decodeMs += ms;
      past++;
      for (const r of rows) if (!r.done) r.position++;
    }
  } finally {
    decoder?.dispose();
    cache.dispose();
  }
  stats.generatedTokens = rows.reduce((s, r) => s + r.tokens.length, 0);
  return {
    outputs: rows.map((r) => ({
      tokens: r.tokens,
      text: r.text,
      finishReason: r.done ?? "length",
      promptTokens: r.prompt.length,
    })),
    stats,
  };
}

function encodePrompt(
  p: Prompt,
  i: number,
  tok: Tokenizer | null,
  addSpecial: boolean,
  info: CausalLM["info"],
): number[] {
  let ids: number[];
  if (typeof p === "string") {
    if (!tok) throw new TypeError(`generate: prompt ${i} is text but no tokenizer was given`);
    ids = tok.encode(p, { addSpecialTokens: addSpecial });
  } else if (Array.isArray(p)) {
    ids = [...p];
  } else throw new TypeError(`generate: prompt ${i} must be a string or an array of token ids`);
  for (const id of ids)
    if (!Number.isInteger(id) || id < 0 || id >= info.vocabSize)
      throw new RangeError(
        `generate: prompt ${i} has token id ${id}, outside the vocabulary (size ${info.vocabSize})`,
      );
  if (ids.length === 0) {
    if (info.bosTokenId === undefined)
      throw new RangeError(`generate: prompt ${i} is empty and the model has no BOS token`);
    ids = [info.bosTokenId];
  }
  return ids;
}

/**
 * Runs the model on [B, T] ids and returns the last position's logits, host [B × vocab]:
 * ids, positions and the mask go in as host arrays, and the logits come back through the
 * driver (a `read` step), so GPU backends work too.
 */
function* readLogits(
  model: CausalLM,
  ids: Int32Array,
  positions: Int32Array,
  shape: [number, number],
  mask: Float32Array | null,
  total: number,
  upTo: number,
  cache: ReturnType<CausalLM["createCache"]>,
): Generator<Step, Float32Array, Float32Array> {
  const last = tidy(() => {
    const [B, T] = shape;
    let attentionMask: Float32Array | undefined;
    if (mask) {
      attentionMask = new Float32Array(B * upTo);
      for (let b = 0; b < B; b++)
        attentionMask.set(mask.subarray(b * total, b * total + upTo), b * upTo);
    }
    const { logits } = model.forward(tensor(ids, [B, T], { dtype: "i32" }), {
      cache,
      attentionMask,
      positionIds: positions,
      logitsFor: "last",
    });
    const Tl = logits.shape[1];
    return Tl === 1 ? logits : ops.slice(logits, 1, Tl - 1, Tl);
  });
  try {
    return yield { read: last };
  } finally {
    last.dispose();
  }
}

/** Chooses row `r`'s next token from its logits (modified in place); returns its event. */
function pickToken(
  r: Row,
  b: number,
  logits: Float32Array,
  o: GenerateOptions,
  rng: Rng,
  eos: Set<number>,
  penalty: number,
): TokenEvent | null {
  applyRepetitionPenalty(logits, r.seen, penalty);
  let allowed: ArrayLike<number> | undefined;
  if (r.constraint) {
    const a = r.constraint.allowed(r.state);
    if (a.tokens.length === 0) {
      if (!a.canEnd)
        throw new ConstraintError(
          `generate: row ${b}: no token of the vocabulary can continue the constrained text`,
        );
      r.done = "constraint";
      return null;
    }
    allowed = a.canEnd && eos.size > 0 ? [...a.tokens, ...eos] : a.tokens;
  }
  const id = selectToken(logits, o, rng, allowed);
  if (id < 0) throw new Error(`generate: row ${b}: every allowed token has probability 0`);
  r.tokens.push(id);
  r.seen.add(id);
  if (eos.has(id)) {
    r.done = "eos";
    const rest = flushText(r);
    return { row: b, token: id, text: rest };
  }
  if (r.constraint) r.state = r.constraint.advance(r.state, id);
  let text = "";
  if (r.detok) {
    const delta = r.detok.push(id);
    if (r.stop) {
      const s = r.stop.push(delta);
      text = s.emit;
      if (s.stopped) r.done = "stop";
    } else text = delta;
    r.text += text;
  }
  if (!r.done && r.constraint) {
    const next = r.constraint.allowed(r.state);
    if (next.tokens.length === 0 && next.canEnd) r.done = "constraint";
  }
  if (r.done && r.done !== "stop") {
    const rest = flushText(r);
    text += rest;
  }
  return { row: b, token: id, text };
}

/** Emits whatever text was held back (partial character, possible stop-string start). */
function flushText(r: Row): string {
  if (!r.detok) return "";
  let out = r.detok.flush();
  if (r.stop) {
    const s = r.stop.push(out);
    out = s.emit + (s.stopped ? "" : r.stop.flush());
  }
  r.text += out;
  return out;
}

function finish(r: Row, reason: FinishReason, events: TokenEvent[], b: number): void {
  r.done = reason;
  const rest = flushText(r);
  if (rest) events.push({ row: b, token: -1, text: rest });
}
