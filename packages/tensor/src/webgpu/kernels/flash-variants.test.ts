// Every tiled-attention variant (FLASH_VARIANTS) against the reference backend, forward and
// backward (dq, dk, dv through autograd, with a random output gradient): causal and not, a
// KV-cache shape (Tq < Tk), GQA (Hq = 2·Hkv), a padding mask (with fully masked query rows),
// head sizes 30, 64 and 80 (see EXTRA), T not a multiple of any variant's rows or block.
// Then the variants' pipeline keys, grids, limit errors and option errors, which need no
// adapter. The GPU part is skipped (with the reason) when no WebGPU adapter exists. Compiling
// the kernels (3 per variant and head size, seconds each on lavapipe) is most of its run time.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AttentionArgs, Backend, View } from "../../backend.js";
import { ops, ReferenceBackend, type Tensor, tensor, testing } from "../../index.js";
import { Rng } from "../../random.js";
import { endScope, startScope } from "../../scope.js";
import { createWebGpuBackend, type WebGpuBackend, webgpuAvailable } from "../index.js";
import type { Runtime } from "../runtime.js";
import {
  DEFAULT_FLASH_VARIANT,
  FLASH_VARIANTS,
  type FlashVariantName,
  flashAttention,
  flashAttentionBackward,
  flashStorageBytes,
  resolveFlashVariant,
} from "./flash.js";

const probe = await webgpuAvailable();
const ref = new ReferenceBackend();
const NAMES = Object.keys(FLASH_VARIANTS) as FlashVariantName[];

function randomValues(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

const size = (s: number[]) => s.reduce((p, d) => p * d, 1);

interface Case {
  name: string;
  q: number[];
  k: number[];
  v: number[];
  causal: boolean;
  /** An additive mask [B, 1, 1, Tk]: -inf on the first `hide` keys of the last batch. */
  hide?: number;
}

// Rows per workgroup are 16 to 128 and blocks 16 to 96 rows: 70, 45, 33 and 40 are multiples of
// neither, and 70 spans two query blocks of 64 and three key blocks of 32 at head 64. Every
// variant runs these (one pipeline per kernel: head size 64).
const CASES: Case[] = [
  { name: "causal", q: [2, 2, 70, 64], k: [2, 2, 70, 64], v: [2, 2, 70, 64], causal: true },
  { name: "non-causal", q: [1, 2, 45, 64], k: [1, 2, 45, 64], v: [1, 2, 45, 64], causal: false },
  {
    name: "KV cache (Tq < Tk)",
    q: [1, 2, 5, 64],
    k: [1, 2, 70, 64],
    v: [1, 2, 70, 64],
    causal: true,
  },
  {
    name: "GQA (Hq = 2·Hkv)",
    q: [1, 4, 40, 64],
    k: [1, 2, 40, 64],
    v: [1, 2, 40, 64],
    causal: true,
  },
  // causal with the first two keys hidden: query rows 0 and 1 of batch 1 see no key at all
  {
    name: "padding mask",
    q: [2, 2, 33, 64],
    k: [2, 2, 33, 64],
    v: [2, 2, 33, 64],
    causal: true,
    hide: 2,
  },
  {
    name: "padding mask, non-causal",
    q: [2, 1, 33, 64],
    k: [2, 1, 33, 64],
    v: [2, 1, 33, 64],
    causal: false,
    hide: 5,
  },
];
const HEAD80: Case = {
  name: "head 80, GQA",
  q: [1, 2, 40, 80],
  k: [1, 1, 40, 80],
  v: [1, 1, 40, 80],
  causal: true,
};
const HEAD30: Case = {
  name: "head 30",
  q: [1, 2, 40, 30],
  k: [1, 2, 40, 30],
  v: [1, 2, 40, 30],
  causal: true,
};
/**
 * Other head widths, each a further pipeline per kernel (10 to 40 s of lavapipe compiling; the
 * default's are covered by webgpu.test.ts): width 128 with a partly filled row (head 80) for the
 * padded rows and the longer blocks (24 rows), and width 32 with a head that is not a multiple
 * of 4 (30: a partly filled vec4) for the vec4 layout.
 */
const EXTRA: Partial<Record<FlashVariantName, Case[]>> = {
  "r16-l8-pad": [HEAD80],
  "r32-l4-b48": [HEAD80],
  "r32-l4-vec4": [HEAD30],
};

/** out, dq, dk, dv of Σ attention(q, k, v) ⊙ w on a backend (w a fixed random weight). */
async function run(b: Backend, c: Case): Promise<ArrayLike<number>[]> {
  startScope();
  try {
    const [q, k, v] = [c.q, c.k, c.v].map((s, i) =>
      tensor(randomValues(size(s), i + 1), s, { backend: b }).requireGrad(),
    );
    let mask: Tensor | undefined;
    if (c.hide) {
      const [B, , Tk] = c.k;
      const m = new Float32Array(B * Tk);
      m.fill(Number.NEGATIVE_INFINITY, (B - 1) * Tk, (B - 1) * Tk + c.hide);
      mask = tensor(m, [B, 1, 1, Tk], { backend: b });
    }
    const out = ops.attention(q, k, v, { causal: c.causal, mask });
    const w = tensor(randomValues(size([...out.shape]), 9), [...out.shape], { backend: b });
    ops.sum(ops.mul(out, w)).backward();
    return await Promise.all([out, q.grad!, k.grad!, v.grad!].map((t) => t.dataAsync()));
  } finally {
    endScope();
  }
}

const suite = probe.available ? describe : describe.skip;
const title = probe.available
  ? `webgpu tiled-attention variants (${probe.adapter})`
  : `webgpu tiled-attention variants (skipped: no WebGPU adapter: ${probe.reason})`;

suite(title, { timeout: 300_000 }, () => {
  const want = new Map<string, ArrayLike<number>[]>();
  beforeAll(async () => {
    for (const c of [...CASES, HEAD30, HEAD80]) want.set(c.name, await run(ref, c));
  });

  for (const name of NAMES) {
    describe(name, () => {
      let gpu: WebGpuBackend;
      beforeAll(async () => {
        gpu = await createWebGpuBackend({ name: `webgpu-${name}`, attentionVariant: name });
      });
      afterAll(() => gpu?.dispose());

      it("matches the reference backend: out, dq, dk, dv in every case", async () => {
        for (const c of [...CASES, ...(EXTRA[name] ?? [])]) {
          const got = await run(gpu, c);
          const ref = want.get(c.name)!;
          ["out", "dq", "dk", "dv"].forEach((what, i) => {
            const err = testing.maxRelError(got[i], ref[i]);
            expect(err, `${name}, ${c.name}: ${what} max relative error ${err}`).toBeLessThan(1e-4);
          });
        }
      });
    });
  }

  it("rejects an unknown variant, and a variant with the row kernels", async () => {
    await expect(
      createWebGpuBackend({ attentionVariant: "r7-l3" as FlashVariantName }),
    ).rejects.toThrow(/unknown attentionVariant "r7-l3"; expected one of r64-l4, /);
    await expect(
      createWebGpuBackend({ attentionKernel: "rows", attentionVariant: "r32-l4" }),
    ).rejects.toThrow(/attentionVariant applies to attentionKernel "tiled"/);
  });
});

// ---- no adapter needed: the generated kernels through a recording runtime ---------------------

const LIMITS = {
  maxComputeWorkgroupStorageSize: 32768,
  maxComputeInvocationsPerWorkgroup: 1024,
  maxComputeWorkgroupSizeX: 1024,
};

/** A runtime that records each dispatch's key, WGSL and grid instead of running it. */
function recorder(limits = LIMITS) {
  const seen: { key: string; wgsl: string; groups: number[] }[] = [];
  const rt = {
    device: { limits },
    dispatch(d: { key: string; wgsl: () => string; groups: number[] }) {
      seen.push({ key: d.key, wgsl: d.wgsl(), groups: d.groups });
    },
  } as unknown as Runtime;
  return { rt, seen };
}

function fakeArgs(q: number[], k: number[]): AttentionArgs {
  const view = (shape: number[]) =>
    ({
      storage: { buffer: null },
      shape,
      strides: [0, 0, 0, 0],
      offset: 0,
      dtype: "f32",
    }) as unknown as View;
  return { q: view(q), k: view(k), v: view(k), mask: null, causal: true, scale: 0.125 };
}

function generate(name: string, args: AttentionArgs, limits = LIMITS) {
  const { rt, seen } = recorder(limits);
  const v = fakeArgs([1], [1]).q;
  flashAttention(rt, args, v, v, name);
  const g = { out: v, lse: v, dout: v, delta: v, dq: v, dk: v, dv: v };
  flashAttentionBackward(rt, args, g, name);
  return seen;
}

describe("tiled-attention variants: kernels, keys and limits", () => {
  const args = fakeArgs([8, 6, 256, 64], [8, 6, 256, 64]);

  it("keys every pipeline by variant (the default keeps its original keys)", () => {
    const keys = NAMES.flatMap((n) => generate(n, args).map((d) => d.key));
    expect(new Set(keys).size).toBe(keys.length);
    expect(generate(DEFAULT_FLASH_VARIANT, args).map((d) => d.key)).toEqual([
      "flash:fwd:64:64",
      "flash:dq:64:64",
      "flash:dkv:64:64",
    ]);
    expect(generate("r32-l4", args)[0].key).toBe("flash:fwd:64:64:r32-l4");
    // distinct kernels: no two variants generate the same WGSL
    const fwd = NAMES.map((n) => generate(n, args)[0].wgsl);
    expect(new Set(fwd).size).toBe(NAMES.length);
  });

  it("sizes the grid and workgroup from rows × lanes", () => {
    for (const n of NAMES) {
      const v = FLASH_VARIANTS[n];
      const [fwd, dq, dkv] = generate(n, args);
      const groups = 8 * 6 * Math.ceil(256 / v.rows);
      for (const d of [fwd, dq, dkv]) {
        expect(d.groups[0] * d.groups[1], `${n} ${d.key}`).toBe(groups);
        expect(d.wgsl).toContain(`@workgroup_size(${v.rows * v.lanes})`);
      }
    }
  });

  it("throws naming the variant and the limit it exceeds", () => {
    const small = { ...LIMITS, maxComputeWorkgroupStorageSize: 16384 };
    expect(() => generate("r32-l4-b48", args, small)).toThrow(
      /variant "r32-l4-b48" \(32 rows × 4 lanes, head width 64\): needs 24960 bytes of workgroup memory; the device allows 16384/,
    );
    const narrow = { ...LIMITS, maxComputeInvocationsPerWorkgroup: 128 };
    expect(() => generate("r32-l8", args, narrow)).toThrow(
      /needs 256 invocations per workgroup; the device allows 128/,
    );
    expect(() => resolveFlashVariant("fast")).toThrow(/unknown attentionVariant "fast"/);
  });

  it("fits every variant in 32 KiB of workgroup memory at every head width", () => {
    for (const n of NAMES)
      for (const W of [32, 64, 128])
        expect(flashStorageBytes(FLASH_VARIANTS[n], W), `${n} W=${W}`).toBeLessThanOrEqual(32768);
  });
});
