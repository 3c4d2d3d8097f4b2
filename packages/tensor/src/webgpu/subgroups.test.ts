// The subgroup reduction path of the webgpu backend (issue 8) against the reference backend,
// with subgroups on and off: the whole conformance suite on both paths, then every row kernel
// and reduction (forward and backward) at odd row lengths (1 … 4097, past one and several
// strides of the workgroup), masked (−inf) rows, NaN and ties in argmax, and i32 reductions.
// Also the `subgroups` option (default, false, true without support) and that both variants
// of a kernel coexist in one pipeline cache. Skipped, with the reason, when there is no
// adapter or the adapter cannot run subgroup kernels.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runBackendConformance } from "../../test/conformance.js";
import type { View } from "../backend.js";
import { ops, ReferenceBackend, tensor, testing } from "../index.js";
import { createWebGpuBackend, WebGpuBackend, webgpuAvailable } from "./index.js";
import { argmax as argmaxKernel, reduce as reduceKernel } from "./kernels/reduce.js";
import { resolveSubgroups } from "./wgsl.js";

// lavapipe compiles the larger kernels slowly on a loaded machine
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const probe = await webgpuAvailable();
/** Why the subgroup tests cannot run here (null: they can). */
const skipReason: string | null = await (async () => {
  if (!probe.available) return `no WebGPU adapter (${probe.reason})`;
  try {
    (await createWebGpuBackend({ name: "webgpu-sg-probe", subgroups: true })).dispose();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
})();

const ref = new ReferenceBackend();
const LENGTHS = [1, 7, 33, 129, 1000, 4097];

/** Equal when both are the same infinity or both NaN; else |a − b| / max(1, max |want|). */
function compare(got: ArrayLike<number> | null, want: ArrayLike<number> | null): number {
  if (got === null || want === null) return got === want ? 0 : Number.POSITIVE_INFINITY;
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let scale = 1;
  for (let i = 0; i < want.length; i++)
    if (Number.isFinite(want[i])) scale = Math.max(scale, Math.abs(want[i]));
  let err = 0;
  for (let i = 0; i < got.length; i++) {
    const a = got[i];
    const b = want[i];
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
    if (!Number.isFinite(a) || !Number.isFinite(b)) return Number.POSITIVE_INFINITY;
    err = Math.max(err, Math.abs(a - b) / scale);
  }
  return err;
}

/** Runs `c` (forward, and backward unless `grad: false`) here and on the reference. */
async function expectMatches(c: testing.OpCase, backend: WebGpuBackend): Promise<void> {
  const got = await testing.runCase(c, backend);
  const want = await testing.runCase(c, ref);
  const tol = c.tol ?? 1e-4;
  const bad = want.values
    .map((w, i) => ({ label: want.labels[i], err: compare(got.values[i] ?? null, w) }))
    .filter((f) => !(f.err <= tol));
  expect(bad, `${c.name}: ${bad.map((f) => `${f.label} error ${f.err}`).join("; ")}`).toEqual([]);
}

/** Values that make every row of a [rows, n] input partly −inf, and one row entirely. */
function masked(rows: number, n: number): number[] {
  return Array.from({ length: rows * n }, (_, i) => {
    const r = Math.floor(i / n);
    const j = i % n;
    if (r === 0) return Number.NEGATIVE_INFINITY;
    return (j * 7 + r) % 3 === 0 && j !== r % n ? Number.NEGATIVE_INFINITY : Math.sin(i) * 3;
  });
}

/** Row 1 of a [rows, n] input holds one NaN (near its end), the other rows none. */
function withNaN(rows: number, n: number): number[] {
  return Array.from({ length: rows * n }, (_, i) =>
    i === n + Math.floor((n * 5) / 7) ? Number.NaN : Math.cos(i * 1.3) * 4,
  );
}

/** Every row kernel and reduction at row length `n` (rows of the last axis, or axis 0). */
function casesAt(n: number): testing.OpCase[] {
  const R = 3;
  const last = { shape: [R, n] };
  const ints = (lo: number, hi: number) => ({ shape: [R, n], int: [lo, hi] as [number, number] });
  const signs = Array.from({ length: R * n }, (_, i) => ((i * 2654435761) >>> 31 ? -1 : 1));
  const cases: testing.OpCase[] = [
    { name: `softmax [${R},${n}]`, inputs: [last], fn: (x) => ops.softmax(x) },
    { name: `logSoftmax [${R},${n}]`, inputs: [last], fn: (x) => ops.logSoftmax(x) },
    {
      name: `softmax masked rows [${R + 1},${n}]`,
      inputs: [{ shape: [R + 1, n], values: masked(R + 1, n) }],
      fn: (x) => ops.softmax(x),
    },
    {
      name: `logSoftmax masked rows [${R},${n}] (forward)`,
      inputs: [{ shape: [R, n], values: masked(R + 1, n).slice(n) }],
      fn: (x) => ops.logSoftmax(x),
      grad: false,
    },
    {
      name: `crossEntropy [${R},${n}] with ignoreIndex`,
      inputs: [last, { shape: [R], int: [0, n], values: [n - 1, -100, Math.floor(n / 2)] }],
      fn: (x, t) => ops.crossEntropy(x, t),
    },
    {
      name: `crossEntropy masked logits [${R},${n}]`,
      inputs: [
        { shape: [R, n], values: masked(R + 1, n).slice(n) },
        { shape: [R], int: [0, n], values: [1 % n, 2 % n, 0] },
      ],
      fn: (x, t) => ops.crossEntropy(x, t, { reduction: "none" }),
      grad: false,
    },
    {
      name: `layerNorm [${R},${n}]`,
      inputs: [last, { shape: [n] }, { shape: [n] }],
      fn: (x, w, b) => ops.layerNorm(x, w, b),
      tol: 5e-4,
    },
    {
      name: `rmsNorm [${R},${n}]`,
      inputs: [last, { shape: [n] }],
      fn: (x, w) => ops.rmsNorm(x, w),
      tol: 5e-4,
    },
    { name: `sum last [${R},${n}]`, inputs: [last], fn: (x) => ops.sum(x, -1) },
    { name: `sum axis 0 [${n},${R}]`, inputs: [{ shape: [n, R] }], fn: (x) => ops.sum(x, 0) },
    { name: `sum all [${R},${n}]`, inputs: [last], fn: (x) => ops.sum(x) },
    {
      name: `sum axes [0,2] of [${n},2,5] (strided)`,
      inputs: [{ shape: [n, 2, 5] }],
      fn: (x) => ops.sum(x, [0, 2]),
    },
    {
      name: `max axes [0,2] of [${n},2,5] (strided)`,
      inputs: [{ shape: [n, 2, 5], distinct: true }],
      fn: (x) => ops.max(x, [0, 2]),
    },
    { name: `mean last [${R},${n}]`, inputs: [last], fn: (x) => ops.mean(x, -1) },
    {
      name: `max last [${R},${n}]`,
      inputs: [{ shape: [R, n], distinct: true }],
      fn: (x) => ops.max(x, -1),
    },
    {
      name: `min axis 0 [${n},${R}]`,
      inputs: [{ shape: [n, R], distinct: true }],
      fn: (x) => ops.min(x, 0),
    },
    {
      name: `max masked rows [${R + 1},${n}]`,
      inputs: [{ shape: [R + 1, n], values: masked(R + 1, n), noGrad: true }],
      fn: (x) => ops.max(x, -1),
      grad: false,
    },
    {
      name: `max / min with a NaN [${R},${n}]`,
      inputs: [{ shape: [R, n], values: withNaN(R, n), noGrad: true }],
      fn: (x) => ops.stack([ops.max(x, -1), ops.min(x, -1)]),
      grad: false,
    },
    {
      name: `prod last [${R},${n}]`,
      inputs: [{ shape: [R, n], range: [0.995, 1.005] }],
      fn: (x) => ops.prod(x, -1),
      grad: false,
    },
    {
      name: `argmax last [${R},${n}]`,
      inputs: [{ shape: [R, n], distinct: true }],
      fn: (x) => ops.argmax(x, -1),
      grad: false,
    },
    {
      name: `argmax axis 0 [${n},${R}] (strided)`,
      inputs: [{ shape: [n, R], distinct: true }],
      fn: (x) => ops.argmax(x, 0),
      grad: false,
    },
    {
      name: `argmax masked rows [${R + 1},${n}]`,
      inputs: [{ shape: [R + 1, n], values: masked(R + 1, n) }],
      fn: (x) => ops.argmax(x, -1),
      grad: false,
    },
    {
      name: `i32 sum [${R},${n}]`,
      inputs: [ints(-50, 50)],
      fn: (x) => ops.sum(x, -1),
      grad: false,
    },
    { name: `i32 max [${R},${n}]`, inputs: [ints(-9, 9)], fn: (x) => ops.max(x, -1), grad: false },
    {
      name: `i32 min axis 0 [${n},${R}]`,
      inputs: [{ shape: [n, R], int: [-9, 9] }],
      fn: (x) => ops.min(x, 0),
      grad: false,
    },
    {
      name: `i32 prod [${R},${n}]`,
      inputs: [{ shape: [R, n], int: [-1, 2], values: signs }],
      fn: (x) => ops.prod(x, -1),
      grad: false,
    },
    {
      name: `i32 argmax with ties [${R},${n}]`,
      inputs: [ints(0, 4)],
      fn: (x) => ops.argmax(x, -1),
      grad: false,
    },
  ];
  return cases;
}

// The option's resolution needs no adapter: it runs everywhere.
describe("webgpu subgroups option", () => {
  const ext = (...names: string[]) => [{ wgslLanguageFeatures: new Set(names) }];
  it("is on by default only with the feature and WGSL's subgroup_id extension", () => {
    expect(resolveSubgroups(undefined, "gpu X", ["subgroups"], ext("subgroup_id"))).toBe(true);
    expect(resolveSubgroups(undefined, "gpu X", ["shader-f16"], ext("subgroup_id"))).toBe(false);
    expect(resolveSubgroups(undefined, "gpu X", ["subgroups"], ext("linear_indexing"))).toBe(false);
    expect(resolveSubgroups(undefined, "gpu X", ["subgroups"], [{}, null])).toBe(false);
    expect(resolveSubgroups(false, "gpu X", ["subgroups"], ext("subgroup_id"))).toBe(false);
    expect(resolveSubgroups(true, "gpu X", ["subgroups"], ext("subgroup_id"))).toBe(true);
  });
  it("throws for subgroups: true without support, naming the adapter and what it lacks", () => {
    expect(() => resolveSubgroups(true, "gpu X", ["shader-f16"], ext("subgroup_id"))).toThrow(
      'webgpu: subgroups: true, but adapter "gpu X" lacks the "subgroups" feature (enabled features: shader-f16)',
    );
    expect(() => resolveSubgroups(true, "gpu X", ["subgroups"], ext("linear_indexing"))).toThrow(
      'adapter "gpu X" lacks the WGSL "subgroup_id" language extension (offered: linear_indexing)',
    );
    expect(() => resolveSubgroups(true, "gpu X", [], [])).toThrow(
      /lacks the "subgroups" feature \(enabled features: none\) and the WGSL "subgroup_id" language extension \(no GPU object/,
    );
  });
});

if (skipReason !== null) {
  describe("webgpu subgroup reductions", () => {
    it.skip(`skipped: ${skipReason}`, () => {});
  });
} else {
  const adapter = probe.available ? probe.adapter : "";
  runBackendConformance(`webgpu subgroups: true (${adapter})`, () =>
    createWebGpuBackend({ name: "webgpu-sg-conf", subgroups: true }),
  );
  runBackendConformance(`webgpu subgroups: false (${adapter})`, () =>
    createWebGpuBackend({ name: "webgpu-wg-conf", subgroups: false }),
  );

  describe(`webgpu subgroup reductions (${adapter})`, () => {
    let sg: WebGpuBackend;
    let wg: WebGpuBackend;
    beforeAll(async () => {
      sg = await createWebGpuBackend({ name: "webgpu-sg" });
      wg = await createWebGpuBackend({ name: "webgpu-wg", subgroups: false });
    });
    afterAll(() => {
      sg?.dispose();
      wg?.dispose();
    });

    it("turns the subgroup path on by default where supported, off with subgroups: false", () => {
      expect(sg.subgroups).toBe(true);
      expect(sg.info.features).toContain("subgroups");
      expect(wg.subgroups).toBe(false);
    });

    it("throws at construction for subgroups: true without support, naming the adapter", () => {
      const info = { ...sg.info, features: sg.info.features.filter((f) => f !== "subgroups") };
      expect(
        () => new WebGpuBackend(sg.rt.device, info, { subgroups: true }, sg.keepAlive),
      ).toThrow(`subgroups: true, but adapter "${sg.info.adapter}" lacks the "subgroups" feature`);
    });

    it("keeps both variants of a kernel apart in one pipeline cache", async () => {
      const rt = sg.rt;
      const seen: { key: string; wgsl: string }[] = [];
      const dispatch = rt.dispatch.bind(rt);
      rt.dispatch = (d) => {
        seen.push({ key: d.key, wgsl: d.wgsl() });
        dispatch(d);
      };
      try {
        const n = 1000;
        const host = Float32Array.from({ length: 2 * n }, (_, i) => Math.cos(i) * (i % 17));
        const xs = sg.alloc("f32", 2 * n);
        sg.write(xs, host);
        const x: View = { storage: xs, shape: [2, n], strides: [n, 1], offset: 0 };
        const outs = [true, false, true].map((on) => {
          const s = sg.alloc("f32", 2);
          reduceKernel(
            rt,
            "max",
            x,
            [1],
            { storage: s, shape: [2, 1], strides: [1, 1], offset: 0 },
            on,
          );
          return s;
        });
        const ams = [true, false].map((on) => {
          const s = sg.alloc("i32", 2);
          argmaxKernel(rt, x, 1, { storage: s, shape: [2, 1], strides: [1, 1], offset: 0 }, on);
          return s;
        });
        const read = (s: (typeof outs)[number]) =>
          sg.read({ storage: s, shape: [2], strides: [1], offset: 0 });
        const want = [0, 1].map((r) => Math.max(...host.subarray(r * n, (r + 1) * n)));
        const wantIdx = want.map((m, r) => host.subarray(r * n, (r + 1) * n).indexOf(m));
        for (const s of outs) expect(Array.from(await read(s))).toEqual(want);
        for (const s of ams) expect(Array.from(await read(s))).toEqual(wantIdx);
        for (const s of [xs, ...outs, ...ams]) sg.free(s);
      } finally {
        rt.dispatch = dispatch;
      }
      const keys = [...new Set(seen.map((s) => s.key))];
      expect(keys).toEqual([
        "reduce:max:f32:f32:inner:sg",
        "reduce:max:f32:f32:inner:wg",
        "argmax-wg:f32:sg",
        "argmax-wg:f32:wg",
      ]);
      for (const { key, wgsl } of seen) {
        const sub = key.endsWith(":sg");
        expect(wgsl.startsWith("enable subgroups;"), key).toBe(sub);
        expect(/subgroupMax\(/.test(wgsl), key).toBe(sub);
        expect(/@builtin\(subgroup_id\)/.test(wgsl), key).toBe(sub);
      }
    });

    it("argmax over long rows: first maximum, first NaN, equal ±0, all −inf", async () => {
      const n = 777;
      const rows: number[][] = [
        Array.from({ length: n }, (_, j) => (j === 300 || j === 600 ? 5 : Math.sin(j))),
        Array.from({ length: n }, (_, j) => (j === 500 || j === 700 ? Number.NaN : j)),
        Array.from({ length: n }, (_, j) => (j === 0 ? -1 : j % 2 ? -0 : 0)),
        Array.from({ length: n }, () => Number.NEGATIVE_INFINITY),
        Array.from({ length: n }, (_, j) => (j < 3 ? Number.NaN : 1e30)),
      ];
      const want = [300, 500, 1, 0, 0];
      for (const b of [sg, wg]) {
        const x = tensor(Float32Array.from(rows.flat()), [rows.length, n], { backend: b });
        expect(Array.from(await ops.argmax(x, -1).dataAsync()), b.name).toEqual(want);
      }
    });

    for (const n of LENGTHS) {
      for (const c of casesAt(n)) {
        it(`${c.name}: subgroups on and off match the reference`, async () => {
          await expectMatches(c, sg);
          await expectMatches(c, wg);
        });
      }
    }

    it("layerNorm / rmsNorm weight gradients over several row chunks", async () => {
      const cases: testing.OpCase[] = [
        {
          name: "layerNorm [200,129]",
          inputs: [{ shape: [200, 129] }, { shape: [129] }, { shape: [129] }],
          fn: (x, w, b) => ops.layerNorm(x, w, b),
          tol: 5e-4,
        },
        {
          name: "rmsNorm [200,33]",
          inputs: [{ shape: [200, 33] }, { shape: [33] }],
          fn: (x, w) => ops.rmsNorm(x, w),
          tol: 5e-4,
        },
      ];
      for (const c of cases) {
        await expectMatches(c, sg);
        await expectMatches(c, wg);
      }
    });
  });
}
