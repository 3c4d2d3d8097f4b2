/**
 * WGSL building blocks shared by the kernels: binding declarations, parameter access, the
 * 2-D workgroup grid (65,535 groups per dimension), scalar math the WGSL builtins lack or
 * get wrong at the edges (erf, an overflow-safe tanh, pow of negative bases).
 */

import type { DType } from "../backend.js";
import type { Access } from "./runtime.js";

/** Largest workgroup count per grid dimension (WebGPU's default limit). */
export const MAX_GROUPS = 65535;

/** A 2-D grid covering `count` workgroups. */
export function grid(count: number): [number, number, number] {
  if (count <= 0) return [0, 1, 1];
  const x = Math.min(count, MAX_GROUPS);
  return [x, Math.ceil(count / x), 1];
}

/** The bits of `x` rounded to f32 (how kernels take f32 parameters: `pf(i)` in {@link MATH}). */
export function f32Bits(x: number): number {
  const f = new Float32Array([x]);
  return new Uint32Array(f.buffer)[0];
}

/** WGSL element type of a storage array; f16 storage is packed two per `u32` (see {@link HALF}). */
export function wgslType(dtype: DType): string {
  return dtype === "i32" ? "i32" : dtype === "f16" ? "u32" : "f32";
}

/**
 * f16 storage: element i of a packed array is half `i & 1` of word `i >> 1` (little-endian, as
 * on the host), so no adapter feature is needed. Reads unpack with `unpack2x16float` (exact);
 * writes round with `f2h` below rather than `pack2x16float`, whose rounding and overflow WGSL
 * leaves to the implementation: ties to even, ±inf beyond ±65504, NaN kept (quiet), bit for bit
 * what the host's `f32ToF16` gives.
 */
export const HALF = /* wgsl */ `
fn f2h(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  let sign = (b >> 16u) & 0x8000u;
  let e = i32((b >> 23u) & 0xffu);
  var m = b & 0x7fffffu;
  if (e == 255) { return sign | 0x7c00u | select(0u, 0x200u, m != 0u); }
  let he = e - 112;
  if (he >= 31) { return sign | 0x7c00u; }
  if (he <= 0) {
    if (he < -10) { return sign; }
    m = m | 0x800000u;
    let shift = u32(14 - he);
    var h = m >> shift;
    let rem = m & ((1u << shift) - 1u);
    let half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (h & 1u) == 1u)) { h = h + 1u; }
    return sign | h;
  }
  var h = (u32(he) << 10u) | (m >> 13u);
  let rem = m & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) == 1u)) { h = h + 1u; }
  return sign | h;
}`;

/** WGSL expression for element `i` (a plain name or literal) of the packed f16 array `buf`. */
export function loadHalf(buf: string, i: string): string {
  return `unpack2x16float(${buf}[${i} >> 1u])[${i} & 1u]`;
}

/**
 * Pipeline-key suffix naming the operands' dtypes when any is f16 (":f32f16"), else "": keys of
 * all-f32 kernels stay as they were.
 */
export function halfTag(...dtypes: DType[]): string {
  return dtypes.includes("f16") ? `:${dtypes.join("")}` : "";
}

/** WGSL expression for element `i` of operand array `buf` holding `dtype` (f16 read as f32). */
export function load(buf: string, dtype: DType, i: string): string {
  return dtype === "f16" ? loadHalf(buf, `(${i})`) : `${buf}[${i}]`;
}

/** Binding declarations: `P` (params) at 0, then `name: array<type>` at 1, 2, …. */
export function bindings(list: { name: string; type: string; access: Access }[]): string {
  const lines = ["@group(0) @binding(0) var<storage, read> P: array<u32>;"];
  list.forEach((b, i) => {
    const mode = b.access === "r" ? "read" : "read_write";
    lines.push(`@group(0) @binding(${i + 1}) var<storage, ${mode}> ${b.name}: array<${b.type}>;`);
  });
  return lines.join("\n");
}

/** Entry point header with the common builtins; `gi` is the linear invocation index. */
export function entry(wg: number): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let group = wid.x + wid.y * nwg.x;
  let gi = group * ${wg}u + lid;`;
}

/** Scalar helpers (f32 parameters are stored as bits). */
export const MATH = /* wgsl */ `
fn pf(i: u32) -> f32 { return bitcast<f32>(P[i]); }
fn pi(i: u32) -> i32 { return bitcast<i32>(P[i]); }
// Private (not const) so that the bitcasts happen at run time: WGSL rejects a constant inf.
var<private> INF_BITS: u32 = 0x7f800000u;
var<private> NAN_BITS: u32 = 0x7fc00000u;
fn f_inf() -> f32 { return bitcast<f32>(INF_BITS); }
fn f_nan() -> f32 { return bitcast<f32>(NAN_BITS); }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn tanh_s(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  let t = (1.0 - e) / (1.0 + e);
  return select(t, -t, x < 0.0);
}
fn sigmoid_s(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
// erf to ~1.2e-7 absolute (Numerical Recipes' Chebyshev fit of erfc).
fn erf_s(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.5 * a);
  let y = t * exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
      t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
      t * (-0.82215223 + t * 0.17087277)))))))));
  let r = 1.0 - y;
  return select(r, -r, x < 0.0);
}
fn pow_s(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a == 0.0) { return select(0.0, f_inf(), b < 0.0); }
  if (a > 0.0) { return exp2(b * log2(a)); }
  if (b != floor(b)) { return f_nan(); }
  let r = exp2(b * log2(-a));
  return select(r, -r, fract(b * 0.5) != 0.0);
}
`;

/**
 * Entry point header like {@link entry}, plus (with `subgroups`) the subgroup builtins copied
 * into the private `sg_id`, `sg_count` and `sg_lane` that {@link workgroupReducer}'s subgroup
 * variant reads. The module must start with {@link enableSubgroups}.
 */
export function reduceEntry(wg: number, subgroups: boolean): string {
  if (!subgroups) return entry(wg);
  return `var<private> sg_id: u32;
var<private> sg_count: u32;
var<private> sg_lane: u32;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sid: u32,
        @builtin(num_subgroups) nsg: u32, @builtin(subgroup_invocation_id) sgl: u32) {
  sg_id = sid;
  sg_count = nsg;
  sg_lane = sgl;
  let group = wid.x + wid.y * nwg.x;
  let gi = group * ${wg}u + lid;`;
}

/** The directive a module using subgroup operations starts with ("" without them). */
export function enableSubgroups(subgroups: boolean): string {
  return subgroups ? "enable subgroups;\n" : "";
}

/** Smallest subgroup size WebGPU allows: the subgroup path's slots are sized for it. */
export const MIN_SUBGROUP = 4;

export interface ReducerSpec {
  /** WGSL function name. */
  name: string;
  type: "f32" | "i32";
  /** Workgroup size (a power of two). */
  wg: number;
  /** Combines two values (WGSL expression over `a` and `b`). */
  combine: (a: string, b: string) => string;
  /** The subgroup-wide reduction of `v` (e.g. `subgroupAdd(v)`); used with `subgroups`. */
  subgroup: (v: string) => string;
  subgroups: boolean;
}

/**
 * `fn <name>(v: T, lid: u32) -> T`: combines `v` over the whole workgroup and returns the
 * result to every invocation. Must be called in workgroup-uniform control flow (every
 * invocation, no early return before it in divergent code).
 *
 * - shared memory: a tree over `wg` slots, log2(wg) barrier rounds.
 * - subgroups: each subgroup reduces in registers, its first invocation stores the partial in
 *   slot `subgroup_id` (wg / 4 slots: enough for the smallest subgroup size), one barrier, and
 *   every invocation combines the `num_subgroups` partials in slot order (so the result does
 *   not depend on scheduling). Correct for any subgroup size, partially filled subgroups and
 *   any mapping of invocations to subgroups.
 */
export function workgroupReducer(spec: ReducerSpec): string {
  const { name, type: t, wg } = spec;
  const buf = `${name}_slots`;
  if (spec.subgroups) {
    return /* wgsl */ `
var<workgroup> ${buf}: array<${t}, ${Math.max(1, wg / MIN_SUBGROUP)}>;
fn ${name}(v: ${t}, lid: u32) -> ${t} {
  let part = ${spec.subgroup("v")};
  workgroupBarrier();
  if (sg_lane == 0u) { ${buf}[sg_id] = part; }
  workgroupBarrier();
  var r = ${buf}[0];
  for (var k = 1u; k < sg_count; k = k + 1u) { r = ${spec.combine("r", `${buf}[k]`)}; }
  return r;
}
`;
  }
  return /* wgsl */ `
var<workgroup> ${buf}: array<${t}, ${wg}>;
fn ${name}(v: ${t}, lid: u32) -> ${t} {
  workgroupBarrier();
  ${buf}[lid] = v;
  workgroupBarrier();
  var s = ${wg / 2}u;
  loop {
    if (s == 0u) { break; }
    if (lid < s) { ${buf}[lid] = ${spec.combine(`${buf}[lid]`, `${buf}[lid + s]`)}; }
    workgroupBarrier();
    s = s / 2u;
  }
  let r = ${buf}[0];
  workgroupBarrier();
  return r;
}
`;
}

/**
 * `wg_sum(v, lid)` and `wg_max(v, lid)` over f32 for `wg` invocations: shared-memory trees, or
 * with `subgroups` subgroup reductions (see {@link workgroupReducer}; the module needs
 * {@link enableSubgroups} and {@link reduceEntry}).
 */
export function reducers(wg: number, subgroups = false): string {
  return `${workgroupReducer({
    name: "wg_sum",
    type: "f32",
    wg,
    combine: (a, b) => `${a} + ${b}`,
    subgroup: (v) => `subgroupAdd(${v})`,
    subgroups,
  })}${workgroupReducer({
    name: "wg_max",
    type: "f32",
    wg,
    combine: (a, b) => `max(${a}, ${b})`,
    subgroup: (v) => `subgroupMax(${v})`,
    subgroups,
  })}`;
}

/**
 * Whether the kernels use the subgroup path: `requested` (the backend's `subgroups` option)
 * or, by default, whenever it is possible. It needs the device's "subgroups" feature
 * (`features`, as enabled at device creation) and the WGSL `subgroup_id` language extension
 * (the `subgroup_id` / `num_subgroups` builtins), read from the GPU object's
 * `wgslLanguageFeatures` among `gpuObjects` (the backend's keepAlive list) or from
 * `navigator.gpu`. Throws, naming the adapter and what is missing, when `requested` is true
 * and the path is not possible.
 */
export function resolveSubgroups(
  requested: boolean | undefined,
  adapter: string,
  features: readonly string[],
  gpuObjects: readonly unknown[],
): boolean {
  if (requested === false) return false;
  const language = wgslLanguageFeatures(gpuObjects);
  const missing: string[] = [];
  if (!features.includes("subgroups")) {
    missing.push(
      `the "subgroups" feature (enabled features: ${features.length ? features.join(", ") : "none"})`,
    );
  }
  if (!language?.has("subgroup_id")) {
    missing.push(
      language
        ? `the WGSL "subgroup_id" language extension (offered: ${[...language].join(", ") || "none"})`
        : 'the WGSL "subgroup_id" language extension (no GPU object with wgslLanguageFeatures was given)',
    );
  }
  if (missing.length === 0) return true;
  if (requested === true) {
    throw new Error(
      `webgpu: subgroups: true, but adapter "${adapter}" lacks ${missing.join(" and ")}; ` +
        "leave the option out (or pass false) to use the shared-memory reductions",
    );
  }
  return false;
}

function wgslLanguageFeatures(objects: readonly unknown[]): ReadonlySet<string> | null {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  for (const o of [...objects, nav?.gpu]) {
    const set = (o as { wgslLanguageFeatures?: unknown } | null | undefined)?.wgslLanguageFeatures;
    // A WGSLLanguageFeatures (set-like) in browsers and Dawn.
    if (set && typeof (set as ReadonlySet<string>).has === "function") {
      return set as ReadonlySet<string>;
    }
  }
  return null;
}
