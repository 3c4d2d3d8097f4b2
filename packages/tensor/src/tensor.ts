/**
 * `Tensor`: a strided view (shape, strides, element offset) over a reference-counted device
 * buffer, plus its autograd state. Views (reshape, permute, slice, expand) share the buffer.
 */

import { type BackwardOptions, backward, type Node } from "./autograd.js";
import type { Backend, DType, HostArray, StorageFormat, View } from "./backend.js";
import { contiguousStrides, isContiguous, shapeSize } from "./backend.js";
import { refuseInCapture } from "./capture.js";
import { encode, hostArray } from "./dtype.js";
import type { DataBuffer } from "./memory.js";
import * as ops from "./ops/index.js";
import { trackTensor } from "./scope.js";

/** Nested number arrays (what `toArray` returns). */
export type NestedArray = number | NestedArray[];

export class Tensor {
  /** Marker used by scopes to find tensors in returned values. */
  readonly __isTensor = true;
  /** Whether gradients flow to this tensor. Leaves with `requiresGrad` get `.grad`. */
  requiresGrad = false;
  /** Accumulated gradient (leaves only), contiguous, same shape and backend. */
  grad: Tensor | null = null;
  /** Optional name (parameters, saved activations, error messages). */
  name: string | undefined;
  /** @internal graph node that produced this tensor */
  _node: Node | null = null;
  /** @internal which output of `_node` */
  _outIndex = 0;
  private _disposed = false;

  /** @internal use the creation functions (`tensor`, `zeros`, ...) instead. */
  constructor(
    readonly _buf: DataBuffer,
    readonly shape: readonly number[],
    readonly strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
  ) {
    _buf.retain();
    trackTensor(this);
  }

  get dtype(): DType {
    return this._buf.dtype;
  }
  get backend(): Backend {
    return this._buf.backend;
  }
  /** Number of elements. */
  get size(): number {
    return shapeSize(this.shape);
  }
  get rank(): number {
    return this.shape.length;
  }
  get disposed(): boolean {
    return this._disposed;
  }
  /** True while the values live in device memory (false on the host tier). */
  get onDevice(): boolean {
    return this._buf.onDevice;
  }
  /** True for tensors not produced by a recorded op. */
  get isLeaf(): boolean {
    return this._node === null;
  }

  /** "[2, 3] f32" (plus the name, if any): used in error messages. */
  describe(): string {
    return `${this.name ? `${this.name} ` : ""}[${this.shape.join(", ")}] ${this.dtype}`;
  }

  /**
   * The kernel view of this tensor. Throws a clear error if it was disposed; reloads it from
   * the host tier if it was moved there. @internal
   */
  _view(op: string): View {
    this._checkAlive(op);
    if (!this._buf.storage) this._buf.toDevice(op);
    return {
      storage: this._buf.storage!,
      shape: this.shape,
      strides: this.strides,
      offset: this.offset,
    };
  }

  /** Throws the "disposed tensor" error naming `op`. @internal */
  _checkAlive(op: string): void {
    if (this._disposed || this._buf.freed) {
      throw new Error(`${op}: use of a disposed tensor ${this.describe()}`);
    }
  }

  isContiguous(): boolean {
    return isContiguous(this);
  }

  /** A new handle on the same view, with no graph (internal bookkeeping, saved tensors). */
  alias(): Tensor {
    this._view("alias");
    return new Tensor(this._buf, this.shape, this.strides, this.offset);
  }

  /** @internal */
  _setNode(node: Node, index: number): void {
    this._node = node;
    this._outIndex = index;
    node.refs++;
    this.requiresGrad = true;
  }

  /** Frees this handle (and the buffer once no view or saved tensor uses it). Idempotent. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._buf.release();
    this._node?.decRef();
    this._node = null;
    this.grad?.dispose();
    this.grad = null;
  }

  /**
   * Overwrites the values in place: with host `data` (row-major, one value per element; for an
   * i32 tensor numbers are truncated), or with another tensor's values (same backend and shape;
   * a device copy, converting the dtype). This is how new inputs reach the tensors a capture
   * reads (see `capture`). The tensor must be contiguous (on the host tier it is reloaded
   * first). Tensors saved for a backward pass that has not run yet see the new values too:
   * write between steps.
   */
  write(data: HostArray | readonly number[] | Tensor): this {
    this._checkAlive("write");
    if (!this.isContiguous()) {
      throw new Error(
        `write: ${this.describe()} is a strided view; write into a contiguous tensor`,
      );
    }
    if (data instanceof Tensor) {
      if (data.backend !== this.backend || data.shape.join() !== this.shape.join()) {
        throw new Error(
          `write: the source ${data.describe()} on ${data.backend.name} must have the shape and backend of ${this.describe()} on ${this.backend.name}`,
        );
      }
      this.backend.copy(data._view("write"), this._view("write"));
      return this;
    }
    if (data.length !== this.size) {
      throw new Error(
        `write: ${data.length} values for ${this.describe()} (${this.size} elements)`,
      );
    }
    const storage = this._view("write").storage; // reloads from the host tier
    this.backend.write(storage, hostArray(this.dtype, data), this.offset);
    return this;
  }

  /** Marks a leaf as requiring grad (parameters). Returns this. */
  requireGrad(value = true): this {
    if (this._node && !value)
      throw new Error(`requireGrad(false): ${this.describe()} is not a leaf; use detach()`);
    if (value && this.dtype !== "f32")
      throw new Error(`requireGrad: only f32 tensors can require grad, got ${this.describe()}`);
    this.requiresGrad = value;
    return this;
  }

  /** Drops the gradient (`.grad = null`, disposing it). */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /** Backpropagates from this tensor (a scalar unless `grad` is given). */
  backward(grad?: Tensor, options?: BackwardOptions): void {
    backward(this, grad ?? null, options);
  }

  // ---- readback --------------------------------------------------------------------------

  /** Values as a contiguous host array (synchronous: CPU backends only). */
  data(): HostArray {
    refuseInCapture("data", "read");
    const v = this._view("data");
    if (!this.backend.readSync) {
      throw new Error(
        `data: backend "${this.backend.name}" has no synchronous read; use await dataAsync()`,
      );
    }
    return this.backend.readSync(v);
  }
  /** Values as a contiguous host array (any backend). */
  dataAsync(): Promise<HostArray> {
    refuseInCapture("dataAsync", "read");
    return this.backend.read(this._view("dataAsync"));
  }
  /** Values encoded in a storage format (bf16 / f16 bits as Uint16Array; sync). */
  dataIn(format: StorageFormat): HostArray | Uint16Array {
    return encode(this.data(), format);
  }
  /** Values as nested arrays (sync). */
  toArray(): NestedArray {
    return nest(this.data(), this.shape);
  }
  toArrayAsync(): Promise<NestedArray> {
    return this.dataAsync().then((d) => nest(d, this.shape));
  }
  /** The single value of a one-element tensor (any backend). */
  itemAsync(): Promise<number> {
    if (this.size !== 1) {
      return Promise.reject(new Error(`itemAsync: expected one element, got ${this.describe()}`));
    }
    return this.dataAsync().then((d) => d[0]);
  }
  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: expected one element, got ${this.describe()}`);
    return this.data()[0];
  }

  // ---- memory tiers ----------------------------------------------------------------------

  /**
   * Moves the underlying buffer (shared with every view of it) to the host tier, freeing
   * device memory; f32 buffers can be stored as "bf16" or "f16" there (lossy). The next use
   * reloads it; `toDevice()` reloads it explicitly. Returns this.
   */
  toHost(format?: StorageFormat): this {
    this._checkAlive("toHost");
    refuseInCapture("toHost", "read");
    this._buf.toHost(format);
    return this;
  }
  async toHostAsync(format?: StorageFormat): Promise<this> {
    this._checkAlive("toHostAsync");
    refuseInCapture("toHostAsync", "read");
    await this._buf.toHostAsync(format);
    return this;
  }
  toDevice(): this {
    this._view("toDevice");
    return this;
  }

  // ---- op shorthands (see ops/ for documentation) -----------------------------------------

  add(b: Tensor | number): Tensor {
    return ops.add(this, b);
  }
  sub(b: Tensor | number): Tensor {
    return ops.sub(this, b);
  }
  mul(b: Tensor | number): Tensor {
    return ops.mul(this, b);
  }
  div(b: Tensor | number): Tensor {
    return ops.div(this, b);
  }
  pow(b: Tensor | number): Tensor {
    return ops.pow(this, b);
  }
  neg(): Tensor {
    return ops.neg(this);
  }
  exp(): Tensor {
    return ops.exp(this);
  }
  log(): Tensor {
    return ops.log(this);
  }
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  tanh(): Tensor {
    return ops.tanh(this);
  }
  relu(): Tensor {
    return ops.relu(this);
  }
  matmul(b: Tensor): Tensor {
    return ops.matmul(this, b);
  }
  sum(axes?: number | number[], keepdim = false): Tensor {
    return ops.sum(this, axes, keepdim);
  }
  mean(axes?: number | number[], keepdim = false): Tensor {
    return ops.mean(this, axes, keepdim);
  }
  max(axes?: number | number[], keepdim = false): Tensor {
    return ops.max(this, axes, keepdim);
  }
  reshape(shape: readonly number[]): Tensor {
    return ops.reshape(this, shape);
  }
  permute(dims: readonly number[]): Tensor {
    return ops.permute(this, dims);
  }
  transpose(a = -2, b = -1): Tensor {
    return ops.transpose(this, a, b);
  }
  slice(axis: number, start: number, end?: number, step = 1): Tensor {
    return ops.slice(this, axis, start, end, step);
  }
  expand(shape: readonly number[]): Tensor {
    return ops.expand(this, shape);
  }
  squeeze(axis?: number): Tensor {
    return ops.squeeze(this, axis);
  }
  unsqueeze(axis: number): Tensor {
    return ops.unsqueeze(this, axis);
  }
  flatten(start = 0, end = -1): Tensor {
    return ops.flatten(this, start, end);
  }
  contiguous(): Tensor {
    return ops.contiguous(this);
  }
  clone(): Tensor {
    return ops.clone(this);
  }
  detach(): Tensor {
    return ops.detach(this);
  }
  cast(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }
  /** This tensor as f16 storage (half the device bytes on WebGPU); itself if already f16. */
  half(): Tensor {
    return ops.cast(this, "f16");
  }
  /** This tensor as f32; itself if already f32. */
  float(): Tensor {
    return ops.cast(this, "f32");
  }
  softmax(axis = -1): Tensor {
    return ops.softmax(this, axis);
  }
  logSoftmax(axis = -1): Tensor {
    return ops.logSoftmax(this, axis);
  }

  toString(): string {
    return `Tensor(${this.describe()}${this.requiresGrad ? ", requiresGrad" : ""})`;
  }
}

function nest(values: HostArray, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return values[0];
  const rec = (dim: number, off: number): NestedArray[] => {
    const n = shape[dim];
    const inner = shapeSize(shape.slice(dim + 1));
    const out: NestedArray[] = [];
    for (let i = 0; i < n; i++) {
      out.push(dim === shape.length - 1 ? values[off + i] : rec(dim + 1, off + i * inner));
    }
    return out;
  };
  return rec(0, 0);
}
