import { createModel, parseModelConfig, fit, progressLine } from "@athanor/lm";
import * as T from "@athanor/tensor";
console.log(Object.keys(T).filter(k=>/ackend/.test(k)));
const cfg = parseModelConfig({ model_type: "llama", vocab_size: 800, hidden_size: 128, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 4, intermediate_size: 352, max_position_embeddings: 128, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2, pad_token_id: 0 }, "probe");
const model = createModel(cfg, { seed: 1 });
const train = Array.from({ length: 256 }, (_, i) => ({ prompt: Array.from({ length: 30 }, (_, j) => (i * 7 + j * 3) % 700 + 3), response: Array.from({ length: 12 }, (_, j) => (i + j) % 50 + 3) }));
const t0 = performance.now();
await fit(model, { train, batchSize: 32, lr: 1e-3, totalSteps: 10, padId: 0, onProgress: (m) => console.log(progressLine(m)) });
console.log("ms", performance.now() - t0);
