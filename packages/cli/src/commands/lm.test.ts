import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadSafetensors, saveSafetensors, tensor } from "@athanor/tensor";
import { Command } from "commander";
import { afterAll, describe, expect, it, vi } from "vitest";
import { registerLm } from "./lm.js";

const fixtures = resolve(import.meta.dirname, "../../../../fixtures/hf-reference");
const dir = mkdtempSync(join(tmpdir(), "athanor-lm-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `athanor lm ...`; returns what it wrote to stdout and stderr. */
async function lm(...args: string[]): Promise<{ out: string; err: string }> {
  const program = new Command("athanor").exitOverride();
  registerLm(program);
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    await program.parseAsync(["node", "athanor", "lm", ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { out, err };
}

describe("athanor lm", () => {
  for (const [name, adapter] of [
    ["llama-tiny", undefined],
    ["llama-tiny", "llama-tiny-lora"],
  ] as const) {
    it(`forward writes the logits transformers computed (${adapter ?? name}, within 1e-4)`, async () => {
      const model = join(fixtures, name);
      const refDir = join(fixtures, adapter ?? name);
      const ref = (await loadSafetensors(join(refDir, "reference.safetensors"))).tensors;
      const input = join(dir, "ids.safetensors");
      await saveSafetensors(input, { input_ids: ref.input_ids! });
      const out = join(dir, "logits.safetensors");
      const extra = adapter ? ["--adapter", refDir] : [];
      await lm("forward", "--model", model, ...extra, "--input", input, "--out", out);
      const logits = (await loadSafetensors(out)).tensors.logits!;
      expect(logits.shape).toEqual([2, 16, 512]);
      const a = logits.data();
      const b = ref.logits!.data();
      let max = 0;
      for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
      expect(max).toBeLessThan(1e-4);
    });
  }

  it("generate --json gives what the library's greedy generate gives (gpt2-tiny)", async () => {
    const model = join(fixtures, "gpt2-tiny");
    const lib = await import("@athanor/lm");
    const m = await lib.loadModel(model);
    const tok = lib.Tokenizer.fromFile(join(model, "tokenizer.json"));
    const want = lib.generate(m, ["def main():"], { tokenizer: tok, maxNewTokens: 12 }).outputs[0]!;
    const { out } = await lm(
      "generate",
      "--model",
      model,
      "--prompt",
      "def main():",
      "--max-new-tokens",
      "12",
      "--json",
    );
    const res = JSON.parse(out);
    expect(res.outputs[0].tokens).toEqual(want.tokens);
    expect(res.outputs[0].text).toBe(want.text);
    expect(res.outputs[0].prompt).toBe("def main():");
  });

  it("generate --dtype f16 / --kv-dtype f16 give what the library gives", async () => {
    const model = join(fixtures, "gpt2-tiny");
    const lib = await import("@athanor/lm");
    const m = await lib.loadModel(model, { dtype: "f16" });
    const tok = lib.Tokenizer.fromFile(join(model, "tokenizer.json"));
    const want = lib.generate(m, ["def main():"], { tokenizer: tok, maxNewTokens: 12 }).outputs[0]!;
    const args = ["generate", "--model", model, "--prompt", "def main():"];
    const { out } = await lm(...args, "--max-new-tokens", "12", "--dtype", "f16", "--json");
    expect(JSON.parse(out).outputs[0].tokens).toEqual(want.tokens);
    const cached = lib.generate(await lib.loadModel(model), ["def main():"], {
      tokenizer: tok,
      maxNewTokens: 12,
      cacheDType: "f16",
    }).outputs[0]!;
    const kv = await lm(...args, "--max-new-tokens", "12", "--kv-dtype", "f16", "--json");
    expect(JSON.parse(kv.out).outputs[0].tokens).toEqual(cached.tokens);
    await expect(lm(...args, "--dtype", "bf16")).rejects.toThrow(
      /--dtype must be "f32" or "f16", got "bf16"/,
    );
    await expect(lm(...args, "--kv-dtype", "int8")).rejects.toThrow(
      /--kv-dtype must be "f32" or "f16", got "int8"/,
    );
  });

  it("generate streams, and constrains to choices", async () => {
    const model = join(fixtures, "llama-tiny");
    const { out, err } = await lm(
      "generate",
      "--model",
      model,
      "--prompt",
      "x = ",
      "--choices",
      "yes,no,maybe",
    );
    expect(["x = yes\n", "x = no\n", "x = maybe\n"]).toContain(out);
    expect(err).toMatch(/constraint/);
  });

  it("generate --json-schema gives JSON valid for the schema", async () => {
    const schema = join(dir, "schema.json");
    writeFileSync(
      schema,
      JSON.stringify({
        type: "object",
        properties: { ok: { type: "boolean" }, n: { type: "integer" } },
        required: ["ok", "n"],
      }),
    );
    const { out } = await lm(
      "generate",
      "--model",
      join(fixtures, "llama-tiny"),
      "--prompt",
      "result = ",
      "--json-schema",
      schema,
      "--temperature",
      "1",
      "--seed",
      "4",
      "--json",
    );
    const o = JSON.parse(out).outputs[0];
    const v = JSON.parse(o.text);
    expect(typeof v.ok).toBe("boolean");
    expect(Number.isInteger(v.n)).toBe(true);
    await expect(
      lm(
        "generate",
        "--model",
        join(fixtures, "llama-tiny"),
        "--prompt",
        "x",
        "--json-schema",
        join(dir, "none.json"),
      ),
    ).rejects.toThrow(/--json-schema .*none\.json/);
  });

  it("trains from scratch on a text file, then evaluates", async () => {
    const data = join(dir, "data.txt");
    writeFileSync(data, "the cat sat on the mat. the dog sat on the log. ".repeat(60));
    const out = join(dir, "model");
    await lm(
      "train",
      "--data",
      data,
      "--out",
      out,
      "--vocab-size",
      "300",
      "--layers",
      "1",
      "--width",
      "32",
      "--heads",
      "2",
      "--kv-heads",
      "1",
      "--hidden",
      "64",
      "--context",
      "16",
      "--steps",
      "4",
      "--batch-size",
      "4",
      "--warmup",
      "0",
      "--lr",
      "0.01",
      "--eval-fraction",
      "0.1",
    );
    const summary = JSON.parse(readFileSync(join(out, "train_summary.json"), "utf8"));
    expect(summary.steps).toBe(4);
    expect(summary.lastLoss).toBeLessThan(summary.firstLoss);
    const { out: ev } = await lm(
      "eval",
      "--model",
      out,
      "--data",
      data,
      "--context",
      "16",
      "--json",
    );
    const r = JSON.parse(ev);
    expect(r.loss).toBeGreaterThan(0);
    expect(r.perplexity).toBeCloseTo(Math.exp(r.loss), 3);
  });

  it("LoRA-tunes an existing model on SFT examples and saves a PEFT adapter", async () => {
    const data = join(dir, "sft.jsonl");
    const lines = Array.from({ length: 8 }, (_, i) =>
      JSON.stringify({ prompt: `def f${i}(x):`, response: `\n    return x + ${i}` }),
    );
    writeFileSync(data, `${lines.join("\n")}\n`);
    const out = join(dir, "lora");
    const train = (o: string, ...extra: string[]) =>
      lm(
        "train",
        "--data",
        data,
        "--out",
        o,
        "--model",
        join(fixtures, "llama-tiny"),
        "--lora-r",
        "2",
        "--steps",
        "3",
        "--batch-size",
        "4",
        "--warmup",
        "0",
        "--lr",
        "0.01",
        "--eval-fraction",
        "0",
        ...extra,
      );
    await train(out);
    const cfg = JSON.parse(readFileSync(join(out, "adapter", "adapter_config.json"), "utf8"));
    expect(cfg.r).toBe(2);
    const summary = JSON.parse(readFileSync(join(out, "train_summary.json"), "utf8"));
    expect(summary.steps).toBe(3);
    // The same on a frozen f16 base model.
    await train(join(dir, "lora16"), "--dtype", "f16");
    const summary16 = JSON.parse(readFileSync(join(dir, "lora16", "train_summary.json"), "utf8"));
    expect(summary16.steps).toBe(3);
    // The adapter applies at generation time.
    const { out: gen } = await lm(
      "generate",
      "--model",
      join(fixtures, "llama-tiny"),
      "--adapter",
      join(out, "adapter"),
      "--prompt",
      "def f1(x):",
      "--max-new-tokens",
      "4",
      "--json",
    );
    expect(JSON.parse(gen).outputs[0].tokens.length).toBeGreaterThan(0);
  });

  it("reports bad input clearly", async () => {
    const input = join(dir, "bad.safetensors");
    await saveSafetensors(input, { ids: tensor(new Int32Array([1, 2]), [1, 2], { dtype: "i32" }) });
    const model = join(fixtures, "llama-tiny");
    await expect(
      lm("forward", "--model", model, "--input", input, "--out", join(dir, "o.safetensors")),
    ).rejects.toThrow(/no "input_ids" tensor \(has: ids\)/);
    await expect(lm("generate", "--model", join(dir, "nope"), "--prompt", "a")).rejects.toThrow(
      /no such folder/,
    );
    await expect(
      lm("generate", "--model", model, "--prompt", "a", "--temperature", "-1"),
    ).rejects.toThrow(/--temperature must be a number ≥ 0/);
    await expect(lm("eval", "--model", model, "--data", join(dir, "missing.txt"))).rejects.toThrow(
      /no such file/,
    );
    await expect(
      lm("train", "--data", "brown", "--out", join(dir, "x"), "--model", model, "--dtype", "f16"),
    ).rejects.toThrow(/--dtype f16 trains a LoRA adapter .* needs --model and --lora-r/);
  });
});
