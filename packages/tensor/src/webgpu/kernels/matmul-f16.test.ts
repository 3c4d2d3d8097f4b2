// The f16-compute matmul (matmulPrecision "f16"): inputs rounded to f16 in the tiles, products
// accumulated in f32. Every f16 tile class on odd shapes with transposed operands, strided /
// offset / broadcast-batch views and split-K, each against a host f64 matmul of the f16-ROUNDED
// inputs (tight: only f32 accumulation separates them) and of the f32 inputs (loose: the f16
// rounding must show, within its expected size); the GPU's f32 → f16 rounding itself; the
// backend option and setter; matmul backward through autograd against the reference backend.
// Skipped (with the reason) without a WebGPU adapter, or (all but the option errors) without
// "shader-f16".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend, View } from "../../backend.js";
import { f16ToF32, f32ToF16 } from "../../dtype.js";
import { ops, ReferenceBackend, type Tensor, tensor, testing } from "../../index.js";
import { Rng } from "../../random.js";
import {
  rowMajor as contiguous,
  stridedMatmul as hostMatmul,
  type StridedOperand as Operand,
  stridedSpan as span,
  transposedLast2 as transposed,
} from "../../testing/strided.js";

/** A batch-broadcast operand as the frontend passes it: stride 0 on its size-1 batch axes. */
const broadcast = (o: Operand): Operand => ({
  ...o,
  strides: o.strides.map((s, i) => (i < o.shape.length - 2 && o.shape[i] === 1 ? 0 : s)),
});

import { endScope, startScope } from "../../scope.js";
import { selectAdapter } from "../adapter.js";
import { WebGpuBackend } from "../backend.js";
import { createWebGpuBackend, webgpuAvailable } from "../index.js";
import { F16_TILES, matmul, type Tile } from "./matmul.js";

const probe = await webgpuAvailable();
const f16Probe: { ok: true; adapter: string } | { ok: false; reason: string } = probe.available
  ? (await selectAdapter()).adapter.features.has("shader-f16")
    ? { ok: true, adapter: probe.adapter }
    : { ok: false, reason: `adapter ${probe.adapter} does not offer "shader-f16"` }
  : { ok: false, reason: `no WebGPU adapter: ${probe.reason}` };

/** Max |got - want| over max(1, max |want|). */
const TIGHT = 1e-5; // f32 accumulation of exact products vs an f64 sum of the same products
const LOOSE = 3e-3; // f16 input rounding (2⁻¹¹ relative per input) vs the f32 result

/** The nearest f16 value of `x` (ties to even, ±Infinity beyond 65520): the host's conversion. */
const f16round = (x: number): number => f16ToF32(f32ToF16([x]))[0];

describe("host f16 rounding (the reference's)", () => {
  it("rounds to nearest, ties to even, with subnormals and overflow", () => {
    const u = 2 ** -10; // f16 spacing in [1, 2)
    expect(f16round(1 + u / 2)).toBe(1); // tie → even
    expect(f16round(1 + (3 * u) / 2)).toBe(1 + 2 * u); // tie → even
    expect(f16round(1 + u / 2 + 2 ** -20)).toBe(1 + u);
    expect(f16round(-3.3)).toBe(-3.30078125);
    expect(f16round(65504)).toBe(65504);
    expect(f16round(65519)).toBe(65504);
    expect(f16round(65520)).toBe(Number.POSITIVE_INFINITY);
    expect(f16round(2 ** -24)).toBe(2 ** -24); // smallest subnormal
    expect(f16round(2 ** -25)).toBe(0); // tie → even (0)
    expect(f16round(3 * 2 ** -25)).toBe(2 ** -23);
    expect(f16round(2 ** -14 - 2 ** -25)).toBe(2 ** -14); // top of the subnormals rounds up
  });
});

const suite = f16Probe.ok ? describe : describe.skip;
const title = f16Probe.ok
  ? `webgpu f16-compute matmul (${f16Probe.adapter})`
  : `webgpu f16-compute matmul (skipped: ${f16Probe.reason})`;

// lavapipe compiles the larger kernels slowly on a loaded machine: generous timeouts
suite(title, { timeout: 120_000 }, () => {
  let gpu: WebGpuBackend;
  beforeAll(async () => {
    gpu = await createWebGpuBackend({ name: "webgpu-f16-test", matmulPrecision: "f16" });
  });
  afterAll(() => gpu?.dispose());

  const view = (storage: View["storage"], o: Operand): View => ({ storage, ...o });

  /** Runs the kernel on host-filled storages; returns the output (read back) and the inputs. */
  async function run(
    a: Operand,
    b: Operand,
    outOffset: number,
    tile: Tile | undefined,
    fill: (n: number, which: 0 | 1) => Float32Array,
  ): Promise<{ got: Float32Array; av: Float32Array; bv: Float32Array }> {
    const rank = a.shape.length;
    const batch = a.shape.slice(0, -2).map((d, i) => Math.max(d, b.shape[i]));
    const out = contiguous([...batch, a.shape[rank - 2], b.shape[rank - 1]], outOffset);
    const av = fill(span(a), 0);
    const bv = fill(span(b), 1);
    const sa = gpu.alloc("f32", av.length);
    const sb = gpu.alloc("f32", bv.length);
    const so = gpu.alloc("f32", span(out));
    gpu.write(sa, av);
    gpu.write(sb, bv);
    try {
      gpu.fill(view(so, contiguous([span(out)])), Number.NaN); // unwritten outputs show
      matmul(gpu.rt, view(sa, a), view(sb, b), view(so, out), tile, "f16");
      const got = (await gpu.read(view(so, out))) as Float32Array;
      return { got, av, bv };
    } finally {
      for (const s of [sa, sb, so]) gpu.free(s);
    }
  }

  const normal = (seed: number) => (n: number, which: 0 | 1) => {
    const rng = new Rng(seed + which);
    return Float32Array.from({ length: n }, () => rng.normal());
  };

  /**
   * The kernel against the f64 product of the f16-rounded inputs (tight) and of the f32 inputs
   * (loose); with `showsRounding`, also that the result is measurably not the f32 one.
   */
  async function check(
    a: Operand,
    b: Operand,
    options: { tile?: Tile; outOffset?: number; showsRounding?: boolean; seed?: number } = {},
  ): Promise<void> {
    const { tile, outOffset = 0, showsRounding = true, seed = 7 } = options;
    const { got, av, bv } = await run(a, b, outOffset, tile, normal(seed));
    const rounded = hostMatmul(a, av, b, bv, f16round);
    const exact = hostMatmul(a, av, b, bv, (x) => x);
    const what = `${tile?.name ?? "picked"} tile, A ${JSON.stringify(a)}, B ${JSON.stringify(b)}`;
    const tight = testing.maxRelError(got, rounded);
    const loose = testing.maxRelError(got, exact);
    expect(tight, `${what}: error vs the f16-rounded product ${tight}`).toBeLessThanOrEqual(TIGHT);
    expect(loose, `${what}: error vs the f32 product ${loose}`).toBeLessThanOrEqual(LOOSE);
    if (showsRounding) expect(loose, `${what}: no f16 rounding visible`).toBeGreaterThan(TIGHT);
  }

  it("every f16 tile class, ragged M / N / K, transposed operands", async () => {
    const [M, K, N] = [133, 70, 141];
    // layouts (A row-major or transposed × B row-major or transposed): all four on the small
    // tile, row-major on the larger ones (the same generated load code); each layout is its own
    // kernel, and lavapipe takes 2-10 s to compile one cold on a loaded 2-vCPU machine
    const layouts: Record<string, [boolean, boolean][]> = {
      large: [[false, false]],
      medium: [[false, false]],
      small: [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ],
    };
    for (const tile of Object.values(F16_TILES)) {
      for (const [ta, tb] of layouts[tile.name]) {
        const a = ta ? transposed([M, K]) : contiguous([M, K]);
        const b = tb ? transposed([K, N]) : contiguous([K, N]);
        await check(a, b, { tile });
      }
    }
  });

  it("a custom tile with odd register blocks (scalar f16 tiles); tiles that cannot work throw", async () => {
    const odd: Tile = { name: "odd-3x5", BM: 24, BN: 40, BK: 16, TM: 3, TN: 5 };
    await check(contiguous([50, 37]), transposed([37, 83]), { tile: odd });
    const a = contiguous([8, 8]);
    const uneven: Tile = { name: "uneven", BM: 32, BN: 32, BK: 5, TM: 2, TN: 2 };
    await expect(check(a, a, { tile: uneven })).rejects.toThrow("does not divide evenly");
    const limit = gpu.rt.device.limits.maxComputeWorkgroupStorageSize;
    const deep: Tile = { name: "deep", BM: 64, BN: 64, BK: limit / 128, TM: 4, TN: 4 };
    await expect(check(a, a, { tile: deep })).rejects.toThrow(
      `needs 256 invocations and ${2 * limit} bytes of workgroup memory; this device allows`,
    );
  });

  it("padded row stride, storage offsets, broadcast batches on either side", async () => {
    const a: Operand = { shape: [2, 37, 20], strides: [37 * 24, 24, 1], offset: 8 };
    const b = broadcast(contiguous([1, 20, 44], 4));
    for (const tile of Object.values(F16_TILES)) await check(a, b, { tile, outOffset: 4 });
    // [3, 1] × [1, 4] batch axes broadcast to [3, 4]; B transposed with an offset
    const a2 = broadcast(contiguous([3, 1, 21, 33], 5));
    const b2 = broadcast(transposed([1, 4, 33, 19], 3));
    await check(a2, b2, { tile: F16_TILES.small });
  });

  it("split-K over a long K (partial products, then their sum)", async () => {
    await check(contiguous([40, 1100]), contiguous([1100, 32]), { tile: F16_TILES.medium });
    await check(contiguous([2, 24, 1040]), contiguous([2, 1040, 36]), { tile: F16_TILES.large });
    await check(contiguous([33, 1100]), transposed([1100, 17]), { tile: F16_TILES.small });
    await check(contiguous([30, 1030]), contiguous([1030, 20])); // picked tile
  });

  it("odd small shapes with the size-class tile", async () => {
    await check(contiguous([1, 7]), contiguous([7, 1]), { showsRounding: false });
    await check(contiguous([5, 3]), contiguous([3, 7]), { showsRounding: false });
    await check(contiguous([1, 1]), contiguous([1, 1]), { showsRounding: false });
    await check(contiguous([3, 0]), contiguous([0, 4]), { showsRounding: false }); // K = 0: zeros
    await check(contiguous([4, 17, 9]), contiguous([4, 9, 5]));
  });

  it("rounds each input like f32 → f16 round-to-nearest-even (A·I = f16(A))", async () => {
    // ties, values just off ties, subnormals, the largest finite f16, random normals (not
    // (65504, 65536): WGSL lets those round to the largest finite f16 or to infinity)
    const u = 2 ** -10;
    const special = [
      1 + u / 2,
      1 + (3 * u) / 2,
      -(1 + u / 2 + 2 ** -20),
      65504,
      -65000.5,
      2 ** -24,
      2 ** -25,
      3 * 2 ** -25,
      -(2 ** -14 - 2 ** -25),
      1e-7,
      0.1,
      1 / 3,
      -2 / 3,
    ];
    const K = 48;
    const M = 9;
    const rng = new Rng(11);
    const values = Float32Array.from({ length: M * K }, (_, i) =>
      i < special.length ? special[i] : rng.normal() * 10,
    );
    const eye = Float32Array.from({ length: K * K }, (_, i) => (i % (K + 1) === 0 ? 1 : 0));
    const { got } = await run(contiguous([M, K]), contiguous([K, K]), 0, F16_TILES.small, (_, w) =>
      w === 0 ? values : eye,
    );
    const want = Float32Array.from(values, f16round);
    // WGSL allows flushing f16 subnormals to zero (lavapipe keeps them)
    const ok = (i: number) =>
      Object.is(got[i], want[i]) || (Math.abs(want[i]) < 2 ** -14 && got[i] === 0);
    const bad = [...got.keys()].filter((i) => !ok(i));
    expect(
      bad.map((i) => `f16(${values[i]}) = ${got[i]}, want ${want[i]}`),
      "GPU f16 rounding differs from round-to-nearest-even",
    ).toEqual([]);
  });

  it("inputs beyond the f16 range become ±inf", async () => {
    const { got } = await run(contiguous([2, 1]), contiguous([1, 1]), 0, undefined, (_, w) =>
      w === 0 ? Float32Array.of(70000, -1e6) : Float32Array.of(1),
    );
    expect([...got]).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  });

  it("setMatmulPrecision switches kernels on the same backend", async () => {
    const [M, K, N] = [45, 64, 38];
    const rng = new Rng(5);
    const av = Float32Array.from({ length: M * K }, () => rng.normal());
    const bv = Float32Array.from({ length: K * N }, () => rng.normal());
    const a = contiguous([M, K]);
    const b = contiguous([K, N]);
    const exact = hostMatmul(a, av, b, bv, (x) => x);
    const rounded = hostMatmul(a, av, b, bv, f16round);
    const result = async () => {
      const [sa, sb, so] = [
        gpu.alloc("f32", M * K),
        gpu.alloc("f32", K * N),
        gpu.alloc("f32", M * N),
      ];
      gpu.write(sa, av);
      gpu.write(sb, bv);
      gpu.matmul(view(sa, a), view(sb, b), view(so, contiguous([M, N])));
      const got = await gpu.read(view(so, contiguous([M, N])));
      for (const s of [sa, sb, so]) gpu.free(s);
      return got;
    };
    try {
      expect(gpu.matmulPrecision).toBe("f16");
      expect(testing.maxRelError(await result(), rounded)).toBeLessThanOrEqual(TIGHT);
      gpu.setMatmulPrecision("f32");
      expect(gpu.matmulPrecision).toBe("f32");
      const f32 = await result();
      expect(testing.maxRelError(f32, exact)).toBeLessThanOrEqual(1e-5);
      expect(testing.maxRelError(f32, rounded)).toBeGreaterThan(TIGHT);
    } finally {
      gpu.setMatmulPrecision("f16");
    }
    expect(() => gpu.setMatmulPrecision("bf16" as "f16")).toThrow(
      'matmulPrecision must be "f32" or "f16", got "bf16"',
    );
    expect(gpu.matmulPrecision).toBe("f16");
  });

  it("a forced tile and the precision reach the kernel (pipeline keys name both)", async () => {
    const forced = await createWebGpuBackend({
      name: "webgpu-f16-forced",
      matmulPrecision: "f16",
      matmulTile: "medium", // a 45×38 product would pick the small tile
      profile: true,
    });
    try {
      const a = tensor(
        Float32Array.from({ length: 45 * 64 }, (_, i) => Math.sin(i)),
        [45, 64],
        {
          backend: forced,
        },
      );
      const b = tensor(
        Float32Array.from({ length: 64 * 38 }, (_, i) => Math.cos(i)),
        [64, 38],
        {
          backend: forced,
        },
      );
      const y16 = await ops.matmul(a, b).dataAsync();
      forced.setMatmulPrecision("f32");
      const y32 = await ops.matmul(a, b).dataAsync();
      const av = await a.dataAsync();
      const bv = await b.dataAsync();
      const [A, B] = [contiguous([45, 64]), contiguous([64, 38])];
      const rounded = hostMatmul(A, av as Float32Array, B, bv as Float32Array, f16round);
      expect(testing.maxRelError(y16, rounded)).toBeLessThanOrEqual(TIGHT);
      expect(testing.maxRelError(y32, rounded)).toBeGreaterThan(TIGHT);
      if (forced.info.features.includes("timestamp-query")) {
        const keys = (await forced.profile()).map((p) => p.key);
        expect(keys).toContain("matmul-f16:medium:kn");
        expect(keys).toContain("matmul:medium:kn");
      }
    } finally {
      forced.dispose();
    }
  });

  it("matmul backward through autograd matches the reference backend (loose)", async () => {
    const ref = new ReferenceBackend();
    const parity = async (shapes: number[][], fn: (...xs: Tensor[]) => Tensor) => {
      const runOn = async (backend: Backend) => {
        startScope();
        try {
          const xs = shapes.map((s, i) => {
            const rng = new Rng(100 + i);
            const n = s.reduce((p, d) => p * d, 1);
            return tensor(
              Float32Array.from({ length: n }, () => rng.normal()),
              s,
              { backend },
            ).requireGrad();
          });
          const y = fn(...xs);
          ops.sum(ops.mul(y, y)).backward(); // dL/dy = 2y: the gradients depend on the product
          return await Promise.all([y, ...xs.map((x) => x.grad!)].map((t) => t.dataAsync()));
        } finally {
          endScope();
        }
      };
      const got = await runOn(gpu);
      const want = await runOn(ref);
      want.forEach((w, i) => {
        const err = testing.maxRelError(got[i], w);
        expect(err, `${JSON.stringify(shapes)} tensor ${i}: error ${err}`).toBeLessThanOrEqual(
          LOOSE,
        );
        // the f16 rounding shows in the product and in both gradients
        expect(err, `${JSON.stringify(shapes)} tensor ${i}: no f16 rounding`).toBeGreaterThan(
          TIGHT,
        );
      });
    };
    await parity(
      [
        [37, 53],
        [53, 29],
      ],
      (a, b) => ops.matmul(a, b),
    );
    await parity(
      [
        [2, 45, 67],
        [2, 45, 71],
      ],
      (a, b) => ops.matmul(ops.transpose(a, -2, -1), b),
    );
    await parity(
      [
        [3, 1, 20, 33],
        [1, 4, 65, 33],
      ],
      (a, b) => ops.matmul(a, ops.transpose(b, -2, -1)),
    );
    // weight-gradient shape: [d, tokens]·[tokens, d'] takes split-K
    await parity(
      [
        [1100, 24],
        [1100, 20],
      ],
      (x, w) => ops.matmul(ops.transpose(x, 0, 1), w),
    );
  });
});

describe.skipIf(!probe.available)("webgpu matmulPrecision option errors", () => {
  it("f16 on a device without shader-f16 throws naming the adapter and the feature", async () => {
    const sel = await selectAdapter();
    const device = await sel.adapter.requestDevice(); // no optional features requested
    try {
      const info = {
        adapter: sel.description,
        source: sel.source,
        software: sel.software,
        features: [],
        maxBufferBytes: device.limits.maxStorageBufferBindingSize,
      };
      const make = () =>
        new WebGpuBackend(device, info, { matmulPrecision: "f16" }, [sel.gpu, sel.adapter]);
      expect(make).toThrow(`"shader-f16"`);
      expect(make).toThrow(`adapter "${sel.description}"`);
      const plain = new WebGpuBackend(device, info, {}, [sel.gpu, sel.adapter]);
      expect(plain.matmulPrecision).toBe("f32");
      expect(() => plain.setMatmulPrecision("f16")).toThrow(
        'needs the WebGPU feature "shader-f16"',
      );
      expect(plain.matmulPrecision).toBe("f32");
      plain.dispose();
    } finally {
      device.destroy();
    }
  });
});
