/**
 * The task model at run time: load a model folder (the shipped default, one written by
 * `athanor slm train`, or a LoRA adapter over a Hugging Face checkpoint), turn a question into
 * an action line by greedy decoding constrained to the app's action grammar, and answer it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  automatonConstraint,
  ConstraintError,
  generate,
  loadAdapter,
  loadModel,
  type Model,
  type TokenConstraint,
  Tokenizer,
} from "@athanor/lm";
import type { AppName, RunOptions } from "@athanor/optiguide";
import { type ActionResult, executePlan, type Plan, planActions } from "../actions/execute.js";
import { promptOf, relexicalizeAction } from "../data/normalize.js";
import { actionAutomaton } from "./grammar.js";
import type { SlmMeta } from "./train.js";
import { EOS } from "./train.js";

/** Where the shipped default model lives (`packages/slm/model/`), from src/ and from dist/. */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL("../../model/", import.meta.url));

export interface Prediction {
  /** The action line the model wrote, with the question's names and numbers put back. */
  line: string;
  /** The line as written, with placeholders (`set demand cafe#1 +num#1%`). */
  raw: string;
  /** Generated tokens (EOS included). */
  tokens: number;
  ms: number;
}

/** The answer to a question: the plan and its result, or why no valid action came out. */
export interface SlmAnswer {
  app: AppName;
  question: string;
  prediction: Prediction;
  /** Set when the action line validated. */
  result?: ActionResult;
  /** Set when it did not: the validation error, shown to the user instead of an answer. */
  error?: string;
  ms: { model: number; total: number; solve: number };
}

export class SlmModel {
  private readonly constraints = new Map<string, TokenConstraint>();

  private constructor(
    readonly model: Model,
    readonly tokenizer: Tokenizer,
    readonly meta: SlmMeta,
    readonly dir: string,
  ) {}

  /** Whether `dir` holds a trained model (the default folder is empty until one is trained). */
  static exists(dir = DEFAULT_MODEL_DIR): boolean {
    return existsSync(join(dir, "slm.json")) && existsSync(join(dir, "tokenizer.json"));
  }

  /** Loads a model folder written by `saveSlm` (default: the shipped model). */
  static async load(dir = DEFAULT_MODEL_DIR): Promise<SlmModel> {
    if (!SlmModel.exists(dir))
      throw new Error(
        `${dir} holds no trained task model (slm.json + tokenizer.json); train one with \`athanor slm train --app all\``,
      );
    const meta = JSON.parse(readFileSync(join(dir, "slm.json"), "utf8")) as SlmMeta;
    if (meta.format !== "athanor-slm/1")
      throw new Error(`${join(dir, "slm.json")}: unknown format ${JSON.stringify(meta.format)}`);
    const tokenizer = Tokenizer.fromFile(join(dir, "tokenizer.json"));
    let model: Model;
    if (existsSync(join(dir, "adapter_config.json"))) {
      model = await loadModel(meta.base);
      model.attachAdapter(await loadAdapter(dir));
    } else model = await loadModel(dir);
    return new SlmModel(model, tokenizer, meta, dir);
  }

  /** The grammar for a question's placeholders (cached per app and placeholder set). */
  private constraint(app: AppName, placeholders: string[]): TokenConstraint {
    const key = `${app}|${placeholders
      .filter((p) => !p.startsWith("num#"))
      .sort()
      .join(",")}`;
    let c = this.constraints.get(key);
    if (!c) {
      c = automatonConstraint(actionAutomaton(app, placeholders), this.tokenizer);
      if (this.constraints.size > 512) this.constraints.clear();
      this.constraints.set(key, c);
    }
    return c;
  }

  /** The action line for a question (greedy, constrained to the app's grammar). */
  predict(app: AppName, question: string): Prediction {
    const t0 = performance.now();
    const { text, slots } = promptOf(app, question);
    const prompt = this.tokenizer.encode(text, { addSpecialTokens: false });
    const eos = this.tokenizer.tokenToId(EOS) ?? this.model.config.eosTokenIds[0]!;
    let raw: string;
    let tokens: number;
    try {
      const { outputs } = generate(this.model, [prompt], {
        tokenizer: this.tokenizer,
        constraint: this.constraint(app, [...slots.keys()]),
        maxNewTokens: 64,
        eosTokenIds: [eos],
      });
      raw = outputs[0]!.text.trim();
      tokens = outputs[0]!.tokens.length;
    } catch (e) {
      // The grammar left no way to continue: no action, which validation reports as an error.
      if (!(e instanceof ConstraintError)) throw e;
      raw = "";
      tokens = 0;
    }
    return {
      line: relexicalizeAction(raw, slots),
      raw,
      tokens,
      ms: performance.now() - t0,
    };
  }

  /** The validated plan for a question, or the validation error. */
  plan(app: AppName, question: string): { prediction: Prediction; plan?: Plan; error?: string } {
    const prediction = this.predict(app, question);
    try {
      return { prediction, plan: planActions(app, prediction.line) };
    } catch (e) {
      return { prediction, error: (e as Error).message };
    }
  }

  /** Answers a question: predict, validate, run (query, what-if, why, or decline). */
  async answer(app: AppName, question: string, opts: RunOptions = {}): Promise<SlmAnswer> {
    const t0 = performance.now();
    const { prediction, plan, error } = this.plan(app, question);
    const base = { app, question, prediction };
    if (!plan)
      return {
        ...base,
        error: `the model's action "${prediction.line}" is not valid for ${app}: ${error}`,
        ms: { model: prediction.ms, total: performance.now() - t0, solve: 0 },
      };
    const result = await executePlan(plan, opts);
    return {
      ...base,
      result,
      ms: { model: prediction.ms, total: performance.now() - t0, solve: result.solveMs },
    };
  }

  /** Size of the weights in bytes (f32). */
  get bytes(): number {
    let n = 0;
    for (const t of this.model.parameters().values()) n += t.size * 4;
    return n;
  }
}
