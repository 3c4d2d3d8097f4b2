// f32 square matmul on the webgpu backend, GFLOP/s, with PyTorch in the same run (CUDA fp32 with
// TF32 off on a GPU machine; the CPU otherwise). The clock covers recording, submitting and the
// GPU finishing (`sync`) of back-to-back products (at least 30 ms of them, at most 50; PyTorch
// timed the same way), median of the repetitions.
//
//   npm run bench -- webgpu-matmul [--json] [--sizes 1024,2048,4096] [--reps N] [--no-torch]
//                                  [--precision f32|f16] [--variant NAME] [--storage f32|f16]
//                                  [--matmul-tiles large=NAME,medium=NAME] [--split-k T,K]
//                                  [--gpt2]
//
// --gpt2 times, instead of square products, the products of the webgpu-train-step model's
// training step (its default GPT-2 shape: 2,048 tokens, width 384, vocabulary 8,192): for each
// linear layer (and the tied head) the forward x·Wᵀ, the input gradient dy·W and the weight
// gradient xᵀ·dy, with the operands laid out as the engine's autograd lays them out, and PyTorch
// doing the same products on the same views. It reports each product and the step's total
// (each block product counted once per layer), which says how far the step's matmul time is
// from cuBLAS's at these shapes (on a software adapter: 128 tokens, width 64, 2 layers,
// vocabulary 512). --split-k sets the backend's matmulSplitK (maxTiles, minK).
//
// --variant NAME forces one f32 kernel variant of MATMUL_VARIANTS (or a size class: large,
// medium, small) for every size, through the backend's matmulTile option; without it the
// backend picks the size class per shape (the default, what users get). --matmul-tiles gives
// size classes other kernels (the backend's matmulTiles option), still picked per shape.
//
// --precision f16 runs the backend with matmulPrecision "f16" (f32 storage, inputs rounded to f16
// in the kernel's tiles, f32 accumulation; needs the adapter's "shader-f16"); its peer is
// torch.matmul on half tensors with fp32 accumulation (allow_fp16_reduced_precision_reduction
// off), i.e. cuBLAS's fp16-input / fp32-accumulate path. The host check then uses f16-rounded
// inputs, so it still measures only accumulation error.
//
// --storage f16 stores the right operand (the weight, in a model) as f16: half the bytes read,
// unpacked as the tiles load, arithmetic unchanged. Its peer stays PyTorch fp32, so the ratio
// against the f32-storage run on the same machine is the storage's effect.
//
// Without a GPU this runs on Mesa's lavapipe (software Vulkan): correct but slow, so the default
// sizes drop to 128, 256, 512 on a software adapter.
import {
  parseSplitK,
  parseTileChoice,
  runTorch,
  TORCH_PRELUDE,
  timeGpu,
  webgpu,
} from "./_webgpu-common.mjs";

function parseArgs(args) {
  const o = {
    json: false,
    sizes: null,
    reps: 5,
    torch: true,
    precision: "f32",
    variant: null,
    tiles: null,
    storage: "f32",
    gpt2: false,
    splitK: null,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--json") o.json = true;
    else if (a === "--sizes") o.sizes = args[++i].split(",").map(Number);
    else if (a === "--reps") o.reps = Number(args[++i]);
    else if (a === "--no-torch") o.torch = false;
    else if (a === "--gpt2") o.gpt2 = true;
    else if (a === "--split-k") o.splitK = parseSplitK(args[++i], "webgpu-matmul");
    else if (a === "--variant") {
      o.variant = args[++i];
      if (!o.variant)
        throw new Error("webgpu-matmul: --variant needs a name (see MATMUL_VARIANTS)");
    } else if (a === "--matmul-tiles") o.tiles = parseTileChoice(args[++i], "webgpu-matmul");
    else if (a === "--precision") {
      o.precision = args[++i];
      if (o.precision !== "f32" && o.precision !== "f16")
        throw new Error(`webgpu-matmul: --precision must be f32 or f16, got ${o.precision}`);
    } else if (a === "--storage") {
      o.storage = args[++i];
      if (o.storage !== "f32" && o.storage !== "f16")
        throw new Error(`webgpu-matmul: --storage must be f32 or f16, got ${o.storage}`);
    } else if (a === "--help" || a === "-h") {
      console.log(
        "usage: npm run bench -- webgpu-matmul [--json] [--sizes 1024,2048,4096] [--reps N] [--no-torch] [--precision f32|f16] [--variant NAME] [--storage f32|f16] [--matmul-tiles large=NAME,medium=NAME] [--split-k T,K] [--gpt2]",
      );
      process.exit(0);
    } else throw new Error(`webgpu-matmul: unknown argument ${a}`);
  }
  return o;
}

/**
 * Each sample times back-to-back products lasting at least this long, then one sync, on both
 * sides (timeGpu / timed): what a product costs inside a sequence of work, without the host's
 * round trip to the GPU that a lone product would also pay (Dawn's is hundreds of µs, CUDA's
 * tens).
 */
const MIN_MS = 30;

// The peer: fp32 products; or (half) half inputs with fp32 accumulation (cuBLAS's default for
// half allows reduced-precision reductions; turned off so that both sides accumulate in fp32).
const torchScript = (half) => `${TORCH_PRELUDE}
MIN_MS = ${MIN_MS}
${half ? "torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = False" : ""}
sizes = json.loads(sys.argv[1]); reps = int(sys.argv[2])
out = {"device": name, "torch": torch.__version__, "gflops": {}}
for n in sizes:
    a = torch.randn(n, n, device=dev)${half ? ".half()" : ""}; b = torch.randn(n, n, device=dev)${half ? ".half()" : ""}
    out["gflops"][str(n)] = 2 * n ** 3 / timed(lambda: a @ b, reps, MIN_MS / 1000) / 1e9
print(json.dumps(out))
`;

/**
 * The products of one training step of the webgpu-train-step model (`c`: tokens, width, layers,
 * vocab): per linear layer [in, out] the forward x·Wᵀ, the input gradient dy·W and the weight
 * gradient xᵀ·dy. Each operand is [stored shape, transposed?]; `count` is how many the step has.
 */
export function gpt2Products(c) {
  const { tokens: t, width: d } = c;
  const linears = [
    ["qkv", d, 3 * d, c.layers],
    ["proj", d, d, c.layers],
    ["fc", d, 4 * d, c.layers],
    ["fc2", 4 * d, d, c.layers],
    ["head", d, c.vocab, 1],
  ];
  return linears.flatMap(([name, i, o, count]) => [
    { name: `${name} x·Wᵀ`, a: [[t, i], false], b: [[o, i], true], count },
    { name: `${name} dy·W`, a: [[t, o], false], b: [[o, i], false], count },
    { name: `${name} xᵀ·dy`, a: [[t, i], true], b: [[t, o], false], count },
  ]);
}

const GPT2_STEP = { tokens: 2048, width: 384, layers: 6, vocab: 8192 };
/** On a software adapter (lavapipe): the same products at a size that takes seconds. */
const SMALL_STEP = { tokens: 128, width: 64, layers: 2, vocab: 512 };

const torchProducts = `${TORCH_PRELUDE}
MIN_MS = ${MIN_MS}
products = json.loads(sys.argv[1]); reps = int(sys.argv[2])
out = {"device": name, "torch": torch.__version__, "ms": []}
def operand(spec):
    shape, transposed = spec
    x = torch.randn(*shape, device=dev)
    return x.T if transposed else x
for p in products:
    a = operand(p["a"]); b = operand(p["b"])
    out["ms"].append(timed(lambda: a @ b, reps, MIN_MS / 1000) * 1000)
print(json.dumps(out))
`;

/** --gpt2: the training step's products, each timed as the square sizes are. */
async function gpt2Main(o, T, gpu) {
  const step = gpu.info.software ? SMALL_STEP : GPT2_STEP;
  const products = gpt2Products(step);
  const operand = ([shape, transposed]) => {
    const x = T.randn(shape, { backend: gpu });
    return transposed ? T.ops.transpose(x, 0, 1) : x;
  };
  const rows = [];
  for (const p of products) {
    const a = operand(p.a);
    const b = operand(p.b);
    const [M, K] = a.shape;
    const N = b.shape[1];
    const sec = await timeGpu(gpu, () => T.tidy(() => void T.ops.matmul(a, b)), {
      reps: o.reps,
      minMs: MIN_MS,
    });
    a.dispose();
    b.dispose();
    rows.push({
      name: p.name,
      M,
      K,
      N,
      count: p.count,
      ms: sec * 1000,
      gflops: (2 * M * K * N) / sec / 1e9,
    });
  }
  const torch = o.torch
    ? runTorch(torchProducts, [JSON.stringify(products), String(o.reps)])
    : null;
  rows.forEach((r, i) => {
    r.torchMs = torch?.ms?.[i] ?? null;
    r.ratio = r.torchMs ? r.torchMs / r.ms : null;
  });
  const total = (key) =>
    rows.every((r) => r[key] !== null) ? rows.reduce((s, r) => s + r[key] * r.count, 0) : null;
  const stepMs = total("ms");
  const torchStepMs = total("torchMs");
  const figures = {
    bench: "webgpu-matmul",
    shapes: "gpt2",
    step,
    adapter: gpu.info.adapter,
    splitK: o.splitK ?? "default",
    torch: torch && { device: torch.device, torch: torch.torch, error: torch.error },
    rows,
    stepMs,
    torchStepMs,
    ratio: torchStepMs ? torchStepMs / stepMs : null,
  };
  if (o.json) console.log(JSON.stringify(figures));
  else {
    console.log(
      `webgpu-matmul --gpt2: the products of one webgpu-train-step step (${step.tokens} tokens, width ${step.width}, ${step.layers} layers, vocabulary ${step.vocab}); adapter ${gpu.info.adapter}`,
    );
    if (torch?.error) console.log(`pytorch: unavailable (${torch.error})`);
    console.log(
      "product          |    M ×    K ×    N | count |    ms | GFLOP/s | torch ms | ratio",
    );
    for (const r of rows)
      console.log(
        `${r.name.padEnd(16)} | ${String(r.M).padStart(4)} × ${String(r.K).padStart(4)} × ${String(r.N).padStart(4)} | ${String(r.count).padStart(5)} | ${r.ms.toFixed(3).padStart(5)} | ${r.gflops.toFixed(0).padStart(7)} | ${(r.torchMs?.toFixed(3) ?? "-").padStart(8)} | ${r.ratio?.toFixed(2) ?? "-"}`,
      );
    console.log(
      `step total: ${stepMs.toFixed(2)} ms${torchStepMs ? ` against PyTorch's ${torchStepMs.toFixed(2)} ms (${figures.ratio.toFixed(2)}x)` : ""}`,
    );
  }
}

export async function main(args) {
  const o = parseArgs(args);
  const f16 = o.precision === "f16";
  const { T, gpu } = await webgpu({
    ...(f16 ? { matmulPrecision: "f16" } : {}),
    ...(o.variant ? { matmulTile: o.variant } : {}),
    ...(o.tiles ? { matmulTiles: o.tiles } : {}),
    ...(o.splitK ? { matmulSplitK: o.splitK } : {}),
  });
  if (o.gpt2) {
    await gpt2Main(o, T, gpu);
    gpu.dispose();
    return;
  }
  const sizes = o.sizes ?? (gpu.info.software ? [128, 256, 512] : [1024, 2048, 4096]);
  const rows = [];
  for (const n of sizes) {
    const a = T.randn([n, n], { backend: gpu });
    const bf = T.randn([n, n], { backend: gpu });
    const b = o.storage === "f16" ? bf.half() : bf;
    if (b !== bf) bf.dispose();
    // check one result against a row computed on the host, so a fast wrong kernel cannot pass
    const c = T.ops.matmul(a, b);
    const [a32, b32, cv] = await Promise.all([a.dataAsync(), b.dataAsync(), c.dataAsync()]);
    // the host's f16 rounding (ties to even) of the inputs the kernel rounds
    const half = (v) => T.f16ToF32(T.f32ToF16(v));
    const [av, bv] = f16 ? [half(a32), half(b32)] : [a32, b32];
    let err = 0;
    const row = n >> 1;
    for (let j = 0; j < n; j += Math.max(1, n >> 6)) {
      let s = 0;
      for (let k = 0; k < n; k++) s += av[row * n + k] * bv[k * n + j];
      err = Math.max(err, Math.abs(s - cv[row * n + j]) / Math.sqrt(n));
    }
    c.dispose();
    const reps = o.reps;
    // each product is freed at the end of its tidy (its storage is reused by the next rep)
    const run = () =>
      T.tidy(() => {
        T.ops.matmul(a, b);
      });
    const sec = await timeGpu(gpu, run, { reps, minMs: MIN_MS });
    a.dispose();
    b.dispose();
    rows.push({ n, gflops: (2 * n ** 3) / sec / 1e9, sec, maxErr: err });
  }
  const torch = o.torch
    ? runTorch(torchScript(f16), [JSON.stringify(sizes), String(o.reps)])
    : null;
  for (const r of rows) {
    const t = torch?.gflops?.[String(r.n)];
    r.torchGflops = t ?? null;
    r.ratio = t ? r.gflops / t : null;
  }
  const info = gpu.info;
  if (o.json) {
    const figures = { bench: "webgpu-matmul", adapter: info.adapter, torch, rows };
    if (f16) figures.precision = "f16";
    if (o.variant) figures.variant = o.variant;
    if (o.tiles) figures.matmulTiles = o.tiles;
    if (o.storage === "f16") figures.storage = "f16";
    console.log(JSON.stringify(figures));
  } else {
    console.log(`webgpu-matmul: adapter ${info.adapter} (${info.source})`);
    if (f16) console.log("matmul precision f16: f16-rounded inputs, f32 accumulation");
    if (o.variant) console.log(`matmul kernel variant ${o.variant} (forced for every size)`);
    if (o.tiles) console.log(`matmul size classes' kernels: ${JSON.stringify(o.tiles)}`);
    if (o.storage === "f16") console.log("right operand stored as f16 (f32 arithmetic)");
    const peer = f16 ? "fp16 inputs, fp32 accumulate" : "fp32, TF32 off";
    if (torch?.error) console.log(`pytorch: unavailable (${torch.error})`);
    else if (torch) console.log(`pytorch ${torch.torch} on ${torch.device} (${peer})`);
    console.log("    n | webgpu GFLOP/s | pytorch GFLOP/s | ratio | max |err|/√n");
    for (const r of rows) {
      console.log(
        `${String(r.n).padStart(5)} | ${r.gflops.toFixed(1).padStart(14)} | ${(r.torchGflops?.toFixed(1) ?? "-").padStart(15)} | ${(r.ratio?.toFixed(2) ?? "-").padStart(5)} | ${r.maxErr.toExponential(1)}`,
      );
    }
  }
  gpu.dispose();
}
