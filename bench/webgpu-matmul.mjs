// f32 square matmul on the webgpu backend, GFLOP/s, with PyTorch in the same run (CUDA fp32 with
// TF32 off on a GPU machine; the CPU otherwise). The clock covers recording, submitting and the
// GPU finishing (`sync`), median of the repetitions.
//
//   npm run bench -- webgpu-matmul [--json] [--sizes 1024,2048,4096] [--reps N] [--no-torch]
//
// Without a GPU this runs on Mesa's lavapipe (software Vulkan): correct but slow, so the default
// sizes drop to 128, 256, 512 on a software adapter.
import { runTorch, TORCH_PRELUDE, timeGpu, webgpu } from "./_webgpu-common.mjs";

function parseArgs(args) {
  const o = { json: false, sizes: null, reps: 5, torch: true };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--json") o.json = true;
    else if (a === "--sizes") o.sizes = args[++i].split(",").map(Number);
    else if (a === "--reps") o.reps = Number(args[++i]);
    else if (a === "--no-torch") o.torch = false;
    else if (a === "--help" || a === "-h") {
      console.log(
        "usage: npm run bench -- webgpu-matmul [--json] [--sizes 1024,2048,4096] [--reps N] [--no-torch]",
      );
      process.exit(0);
    } else throw new Error(`webgpu-matmul: unknown argument ${a}`);
  }
  return o;
}

const TORCH = `${TORCH_PRELUDE}
sizes = json.loads(sys.argv[1]); reps = int(sys.argv[2])
out = {"device": name, "torch": torch.__version__, "gflops": {}}
for n in sizes:
    a = torch.randn(n, n, device=dev); b = torch.randn(n, n, device=dev)
    a @ b; sync()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); a @ b; sync(); ts.append(time.perf_counter() - t0)
    ts.sort()
    out["gflops"][str(n)] = 2 * n ** 3 / ts[len(ts) // 2] / 1e9
print(json.dumps(out))
`;

export async function main(args) {
  const o = parseArgs(args);
  const { T, gpu } = await webgpu();
  const sizes = o.sizes ?? (gpu.info.software ? [128, 256, 512] : [1024, 2048, 4096]);
  const rows = [];
  for (const n of sizes) {
    const a = T.randn([n, n], { backend: gpu });
    const b = T.randn([n, n], { backend: gpu });
    // check one result against a row computed on the host, so a fast wrong kernel cannot pass
    const c = T.ops.matmul(a, b);
    const [av, bv, cv] = await Promise.all([a.dataAsync(), b.dataAsync(), c.dataAsync()]);
    let err = 0;
    const row = n >> 1;
    for (let j = 0; j < n; j += Math.max(1, n >> 6)) {
      let s = 0;
      for (let k = 0; k < n; k++) s += av[row * n + k] * bv[k * n + j];
      err = Math.max(err, Math.abs(s - cv[row * n + j]) / Math.sqrt(n));
    }
    c.dispose();
    const reps = o.reps;
    const sec = await timeGpu(gpu, () => T.tidy(() => T.ops.matmul(a, b)), { reps });
    a.dispose();
    b.dispose();
    rows.push({ n, gflops: (2 * n ** 3) / sec / 1e9, sec, maxErr: err });
  }
  const torch = o.torch ? runTorch(TORCH, [JSON.stringify(sizes), String(o.reps)]) : null;
  for (const r of rows) {
    const t = torch?.gflops?.[String(r.n)];
    r.torchGflops = t ?? null;
    r.ratio = t ? r.gflops / t : null;
  }
  const info = gpu.info;
  if (o.json) {
    console.log(JSON.stringify({ bench: "webgpu-matmul", adapter: info.adapter, torch, rows }));
  } else {
    console.log(`webgpu-matmul: adapter ${info.adapter} (${info.source})`);
    if (torch?.error) console.log(`pytorch: unavailable (${torch.error})`);
    else if (torch) console.log(`pytorch ${torch.torch} on ${torch.device} (fp32, TF32 off)`);
    console.log("    n | webgpu GFLOP/s | pytorch GFLOP/s | ratio | max |err|/√n");
    for (const r of rows) {
      console.log(
        `${String(r.n).padStart(5)} | ${r.gflops.toFixed(1).padStart(14)} | ${(r.torchGflops?.toFixed(1) ?? "-").padStart(15)} | ${(r.ratio?.toFixed(2) ?? "-").padStart(5)} | ${r.maxErr.toExponential(1)}`,
      );
    }
  }
  gpu.dispose();
}
