"""The lm-decode / lm-train baselines: a Llama-shaped model in plain PyTorch on the CPU (or
on CUDA with "device": "cuda" in the config, fp32 with TF32 off, for the webgpu runs; decode
with "dtype": "float16" runs the model in half precision, the usual fp16 inference peer).

Same shapes and the same loop structure as bench/lm-decode.mjs and bench/lm-train.mjs:
RMSNorm, RoPE, grouped-query attention with a preallocated KV cache, SwiGLU, untied head.
Random init (the speed does not depend on the values). Prints one JSON line.

    python3 bench/lm_torch.py decode '{"layers":8,...,"batch":1,"prompt":32,"new":128}' THREADS
    python3 bench/lm_torch.py train  '{"layers":8,...,"batch":8,"context":128,"steps":3}' THREADS
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

mode, c, threads = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
dev = torch.device(c.get("device", "cpu"))
dt = getattr(torch, c.get("dtype", "float32"))
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()

D, H, KV, L, V, FF = c["width"], c["heads"], c["kvHeads"], c["layers"], c["vocab"], c["hidden"]
HD = D // H


class RMSNorm(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(D))

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5))


def rope(x, cos, sin):  # x [B, H, T, HD]; cos/sin [B, 1, T, HD]
    x1, x2 = x[..., : HD // 2], x[..., HD // 2 :]
    return x * cos + torch.cat((-x2, x1), dim=-1) * sin


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.n1, self.n2 = RMSNorm(), RMSNorm()
        self.q = torch.nn.Linear(D, H * HD, bias=False)
        self.k = torch.nn.Linear(D, KV * HD, bias=False)
        self.v = torch.nn.Linear(D, KV * HD, bias=False)
        self.o = torch.nn.Linear(H * HD, D, bias=False)
        self.gate = torch.nn.Linear(D, FF, bias=False)
        self.up = torch.nn.Linear(D, FF, bias=False)
        self.down = torch.nn.Linear(FF, D, bias=False)

    def forward(self, x, cos, sin, cache, past):
        B, T, _ = x.shape
        h = self.n1(x)
        q = self.q(h).view(B, T, H, HD).transpose(1, 2)
        k = self.k(h).view(B, T, KV, HD).transpose(1, 2)
        v = self.v(h).view(B, T, KV, HD).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if cache is not None:
            ck, cv = cache
            ck[:, :, past : past + T] = k
            cv[:, :, past : past + T] = v
            k, v = ck[:, :, : past + T], cv[:, :, : past + T]
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        s = (q @ k.transpose(-2, -1)) / math.sqrt(HD)
        if T > 1:  # causal, aligned to the end (prefill and training)
            s = s + torch.full((T, s.shape[-1]), float("-inf"), device=dev, dtype=s.dtype).triu(s.shape[-1] - T + 1)
        a = s.softmax(-1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(B, T, D))
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(V, D)
        self.layers = torch.nn.ModuleList([Layer() for _ in range(L)])
        self.norm = RMSNorm()
        self.head = torch.nn.Linear(D, V, bias=False)
        inv = 1.0 / (10000 ** (torch.arange(0, HD, 2).float() / HD))
        self.register_buffer("inv", inv)

    def forward(self, ids, caches=None, past=0):
        B, T = ids.shape
        pos = torch.arange(past, past + T, device=dev).float()
        f = torch.outer(pos, self.inv.float())  # the model's dtype may be half; angles stay f32
        emb = torch.cat((f, f), dim=-1)
        cos, sin = emb.cos()[None, None].to(dt), emb.sin()[None, None].to(dt)
        x = self.embed(ids)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, caches[i] if caches else None, past)
        return self.head(self.norm(x))


model = Llama()
for p in model.parameters():
    if p.dim() > 1:
        torch.nn.init.normal_(p, std=0.02)
model = model.to(dev, dt)
params = sum(p.numel() for p in model.parameters())

if mode == "decode":
    model.eval()
    B, P, N = c["batch"], c["prompt"], c["new"]
    g = torch.Generator().manual_seed(1)
    prompt = torch.randint(0, V, (B, P), generator=g).to(dev)

    def run():
        caches = [
            (
                torch.zeros(B, KV, P + N, HD, device=dev, dtype=dt),
                torch.zeros(B, KV, P + N, HD, device=dev, dtype=dt),
            )
            for _ in range(L)
        ]
        with torch.inference_mode():
            t0 = time.perf_counter()
            logits = model(prompt, caches, 0)
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            nxt.cpu()  # the next step's input must be known, as in the Athanor loop
            prefill = time.perf_counter() - t0
            steps = []
            for i in range(N - 1):
                t0 = time.perf_counter()
                logits = model(nxt, caches, P + i)
                nxt = logits[:, -1].argmax(-1, keepdim=True)
                nxt.cpu()
                steps.append(time.perf_counter() - t0)
        return prefill, steps

    run()  # warm-up
    prefill, steps = run()
    decode = sum(steps)
    print(json.dumps({
        "params": params, "threads": threads, "batch": B,
        "prefillMs": prefill * 1e3, "prefillTokensPerSec": B * P / prefill,
        "decodeMs": decode * 1e3, "decodeTokensPerSec": B * (N - 1) / decode,
        "stepMs": [s * 1e3 for s in steps],
    }))
else:
    B, S, steps = c["batch"], c["context"], c["steps"]
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, V, (B, S), generator=g).to(dev)

    def step():
        logits = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss.item()

    step()  # warm-up
    times = []
    for _ in range(steps):
        sync()
        t0 = time.perf_counter()
        step()  # ends with loss.item(): the step has finished
        times.append(time.perf_counter() - t0)
    sec = sum(times) / len(times)
    print(json.dumps({"params": params, "threads": threads, "secPerStep": sec, "tokensPerSec": B * S / sec}))
