/**
 * Fusion of elementwise chains. The backend hands consecutive elementwise ops (unary, its
 * backward, binary, where) to a {@link Fuser} instead of dispatching each; the fuser keeps them
 * pending while they share one output shape and emits them as ONE kernel when anything else is
 * recorded (the runtime calls `drain` before every other dispatch, copy, write, read or
 * submit). Inside the fused kernel a value produced by an earlier op of the chain is passed in
 * a register instead of being stored and reloaded, and each distinct input view is loaded once;
 * outputs whose storage is released to the backend before the chain is emitted are not stored
 * (disposed tensors usually go back to the frontend's storage pool instead, which keeps them).
 *
 * Correctness rules (each makes `add` emit the pending chain first, then start a new one):
 * - an op reads a chain output through any view other than that output's own contiguous view
 *   (a transpose or broadcast would read elements other invocations write);
 * - an op writes a storage the chain reads or writes (a buffer reused from the pool);
 * - the op's shape differs from the chain's, the chain is full, or the distinct storages would
 *   exceed the device's storage-buffer bindings.
 * Frees of storages the chain reads are deferred until the chain is emitted (the pool must not
 * hand the buffer to a new tensor, or destroy it, while a pending op still reads it).
 */

import { contiguousStrides, type DType, isContiguous, type View } from "../backend.js";
import { elementwise } from "./kernels/elementwise.js";
import type { GpuStorage, Runtime } from "./runtime.js";

/** Most ops in one fused kernel (bounds the WGSL size and the pipeline cache's variety). */
const MAX_NODES = 16;

/** An input of a pending op: an external view (loaded) or an earlier op's value (register). */
type Arg = { ext: number } | { node: number };

interface Node {
  /** The op's kernel key, e.g. "binary:add". */
  key: string;
  /** WGSL statements defining `r0` from `a1`, `a2`, … (the unfused kernel's body). */
  body: string;
  args: Arg[];
  /** Types of `a1`, `a2`, … */
  argTypes: DType[];
  out: GpuStorage;
  outType: DType;
}

const wgslType = (d: DType) => (d === "i32" ? "i32" : "f32");

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

const sameView = (a: View, b: View) =>
  a.storage === b.storage &&
  a.offset === b.offset &&
  sameShape(a.shape, b.shape) &&
  sameShape(a.strides, b.strides);

export class Fuser {
  private nodes: Node[] = [];
  private externals: View[] = [];
  private shape: readonly number[] = [];
  /** Storages the pending chain reads (externals) and writes (outputs). */
  private readonly reads = new Set<GpuStorage>();
  private readonly writes = new Set<GpuStorage>();
  /** Outputs freed while pending: not stored. */
  private readonly dead = new Set<GpuStorage>();
  /** Releases deferred until the chain is emitted. */
  private deferred: (() => void)[] = [];
  private draining = false;
  /** Kernels emitted and ops they replaced (for stats and tests). */
  fusedKernels = 0;
  fusedOps = 0;

  constructor(
    private readonly rt: Runtime,
    /** Storage buffers one kernel may bind besides the parameters. */
    private readonly maxBindings: number,
  ) {}

  /** True while ops are pending. */
  get pending(): boolean {
    return this.nodes.length > 0;
  }

  /**
   * Adds an elementwise op writing `out` (a fresh contiguous view) from `inputs` (views of
   * `out`'s shape); `body` defines `r0` from `a1`, `a2`, … Returns false when the op cannot
   * join a chain (the caller dispatches it itself; the pending chain is emitted first).
   */
  add(key: string, body: string, inputs: View[], out: View): boolean {
    const outStorage = out.storage as GpuStorage;
    const half = out.storage.dtype === "f16" || inputs.some((v) => v.storage.dtype === "f16");
    if (half || !isContiguous(out) || out.offset !== 0) {
      this.drain();
      return false;
    }
    if (this.nodes.length > 0 && !this.fits(inputs, out)) this.drain();
    if (this.nodes.length === 0) this.shape = out.shape;
    const args: Arg[] = inputs.map((v) => {
      const s = v.storage as GpuStorage;
      const producer = this.producerOf(v);
      if (producer >= 0) return { node: producer };
      let k = this.externals.findIndex((e) => sameView(e, v));
      if (k < 0) {
        this.externals.push(v);
        this.reads.add(s);
        k = this.externals.length - 1;
      }
      return { ext: k };
    });
    this.nodes.push({
      key,
      body,
      args,
      argTypes: inputs.map((v) => v.storage.dtype),
      out: outStorage,
      outType: out.storage.dtype,
    });
    this.writes.add(outStorage);
    return true;
  }

  /** Whether an op can join the pending chain without a hazard. */
  private fits(inputs: View[], out: View): boolean {
    if (this.nodes.length >= MAX_NODES || !sameShape(out.shape, this.shape)) return false;
    const outStorage = out.storage as GpuStorage;
    if (this.reads.has(outStorage) || this.writes.has(outStorage)) return false;
    const storages = new Set<GpuStorage>([...this.reads, ...this.writes, outStorage]);
    for (const v of inputs) {
      const s = v.storage as GpuStorage;
      if (this.writes.has(s) && this.producerOf(v) < 0) return false;
      storages.add(s);
    }
    return storages.size <= this.maxBindings;
  }

  /** The pending op whose output `v` is exactly (its contiguous view), or −1. */
  private producerOf(v: View): number {
    if (!this.writes.has(v.storage as GpuStorage)) return -1;
    if (v.offset !== 0 || !sameShape(v.shape, this.shape)) return -1;
    if (!sameShape(v.strides, contiguousStrides(v.shape))) return -1;
    return this.nodes.findIndex((n) => n.out === v.storage);
  }

  /**
   * Called by the backend before it releases `s`: true when the release must wait for the
   * chain (`release` is kept and run after emission); outputs released while pending are
   * not stored at all.
   */
  deferRelease(s: GpuStorage, release: () => void): boolean {
    if (this.nodes.length === 0) return false;
    if (this.writes.has(s)) this.dead.add(s);
    else if (!this.reads.has(s)) return false;
    this.deferred.push(release);
    return true;
  }

  /** Emits the pending chain as one kernel (or the op's own kernel when it is alone). */
  drain(): void {
    if (this.draining || this.nodes.length === 0) return;
    this.draining = true;
    const nodes = this.nodes;
    const externals = this.externals;
    const dead = new Set(this.dead);
    const deferred = this.deferred;
    const shape = this.shape;
    this.nodes = [];
    this.externals = [];
    this.reads.clear();
    this.writes.clear();
    this.dead.clear();
    this.deferred = [];
    try {
      const live = nodes.map((n, i) => ({ n, i })).filter(({ n }) => !dead.has(n.out));
      if (live.length === 0) return; // every result was freed unread: nothing to do
      this.emit(shape, nodes, externals, live);
    } finally {
      this.draining = false;
      for (const r of deferred) r();
    }
  }

  private emit(
    shape: readonly number[],
    nodes: Node[],
    externals: View[],
    live: { n: Node; i: number }[],
  ): void {
    // Operands: the stored outputs first (operand 0 gives the shape), then the inputs.
    const strides = contiguousStrides(shape);
    const outputs = live.map(({ n }) => ({
      view: { storage: n.out, shape, strides, offset: 0 } as View,
      mode: "w" as const,
    }));
    const inputs = externals.map((view) => ({ view, mode: "r" as const }));
    const first = outputs.length;
    // The kernel body, built only when the pipeline is compiled (the key below names it).
    const body = () => {
      const lines: string[] = [];
      for (let k = 0; k < externals.length; k++) lines.push(`  let x${k} = a${first + k};`);
      nodes.forEach((n, i) => {
        lines.push(`  var v${i}: ${wgslType(n.outType)};`);
        lines.push("  {");
        n.args.forEach((a, j) => {
          const src = "ext" in a ? `x${a.ext}` : `v${a.node}`;
          lines.push(`    let a${j + 1}: ${wgslType(n.argTypes[j])} = ${src};`);
        });
        lines.push(`    ${n.body.trim()}`);
        lines.push(`    v${i} = r0;`);
        lines.push("  }");
      });
      live.forEach(({ i }, k) => {
        lines.push(`  let r${k} = v${i};`);
      });
      return lines.join("\n");
    };
    // The pipeline key: every op with its argument wiring and types (operand dtypes and
    // contiguity are added by `elementwise`).
    const wiring = nodes
      .map((n) => {
        const args = n.args.map(
          (a, j) => `${"ext" in a ? `x${a.ext}` : `v${a.node}`}:${n.argTypes[j]}`,
        );
        return `${n.key}(${args.join(",")})${n.outType}`;
      })
      .join(";");
    const name = `fused[${wiring}]>${live.map(({ i }) => i).join(",")}`;
    elementwise(this.rt, name, body, [...outputs, ...inputs]);
    if (nodes.length > 1) {
      this.fusedKernels++;
      this.fusedOps += nodes.length;
    }
  }
}
