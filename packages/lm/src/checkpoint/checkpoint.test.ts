import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bf16ToF32, f32ToBf16, noGrad, serializeSafetensors, tensor } from "@athanor/tensor";
import { afterAll, describe, expect, test } from "vitest";
import {
  createAdapter,
  isTargeted,
  loadAdapter,
  parseLoraConfig,
  saveAdapter,
} from "../lora/peft.js";
import { parseModelConfig } from "../model/config.js";
import { createModel } from "../model/create.js";
import { fixturePath } from "../testing/fixtures.js";
import { loadReference, maxAbsDiff } from "../testing/reference.js";
import { loadModel, loadModelWithReport, modelFromBytes, saveModel } from "./model-io.js";
import { readSafetensorsFile } from "./weights.js";

const tmp = mkdtempSync(join(tmpdir(), "lm-ckpt-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

/** A copy of a fixture folder, with config.json edited by `edit`. */
function copyOf(name: string, edit?: (c: Record<string, unknown>) => void): string {
  const dir = join(tmp, `${name}-${n++}`);
  cpSync(fixturePath(name), dir, { recursive: true });
  if (edit) {
    const c = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    edit(c);
    writeFileSync(join(dir, "config.json"), JSON.stringify(c));
  }
  return dir;
}

async function rewriteWeights(
  dir: string,
  edit: (t: Map<string, ReturnType<typeof tensor>>) => void,
) {
  const t = await readSafetensorsFile(join(dir, "model.safetensors"));
  edit(t);
  writeFileSync(
    join(dir, "model.safetensors"),
    serializeSafetensors(Object.fromEntries(t), { metadata: { format: "pt" } }),
  );
}

describe("config.json errors name the file and the field", () => {
  const cases: [string, (c: Record<string, unknown>) => void, RegExp][] = [
    [
      "unknown model_type",
      (c) => (c.model_type = "bert"),
      /config\.json: model_type: "bert" is not supported \(supported: gpt2, llama, qwen2, mistral\)/,
    ],
    [
      "missing field",
      (c) => delete c.hidden_size,
      /config\.json: hidden_size: missing \(required\)/,
    ],
    [
      "bad value",
      (c) => (c.num_key_value_heads = 3),
      /config\.json: num_key_value_heads: 3 does not divide num_attention_heads 4/,
    ],
    [
      "unsupported RoPE",
      (c) => (c.rope_parameters = { rope_type: "yarn", rope_theta: 1e4, factor: 4 }),
      /config\.json: rope_parameters\.rope_type: "yarn" is not supported/,
    ],
    [
      "llama3 RoPE without its factors",
      (c) => (c.rope_parameters = { rope_type: "llama3", rope_theta: 1e4, factor: 8 }),
      /config\.json: rope_parameters\.low_freq_factor: missing/,
    ],
    [
      "unsupported activation",
      (c) => (c.hidden_act = "gelu"),
      /config\.json: hidden_act: "gelu" is not supported/,
    ],
  ];
  for (const [what, edit, re] of cases) {
    test(what, async () => {
      await expect(loadModel(copyOf("llama-tiny", edit))).rejects.toThrow(re);
    });
  }
  test("mistral sliding window, GPT-2 options, missing config.json", async () => {
    expect(() =>
      parseModelConfig({ model_type: "mistral", sliding_window: 4096 }, "x/config.json"),
    ).toThrow(/x\/config\.json: .*missing|sliding_window/);
    expect(() =>
      parseModelConfig({
        model_type: "mistral",
        hidden_size: 8,
        num_attention_heads: 2,
        num_hidden_layers: 1,
        intermediate_size: 8,
        vocab_size: 4,
        max_position_embeddings: 8,
        sliding_window: 4096,
      }),
    ).toThrow(/config\.json: sliding_window: 4096: sliding-window attention is not implemented/);
    await expect(
      loadModel(copyOf("gpt2-tiny", (c) => (c.activation_function = "relu"))),
    ).rejects.toThrow(/activation_function: "relu" is not supported/);
    await expect(loadModel(join(tmp, "nowhere"))).rejects.toThrow(
      /nowhere\/config\.json: \(file\): not found/,
    );
  });
  test("rope_theta / rope_scaling (transformers 4 spelling) and linear scaling", () => {
    const c = parseModelConfig({
      model_type: "llama",
      hidden_size: 8,
      num_attention_heads: 2,
      num_hidden_layers: 1,
      intermediate_size: 8,
      vocab_size: 4,
      max_position_embeddings: 8,
      rope_theta: 5e5,
      rope_scaling: { type: "linear", factor: 2 },
      eos_token_id: [1, 2],
    });
    expect(c.modelType === "llama" && c.ropeTheta === 5e5 && c.ropeScaling).toEqual({
      type: "linear",
      factor: 2,
    });
    expect(c.eosTokenIds).toEqual([1, 2]);
  });
});

describe("weights", () => {
  test("a tensor whose shape disagrees with the config: file, tensor, both shapes", async () => {
    const dir = copyOf("llama-tiny", (c) => (c.intermediate_size = 128));
    await expect(loadModel(dir)).rejects.toThrow(
      new RegExp(
        `${dir}/model\\.safetensors: tensor model\\.layers\\.0\\.mlp\\.gate_proj\\.weight has shape \\[176, 64\\] but the config implies \\[128, 64\\]`,
      ),
    );
  });

  test("a truncated file", async () => {
    const dir = copyOf("llama-tiny");
    truncateSync(join(dir, "model.safetensors"), 300_000);
    await expect(loadModel(dir)).rejects.toThrow(
      /model\.safetensors: truncated: tensor "[^"]+" ends at byte \d+ of the data section, which has \d+/,
    );
  });

  test("missing and unexpected tensors", async () => {
    const missing = copyOf("llama-tiny");
    await rewriteWeights(missing, (t) => t.delete("model.norm.weight"));
    await expect(loadModel(missing)).rejects.toThrow(
      /1 expected tensor is missing: model\.norm\.weight \[64\]/,
    );
    const extra = copyOf("llama-tiny");
    await rewriteWeights(extra, (t) => t.set("model.layers.2.mlp.up_proj.weight", tensor([1, 2])));
    await expect(loadModel(extra)).rejects.toThrow(
      /1 tensor in the weights is not used by a llama model with this config \(.*model\.safetensors: model\.layers\.2\.mlp\.up_proj\.weight\); pass allowUnexpected/,
    );
    const { unexpected } = await loadModelWithReport(extra, { allowUnexpected: true });
    expect(unexpected).toEqual(["model.layers.2.mlp.up_proj.weight"]);
  });

  test("GPT-2 weights named without `transformer.` (as on the Hub), with old mask buffers", async () => {
    const ref = await loadReference("gpt2-tiny");
    const dir = copyOf("gpt2-tiny");
    await rewriteWeights(dir, (t) => {
      for (const [k, v] of [...t]) {
        t.delete(k);
        t.set(k.replace(/^transformer\./, ""), v);
      }
      t.set("h.0.attn.bias", tensor([1]));
      t.set("h.0.attn.masked_bias", tensor([-1e4]));
    });
    const model = await loadModel(dir);
    expect(
      maxAbsDiff(
        noGrad(() => model.forward(ref.tensors.input_ids).logits),
        ref.tensors.logits,
      ),
    ).toBeLessThan(1e-4);
  });

  test("save → load: f32 exact, sharded with an index, bf16 rounded; config round-trips", async () => {
    const ref = await loadReference("llama-tiny");
    const model = await loadModel(ref.dir);
    const want = noGrad(() => model.forward(ref.tensors.input_ids).logits);
    await saveModel(model, join(tmp, "f32"));
    await saveModel(model, join(tmp, "sharded"), { maxShardBytes: 200_000 });
    await saveModel(model, join(tmp, "bf16"), { format: "bf16" });
    expect(
      readdirSync(join(tmp, "sharded")).filter((f) => f.endsWith(".safetensors")).length,
    ).toBeGreaterThan(2);
    for (const d of ["f32", "sharded"]) {
      const again = await loadModel(join(tmp, d));
      expect(again.config).toEqual(model.config);
      expect(
        maxAbsDiff(
          noGrad(() => again.forward(ref.tensors.input_ids).logits),
          want,
        ),
      ).toBe(0);
    }
    const half = await loadModel(join(tmp, "bf16"));
    for (const [name, p] of model.parameters()) {
      const rounded = bf16ToF32(f32ToBf16(p.data() as Float32Array));
      expect(Array.from(half.parameter(name).data()), name).toEqual(Array.from(rounded));
    }
  });

  test("modelFromBytes: the same model from bytes in memory, one file or shards in any order", async () => {
    const ref = await loadReference("llama-tiny");
    const want = noGrad(() => loadModel(ref.dir).then((m) => m.forward(ref.tensors.input_ids)));
    const wantLogits = (await want).logits;
    const config = readFileSync(join(ref.dir, "config.json"), "utf8");
    const one = modelFromBytes({
      config,
      generationConfig: JSON.parse(readFileSync(join(ref.dir, "generation_config.json"), "utf8")),
      weights: readFileSync(join(ref.dir, "model.safetensors")),
    }).model;
    const logits = noGrad(() => one.forward(ref.tensors.input_ids).logits);
    expect(maxAbsDiff(logits, wantLogits)).toBe(0);
    const dir = join(tmp, "bytes-sharded");
    await saveModel(one, dir, { maxShardBytes: 200_000 });
    const shards = readdirSync(dir)
      .filter((f) => f.endsWith(".safetensors"))
      .map((f) => readFileSync(join(dir, f)))
      .reverse();
    expect(shards.length).toBeGreaterThan(2);
    const { model: sharded } = modelFromBytes({ config, weights: shards }, { dtype: "f16" });
    expect(sharded.weightDType).toBe("f16");
    // Errors name what is wrong, as loadModel's do.
    expect(() => modelFromBytes({ config: "{", weights: shards })).toThrow(
      /config\.json: not valid JSON/,
    );
    expect(() => modelFromBytes({ config, weights: [shards[0], shards[0]] })).toThrow(
      /shard 2 of 2: tensor .* is also in shard 1 of 2/,
    );
    expect(() => modelFromBytes({ config, weights: shards.slice(1) })).toThrow(
      /modelFromBytes: \d+ expected tensors? (is|are) missing/,
    );
    expect(() => modelFromBytes({ config, weights: shards[0].subarray(0, 100) })).toThrow(
      /model\.safetensors: truncated/,
    );
  });

  test("GPT-2 with a tied head saves without lm_head; a random model saves and reloads", async () => {
    const gpt2 = await loadModel(fixturePath("gpt2-tiny"));
    await saveModel(gpt2, join(tmp, "gpt2"));
    const names = [...(await readSafetensorsFile(join(tmp, "gpt2", "model.safetensors"))).keys()];
    expect(names).not.toContain("lm_head.weight");
    expect(names.length).toBe(gpt2.parameters().size);
    const random = createModel(
      { ...(await loadModel(fixturePath("llama-tiny"))).config },
      { seed: 1 },
    );
    await saveModel(random, join(tmp, "random"));
    const back = await loadModel(join(tmp, "random"));
    const ids = tensor(Int32Array.from([3, 4, 5]), [1, 3]);
    expect(
      maxAbsDiff(
        noGrad(() => back.forward(ids).logits),
        noGrad(() => random.forward(ids).logits),
      ),
    ).toBe(0);
  });
});

describe("PEFT adapters", () => {
  test("unsupported adapter_config fields are errors naming the field", () => {
    expect(() =>
      parseLoraConfig(
        { r: 4, lora_alpha: 8, target_modules: ["q_proj"], use_dora: true },
        "a/adapter_config.json",
      ),
    ).toThrow(
      /a\/adapter_config\.json: use_dora: true is not supported \(DoRA is not implemented\)/,
    );
    expect(() => parseLoraConfig({ lora_alpha: 8, target_modules: ["q_proj"] })).toThrow(
      /adapter_config\.json: r: must be a positive integer/,
    );
    expect(
      parseLoraConfig({ r: 4, lora_alpha: 8, target_modules: ["q_proj"], use_rslora: true })
        .useRslora,
    ).toBe(true);
    const re = parseLoraConfig({ r: 4, target_modules: ".*\\.(q|v)_proj" });
    expect(re.targetRegex).toBe(".*\\.(q|v)_proj");
    expect(isTargeted("model.layers.0.self_attn.q_proj", re)).toBe(true);
    expect(isTargeted("model.layers.0.self_attn.k_proj", re)).toBe(false);
    expect(isTargeted("model.layers.0.self_attn.q_proj", { targetModules: ["q_proj"] })).toBe(true);
  });

  test("an adapter for another model is refused with the module and shapes", async () => {
    const gpt2 = await loadModel(fixturePath("gpt2-tiny"));
    await expect(loadAdapter(fixturePath("llama-tiny-lora"), { model: gpt2 })).rejects.toThrow(
      /model\.layers\.\d\.\S+ is not a linear layer of this gpt2 model/,
    );
  });

  test("GPT-2 Conv1D layers: create, save, reload, merge", async () => {
    const gpt2 = await loadModel(fixturePath("gpt2-tiny"));
    const adapter = createAdapter(gpt2, {
      r: 2,
      alpha: 4,
      targetModules: ["c_attn", "c_fc"],
      useRslora: true,
      seed: 2,
    });
    expect(adapter.modules.size).toBe(4);
    expect(adapter.scale).toBeCloseTo(4 / Math.sqrt(2), 12);
    for (const w of adapter.modules.values()) {
      const b = Float32Array.from({ length: w.b.size }, (_, i) => Math.sin(i) * 0.05);
      const shape = [...w.b.shape];
      w.b.dispose();
      w.b = tensor(b, shape);
    }
    await saveAdapter(adapter, join(tmp, "gpt2-lora"), { modelType: "gpt2" });
    const cfg = JSON.parse(readFileSync(join(tmp, "gpt2-lora", "adapter_config.json"), "utf8"));
    expect(cfg).toMatchObject({
      r: 2,
      lora_alpha: 4,
      use_rslora: true,
      fan_in_fan_out: true,
      target_modules: ["c_attn", "c_fc"],
      peft_type: "LORA",
    });
    const ids = tensor(Int32Array.from([5, 6, 7, 8]), [1, 4]);
    gpt2.attachAdapter(adapter);
    const want = noGrad(() => gpt2.forward(ids).logits);
    gpt2.detachAdapter();
    gpt2.attachAdapter(await loadAdapter(join(tmp, "gpt2-lora"), { model: gpt2 }));
    expect(
      maxAbsDiff(
        noGrad(() => gpt2.forward(ids).logits),
        want,
      ),
    ).toBe(0);
    gpt2.mergeAdapter();
    expect(
      maxAbsDiff(
        noGrad(() => gpt2.forward(ids).logits),
        want,
      ),
    ).toBeLessThan(1e-5);
  });
});
