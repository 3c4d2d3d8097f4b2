/**
 * Row kernels over the last axis (one workgroup per row; its reductions through subgroup
 * operations when enabled, else shared-memory trees: see `workgroupReducer`): softmax,
 * log-softmax and their backwards, cross-entropy, LayerNorm and RMSNorm with their backwards,
 * and the column sums their weight gradients need. Operands arrive contiguous (the backend
 * copies strided inputs first); each has its own element offset in the parameters.
 */

import type { View } from "../../backend.js";
import type { Access, GpuStorage, Runtime } from "../runtime.js";
import {
  bindings,
  enableSubgroups,
  entry,
  grid,
  MATH,
  reduceEntry,
  reducers,
  wgslType,
} from "../wgsl.js";

const WG = 128;

export interface RowOperand {
  name: string;
  view: View;
  access: Access;
}

/**
 * Runs `body` once per row with `lid` the invocation in the row's workgroup. The body sees
 * `row`, `cols`, `o_<name>` (element offset of the operand at this row: its offset + row·cols,
 * + row for operands named in `perRow`, + 0 for those in `fixed`) and `E` (first extra
 * parameter). The body may call `wg_sum(v, lid)` / `wg_max(v, lid)` in uniform control flow;
 * with `subgroups` they use subgroup operations (the adapter must have the feature enabled).
 */
export function rowKernel(
  rt: Runtime,
  key: string,
  rows: number,
  cols: number,
  operands: RowOperand[],
  body: string,
  options: {
    perRow?: string[];
    fixed?: string[];
    extras?: ArrayLike<number>;
    subgroups?: boolean;
  } = {},
): void {
  if (rows === 0) return;
  const sg = options.subgroups ?? false;
  const perRow = new Set(options.perRow ?? []);
  const fixed = new Set(options.fixed ?? []);
  const params = [
    rows,
    cols,
    ...operands.map((o) => o.view.offset),
    ...Array.from(options.extras ?? []),
  ];
  rt.dispatch({
    key: `row:${key}:${operands.map((o) => `${o.name}${o.view.storage.dtype}`).join(",")}:${sg ? "sg" : "wg"}`,
    wgsl: () => `${enableSubgroups(sg)}${bindings(
      operands.map((o) => ({
        name: o.name,
        type: wgslType(o.view.storage.dtype),
        access: o.access,
      })),
    )}
${MATH}
${reducers(WG, sg)}
${reduceEntry(WG, sg)}
  let row = group;
  if (row >= P[0]) { return; }
  let cols = P[1];
  let E = ${2 + operands.length}u;
${operands
  .map(
    (o, i) =>
      `  let o_${o.name} = P[${2 + i}u]${fixed.has(o.name) ? "" : perRow.has(o.name) ? " + row" : " + row * cols"};`,
  )
  .join("\n")}
${body}
}`,
    buffers: operands.map((o) => ({
      buffer: (o.view.storage as GpuStorage).buffer,
      access: o.access,
    })),
    params,
    groups: grid(rows),
  });
}

export const W = WG;

/** Body: row max `m` and Σ exp(x − m) `s` of X at o_X (−inf max gives s = 0). */
export const ROW_LSE = /* wgsl */ `
  var mx = -f_inf();
  for (var j = lid; j < cols; j = j + ${WG}u) { mx = max(mx, X[o_X + j]); }
  let m = wg_max(mx, lid);
  var acc = 0.0;
  if (m > -f_inf()) {
    for (var j = lid; j < cols; j = j + ${WG}u) { acc = acc + exp(X[o_X + j] - m); }
  }
  let s = wg_sum(acc, lid);
  let lse = select(-f_inf(), m + log(s), m > -f_inf());
`;

/** Rows per chunk of the column kernels' first stage. */
export const COLUMN_CHUNK = 64;

/**
 * First stage of column sums over `rows`: one invocation per (column, chunk of COLUMN_CHUNK
 * rows), so a tall matrix still spreads over the whole GPU. The body sees `c`, `chunk`, `rbeg`,
 * `rend` and writes partial sums at `o_<out> + chunk * cols + c`; the caller sums the chunks.
 */
export function columnKernel(
  rt: Runtime,
  key: string,
  rows: number,
  cols: number,
  operands: RowOperand[],
  body: string,
): void {
  if (cols === 0) return;
  const chunks = Math.max(1, Math.ceil(rows / COLUMN_CHUNK));
  const params = [rows, cols, ...operands.map((o) => o.view.offset)];
  const C = 64;
  const colGroups = Math.ceil(cols / C);
  rt.dispatch({
    key: `col:${key}`,
    wgsl: () => `${bindings(
      operands.map((o) => ({
        name: o.name,
        type: wgslType(o.view.storage.dtype),
        access: o.access,
      })),
    )}
${MATH}
@compute @workgroup_size(${C})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let rows = P[0];
  let cols = P[1];
  let c = wid.x * ${C}u + lid;
  let chunk = wid.y;
  if (c >= cols) { return; }
  let rbeg = chunk * ${COLUMN_CHUNK}u;
  let rend = min(rows, rbeg + ${COLUMN_CHUNK}u);
${operands.map((o, i) => `  let o_${o.name} = P[${2 + i}u];`).join("\n")}
${body}
}`,
    buffers: operands.map((o) => ({
      buffer: (o.view.storage as GpuStorage).buffer,
      access: o.access,
    })),
    params,
    groups: [colGroups, chunks, 1],
  });
}

/**
 * Second stage of column sums: every output's [chunks, cols] partial sums (contiguous, from
 * {@link columnKernel}) added over the chunks, in order, into its [cols] output (any stride),
 * all outputs in one dispatch.
 */
export function columnTotals(
  rt: Runtime,
  chunks: number,
  cols: number,
  parts: { partial: View; out: View }[],
): void {
  const n = parts.length * cols;
  if (n === 0) return;
  const outStride = (v: View) => v.strides[v.strides.length - 1] ?? 1;
  rt.dispatch({
    key: `col-totals:${parts.length}`,
    wgsl: () => `${bindings(
      parts.flatMap((_, k) => [
        { name: `S${k}`, type: "f32", access: "r" as const },
        { name: `O${k}`, type: "f32", access: "rw" as const },
      ]),
    )}
${entry(64)}
  if (gi >= P[0]) { return; }
  let chunks = P[1];
  let cols = P[2];
  let k = gi / cols;
  let c = gi % cols;
${parts
  .map(
    (_, k) => `  if (k == ${k}u) {
    var s = 0.0;
    for (var i = 0u; i < chunks; i = i + 1u) { s = s + S${k}[P[${3 + 3 * k}u] + i * cols + c]; }
    O${k}[P[${4 + 3 * k}u] + c * P[${5 + 3 * k}u]] = s;
  }`,
  )
  .join("\n")}
}`,
    buffers: parts.flatMap((p) => [
      { buffer: (p.partial.storage as GpuStorage).buffer, access: "r" as const },
      { buffer: (p.out.storage as GpuStorage).buffer, access: "rw" as const },
    ]),
    params: [
      n,
      chunks,
      cols,
      ...parts.flatMap((p) => [p.partial.offset, p.out.offset, outStride(p.out)]),
    ],
    groups: grid(Math.ceil(n / 64)),
  });
}
