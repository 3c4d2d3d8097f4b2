/// <reference types="@webgpu/types" />
/**
 * A cache of bind groups keyed by the identity of what they bind: (layout, parameter binding
 * size, parameter buffer, bound buffers in binding order). It is a trie of Maps over those
 * objects, so a lookup costs one Map probe per key and builds no string. Entries binding a
 * buffer are dropped when the runtime destroys that buffer ({@link BindGroupCache.forget});
 * past `max` entries the least recently used half is dropped.
 */

interface Node {
  next: Map<unknown, Node> | null;
  entry: Entry | null;
}

interface Entry {
  group: GPUBindGroup;
  /** The trie path: layout, size, parameter buffer, bound buffers. */
  keys: unknown[];
  /** Every GPUBuffer the group binds (the parameter buffer first). */
  buffers: GPUBuffer[];
  lastUse: number;
}

/** A bound buffer, as in `Dispatch.buffers`. */
interface Bound {
  buffer: GPUBuffer;
}

export class BindGroupCache {
  private root: Node = { next: null, entry: null };
  private entries = new Set<Entry>();
  private byBuffer = new Map<GPUBuffer, Set<Entry>>();
  private clock = 0;
  /** Lookups that found a group. */
  hits = 0;
  /** Lookups that did not (each followed by an insert). */
  misses = 0;

  constructor(readonly max: number) {
    if (!(max >= 2)) throw new Error(`BindGroupCache: max must be at least 2, got ${max}`);
  }

  /** Groups held now. */
  get size(): number {
    return this.entries.size;
  }

  /** The cached group binding exactly these objects, or null. */
  find(
    layout: GPUBindGroupLayout,
    size: number,
    params: GPUBuffer,
    buffers: readonly Bound[],
  ): GPUBindGroup | null {
    let node = this.root.next?.get(layout);
    node = node?.next?.get(size);
    node = node?.next?.get(params);
    for (let i = 0; node && i < buffers.length; i++) node = node.next?.get(buffers[i].buffer);
    const e = node?.entry;
    if (!e) {
      this.misses++;
      return null;
    }
    this.hits++;
    e.lastUse = ++this.clock;
    return e.group;
  }

  /** Caches `group` as the one binding these objects (after a {@link find} miss). */
  insert(
    layout: GPUBindGroupLayout,
    size: number,
    params: GPUBuffer,
    buffers: readonly Bound[],
    group: GPUBindGroup,
  ): void {
    const keys: unknown[] = [layout, size, params];
    for (const b of buffers) keys.push(b.buffer);
    let node = this.root;
    for (const k of keys) {
      if (!node.next) node.next = new Map();
      let child = node.next.get(k);
      if (!child) {
        child = { next: null, entry: null };
        node.next.set(k, child);
      }
      node = child;
    }
    if (node.entry) {
      // the same objects: the buffers are the same, only the group changes
      node.entry.group = group;
      node.entry.lastUse = ++this.clock;
      return;
    }
    const e: Entry = {
      group,
      keys,
      buffers: [params, ...buffers.map((b) => b.buffer)],
      lastUse: ++this.clock,
    };
    node.entry = e;
    this.entries.add(e);
    for (const b of e.buffers) {
      let set = this.byBuffer.get(b);
      if (!set) {
        set = new Set();
        this.byBuffer.set(b, set);
      }
      set.add(e);
    }
    if (this.entries.size > this.max) this.evictOldestHalf();
  }

  /** Drops every group that binds `buffer` (call before destroying it). */
  forget(buffer: GPUBuffer): void {
    const set = this.byBuffer.get(buffer);
    if (!set) return;
    for (const e of [...set]) this.remove(e);
  }

  clear(): void {
    this.root = { next: null, entry: null };
    this.entries = new Set();
    this.byBuffer = new Map();
  }

  private evictOldestHalf(): void {
    const sorted = [...this.entries].sort((a, b) => a.lastUse - b.lastUse);
    for (const e of sorted.slice(0, sorted.length >> 1)) this.remove(e);
  }

  private remove(e: Entry): void {
    // walk the path, then prune nodes left with neither an entry nor children
    const path: Node[] = [this.root];
    for (const k of e.keys) {
      const child = path[path.length - 1].next?.get(k);
      if (!child) break;
      path.push(child);
    }
    const leaf = path[path.length - 1];
    if (path.length === e.keys.length + 1 && leaf.entry === e) leaf.entry = null;
    for (let i = path.length - 1; i > 0; i--) {
      const n = path[i];
      if (n.entry || (n.next && n.next.size > 0)) break;
      path[i - 1].next?.delete(e.keys[i - 1]);
    }
    this.entries.delete(e);
    for (const b of e.buffers) {
      const set = this.byBuffer.get(b);
      if (!set) continue;
      set.delete(e);
      if (set.size === 0) this.byBuffer.delete(b);
    }
  }
}
