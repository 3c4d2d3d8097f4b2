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

export function wgslType(dtype: DType): string {
  return dtype === "i32" ? "i32" : "f32";
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

/** Workgroup reduction helpers over `wg` invocations through shared memory. */
export function reducers(wg: number): string {
  return /* wgsl */ `
var<workgroup> red: array<f32, ${wg}>;
fn wg_sum(v: f32, lid: u32) -> f32 {
  workgroupBarrier();
  red[lid] = v;
  workgroupBarrier();
  var s = ${wg / 2}u;
  loop {
    if (s == 0u) { break; }
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
    s = s / 2u;
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
fn wg_max(v: f32, lid: u32) -> f32 {
  workgroupBarrier();
  red[lid] = v;
  workgroupBarrier();
  var s = ${wg / 2}u;
  loop {
    if (s == 0u) { break; }
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
    s = s / 2u;
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
`;
}
