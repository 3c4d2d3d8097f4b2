import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  brownDocuments,
  choiceConstraint,
  createAdapter,
  createModel,
  evaluateAsync,
  type FitOptions,
  fit,
  generateAsync,
  jsonSchemaConstraint,
  lmBatch,
  loadAdapter,
  loadModel,
  type Model,
  parseModelConfig,
  progressLine,
  readTrainingFile,
  type SftExample,
  type StepMetrics,
  saveAdapter,
  saveModel,
  sftBatch,
  splitForEval,
  streamGenerate,
  type TokenConstraint,
  Tokenizer,
  tokenBlocks,
  trainBpe,
  type WeightDType,
} from "@athanor/lm";
import {
  backendByName,
  createWebGpuBackend,
  loadSafetensors,
  saveSafetensors,
  setBackend,
  tensor,
} from "@athanor/tensor";
import type { Command } from "commander";
import { printJson } from "../output.js";

// ---- flag parsing ------------------------------------------------------------------------

function int(name: string, min = 1) {
  return (s: string) => {
    const x = Number(s);
    if (!(Number.isInteger(x) && x >= min))
      throw new Error(`${name} must be an integer ≥ ${min}, got "${s}"`);
    return x;
  };
}

function num(name: string, ok: (x: number) => boolean, what: string) {
  return (s: string) => {
    const x = Number(s);
    if (!Number.isFinite(x) || !ok(x)) throw new Error(`${name} must be ${what}, got "${s}"`);
    return x;
  };
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

// ---- loading -----------------------------------------------------------------------------

const BACKEND_HELP =
  'where tensors live and kernels run: "cpu" (WebAssembly SIMD + BLAS) or "webgpu" (a GPU ' +
  "through Dawn; Mesa's lavapipe without one)";

/** Makes `--backend` the default backend of this run. */
async function selectBackend(name: string | undefined): Promise<void> {
  if (name === undefined || name === "cpu") return;
  if (name !== "webgpu") throw new Error(`--backend must be "cpu" or "webgpu", got "${name}"`);
  const gpu = await createWebGpuBackend();
  setBackend(gpu);
  process.stderr.write(`backend: webgpu on ${gpu.info.adapter}\n`);
}

const DTYPE_HELP =
  'storage of the weight matrices: "f32", or "f16" (half the memory; arithmetic stays f32)';

function dtypeFlag(name: string) {
  return (v: string): WeightDType => {
    if (v !== "f32" && v !== "f16") throw new Error(`${name} must be "f32" or "f16", got "${v}"`);
    return v;
  };
}

async function loadWithAdapter(
  dir: string,
  adapterDir?: string,
  dtype: WeightDType = "f32",
): Promise<Model> {
  if (!existsSync(dir)) throw new Error(`--model ${dir}: no such folder`);
  const model = await loadModel(dir, { dtype });
  if (adapterDir) {
    if (!existsSync(adapterDir)) throw new Error(`--adapter ${adapterDir}: no such folder`);
    model.attachAdapter(await loadAdapter(adapterDir));
  }
  return model;
}

function loadTokenizer(dir: string): Tokenizer {
  const file = join(dir, "tokenizer.json");
  if (!existsSync(file))
    throw new Error(`${dir}: no tokenizer.json (needed to turn text into tokens)`);
  return Tokenizer.fromFile(file);
}

// ---- generate ----------------------------------------------------------------------------

interface GenerateFlags {
  dtype?: WeightDType;
  kvDtype?: WeightDType;
  backend?: string;
  model: string;
  adapter?: string;
  prompt: string[];
  maxNewTokens: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  seed: number;
  stop?: string[];
  jsonSchema?: string;
  choices?: string;
  json?: boolean;
  captureDecode?: boolean;
}

async function runGenerate(f: GenerateFlags): Promise<void> {
  await selectBackend(f.backend);
  if (!f.prompt?.length) throw new Error("--prompt is required (repeat it for a batch)");
  if (f.jsonSchema && f.choices) throw new Error("use --json-schema or --choices, not both");
  const model = await loadWithAdapter(f.model, f.adapter, f.dtype);
  const tokenizer = loadTokenizer(f.model);
  let constraint: TokenConstraint | undefined;
  if (f.jsonSchema) {
    let schema: unknown;
    try {
      schema = JSON.parse(readFileSync(f.jsonSchema, "utf8"));
    } catch (e) {
      throw new Error(`--json-schema ${f.jsonSchema}: ${(e as Error).message}`);
    }
    constraint = jsonSchemaConstraint(schema, tokenizer);
  } else if (f.choices) {
    const list = f.choices.split(",").map((c) => c.trim());
    if (list.some((c) => !c)) throw new Error(`--choices: empty choice in "${f.choices}"`);
    constraint = choiceConstraint(list, tokenizer);
  }
  const options = {
    tokenizer,
    maxNewTokens: f.maxNewTokens,
    temperature: f.temperature,
    topK: f.topK,
    topP: f.topP,
    repetitionPenalty: f.repetitionPenalty,
    seed: f.seed,
    stop: f.stop,
    constraint,
    cacheDType: f.kvDtype,
    captureDecode: f.captureDecode,
  };
  if (f.json) {
    const { outputs, stats } = await generateAsync(model, f.prompt, options);
    printJson({
      outputs: outputs.map((o, i) => ({ prompt: f.prompt[i], ...o })),
      stats: {
        promptTokens: stats.promptTokens,
        generatedTokens: stats.generatedTokens,
        prefillMs: stats.prefillMs,
        decodeMs: stats.decodeMs,
      },
    });
    return;
  }
  if (f.prompt.length === 1) {
    // Stream the one completion as it is decoded.
    const ac = new AbortController();
    const onInt = () => ac.abort();
    process.once("SIGINT", onInt);
    try {
      const it = streamGenerate(model, f.prompt, { ...options, signal: ac.signal });
      process.stdout.write(f.prompt[0]!);
      let r = await it.next();
      while (!r.done) {
        process.stdout.write(r.value.text);
        r = await it.next();
      }
      const o = r.value.outputs[0]!;
      const s = r.value.stats;
      process.stdout.write("\n");
      process.stderr.write(
        `[${o.tokens.length} tokens, ${o.finishReason}; ${((s.generatedTokens / (s.prefillMs + s.decodeMs)) * 1000).toFixed(1)} tok/s]\n`,
      );
    } finally {
      process.off("SIGINT", onInt);
    }
    return;
  }
  const { outputs } = await generateAsync(model, f.prompt, options);
  outputs.forEach((o, i) => {
    process.stdout.write(`--- [${i}] ${o.finishReason}, ${o.tokens.length} tokens\n`);
    process.stdout.write(`${f.prompt[i]}${o.text}\n`);
  });
}

// ---- forward -----------------------------------------------------------------------------

interface ForwardFlags {
  dtype?: WeightDType;
  model: string;
  adapter?: string;
  input: string;
  out: string;
  backend?: string;
}

async function runForward(f: ForwardFlags) {
  await selectBackend(f.backend);
  const model = await loadWithAdapter(f.model, f.adapter, f.dtype);
  if (!existsSync(f.input)) throw new Error(`--input ${f.input}: no such file`);
  // The inputs are checked on the host, so they are read onto the cpu backend.
  const { tensors } = await loadSafetensors(f.input, { backend: backendByName("cpu") });
  const ids = tensors.input_ids;
  if (!ids)
    throw new Error(
      `--input ${f.input}: no "input_ids" tensor (has: ${Object.keys(tensors).join(", ") || "none"})`,
    );
  if (ids.rank !== 2)
    throw new Error(`--input ${f.input}: input_ids must be [B, T], got ${ids.describe()}`);
  const vocab = model.info.vocabSize;
  const data = ids.data();
  for (let i = 0; i < data.length; i++)
    if (!Number.isInteger(data[i]) || data[i]! < 0 || data[i]! >= vocab)
      throw new Error(
        `--input ${f.input}: input_ids has ${data[i]} at ${i}, outside the vocabulary (size ${vocab})`,
      );
  const i32 = tensor(Int32Array.from(data), ids.shape, { dtype: "i32" });
  const mask = tensors.attention_mask
    ? Float32Array.from(tensors.attention_mask.data())
    : undefined;
  const logits = model.forward(i32, { attentionMask: mask }).logits;
  await saveSafetensors(f.out, { logits });
  process.stderr.write(`wrote logits ${logits.describe()} to ${f.out}\n`);
}

// ---- eval --------------------------------------------------------------------------------

interface EvalFlags {
  dtype?: WeightDType;
  model: string;
  adapter?: string;
  data: string;
  context?: number;
  batchSize: number;
  json?: boolean;
  backend?: string;
}

async function runEval(f: EvalFlags): Promise<void> {
  await selectBackend(f.backend);
  const model = await loadWithAdapter(f.model, f.adapter, f.dtype);
  const tokenizer = loadTokenizer(f.model);
  const context = Math.min(f.context ?? 256, model.info.maxPositions);
  const eos = model.info.eosTokenIds[0];
  const pad = model.info.padTokenId ?? eos ?? 0;
  const { items, sft } = trainingItems(f.data, tokenizer, context, eos);
  const batches = [];
  for (let i = 0; i < items.length; i += f.batchSize) {
    const chunk = items.slice(i, i + f.batchSize);
    batches.push(
      sft
        ? sftBatch(chunk as SftExample[], { padId: pad, maxLength: context })
        : lmBatch(chunk as number[][], { padId: pad }),
    );
  }
  const r = await evaluateAsync(model, batches);
  if (f.json) printJson({ data: f.data, ...r, sequences: items.length });
  else
    console.log(
      `${f.data}: loss ${r.loss.toFixed(4)}, perplexity ${r.perplexity.toFixed(2)} over ${r.labelTokens.toLocaleString("en-US")} tokens (${items.length} sequences)`,
    );
}

/** A data file (or "brown") as LM blocks or SFT examples. */
function trainingItems(
  data: string,
  tokenizer: Tokenizer,
  context: number,
  eos: number | undefined,
): { items: number[][] | SftExample[]; sft: boolean } {
  if (data === "brown") {
    const texts = brownDocuments().map((d) => d.text);
    return { items: tokenBlocks(texts, tokenizer, context, eos), sft: false };
  }
  if (!existsSync(data)) throw new Error(`--data ${data}: no such file`);
  const d = readTrainingFile(data);
  if (d.kind === "text") {
    const items = tokenBlocks(d.texts, tokenizer, context, eos);
    if (!items.length)
      throw new Error(
        `--data ${data}: fewer tokens than one block of ${context} (lower --context)`,
      );
    return { items, sft: false };
  }
  const items = d.examples.map((e) => ({
    prompt: tokenizer.encode(e.prompt),
    response: [
      ...tokenizer.encode(e.response, { addSpecialTokens: false }),
      ...(eos !== undefined ? [eos] : []),
    ],
  }));
  return { items, sft: true };
}

// ---- train -------------------------------------------------------------------------------

interface TrainFlags {
  dtype?: WeightDType;
  backend?: string;
  data: string;
  out: string;
  model?: string;
  tokenizer?: string;
  vocabSize: number;
  layers: number;
  width: number;
  heads: number;
  kvHeads: number;
  hidden: number;
  context: number;
  loraR?: number;
  loraAlpha?: number;
  loraTargets?: string;
  steps: number;
  batchSize: number;
  gradAccum: number;
  lr: number;
  warmup: number;
  minLr: number;
  weightDecay: number;
  evalFraction: number;
  evalEvery?: number;
  evalBlocks: number;
  checkpointEvery?: number;
  seed: number;
  json?: boolean;
  captureSteps?: boolean;
  padToMultipleOf?: number;
}

async function runTrain(f: TrainFlags): Promise<void> {
  await selectBackend(f.backend);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  mkdirSync(f.out, { recursive: true });
  const t0 = performance.now();
  let model: Model;
  let tokenizer: Tokenizer;
  if (f.dtype === "f16" && !(f.model && f.loraR))
    throw new Error(
      "--dtype f16 trains a LoRA adapter on a frozen f16 model: it needs --model and --lora-r",
    );
  if (f.model) {
    model = await loadWithAdapter(f.model, undefined, f.dtype);
    tokenizer = loadTokenizer(f.model);
  } else {
    if (f.loraR) throw new Error("--lora-r needs --model (LoRA fine-tunes an existing model)");
    if (f.tokenizer) tokenizer = Tokenizer.fromFile(f.tokenizer);
    else {
      const texts = f.data === "brown" ? brownDocuments().map((d) => d.text) : textsOf(f.data);
      log(`training a ${f.vocabSize}-token BPE tokenizer on ${f.data} ...`);
      tokenizer = trainBpe(texts, { vocabSize: f.vocabSize, specialTokens: ["<|endoftext|>"] });
    }
    const eos = tokenizer.tokenToId("<|endoftext|>") ?? 0;
    const config = parseModelConfig(
      {
        model_type: "llama",
        hidden_size: f.width,
        num_hidden_layers: f.layers,
        num_attention_heads: f.heads,
        num_key_value_heads: f.kvHeads,
        intermediate_size: f.hidden,
        vocab_size: tokenizer.vocabSize,
        max_position_embeddings: f.context,
        rms_norm_eps: 1e-5,
        hidden_act: "silu",
        tie_word_embeddings: true,
        bos_token_id: eos,
        eos_token_id: eos,
      },
      "(athanor lm train flags)",
    );
    model = createModel(config, { seed: f.seed });
  }
  tokenizer.save(join(f.out, "tokenizer.json"));
  const context = Math.min(f.context, model.info.maxPositions);
  const eos = model.info.eosTokenIds[0];
  const { items, sft } = trainingItems(f.data, tokenizer, context, eos);
  const split = splitForEval(items as unknown[], f.evalFraction);
  const evalItems = split.eval.slice(0, f.evalBlocks);
  let params = 0;
  for (const p of model.parameters().values()) params += p.size;
  const adapter = f.loraR
    ? createAdapter(model, {
        r: f.loraR,
        alpha: f.loraAlpha,
        targetModules: f.loraTargets?.split(",").map((s) => s.trim()),
        seed: f.seed,
      })
    : undefined;
  log(
    `${f.model ? `fine-tuning ${f.model}` : "training from scratch"}${adapter ? ` (LoRA r=${f.loraR})` : ""}: ${(params / 1e6).toFixed(2)}M parameters, ${split.train.length} ${sft ? "examples" : `blocks of ${context} tokens`} (${split.eval.length} held out, ${evalItems.length} evaluated), ${f.steps} steps of ${f.batchSize * f.gradAccum}`,
  );
  const history: StepMetrics[] = [];
  const evals: { step: number; loss: number; perplexity: number }[] = [];
  const logFile = join(f.out, "train_log.jsonl");
  writeFileSync(logFile, "");
  const append = (o: unknown) => writeFileSync(logFile, `${JSON.stringify(o)}\n`, { flag: "a" });
  const tty = process.stderr.isTTY;
  const options: FitOptions = {
    train: split.train as number[][] | SftExample[],
    eval: evalItems.length ? (evalItems as number[][] | SftExample[]) : undefined,
    batchSize: f.batchSize,
    gradAccumulation: f.gradAccum,
    padId: model.info.padTokenId ?? eos ?? 0,
    maxLength: context,
    lr: f.lr,
    totalSteps: f.steps,
    warmupSteps: f.warmup,
    minLr: f.minLr,
    weightDecay: f.weightDecay,
    adapter,
    seed: f.seed,
    evalEvery: f.evalEvery,
    checkpointDir: join(f.out, "checkpoints"),
    checkpointEvery: f.checkpointEvery,
    captureSteps: f.captureSteps,
    padToMultipleOf: f.padToMultipleOf,
    onProgress: (m) => {
      history.push(m);
      append({
        step: m.step,
        loss: m.loss,
        lr: m.lr,
        tokensPerSecond: m.tokensPerSecond,
        ms: m.ms,
      });
      if (tty) process.stderr.write(`\r${progressLine(m)}   `);
      else if (m.step % 10 === 0 || m.step === m.totalSteps) log(progressLine(m));
    },
    onEval: (step, r) => {
      evals.push({ step, loss: r.loss, perplexity: r.perplexity });
      append({ step, evalLoss: r.loss, perplexity: r.perplexity });
      log(
        `${tty ? "\n" : ""}eval at step ${step}: loss ${r.loss.toFixed(4)}, perplexity ${r.perplexity.toFixed(2)}`,
      );
    },
  };
  const result = await fit(model, options);
  if (adapter) await saveAdapter(adapter, join(f.out, "adapter"), { baseModel: f.model });
  else await saveModel(model, f.out);
  const seconds = (performance.now() - t0) / 1000;
  const tokens = history.reduce((s, m) => s + m.tokens, 0);
  const trainMs = history.reduce((s, m) => s + m.ms, 0);
  const summary = {
    out: f.out,
    parameters: params,
    steps: history.length,
    resumedFrom: result.resumedFrom,
    seconds,
    trainTokens: tokens,
    tokensPerSecond: trainMs > 0 ? tokens / (trainMs / 1000) : 0,
    firstLoss: history[0]?.loss,
    lastLoss: history.at(-1)?.loss,
    evals,
  };
  writeFileSync(join(f.out, "train_summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  if (f.json) printJson(summary);
  else
    log(
      `${tty ? "\n" : ""}done in ${seconds.toFixed(0)} s: ${summary.tokensPerSecond.toFixed(0)} tok/s; loss ${summary.firstLoss?.toFixed(3)} → ${summary.lastLoss?.toFixed(3)}${evals.length ? `, eval loss ${evals.at(-1)!.loss.toFixed(4)} (perplexity ${evals.at(-1)!.perplexity.toFixed(1)})` : ""}; saved to ${adapter ? join(f.out, "adapter") : f.out}`,
    );
}

function textsOf(file: string): string[] {
  if (!existsSync(file)) throw new Error(`--data ${file}: no such file`);
  const d = readTrainingFile(file);
  return d.kind === "text" ? d.texts : d.examples.map((e) => `${e.prompt}${e.response}`);
}

// ---- registration ------------------------------------------------------------------------

/** `athanor lm`: generate with, train, evaluate and check language models. */
export function registerLm(program: Command): void {
  const lm = program
    .command("lm")
    .description("language models: generate, train (from scratch, fine-tune, LoRA), eval, forward");

  lm.command("generate")
    .description("generate text from a Hugging Face model folder (streams tokens for one prompt)")
    .requiredOption(
      "--model <dir>",
      "model folder (config.json, model.safetensors, tokenizer.json)",
    )
    .option("--adapter <dir>", "PEFT LoRA adapter folder to apply")
    .requiredOption("--prompt <text>", "prompt (repeat for a batch)", collect)
    .option("--max-new-tokens <n>", "most tokens to generate", int("--max-new-tokens"), 128)
    .option(
      "--temperature <t>",
      "sampling temperature (0 or unset: greedy)",
      num("--temperature", (x) => x >= 0, "a number ≥ 0"),
    )
    .option("--top-k <k>", "sample among the k most likely tokens", int("--top-k"))
    .option(
      "--top-p <p>",
      "nucleus sampling mass",
      num("--top-p", (x) => x > 0 && x <= 1, "in (0, 1]"),
    )
    .option(
      "--repetition-penalty <r>",
      "penalise tokens already present (> 1)",
      num("--repetition-penalty", (x) => x > 0, "a number > 0"),
    )
    .option("--seed <n>", "sampling seed", int("--seed", 0), 0)
    .option("--stop <text>", "stop string (repeatable)", collect)
    .option("--json-schema <file>", "constrain the output to JSON valid for this schema")
    .option("--choices <a,b,...>", "constrain the output to one of these strings")
    .option("--json", "print JSON (no streaming)")
    .option("--backend <name>", BACKEND_HELP, "cpu")
    .option("--dtype <f32|f16>", DTYPE_HELP, dtypeFlag("--dtype"), "f32")
    .option(
      "--kv-dtype <f32|f16>",
      "storage of the KV cache (f16: half the memory, f32 attention)",
      dtypeFlag("--kv-dtype"),
      "f32",
    )
    .option(
      "--capture-decode",
      "webgpu: record decode steps once and replay them for the rest (far less CPU time per token)",
    )
    .action((f: GenerateFlags) => runGenerate(f));

  lm.command("train")
    .description(
      "train from scratch (with a new BPE tokenizer), fine-tune, or LoRA-tune on a .txt / .jsonl file or the Brown corpus",
    )
    .requiredOption(
      "--data <file>",
      '.txt (all text), .jsonl ({"text"} or {"prompt","response"} lines), or "brown" (the Brown corpus)',
    )
    .requiredOption("--out <dir>", "output folder (model or adapter, tokenizer, log, checkpoints)")
    .option("--model <dir>", "start from this model (fine-tune); default: from scratch")
    .option("--tokenizer <file>", "from scratch: use this tokenizer.json instead of training one")
    .option("--vocab-size <n>", "from scratch: BPE vocabulary size", int("--vocab-size", 257), 4096)
    .option("--layers <n>", "from scratch: layers", int("--layers"), 4)
    .option("--width <n>", "from scratch: hidden size", int("--width"), 256)
    .option("--heads <n>", "from scratch: attention heads", int("--heads"), 4)
    .option("--kv-heads <n>", "from scratch: key/value heads", int("--kv-heads"), 2)
    .option("--hidden <n>", "from scratch: SwiGLU hidden size", int("--hidden"), 768)
    .option("--context <n>", "tokens per training sequence", int("--context", 2), 128)
    .option(
      "--lora-r <n>",
      "train a LoRA adapter of this rank instead of every weight",
      int("--lora-r"),
    )
    .option(
      "--lora-alpha <n>",
      "LoRA alpha (default r)",
      num("--lora-alpha", (x) => x > 0, "> 0"),
    )
    .option(
      "--lora-targets <names>",
      "LoRA target modules, comma-separated (default q_proj,v_proj)",
    )
    .option("--steps <n>", "optimizer steps", int("--steps"), 200)
    .option("--batch-size <n>", "sequences per micro-batch", int("--batch-size"), 16)
    .option("--grad-accum <n>", "micro-batches per step", int("--grad-accum"), 1)
    .option(
      "--lr <x>",
      "peak learning rate",
      num("--lr", (x) => x > 0, "> 0"),
      1e-3,
    )
    .option("--warmup <n>", "warmup steps", int("--warmup", 0), 20)
    .option(
      "--min-lr <x>",
      "final learning rate",
      num("--min-lr", (x) => x >= 0, "≥ 0"),
      1e-4,
    )
    .option(
      "--weight-decay <x>",
      "AdamW weight decay",
      num("--weight-decay", (x) => x >= 0, "≥ 0"),
      0.1,
    )
    .option(
      "--eval-fraction <x>",
      "fraction of sequences held out for evaluation",
      num("--eval-fraction", (x) => x >= 0 && x < 1, "in [0, 1)"),
      0.02,
    )
    .option("--eval-every <n>", "evaluate every n steps (and at the end)", int("--eval-every"))
    .option("--eval-blocks <n>", "most held-out sequences to evaluate on", int("--eval-blocks"), 64)
    .option(
      "--checkpoint-every <n>",
      "checkpoint every n steps (resumes from the latest)",
      int("--checkpoint-every"),
    )
    .option("--seed <n>", "seed of the init and data order", int("--seed", 0), 0)
    .option("--json", "print a JSON summary")
    .option("--backend <name>", BACKEND_HELP, "cpu")
    .option(
      "--capture-steps",
      "webgpu: record each step once per batch shape and replay it (far less CPU time per step; pays off with fixed-length text blocks)",
    )
    .option(
      "--pad-to-multiple-of <n>",
      "pad each batch's length up to a multiple of n (fewer batch shapes for --capture-steps with SFT data)",
      int("--pad-to-multiple-of"),
    )
    .option(
      "--dtype <f32|f16>",
      `${DTYPE_HELP}; f16 only with --lora-r`,
      dtypeFlag("--dtype"),
      "f32",
    )
    .action((f: TrainFlags) => runTrain(f));

  lm.command("eval")
    .description('loss and perplexity of a model on a .txt / .jsonl file (or "brown")')
    .requiredOption("--model <dir>", "model folder")
    .option("--adapter <dir>", "PEFT LoRA adapter folder to apply")
    .requiredOption("--data <file>", '.txt, .jsonl or "brown"')
    .option(
      "--context <n>",
      "tokens per sequence (default 256 or the model's maximum)",
      int("--context", 2),
    )
    .option("--batch-size <n>", "sequences per batch", int("--batch-size"), 8)
    .option("--json", "print JSON")
    .option("--backend <name>", BACKEND_HELP, "cpu")
    .option("--dtype <f32|f16>", DTYPE_HELP, dtypeFlag("--dtype"), "f32")
    .action((f: EvalFlags) => runEval(f));

  lm.command("forward")
    .description("write the logits for the input_ids tensor of a safetensors file (parity checks)")
    .requiredOption("--model <dir>", "model folder")
    .option("--adapter <dir>", "PEFT LoRA adapter folder to apply")
    .requiredOption(
      "--input <file>",
      "safetensors file with input_ids [B, T] (optional attention_mask)",
    )
    .requiredOption("--out <file>", "safetensors file to write: logits [B, T, vocab] f32")
    .option("--backend <name>", BACKEND_HELP, "cpu")
    .option("--dtype <f32|f16>", DTYPE_HELP, dtypeFlag("--dtype"), "f32")
    .action((f: ForwardFlags) => runForward(f));
}
