/**
 * Strided elementwise kernels. One generator covers fill, copy (with dtype conversion),
 * unary, unary backward, binary, where and the fused optimizer updates: every operand is a
 * view of the output's shape, the shape is coalesced on the host (size-1 axes dropped,
 * mergeable axes merged), and each operand is addressed either contiguously (`off + i`) or
 * through its strides. The pipeline is specialised on dtypes, contiguity and the body, never on
 * shapes, so a training loop compiles each kernel once.
 */

import type { BinaryOp, DType, UnaryOp, View } from "../../backend.js";
import type { Access, GpuStorage, Runtime } from "../runtime.js";
import { bindings, entry, grid, HALF, MATH, wgslType } from "../wgsl.js";

export interface Operand {
  view: View;
  /** "r": loaded as `a{k}`; "w": stored from `r{k}`; "rw": both. */
  mode: "r" | "w" | "rw";
}

const WG = 256;

/** Drops size-1 axes and merges axes that are contiguous with their neighbour in every view. */
export function coalesce(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const s: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = s.length - 1;
    if (last >= 0 && strides.every((x, k) => st[k][last] === x[d] * shape[d])) {
      s[last] *= shape[d];
      strides.forEach((x, k) => {
        st[k][last] = x[d];
      });
    } else {
      s.push(shape[d]);
      strides.forEach((x, k) => {
        st[k].push(x[d]);
      });
    }
  }
  if (s.length === 0) return { shape: [1], strides: strides.map(() => [1]) };
  return { shape: s, strides: st };
}

/**
 * Runs `body` over every element (a string, or a function building it when the pipeline is first
 * compiled: the pipeline key `name` must then identify it). `body` sees `a{k}` (the loaded value of operand k, in its
 * dtype; f16 storage loads and stores as f32), `E` (index of the first extra parameter; read
 * with `pf(E + j)` / `pi(E + j)`) and must define `r{k}` for every written operand (in that
 * operand's dtype). `live` recomputes the extras at each replay of a capture (`Dispatch.live`).
 */
export function elementwise(
  rt: Runtime,
  name: string,
  body: string | (() => string),
  operands: Operand[],
  extras: ArrayLike<number> = [],
  live?: () => ArrayLike<number>,
): void {
  const out = operands[0].view;
  let n = 1;
  for (const d of out.shape) n *= d;
  if (n === 0) return;
  const c = coalesce(
    out.shape,
    operands.map((o) => o.view.strides),
  );
  const rank = c.shape.length;
  const contiguous = c.strides.map((st) => rank === 1 && st[0] === 1);
  const params: number[] = [n, rank, ...c.shape];
  operands.forEach((o, k) => {
    params.push(o.view.offset, ...c.strides[k]);
  });
  params.push(...Array.from(extras));
  const dtypes = operands.map((o) => o.view.storage.dtype);
  // One binding per distinct storage (a storage may appear twice, e.g. x + x).
  const storages: GpuStorage[] = [];
  const slot = operands.map((o) => {
    const s = o.view.storage as GpuStorage;
    let i = storages.indexOf(s);
    if (i < 0) {
      storages.push(s);
      i = storages.length - 1;
    }
    return i;
  });
  const access: Access[] = storages.map((s) =>
    operands.some((o) => o.view.storage === s && o.mode !== "r") ? "rw" : "r",
  );
  const key = `ew:${name}:${dtypes.join(",")}:${contiguous.map(Number).join("")}:${slot.join(",")}`;
  rt.dispatch({
    key,
    wgsl: () => {
      // f16 storages are packed u32 words; a written one is atomic, since the two halves of a
      // word belong to two invocations.
      const atomic = storages.map((s, i) => s.dtype === "f16" && access[i] === "rw");
      const decl = bindings(
        storages.map((s, i) => ({
          name: `buf${i}`,
          type: atomic[i] ? "atomic<u32>" : wgslType(s.dtype),
          access: access[i],
        })),
      );
      const offs = operands
        .map((_, k) =>
          contiguous[k]
            ? `fn off${k}(i: u32) -> u32 { return P[2u + P[1] + ${k}u * (P[1] + 1u)] + i; }`
            : `fn off${k}(i: u32) -> u32 {
  let r = P[1];
  let b = 2u + r + ${k}u * (r + 1u);
  var rem = i;
  var o = P[b];
  var d = r;
  loop {
    if (d == 0u) { break; }
    d = d - 1u;
    let s = P[2u + d];
    o = o + (rem % s) * P[b + 1u + d];
    rem = rem / s;
  }
  return o;
}`,
        )
        .join("\n");
      const load = (k: number): string => {
        const buf = `buf${slot[k]}`;
        if (dtypes[k] !== "f16") return `  let a${k} = ${buf}[off${k}(gi)];`;
        const word = atomic[slot[k]] ? `atomicLoad(&${buf}[h${k} >> 1u])` : `${buf}[h${k} >> 1u]`;
        return `  let h${k} = off${k}(gi);\n  let a${k} = unpack2x16float(${word})[h${k} & 1u];`;
      };
      // An f16 store clears its half of the word, then sets it: each atomic touches only this
      // invocation's 16 bits, so the neighbour's half survives in any interleaving.
      const store = (k: number): string =>
        dtypes[k] !== "f16"
          ? `  buf${slot[k]}[off${k}(gi)] = r${k};`
          : `  {
    let o = off${k}(gi);
    let sh = (o & 1u) * 16u;
    atomicAnd(&buf${slot[k]}[o >> 1u], ~(0xffffu << sh));
    atomicOr(&buf${slot[k]}[o >> 1u], f2h(r${k}) << sh);
  }`;
      const loads = operands
        .map((o, k) => (o.mode === "w" ? "" : load(k)))
        .filter((l) => l)
        .join("\n");
      const stores = operands
        .map((o, k) => (o.mode === "r" ? "" : store(k)))
        .filter((l) => l)
        .join("\n");
      return `${decl}
${MATH}
${atomic.some((x) => x) ? HALF : ""}
${offs}
${entry(WG)}
  if (gi >= P[0]) { return; }
  let E = 2u + P[1] + ${operands.length}u * (P[1] + 1u);
${loads}
${typeof body === "string" ? body : body()}
${stores}
}`;
    },
    buffers: storages.map((s, i) => ({ buffer: s.buffer, access: access[i] })),
    params,
    groups: grid(Math.ceil(n / WG)),
    live,
  });
}

// ---- op bodies ----------------------------------------------------------------------------

/** WGSL expression of a unary op on `x` (f32). */
export function unaryExpr(op: UnaryOp, x: string): string {
  switch (op) {
    case "neg":
      return `-${x}`;
    case "abs":
      return `abs(${x})`;
    case "sign":
      return `sign(${x})`;
    case "exp":
      return `exp(${x})`;
    case "log":
      return `log(${x})`;
    case "sqrt":
      return `sqrt(${x})`;
    case "rsqrt":
      return `1.0 / sqrt(${x})`;
    case "square":
      return `${x} * ${x}`;
    case "reciprocal":
      return `1.0 / ${x}`;
    case "sin":
      return `sin(${x})`;
    case "cos":
      return `cos(${x})`;
    case "tanh":
      return `tanh_s(${x})`;
    case "sigmoid":
      return `sigmoid_s(${x})`;
    case "relu":
      return `max(${x}, 0.0)`;
    case "gelu_tanh":
      return `0.5 * ${x} * (1.0 + tanh_s(0.7978845608028654 * (${x} + 0.044715 * ${x} * ${x} * ${x})))`;
    case "gelu_erf":
      return `0.5 * ${x} * (1.0 + erf_s(${x} * 0.7071067811865476))`;
    case "silu":
      return `${x} * sigmoid_s(${x})`;
  }
}

/** WGSL statements computing `g` = d op(x)/dx from `x` and `y` (f32). */
export function unaryGradBody(op: UnaryOp): string {
  switch (op) {
    case "neg":
      return "let g = -1.0;";
    case "abs":
      return "let g = sign(x);";
    case "sign":
      return "let g = 0.0;";
    case "exp":
      return "let g = y;";
    case "log":
      return "let g = 1.0 / x;";
    case "sqrt":
      return "let g = 0.5 / y;";
    case "rsqrt":
      return "let g = (-0.5 * y) / x;";
    case "square":
      return "let g = 2.0 * x;";
    case "reciprocal":
      return "let g = -y * y;";
    case "sin":
      return "let g = cos(x);";
    case "cos":
      return "let g = -sin(x);";
    case "tanh":
      return "let g = 1.0 - y * y;";
    case "sigmoid":
      return "let g = y * (1.0 - y);";
    case "relu":
      return "let g = select(0.0, 1.0, x > 0.0);";
    case "gelu_tanh":
      return `let u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  let t = tanh_s(u);
  let du = 0.7978845608028654 * (1.0 + 3.0 * 0.044715 * x * x);
  let g = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du;`;
    case "gelu_erf":
      return "let g = 0.5 * (1.0 + erf_s(x * 0.7071067811865476)) + x * 0.3989422804014327 * exp(-0.5 * x * x);";
    case "silu":
      return "let s = sigmoid_s(x);\n  let g = s * (1.0 + x * (1.0 - s));";
  }
}

const COMPARE: Partial<Record<BinaryOp, string>> = {
  eq: "==",
  ne: "!=",
  lt: "<",
  le: "<=",
  gt: ">",
  ge: ">=",
};

/** WGSL statement `let r0 = …` for a binary op; a1, a2 are the loaded operands. */
export function binaryBody(op: BinaryOp, ta: DType, tb: DType, tout: DType): string {
  const cmp = COMPARE[op];
  if (cmp) {
    const both = ta === "i32" && tb === "i32";
    const x = both ? "a1" : `f32(a1)`;
    const y = both ? "a2" : `f32(a2)`;
    return `let r0 = ${tout === "i32" ? "select(0, 1, " : "select(0.0, 1.0, "}${x} ${cmp} ${y});`;
  }
  if (tout === "i32") {
    const x = ta === "i32" ? "a1" : "i32(a1)";
    const y = tb === "i32" ? "a2" : "i32(a2)";
    switch (op) {
      case "add":
        return `let r0 = ${x} + ${y};`;
      case "sub":
        return `let r0 = ${x} - ${y};`;
      case "mul":
        return `let r0 = ${x} * ${y};`;
      case "max":
        return `let r0 = max(${x}, ${y});`;
      case "min":
        return `let r0 = min(${x}, ${y});`;
      case "div":
        return `let q = f32(a1) / f32(a2);\n  let r0 = select(i32(trunc(q)), 0, f32(a2) == 0.0);`;
      case "pow":
        return "let r0 = i32(trunc(pow_s(f32(a1), f32(a2))));";
    }
  }
  const x = ta === "f32" ? "a1" : "f32(a1)";
  const y = tb === "f32" ? "a2" : "f32(a2)";
  switch (op) {
    case "add":
      return `let r0 = ${x} + ${y};`;
    case "sub":
      return `let r0 = ${x} - ${y};`;
    case "mul":
      return `let r0 = ${x} * ${y};`;
    case "div":
      return `let r0 = ${x} / ${y};`;
    case "pow":
      return `let r0 = pow_s(${x}, ${y});`;
    case "max":
      return `let r0 = select(max(${x}, ${y}), f_nan(), is_nan(${x}) || is_nan(${y}));`;
    case "min":
      return `let r0 = select(min(${x}, ${y}), f_nan(), is_nan(${x}) || is_nan(${y}));`;
    default:
      throw new Error(`webgpu: binary op "${op}" is not supported`);
  }
}

/**
 * Conversion of a loaded value to a dtype (f32 → i32 truncates toward zero). f16 operands load
 * as f32 and store from f32, so to the body f16 is f32.
 */
export function convert(v: string, from: DType, to: DType): string {
  const [f, t] = [from === "f16" ? "f32" : from, to === "f16" ? "f32" : to];
  if (f === t) return v;
  return t === "i32" ? `i32(trunc(${v}))` : `f32(${v})`;
}
