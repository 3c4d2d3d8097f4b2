/**
 * Named saved activations. Inside `store.capture(name, fn)`, every tensor an op saves for
 * backward is registered under `name/op#k`, can be inspected, kept beyond backward, moved to
 * the host tier (in forward order) and reloaded lazily (in backward order) when the graph
 * needs it. This is the hook Alchemist uses to reuse serving activations for training.
 */

import { type SavedTensorHooks, withSavedTensorHooks } from "./autograd.js";
import type { StorageFormat } from "./backend.js";
import { keep } from "./scope.js";
import type { Tensor } from "./tensor.js";

export interface SavedActivation {
  /** `scope/op#k`, e.g. "block0/attn/matmul#1". */
  readonly name: string;
  /** The op that saved it. */
  readonly op: string;
  /** The saved tensor (a handle sharing the activation's buffer). */
  readonly tensor: Tensor;
  /** True once the graph has released it (backward ran) and the store is not keeping it. */
  released: boolean;
}

export interface ActivationStoreOptions {
  /** Keep activations after backward has used them (until `clear`). Default false. */
  keepAfterBackward?: boolean;
  /** Host-tier format for f32 activations in `offload` (default "f32"; "bf16" halves bytes). */
  hostFormat?: StorageFormat;
  /**
   * Device storage of the saved f32 activations: "f32" (default, exact) or "f16": half the
   * bytes, and backward computes with the f16-rounded values (as with half-precision
   * activations in mixed-precision training). Parameters (leaves that require grad) are saved
   * as they are; every other f32 tensor saved inside a capture, inputs included, is stored as
   * an f16 copy, so the saving is real once the f32 originals are freed (per-layer `tidy`).
   * `get` returns the stored tensor (f16 then).
   */
  deviceDType?: "f32" | "f16";
}

export class ActivationStore {
  private readonly list: SavedActivation[] = [];
  private readonly byName = new Map<string, SavedActivation>();
  private readonly prefix: string[] = [];
  private readonly counters = new Map<string, number>();
  /** The f16 copy made for each saved view (an activation saved by two ops is copied once). */
  private readonly halves = new WeakMap<object, Map<string, Tensor>>();

  constructor(private readonly options: ActivationStoreOptions = {}) {}

  /** Runs `fn`, naming the tensors its ops save under `name` (nested captures join names with "/"). */
  capture<T>(name: string, fn: () => T): T {
    this.prefix.push(name);
    const hooks: SavedTensorHooks = {
      pack: (t, op) => {
        const scope = this.prefix.join("/");
        const key = `${scope}/${op}`;
        const k = this.counters.get(key) ?? 0;
        this.counters.set(key, k + 1);
        // Parameters (leaves that take gradients) stay as they are; everything else is rounded.
        const half =
          this.options.deviceDType === "f16" && t.dtype === "f32" && !(t.isLeaf && t.requiresGrad);
        const entry: SavedActivation = {
          name: `${key}#${k}`,
          op,
          tensor: keep(half ? this.halfOf(t) : t.alias()),
          released: false,
        };
        this.list.push(entry);
        this.byName.set(entry.name, entry);
        return entry;
      },
      unpack: (packed) => {
        const t = (packed as SavedActivation).tensor;
        return t.dtype === "f16" ? t.float() : t; // freed by backward's scope
      },
      release: (packed) => {
        const e = packed as SavedActivation;
        if (!this.options.keepAfterBackward) this.drop(e);
      },
    };
    try {
      return withSavedTensorHooks(hooks, fn);
    } finally {
      this.prefix.pop();
    }
  }

  /** An f16 copy of `t`, shared with earlier entries that saved the same view. */
  private halfOf(t: Tensor): Tensor {
    let views = this.halves.get(t._buf);
    if (!views) {
      views = new Map();
      this.halves.set(t._buf, views);
    }
    const key = `${t.shape}|${t.strides}|${t.offset}`;
    const copy = views.get(key);
    if (copy && !copy.disposed) return copy.alias();
    const made = t.half();
    views.set(key, made);
    return made;
  }

  private drop(e: SavedActivation): void {
    if (e.released) return;
    e.released = true;
    e.tensor.dispose();
    this.byName.delete(e.name);
    const i = this.list.indexOf(e);
    if (i >= 0) this.list.splice(i, 1);
  }

  /** Live saved activations, in forward order. */
  entries(): readonly SavedActivation[] {
    return this.list;
  }

  /** Names of the live saved activations, in forward order. */
  names(): string[] {
    return this.list.map((e) => e.name);
  }

  /** The saved tensor registered under `name`. */
  get(name: string): Tensor {
    const e = this.byName.get(name);
    if (!e)
      throw new Error(
        `ActivationStore.get: no saved activation "${name}" (have ${this.list.length}: ${this.names().slice(0, 8).join(", ")}${this.list.length > 8 ? ", ..." : ""})`,
      );
    return e.tensor;
  }

  /** Moves every saved activation to the host tier, in forward order. Returns host bytes. */
  offload(format: StorageFormat | undefined = this.options.hostFormat): number {
    for (const e of this.list) if (e.tensor.onDevice) e.tensor.toHost(format);
    return this.hostBytes();
  }

  /** Moves every saved activation back to the device, in backward (reverse) order. */
  reload(): void {
    for (let i = this.list.length - 1; i >= 0; i--) this.list[i].tensor.toDevice();
  }

  /** Bytes of saved activations on the host tier (distinct buffers). */
  hostBytes(): number {
    const seen = new Set<unknown>();
    let n = 0;
    for (const e of this.list) {
      const b = e.tensor._buf;
      if (seen.has(b) || b.onDevice) continue;
      seen.add(b);
      n += b.bytes;
    }
    return n;
  }

  /** Bytes of saved activations in device memory (distinct buffers). */
  deviceBytes(): number {
    const seen = new Set<unknown>();
    let n = 0;
    for (const e of this.list) {
      const b = e.tensor._buf;
      if (seen.has(b) || !b.onDevice) continue;
      seen.add(b);
      n += b.bytes;
    }
    return n;
  }

  /** Releases every activation the store holds (the graph keeps its own references). */
  clear(): void {
    for (const e of [...this.list]) this.drop(e);
    this.counters.clear();
  }
}
