/**
 * The Llama family (`LlamaForCausalLM`, `Qwen2ForCausalLM`, `MistralForCausalLM` without
 * sliding window): RMSNorm, RoPE, grouped-query attention with optional q/k/v(/o) biases,
 * SwiGLU MLP, tied or untied head.
 */

import { ops, type Tensor } from "@athanor/tensor";
import type { LlamaConfig } from "./config.js";
import type { PreparedInputs } from "./inputs.js";
import type { StaticKVCache } from "./kv-cache.js";
import { applyRope, RopeTables, ropeInverseFrequencies, ropeRows } from "./rope.js";
import { type ParameterShapes, TransformerLM } from "./transformer.js";

export function llamaParameterShapes(c: LlamaConfig): ParameterShapes {
  const E = c.hiddenSize;
  const D = c.headDim;
  const I = c.intermediateSize;
  const m: ParameterShapes = new Map();
  m.set("model.embed_tokens.weight", [c.vocabSize, E]);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    m.set(`${p}.input_layernorm.weight`, [E]);
    const proj = (name: string, out: number, inp: number, bias: boolean) => {
      m.set(`${p}.${name}.weight`, [out, inp]);
      if (bias) m.set(`${p}.${name}.bias`, [out]);
    };
    const qkvBias = c.attentionBias || c.qkvBias;
    proj("self_attn.q_proj", c.numHeads * D, E, qkvBias);
    proj("self_attn.k_proj", c.numKvHeads * D, E, qkvBias);
    proj("self_attn.v_proj", c.numKvHeads * D, E, qkvBias);
    proj("self_attn.o_proj", E, c.numHeads * D, c.attentionBias);
    m.set(`${p}.post_attention_layernorm.weight`, [E]);
    proj("mlp.gate_proj", I, E, c.mlpBias);
    proj("mlp.up_proj", I, E, c.mlpBias);
    proj("mlp.down_proj", E, I, c.mlpBias);
  }
  m.set("model.norm.weight", [E]);
  if (!c.tieWordEmbeddings) m.set("lm_head.weight", [c.vocabSize, E]);
  return m;
}

export class LlamaLM extends TransformerLM<LlamaConfig> {
  protected readonly transposedWeights = false;
  private readonly rope: RopeTables;

  constructor(config: LlamaConfig, params: Map<string, Tensor>) {
    super(config, params);
    if (config.headDim % 2 !== 0)
      throw new Error(`${config.modelType}: head_dim ${config.headDim} must be even for RoPE`);
    this.rope = new RopeTables(
      ropeInverseFrequencies(config.headDim, config.ropeTheta, config.ropeScaling),
    );
  }

  protected get kvHeads(): number {
    return this.config.numKvHeads;
  }

  parameterShapes(): ParameterShapes {
    return llamaParameterShapes(this.config);
  }

  /** RoPE cos / sin rows [B, 1, T, headDim / 2] of the positions. */
  positionValues(positions: Int32Array, B: number, T: number) {
    const { cos, sin } = this.rope.rows(positions);
    const shape = [B, 1, T, this.rope.half];
    return { cos: { values: cos, shape }, sin: { values: sin, shape } };
  }

  protected run(inputIds: Tensor, inputs: PreparedInputs, cache: StaticKVCache | null): Tensor {
    const c = this.config;
    const norm = (x: Tensor, name: string) => ops.rmsNorm(x, this.parameter(name), c.rmsNormEps);
    const embed = this.parameter("model.embed_tokens.weight");
    const [B, T] = inputIds.shape;
    // a step decoder's rows are device tensors only: the host RoPE step is for cpu backends
    const rows = inputs.decode
      ? {
          cos: null,
          sin: null,
          cosT: inputs.decode.positions.cos,
          sinT: inputs.decode.positions.sin,
        }
      : ropeRows(this.rope, inputs.positions, B, T, embed.backend);
    let h = ops.embedding(embed, inputIds);
    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}`;
      h = this.block(h, cache, (h0) => {
        const x = norm(h0, `${p}.input_layernorm.weight`);
        const q = this.splitHeads(this.proj(`${p}.self_attn.q_proj`, x), c.numHeads);
        const k = this.splitHeads(this.proj(`${p}.self_attn.k_proj`, x), c.numKvHeads);
        const v = this.splitHeads(this.proj(`${p}.self_attn.v_proj`, x), c.numKvHeads);
        const a = this.attend(l, applyRope(q, rows), applyRope(k, rows), v, inputs, cache);
        const h1 = ops.add(h0, this.proj(`${p}.self_attn.o_proj`, this.mergeHeads(a)));
        const y = norm(h1, `${p}.post_attention_layernorm.weight`);
        const gate = ops.silu(this.proj(`${p}.mlp.gate_proj`, y));
        const up = this.proj(`${p}.mlp.up_proj`, y);
        return ops.add(h1, this.proj(`${p}.mlp.down_proj`, ops.mul(gate, up)));
      });
    }
    h = this.lastIfWanted(h, inputs);
    h = norm(h, "model.norm.weight");
    const head = c.tieWordEmbeddings
      ? this.parameter("model.embed_tokens.weight")
      : this.parameter("lm_head.weight");
    return ops.linear(h, head);
  }
}
