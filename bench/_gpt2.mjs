// The GPT-2-shaped model of the train-step benchmarks (bench/train-step.mjs on the cpu backend,
// bench/webgpu-train-step.mjs on WebGPU): its analytic FLOPs, the Athanor model, and the same
// model in plain PyTorch (the peer). 6 layers, width 384, 6 heads, context 256 by default;
// pre-LayerNorm, tanh-GELU MLP 4x, tied embeddings.

/** Analytic FLOPs of one step (matmuls and attention; forward ×3 for forward+backward). */
export function stepFlops(c) {
  const tokens = c.batch * c.context;
  const d = c.width;
  const perLayerMatmul = 2 * tokens * (d * 3 * d + d * d + 2 * d * 4 * d);
  const perLayerAttn = 2 * 2 * c.batch * c.context * c.context * d; // q·kᵀ and p·v (full square)
  const head = 2 * tokens * d * c.vocab;
  const forward = c.layers * (perLayerMatmul + perLayerAttn) + head;
  return 3 * forward;
}

/** Random token ids [batch, context] (i32) drawn from `rng`, on `backend`. */
export function randomTokens(T, c, rng, backend) {
  const n = c.batch * c.context;
  return T.tensor(
    Int32Array.from({ length: n }, () => rng.int(c.vocab)),
    [c.batch, c.context],
    { dtype: "i32", backend },
  );
}

/**
 * The model on `@athanor/tensor` (`T`): parameters initialised from `rng` on `backend` (the
 * default backend when omitted), and a `forward(ids, targets)` returning the loss.
 */
export function buildModel(T, c, { rng, backend } = {}) {
  const { ops } = T;
  const init = (shape, std = 0.02) => T.randn(shape, { std, rng, backend }).requireGrad();
  const constant = (shape, v) => T.full(shape, v, { backend }).requireGrad();
  const d = c.width;
  const p = {
    wte: init([c.vocab, d]),
    wpe: init([c.context, d], 0.01),
    lnfW: constant([d], 1),
    lnfB: constant([d], 0),
    layers: [],
  };
  const projStd = 0.02 / Math.sqrt(2 * c.layers);
  for (let l = 0; l < c.layers; l++) {
    p.layers.push({
      ln1W: constant([d], 1),
      ln1B: constant([d], 0),
      qkvW: init([3 * d, d]),
      qkvB: constant([3 * d], 0),
      projW: init([d, d], projStd),
      projB: constant([d], 0),
      ln2W: constant([d], 1),
      ln2B: constant([d], 0),
      fcW: init([4 * d, d]),
      fcB: constant([4 * d], 0),
      fc2W: init([d, 4 * d], projStd),
      fc2B: constant([d], 0),
    });
  }
  const params = [p.wte, p.wpe, p.lnfW, p.lnfB, ...p.layers.flatMap((l) => Object.values(l))];
  const hd = d / c.heads;
  const forward = (ids, targets) => {
    const [B, S] = ids.shape;
    let x = ops.add(ops.embedding(p.wte, ids), ops.slice(p.wpe, 0, 0, S));
    // Each block in its own scope: its intermediates are freed as soon as it returns (the
    // graph keeps what backward needs), so the forward's peak is not every intermediate.
    const block = (l, x) => {
      const h = ops.layerNorm(x, l.ln1W, l.ln1B);
      const qkv = ops.linear(h, l.qkvW, l.qkvB); // [B, S, 3d]
      // one view [3, B, H, S, hd] of qkv, split into q, k, v (views): their gradients are
      // concatenated and laid back out in one copy
      const [q, k, v] = ops
        .split(ops.permute(ops.reshape(qkv, [B, S, 3, c.heads, hd]), [2, 0, 3, 1, 4]), 3, 0)
        .map((t) => ops.squeeze(t, 0));
      const a = ops.attention(q, k, v, { causal: true }); // [B, H, S, hd]
      const merged = ops.reshape(ops.permute(a, [0, 2, 1, 3]), [B, S, d]);
      x = ops.add(x, ops.linear(merged, l.projW, l.projB));
      const h2 = ops.layerNorm(x, l.ln2W, l.ln2B);
      return ops.add(x, ops.linear(ops.gelu(ops.linear(h2, l.fcW, l.fcB)), l.fc2W, l.fc2B));
    };
    for (const l of p.layers) x = T.tidy(() => block(l, x));
    const logits = ops.matmul(ops.layerNorm(x, p.lnfW, p.lnfB), ops.transpose(p.wte)); // tied
    return ops.crossEntropy(logits, targets);
  };
  return { params, forward };
}

/**
 * The same model in PyTorch, as Python source. Expects d, H, L, V, S and torch / math / F
 * (torch.nn.functional) to be defined by the surrounding script.
 */
export const TORCH_GPT2_MODEL = `hd = d // H
class Block(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.ln1 = torch.nn.LayerNorm(d); s.qkv = torch.nn.Linear(d, 3 * d); s.proj = torch.nn.Linear(d, d)
        s.ln2 = torch.nn.LayerNorm(d); s.fc = torch.nn.Linear(d, 4 * d); s.fc2 = torch.nn.Linear(4 * d, d)
        s.register_buffer("mask", torch.full((S, S), float("-inf")).triu(1))
    def forward(s, x):
        b, t, _ = x.shape
        q, k, v = s.qkv(s.ln1(x)).split(d, dim=2)
        q, k, v = [z.view(b, t, H, hd).transpose(1, 2) for z in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd) + s.mask[:t, :t]
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + s.proj(y)
        return x + s.fc2(F.gelu(s.fc(s.ln2(x)), approximate="tanh"))
class GPT(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.wte = torch.nn.Embedding(V, d); s.wpe = torch.nn.Embedding(S, d)
        s.blocks = torch.nn.ModuleList([Block() for _ in range(L)]); s.lnf = torch.nn.LayerNorm(d)
    def forward(s, ids, tg):
        x = s.wte(ids) + s.wpe.weight[: ids.shape[1]]
        for blk in s.blocks: x = blk(x)
        return F.cross_entropy((s.lnf(x) @ s.wte.weight.T).view(-1, V), tg.view(-1))
`;
