// The GPT-2-shaped model of the train-step benchmarks, in plain PyTorch (the peer), shared by
// bench/train-step.mjs (CPU) and bench/webgpu-train-step.mjs (GPU). Expects d, H, L, V, S and
// torch / math / F (torch.nn.functional) to be defined by the surrounding script.
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
