import { loadSafetensors } from "@athanor/tensor";
import { describe, expect, it } from "vitest";
import { loadModel } from "../checkpoint/index.js";
import { fixturePath } from "../testing/fixtures.js";
import { generate } from "./generate.js";

describe("generation matches Hugging Face transformers", () => {
  for (const name of ["gpt2-tiny", "llama-tiny"]) {
    it(`${name}: the same 20 greedy tokens, alone and in a padded batch`, async () => {
      const dir = fixturePath(name);
      const model = await loadModel(dir);
      const ref = (await loadSafetensors(`${dir}/reference.safetensors`)).tensors;
      const generated = Array.from(ref.generated!.data());
      const inputIds = ref.input_ids!;
      const prompt = generated.slice(0, 8);
      const out = generate(model, [prompt], { maxNewTokens: 20, eosTokenIds: [] });
      expect(out.outputs[0]!.tokens).toEqual(generated.slice(8));
      // Batched with a longer and a shorter prompt (left padding, masks, positions).
      const row1 = Array.from(inputIds.data()).slice(16, 32);
      const batch = generate(model, [row1, prompt, row1.slice(0, 3)], {
        maxNewTokens: 20,
        eosTokenIds: [],
      });
      expect(batch.outputs[1]!.tokens).toEqual(generated.slice(8));
      const alone = generate(model, [row1.slice(0, 3)], { maxNewTokens: 20, eosTokenIds: [] });
      expect(batch.outputs[2]!.tokens).toEqual(alone.outputs[0]!.tokens);
    });
  }
});
