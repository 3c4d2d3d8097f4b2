/**
 * Tiled ("flash") attention for head sizes up to 128: a workgroup takes a block of 64 query
 * rows (forward, dq) or 64 key rows (dk + dv) of one head; four invocations share each row, each
 * keeping its own online-softmax state / partial gradients in registers for every fourth key
 * (query) of a block, merged through workgroup memory at the end (those numbers are the default
 * variant's: {@link FLASH_VARIANTS} names others for tuning on a GPU). The other side's rows stream
 * through workgroup memory in blocks read as broadcasts, so K and V are read from global memory
 * once per query block instead of once per query row. Same semantics and parameters as
 * attention.ts (which remains the path for wider heads).
 */

import type { AttentionArgs, View } from "../../backend.js";
import type { Runtime } from "../runtime.js";
import { bindings, grid, load, MATH } from "../wgsl.js";
import {
  type AttentionGrads,
  backwardWords,
  bindingsIn,
  buf,
  common,
  DOUT_ROW,
  inBuffers,
  kvTag,
  PRELUDE,
} from "./attention.js";

/** Widest head the tiled kernels take. */
export const FLASH_MAX_HEAD = 128;

/**
 * The shape of the tiled kernels: how many rows a workgroup owns, how many invocations share a
 * row, how the streamed side is blocked and laid out in workgroup memory, and the order in
 * which workgroups are launched. Every field keeps the kernels' semantics; they trade
 * parallelism, occupancy and synchronisation against one another (see {@link FLASH_VARIANTS}).
 */
export interface FlashVariant {
  /** Query rows (forward, dq) or key rows (dk + dv) per workgroup. */
  rows: number;
  /**
   * Invocations per row: each takes every `lanes`-th key (query) of a block with its own
   * online-softmax state / partial gradients, merged through workgroup memory at the end.
   */
  lanes: number;
  /**
   * f32 words per streamed block (default 2048: two 8 KiB blocks, K and V or Q and dO); a block
   * holds `blockFloats / W` rows, W the head size rounded up to 32, 64 or 128.
   */
  blockFloats?: number;
  /** f32 words of padding after each row of a streamed block in workgroup memory. */
  pad?: number;
  /**
   * Launch order. "interleaved" (default): the blocks of one head are adjacent. "heavy-first":
   * the blocks with the most work when causal (the last query blocks, the first key blocks) of
   * every head go first, so the short ones fill the tail.
   */
  order?: "interleaved" | "heavy-first";
  /**
   * Layout of the streamed blocks and the per-row registers. "f32" (default): one f32 per
   * workgroup load. "vec4": `array<vec4<f32>>`, so each workgroup load feeds four FMAs (dot
   * products through `dot`); rows padded with zeros to a multiple of 4; `pad` a multiple of 4.
   */
  layout?: "f32" | "vec4";
}

/**
 * Named variants of the tiled kernels, each testing one hypothesis about what bounds them on a
 * GPU (for the GPT-2 shape [8, 6, 256, 64], causal: 48 heads × 4 query blocks = 192 workgroups
 * of 256 invocations, each holding q and the accumulator, 2 × 64 floats, in registers; an H200
 * has 132 SMs and 64 Ki registers each). `bench/_webgpu-device.mjs --parts attention` times
 * them all; make the winner the default by naming it in {@link DEFAULT_FLASH_VARIANT}.
 */
export const FLASH_VARIANTS = {
  /** The first tiled shape (the default until the H200 sweep of 2026-11-26): 64 rows × 4 lanes, 2 × 8 KiB blocks. */
  "r64-l4": { rows: 64, lanes: 4 },
  /**
   * Occupancy: 128 invocations, twice the workgroups (384). At ~140 registers per invocation
   * (an estimate: q and the accumulator alone are 128) a 256-invocation workgroup takes over
   * half an SM's registers, so one is resident per SM and 192 workgroups run as 1.5 waves; 128
   * lets three share an SM and the grid fit in one wave.
   */
  "r32-l4": { rows: 32, lanes: 4 },
  /** Parallelism per row: as r32-l4's grid, but 8 lanes (256 invocations) split the keys. */
  "r32-l8": { rows: 32, lanes: 8 },
  /**
   * Finest grid: 16 rows × 8 lanes (128 invocations, 768 workgroups). A 32-wide subgroup now
   * spans two lanes reading rows W words apart, a 2-way bank conflict: one word of padding per
   * row staggers them.
   */
  "r16-l8-pad": { rows: 16, lanes: 8, pad: 1 },
  /** Causal tail: r32-l4 with the longest blocks launched first. */
  "r32-l4-heavy": { rows: 32, lanes: 4, order: "heavy-first" },
  /** Synchronisation: r32-l4 with 1.5x longer blocks (48 rows at head 64), a third fewer barriers. */
  "r32-l4-b48": { rows: 32, lanes: 4, blockFloats: 3072 },
  /**
   * Workgroup-load throughput: r32-l4 with vec4 blocks and registers. Every FMA of the f32
   * kernels waits on its own workgroup-memory load (a broadcast, but one instruction each, and
   * an SM issues 4x fewer of those than FMAs); vec4 loads feed four FMAs each. The default:
   * the fastest in the H200 sweep (docs/BENCHMARKS.md "webgpu-train-step"), forward + backward
   * at [8, 6, 256, 64] causal 3.62 ms against r64-l4's 3.76, the forward alone 0.26 against
   * 0.37 ms; in the GPT-2 training step attention's GPU time went from 6.4 to 4.9 ms.
   */
  "r32-l4-vec4": { rows: 32, lanes: 4, layout: "vec4" },
  /**
   * Control for memory traffic: 128 rows × 2 lanes reads K and V half as often as r64-l4 but
   * launches 96 workgroups. Expected to lose if occupancy, not bandwidth, is the bound.
   */
  "r128-l2": { rows: 128, lanes: 2 },
} as const satisfies Record<string, FlashVariant>;

/** The name of a tiled-attention variant (a key of {@link FLASH_VARIANTS}). */
export type FlashVariantName = keyof typeof FLASH_VARIANTS;

/** The variant the backend uses unless `attentionVariant` names another. */
export const DEFAULT_FLASH_VARIANT: FlashVariantName = "r32-l4-vec4";

/** The variant a name selects; throws naming the valid names otherwise. */
export function resolveFlashVariant(name: string = DEFAULT_FLASH_VARIANT): FlashVariant {
  if (!Object.hasOwn(FLASH_VARIANTS, name)) {
    throw new Error(
      `webgpu backend: unknown attentionVariant ${JSON.stringify(name)}; expected one of ` +
        Object.keys(FLASH_VARIANTS).join(", "),
    );
  }
  return FLASH_VARIANTS[name as FlashVariantName];
}

/** A variant's numbers for one head width, as the WGSL generators use them. */
interface Config {
  /** Pipeline-key suffix: "" for the default (its keys predate the variants), else ":name". */
  tag: string;
  rows: number;
  lanes: number;
  threads: number;
  /** Streamed rows per block. */
  block: number;
  /** f32 words per streamed row in workgroup memory (head width + padding). */
  stride: number;
  /** f32 words of the first streamed block, which also holds the lanes' merge scratch. */
  scratch: number;
  heavy: boolean;
  /** The vec4 layout. */
  vec: boolean;
}

/** Workgroup-memory and size limits the tiled kernels check before compiling. */
export interface FlashLimits {
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
}

/**
 * Bytes of workgroup memory the largest tiled kernel (dk + dv) needs for a head width
 * (32, 64 or 128).
 */
export function flashStorageBytes(v: FlashVariant, W: number): number {
  const c = config(v, W, "");
  return 4 * (c.scratch + c.block * c.stride + 2 * c.block);
}

function config(v: FlashVariant, W: number, name: string): Config {
  const threads = v.rows * v.lanes;
  const block = Math.floor((v.blockFloats ?? 2048) / W);
  const stride = W + (v.pad ?? 0);
  return {
    tag: name === DEFAULT_FLASH_VARIANT ? "" : `:${name}`,
    rows: v.rows,
    lanes: v.lanes,
    threads,
    block,
    stride,
    scratch: Math.max(block * stride, threads * 8),
    heavy: v.order === "heavy-first",
    vec: v.layout === "vec4",
  };
}

/** The config for these arguments; throws naming the variant and the limit it exceeds. */
function configFor(name: string, args: AttentionArgs, limits: FlashLimits): Config {
  const v = resolveFlashVariant(name);
  const W = width(args);
  const c = config(v, W, name);
  const where = `webgpu attention variant "${name}" (${v.rows} rows × ${v.lanes} lanes, head width ${W})`;
  if (!(Number.isInteger(v.rows) && v.rows > 0 && Number.isInteger(v.lanes) && v.lanes > 0)) {
    throw new Error(`${where}: rows and lanes must be positive integers`);
  }
  if (c.block < 1) {
    throw new Error(`${where}: blockFloats ${v.blockFloats} holds no row of ${W} floats`);
  }
  if (c.vec && c.stride % 4 !== 0) {
    throw new Error(`${where}: the vec4 layout needs pad a multiple of 4, not ${v.pad}`);
  }
  if (c.threads < c.block) {
    throw new Error(
      `${where}: ${c.block} rows per block need at least as many invocations, not ${c.threads}`,
    );
  }
  const inv = Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  if (c.threads > inv) {
    throw new Error(
      `${where}: needs ${c.threads} invocations per workgroup; the device allows ${inv}`,
    );
  }
  const bytes = flashStorageBytes(v, W);
  if (bytes > limits.maxComputeWorkgroupStorageSize) {
    throw new Error(
      `${where}: needs ${bytes} bytes of workgroup memory; the device allows ` +
        `${limits.maxComputeWorkgroupStorageSize} (maxComputeWorkgroupStorageSize)`,
    );
  }
  return c;
}

function width(args: AttentionArgs): number {
  const D = Math.max(args.q.shape[3], args.v.shape[3]);
  return D <= 32 ? 32 : D <= 64 ? 64 : 128;
}

function dims(args: AttentionArgs): [number, number] {
  return [args.q.shape[3], args.v.shape[3]];
}

/** Head sizes are compile-time constants here, so the row loops unroll into registers. */
const HEADER = (c: Config, extra: string, D: number, Dv: number) => `
  let Hq = P[1]; let Hkv = P[2]; let Tq = P[3]; let Tk = P[4];
  const D = ${D}u; const Dv = ${Dv}u;${c.vec ? ` const D4 = ${Math.ceil(D / 4)}u; const Dv4 = ${Math.ceil(Dv / 4)}u;` : ""}
  let g = wid.x + wid.y * nwg.x;
  let r = lid % ${c.rows}u;
  let lane = lid / ${c.rows}u;
  ${extra}`;

/**
 * Sums each lane's \`acc\` (n values, scaled by \`f\`) through the workgroup buffer \`buf\` (8
 * floats per invocation), 8 values at a time; lane 0 then runs \`store\` with \`s\` = the sum of
 * value \`c0 + dd\`.
 */
function mergeLanes(
  c: Config,
  buf: string,
  acc: string,
  n: string,
  f: string,
  cond: string,
  store: string,
): string {
  return `
  for (var c0 = 0u; c0 < ${n}; c0 = c0 + 8u) {
    workgroupBarrier();
    for (var dd = 0u; dd < 8u; dd = dd + 1u) {
      if (c0 + dd < ${n}) { ${at(c, buf, `(lane * ${c.rows}u + r) * 8u + dd`)} = ${at(c, acc, "c0 + dd")} * ${f}; }
    }
    workgroupBarrier();
    if (lane == 0u && ${cond}) {
      for (var dd = 0u; dd < 8u; dd = dd + 1u) {
        if (c0 + dd < ${n}) {
          var s = 0.0;
          for (var t = 0u; t < ${c.lanes}u; t = t + 1u) { s = s + ${at(c, buf, `(t * ${c.rows}u + r) * 8u + dd`)}; }
          ${store}
        }
      }
    }
  }`;
}

const ENTRY = (c: Config) => `${c.vec ? VDOT : ""}@compute @workgroup_size(${c.threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {`;

// ---- the f32 / vec4 layouts: WGSL fragments (the f32 ones are the original kernels' text) ----

const VDOT = "fn vdot(a: vec4<f32>, b: vec4<f32>) -> f32 { return dot(a, b); }\n";

/** Type of an array of `n` f32 words (vec4 layout: n / 4 vec4s; n a multiple of 4). */
const arr = (c: Config, n: number) => (c.vec ? `array<vec4<f32>, ${n / 4}>` : `array<f32, ${n}>`);

/** Element `i` (an f32 index) of array `a`. */
const at = (c: Config, a: string, i: string) =>
  c.vec ? `${a}[(${i}) / 4u][(${i}) % 4u]` : `${a}[${i}]`;

/** Bound of a loop over a row's elements `n` ("D" or "Dv"): vec4s in the vec4 layout. */
const nv = (c: Config, n: string) => (c.vec ? `${n}4` : n);

/** Index of element (vec4) `d` of streamed row `idx`. */
const row = (c: Config, idx: string) => `${idx} * ${c.vec ? c.stride / 4 : c.stride}u + d`;

/** `acc` plus the product of `a` and `b` (vec4 layout: their dot product). */
const ip = (c: Config, a: string, b: string, acc: string) =>
  c.vec ? `${acc} + vdot(${a}, ${b})` : `fma(${a}, ${b}, ${acc})`;

/** Scalar `x` as an operand of a row-wide fma. */
const sp = (c: Config, x: string) => (c.vec ? `vec4<f32>(${x})` : x);

/**
 * Loads a block of streamed rows `base` + 0… (`n` elements each, element d read by `read`,
 * zeros past `bound`) into workgroup array `buf`; `ind`: the indentation of its lines.
 */
function stream(
  c: Config,
  buf: string,
  n: string,
  idx: string,
  pos: string,
  base: string,
  bound: string,
  read: string,
  ind: string,
): string {
  if (!c.vec)
    return `for (var e = lid; e < ${c.block}u * ${n}; e = e + ${c.threads}u) {
${ind}  let ${idx} = e / ${n}; let d = e % ${n}; let ${pos} = ${base} + ${idx};
${ind}  var x = 0.0;
${ind}  if (${pos} < ${bound}) { x = ${read}; }
${ind}  ${buf}[${idx} * ${c.stride}u + d] = x;
${ind}}`;
  return `for (var e = lid; e < ${c.block}u * ${n}4; e = e + ${c.threads}u) {
${ind}  let ${idx} = e / ${n}4; let d4 = e % ${n}4; let ${pos} = ${base} + ${idx};
${ind}  var x = vec4<f32>();
${ind}  if (${pos} < ${bound}) {
${ind}    for (var cc = 0u; cc < 4u; cc = cc + 1u) {
${ind}      let d = d4 * 4u + cc;
${ind}      if (d < ${n}) { x[cc] = ${read}; }
${ind}    }
${ind}  }
${ind}  ${buf}[${idx} * ${c.stride / 4}u + d4] = x;
${ind}}`;
}

/**
 * WGSL naming workgroup g's block index (of n per head) and head index (of heads): interleaved,
 * or (heavy-first) block-major with the highest block first (last) or the lowest.
 */
function blockOf(c: Config, qb: string, bh: string, n: string, heads: string, last: boolean) {
  if (!c.heavy) return `let ${qb} = g % ${n}; let ${bh} = g / ${n};`;
  const slot = `g / (${heads})`;
  return `let ${qb} = ${last ? `${n} - 1u - ${slot}` : slot}; let ${bh} = g % (${heads});`;
}

/**
 * Forward: \`out\` and the logsumexp \`lse\` (both contiguous) with variant \`variant\` of
 * {@link FLASH_VARIANTS} (default {@link DEFAULT_FLASH_VARIANT}).
 */
export function flashAttention(
  rt: Runtime,
  args: AttentionArgs,
  out: View,
  lse: View,
  variant: string = DEFAULT_FLASH_VARIANT,
): void {
  const [B, Hq, Tq] = args.q.shape;
  const c = configFor(variant, args, rt.device.limits);
  const nqb = Math.ceil(Tq / c.rows);
  if (B * Hq * nqb === 0) return;
  const W = width(args);
  const [D, Dv] = dims(args);
  rt.dispatch({
    key: `flash:fwd:${D}:${Dv}${c.tag}${kvTag(args)}`,
    wgsl: () => `${bindings([
      ...bindingsIn(args),
      { name: "O", type: "f32", access: "rw" },
      { name: "L", type: "f32", access: "rw" },
    ])}
${MATH}
${PRELUDE}
var<workgroup> Ks: ${arr(c, c.scratch)};
var<workgroup> Vs: ${arr(c, c.block * c.stride)};
${ENTRY(c)}
${HEADER(
  c,
  `let nqb = (Tq + ${c.rows - 1}u) / ${c.rows}u;
  if (g >= P[0] * Hq * nqb) { return; }
  ${blockOf(c, "qb", "bh", "nqb", "P[0] * Hq", true)} let b = bh / Hq; let h = bh % Hq; let kh = h / (Hq / Hkv);
  let i = qb * ${c.rows}u + r;
  let valid = i < Tq;`,
  D,
  Dv,
)}
  var q: ${arr(c, W)};
  var acc: ${arr(c, W)};
  if (valid) { for (var d = 0u; d < D; d = d + 1u) { ${at(c, "q", "d")} = Q[qoff(b, h, i) + d * P[14]]; } }
  var kend = Tk;
  if (P[7] != 0u) { kend = min(Tk, max(min(qb * ${c.rows}u + ${c.rows}u, Tq) + Tk, Tq) - Tq); }
  var m = -f_inf();
  var l = 0.0;
  for (var j0 = 0u; j0 < kend; j0 = j0 + ${c.block}u) {
    ${stream(c, "Ks", "D", "jj", "j", "j0", "Tk", load("K", args.k.storage.dtype, "koff(b, kh, j) + d * P[19]"), "    ")}
    ${stream(c, "Vs", "Dv", "jj", "j", "j0", "Tk", load("V", args.v.storage.dtype, "voff(b, kh, j) + d * P[24]"), "    ")}
    workgroupBarrier();
    if (valid) {
      let nj = min(${c.block}u, kend - j0);
      for (var jj = lane; jj < nj; jj = jj + ${c.lanes}u) {
        let j = j0 + jj;
        if (!visible(i, j)) { continue; }
        var dot = 0.0;
        for (var d = 0u; d < ${nv(c, "D")}; d = d + 1u) { dot = ${ip(c, "q[d]", `Ks[${row(c, "jj")}]`, "dot")}; }
        let s = masked_score(dot, b, h, i, j);
        if (s == -f_inf()) { continue; }
        if (s > m) {
          let corr = select(exp(m - s), 0.0, m == -f_inf());
          l = l * corr;
          for (var d = 0u; d < ${nv(c, "Dv")}; d = d + 1u) { acc[d] = acc[d] * corr; }
          m = s;
        }
        let p = exp(s - m);
        l = l + p;
        for (var d = 0u; d < ${nv(c, "Dv")}; d = d + 1u) { acc[d] = fma(${sp(c, "p")}, Vs[${row(c, "jj")}], acc[d]); }
      }
    }
    workgroupBarrier();
  }
  // merge the lanes: softmax statistics first, then the rescaled accumulators
  let row = bh * Tq + i;
  workgroupBarrier();
  ${at(c, "Ks", `lane * ${c.rows}u + r`)} = m;
  ${at(c, "Ks", `${c.threads}u + lane * ${c.rows}u + r`)} = l;
  workgroupBarrier();
  var mt = -f_inf();
  for (var t = 0u; t < ${c.lanes}u; t = t + 1u) { mt = max(mt, ${at(c, "Ks", `t * ${c.rows}u + r`)}); }
  var lt = 0.0;
  for (var t = 0u; t < ${c.lanes}u; t = t + 1u) {
    let mm = ${at(c, "Ks", `t * ${c.rows}u + r`)};
    lt = lt + select(${at(c, "Ks", `${c.threads}u + t * ${c.rows}u + r`)} * exp(mm - mt), 0.0, mm == -f_inf());
  }
  let f = select(exp(m - mt), 0.0, m == -f_inf());
  let inv = select(0.0, 1.0 / lt, lt > 0.0);
  ${mergeLanes(c, "Ks", "acc", "Dv", "f", "valid", "O[P[30] + row * Dv + c0 + dd] = s * inv;")}
  if (lane == 0u && valid) { L[P[31] + row] = select(-f_inf(), mt + log(lt), lt > 0.0); }
}`,
    buffers: [...inBuffers(args), buf(out, "rw"), buf(lse, "rw")],
    params: [...common(args), out.offset, lse.offset],
    groups: grid(B * Hq * nqb),
  });
}

/**
 * dq (per query block) and dk + dv (per key block), see {@link AttentionGrads} (`delta` already
 * holds `attentionDelta`'s sums).
 */
export function flashAttentionBackward(
  rt: Runtime,
  args: AttentionArgs,
  g: AttentionGrads,
  variant: string = DEFAULT_FLASH_VARIANT,
): void {
  const [B, Hq, Tq] = args.q.shape;
  const Hkv = args.k.shape[1];
  const Tk = args.k.shape[2];
  const c = configFor(variant, args, rt.device.limits);
  const W = width(args);
  const [D, Dv] = dims(args);
  const params = backwardWords(args, g);
  const decl = (outs: { name: string }[]) => `${bindings([
    ...bindingsIn(args),
    { name: "L", type: "f32", access: "r" },
    { name: "G", type: "f32", access: "r" },
    { name: "DL", type: "f32", access: "r" },
    ...outs.map((o) => ({ name: o.name, type: "f32", access: "rw" as const })),
  ])}
${MATH}
${PRELUDE}
${DOUT_ROW}
`;
  const inputs = [buf(g.lse, "r"), buf(g.dout, "r"), buf(g.delta, "r")];
  const nqb = Math.ceil(Tq / c.rows);
  rt.dispatch({
    key: `flash:dq:${D}:${Dv}${c.tag}`,
    wgsl: () => `${decl([{ name: "R" }])}
var<workgroup> Ks: ${arr(c, c.scratch)};
var<workgroup> Vs: ${arr(c, c.block * c.stride)};
${ENTRY(c)}
${HEADER(
  c,
  `let nqb = (Tq + ${c.rows - 1}u) / ${c.rows}u;
  if (g >= P[0] * Hq * nqb) { return; }
  ${blockOf(c, "qb", "bh", "nqb", "P[0] * Hq", true)} let b = bh / Hq; let h = bh % Hq; let kh = h / (Hq / Hkv);
  let i = qb * ${c.rows}u + r;
  let row = bh * Tq + i;
  var z = -f_inf();
  var dl = 0.0;
  if (i < Tq) { z = L[P[31] + row]; dl = DL[P[33] + row]; }
  let valid = i < Tq && z > -f_inf();`,
  D,
  Dv,
)}
  var q: ${arr(c, W)};
  var go: ${arr(c, W)};
  var acc: ${arr(c, W)};
  if (valid) {
    for (var d = 0u; d < D; d = d + 1u) { ${at(c, "q", "d")} = Q[qoff(b, h, i) + d * P[14]]; }
    for (var d = 0u; d < Dv; d = d + 1u) { ${at(c, "go", "d")} = G[goff(row) + d]; }
  }
  var kend = Tk;
  if (P[7] != 0u) { kend = min(Tk, max(min(qb * ${c.rows}u + ${c.rows}u, Tq) + Tk, Tq) - Tq); }
  for (var j0 = 0u; j0 < kend; j0 = j0 + ${c.block}u) {
    ${stream(c, "Ks", "D", "jj", "j", "j0", "Tk", load("K", args.k.storage.dtype, "koff(b, kh, j) + d * P[19]"), "    ")}
    ${stream(c, "Vs", "Dv", "jj", "j", "j0", "Tk", load("V", args.v.storage.dtype, "voff(b, kh, j) + d * P[24]"), "    ")}
    workgroupBarrier();
    if (valid) {
      let nj = min(${c.block}u, kend - j0);
      for (var jj = lane; jj < nj; jj = jj + ${c.lanes}u) {
        let j = j0 + jj;
        if (!visible(i, j)) { continue; }
        var dot = 0.0;
        for (var d = 0u; d < ${nv(c, "D")}; d = d + 1u) { dot = ${ip(c, "q[d]", `Ks[${row(c, "jj")}]`, "dot")}; }
        let s = masked_score(dot, b, h, i, j);
        if (s == -f_inf()) { continue; }
        let p = exp(s - z);
        var dp = 0.0;
        for (var d = 0u; d < ${nv(c, "Dv")}; d = d + 1u) { dp = ${ip(c, "go[d]", `Vs[${row(c, "jj")}]`, "dp")}; }
        let ds = p * (dp - dl) * pf(8u);
        for (var d = 0u; d < ${nv(c, "D")}; d = d + 1u) { acc[d] = fma(${sp(c, "ds")}, Ks[${row(c, "jj")}], acc[d]); }
      }
    }
    workgroupBarrier();
  }
  ${mergeLanes(c, "Ks", "acc", "D", "1.0", "i < Tq", "R[P[34] + row * D + c0 + dd] = s;")}
}`,
    buffers: [...inBuffers(args), ...inputs, buf(g.dq, "rw")],
    params,
    groups: grid(B * Hq * nqb),
  });
  const nkb = Math.ceil(Tk / c.rows);
  rt.dispatch({
    key: `flash:dkv:${D}:${Dv}${c.tag}`,
    wgsl: () => `${decl([{ name: "RK" }, { name: "RV" }])}
var<workgroup> Qs: ${arr(c, c.scratch)};
var<workgroup> Gs: ${arr(c, c.block * c.stride)};
var<workgroup> Zs: array<f32, ${c.block}>;
var<workgroup> Ds: array<f32, ${c.block}>;
${ENTRY(c)}
${HEADER(
  c,
  `let nkb = (Tk + ${c.rows - 1}u) / ${c.rows}u;
  if (g >= P[0] * Hkv * nkb) { return; }
  ${blockOf(c, "kb", "bk", "nkb", "P[0] * Hkv", false)} let b = bk / Hkv; let kh = bk % Hkv;
  let grp = Hq / Hkv;
  let j = kb * ${c.rows}u + r;
  let valid = j < Tk;`,
  D,
  Dv,
)}
  var kr: ${arr(c, W)};
  var vr: ${arr(c, W)};
  var dk: ${arr(c, W)};
  var dv: ${arr(c, W)};
  if (valid) {
    for (var d = 0u; d < D; d = d + 1u) { ${at(c, "kr", "d")} = K[koff(b, kh, j) + d * P[19]]; }
    for (var d = 0u; d < Dv; d = d + 1u) { ${at(c, "vr", "d")} = V[voff(b, kh, j) + d * P[24]]; }
  }
  // first query row that sees the block's first key (causal): i + Tk >= j + Tq
  var istart = 0u;
  if (P[7] != 0u && kb * ${c.rows}u + Tq > Tk) { istart = kb * ${c.rows}u + Tq - Tk; }
  for (var h = kh * grp; h < kh * grp + grp; h = h + 1u) {
    for (var i0 = istart; i0 < Tq; i0 = i0 + ${c.block}u) {
      ${stream(c, "Qs", "D", "ii", "i", "i0", "Tq", "Q[qoff(b, h, i) + d * P[14]]", "      ")}
      ${stream(c, "Gs", "Dv", "ii", "i", "i0", "Tq", "G[goff((b * Hq + h) * Tq + i) + d]", "      ")}
      if (lid < ${c.block}u) {
        let i = i0 + lid;
        var z = -f_inf();
        var dl = 0.0;
        if (i < Tq) { let row = (b * Hq + h) * Tq + i; z = L[P[31] + row]; dl = DL[P[33] + row]; }
        Zs[lid] = z;
        Ds[lid] = dl;
      }
      workgroupBarrier();
      if (valid) {
        let ni = min(${c.block}u, Tq - i0);
        for (var ii = lane; ii < ni; ii = ii + ${c.lanes}u) {
          let i = i0 + ii;
          let z = Zs[ii];
          if (z == -f_inf() || !visible(i, j)) { continue; }
          var dot = 0.0;
          for (var d = 0u; d < ${nv(c, "D")}; d = d + 1u) { dot = ${ip(c, `Qs[${row(c, "ii")}]`, "kr[d]", "dot")}; }
          let s = masked_score(dot, b, h, i, j);
          if (s == -f_inf()) { continue; }
          let p = exp(s - z);
          var dp = 0.0;
          for (var d = 0u; d < ${nv(c, "Dv")}; d = d + 1u) {
            let gv = Gs[${row(c, "ii")}];
            dv[d] = fma(${sp(c, "p")}, gv, dv[d]);
            dp = ${ip(c, "gv", "vr[d]", "dp")};
          }
          let ds = p * (dp - Ds[ii]) * pf(8u);
          for (var d = 0u; d < ${nv(c, "D")}; d = d + 1u) { dk[d] = fma(${sp(c, "ds")}, Qs[${row(c, "ii")}], dk[d]); }
        }
      }
      workgroupBarrier();
    }
  }
  let krow = bk * Tk + j;
  ${mergeLanes(c, "Qs", "dk", "D", "1.0", "valid", "RK[P[35] + krow * D + c0 + dd] = s;")}
  ${mergeLanes(c, "Qs", "dv", "Dv", "1.0", "valid", "RV[P[36] + krow * Dv + c0 + dd] = s;")}
}`,
    buffers: [...inBuffers(args), ...inputs, buf(g.dk, "rw"), buf(g.dv, "rw")],
    params,
    groups: grid(B * Hkv * nkb),
  });
}
