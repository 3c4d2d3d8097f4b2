import { noGrad, ops, tensor, tidy } from "@athanor/tensor";
import { createModel, parseModelConfig } from "./src/index.js";
const config = parseModelConfig({ model_type: "llama", hidden_size: 256, intermediate_size: 768, num_hidden_layers: 8, num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 8192, max_position_embeddings: 512, tie_word_embeddings: true });
const model = createModel(config, { seed: 0 });
for (const B of [1, 16]) {
  const cache = model.createCache(B, 160);
  const prompt = tensor(Int32Array.from({ length: B * 32 }, (_, i) => (i * 7) % 8192), [B, 32]);
  let t0 = performance.now();
  noGrad(() => tidy(() => { model.forward(prompt, { cache }); }));
  const prefill = performance.now() - t0;
  let next = tensor(new Int32Array(B).fill(5), [B, 1]);
  t0 = performance.now();
  for (let i = 0; i < 128; i++) {
    noGrad(() => tidy(() => { const { logits } = model.forward(next, { cache }); ops.argmax(logits, -1).data(); }));
  }
  const dt = performance.now() - t0;
  console.log(`B=${B} prefill ${prefill.toFixed(1)}ms decode ${(dt / 128).toFixed(2)} ms/step -> ${((128 * B) / (dt / 1000)).toFixed(0)} tok/s`);
  cache.dispose();
}
