/**
 * GPT-2 (`GPT2LMHeadModel`): learned positions, pre-LayerNorm blocks, tanh GELU MLP, fused
 * q/k/v projection. Weights keep the checkpoint's Conv1D layout [in, out].
 */

import { ops, type Tensor } from "@athanor/tensor";
import type { Gpt2Config } from "./config.js";
import type { PreparedInputs } from "./inputs.js";
import type { StaticKVCache } from "./kv-cache.js";
import { type ParameterShapes, TransformerLM } from "./transformer.js";

export function gpt2ParameterShapes(c: Gpt2Config): ParameterShapes {
  const E = c.hiddenSize;
  const I = c.innerSize;
  const m: ParameterShapes = new Map();
  m.set("transformer.wte.weight", [c.vocabSize, E]);
  m.set("transformer.wpe.weight", [c.maxPositions, E]);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `transformer.h.${l}`;
    m.set(`${p}.ln_1.weight`, [E]);
    m.set(`${p}.ln_1.bias`, [E]);
    m.set(`${p}.attn.c_attn.weight`, [E, 3 * E]);
    m.set(`${p}.attn.c_attn.bias`, [3 * E]);
    m.set(`${p}.attn.c_proj.weight`, [E, E]);
    m.set(`${p}.attn.c_proj.bias`, [E]);
    m.set(`${p}.ln_2.weight`, [E]);
    m.set(`${p}.ln_2.bias`, [E]);
    m.set(`${p}.mlp.c_fc.weight`, [E, I]);
    m.set(`${p}.mlp.c_fc.bias`, [I]);
    m.set(`${p}.mlp.c_proj.weight`, [I, E]);
    m.set(`${p}.mlp.c_proj.bias`, [E]);
  }
  m.set("transformer.ln_f.weight", [E]);
  m.set("transformer.ln_f.bias", [E]);
  if (!c.tieWordEmbeddings) m.set("lm_head.weight", [c.vocabSize, E]);
  return m;
}

export class Gpt2LM extends TransformerLM<Gpt2Config> {
  protected readonly transposedWeights = true;
  protected get kvHeads(): number {
    return this.config.numHeads;
  }

  parameterShapes(): ParameterShapes {
    return gpt2ParameterShapes(this.config);
  }

  /** Position ids [B, T] (learned position embeddings). */
  positionValues(positions: Int32Array, B: number, T: number) {
    return { ids: { values: positions, shape: [B, T] } };
  }

  protected run(inputIds: Tensor, inputs: PreparedInputs, cache: StaticKVCache | null): Tensor {
    const c = this.config;
    const { B, T } = inputs;
    const H = c.numHeads;
    const ln = (x: Tensor, name: string) =>
      ops.layerNorm(
        x,
        this.parameter(`${name}.weight`),
        this.parameter(`${name}.bias`),
        c.layerNormEps,
      );
    const pos = (
      inputs.decode?.positions ?? this.positionTensors(inputs.positions, B, T, inputIds.backend)
    ).ids;
    let h = ops.add(
      ops.embedding(this.parameter("transformer.wte.weight"), inputIds),
      ops.embedding(this.parameter("transformer.wpe.weight"), pos),
    );
    for (let l = 0; l < c.numLayers; l++) {
      const p = `transformer.h.${l}`;
      h = this.block(h, cache, (h0) => {
        const qkv = this.proj(`${p}.attn.c_attn`, ln(h0, `${p}.ln_1`));
        // q, k, v as views of one [3, B, H, T, D] view of qkv: their gradients are concatenated
        // and laid back out in one copy (split heads one by one, each took a copy of its own)
        const [q, k, v] = ops
          .split(ops.permute(ops.reshape(qkv, [B, T, 3, H, c.headDim]), [2, 0, 3, 1, 4]), 3, 0)
          .map((t) => ops.squeeze(t, 0));
        const a = this.attend(l, q, k, v, inputs, cache);
        const h1 = ops.add(h0, this.proj(`${p}.attn.c_proj`, this.mergeHeads(a)));
        const m = this.proj(`${p}.mlp.c_fc`, ln(h1, `${p}.ln_2`));
        return ops.add(h1, this.proj(`${p}.mlp.c_proj`, ops.gelu(m, "tanh")));
      });
    }
    h = this.lastIfWanted(h, inputs);
    h = ln(h, "transformer.ln_f");
    const head = c.tieWordEmbeddings
      ? this.parameter("transformer.wte.weight")
      : this.parameter("lm_head.weight");
    return ops.linear(h, head);
  }
}
