/**
 * Reverse-mode autograd.
 *
 * Each differentiable op on tensors that require grad records a `Node` on its output: the
 * backward function, edges to its inputs' nodes (or leaf tensors), and the tensors it saved.
 * The graph owns its saved tensors (it holds a reference to their buffers), so `tidy` can
 * dispose intermediate *handles* freely. Saved buffers are released when backward has run
 * through a node (unless `retainGraph`), or when every tensor that can reach the node is gone.
 *
 * Saved tensors pass through the innermost saved-tensor hooks (`withSavedTensorHooks`), like
 * PyTorch's `saved_tensors_hooks`: that is how activations get names, stay alive for a later
 * backward pass, and move to the host tier (see `ActivationStore`).
 */

import { keep, tidy } from "./scope.js";
import type { Tensor } from "./tensor.js";

let gradEnabled = true;

/** True when ops record the graph. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording the graph (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  return withGradEnabled(false, fn);
}

/** Runs `fn` with recording switched on or off. */
export function withGradEnabled<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** A tensor saved for backward, as packed by the active hooks. */
export interface SavedTensor {
  /** The tensor (unpacked, e.g. reloaded from the host tier). */
  get(): Tensor;
  release(): void;
}

/** Hooks applied to every tensor an op saves for backward. */
export interface SavedTensorHooks {
  /** Called when an op saves `t`; returns what the graph stores instead. */
  pack(t: Tensor, op: string): unknown;
  /** Turns a packed value back into a tensor at backward time. */
  unpack(packed: unknown): Tensor;
  /** Releases a packed value once the graph no longer needs it. */
  release?(packed: unknown): void;
}

const hookStack: SavedTensorHooks[] = [];

/** Runs `fn` with `hooks` applied to every tensor saved for backward. */
export function withSavedTensorHooks<T>(hooks: SavedTensorHooks, fn: () => T): T {
  hookStack.push(hooks);
  try {
    return fn();
  } finally {
    hookStack.pop();
  }
}

/** Saves a tensor for backward (an alias that keeps its buffer alive). Internal to ops. */
export function save(t: Tensor, op: string): SavedTensor {
  const hooks = hookStack[hookStack.length - 1];
  if (!hooks) {
    let alias: Tensor | null = keep(t.alias());
    return {
      get: () => {
        if (!alias)
          throw new Error(
            `${op} backward: saved tensor was already released (pass retainGraph to backward twice)`,
          );
        return alias;
      },
      release: () => {
        alias?.dispose();
        alias = null;
      },
    };
  }
  let packed: unknown = hooks.pack(t, op);
  return {
    get: () => {
      if (packed === undefined)
        throw new Error(`${op} backward: saved tensor was already released`);
      return hooks.unpack(packed);
    },
    release: () => {
      if (packed !== undefined) hooks.release?.(packed);
      packed = undefined;
    },
  };
}

type Edge = { node: Node; index: number } | { leaf: Tensor } | null;

/** Computes input gradients from output gradients (null for inputs needing none). */
export type BackwardFn = (grads: Tensor[]) => (Tensor | null)[];

/** A recorded op in the graph. */
export class Node {
  refs = 0;
  consumed = false;
  released = false;

  constructor(
    readonly op: string,
    readonly edges: Edge[],
    readonly outputs: { shape: readonly number[] }[],
    private backwardFn: BackwardFn | null,
    private saved: SavedTensor[],
  ) {
    for (const e of edges) if (e && "node" in e) e.node.refs++;
  }

  run(grads: Tensor[]): (Tensor | null)[] {
    if (!this.backwardFn) {
      throw new Error(
        `${this.op} backward: the graph was already freed by an earlier backward; pass { retainGraph: true } to backward to run it twice`,
      );
    }
    return this.backwardFn(grads);
  }

  /** Frees saved tensors (after backward). */
  freeSaved(): void {
    for (const s of this.saved) s.release();
    this.saved = [];
    this.backwardFn = null;
    this.consumed = true;
  }

  decRef(): void {
    if (--this.refs > 0 || this.released) return;
    this.released = true;
    this.freeSaved();
    for (const e of this.edges) if (e && "node" in e) e.node.decRef();
  }
}

/** True if grad recording is on and any input requires grad. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t?.requiresGrad) return true;
  return false;
}

/**
 * Records `outputs` as produced by `op` from `inputs` (internal to ops). The backward function
 * receives one gradient per output (zeros when an output got none) and returns one per input.
 */
export function attach(
  op: string,
  inputs: (Tensor | null)[],
  outputs: Tensor[],
  backward: BackwardFn,
  saved: SavedTensor[] = [],
): void {
  const edges: Edge[] = inputs.map((t) => {
    if (!t?.requiresGrad) return null;
    if (t._node) return { node: t._node, index: t._outIndex };
    return { leaf: t };
  });
  const node = new Node(
    op,
    edges,
    outputs.map((o) => ({ shape: o.shape })),
    backward,
    saved,
  );
  outputs.forEach((o, i) => {
    o._setNode(node, i);
  });
}

export interface BackwardOptions {
  /** Keep saved tensors so backward can run through the graph again. */
  retainGraph?: boolean;
}

/** Internal hooks the engine needs from tensor ops (set by ops.ts to avoid an import cycle). */
export const engineOps: {
  add: (a: Tensor, b: Tensor) => Tensor;
  onesLike: (t: Tensor) => Tensor;
  zeros: (shape: readonly number[], like: Tensor) => Tensor;
  contiguous: (t: Tensor) => Tensor;
} = {
  add: () => {
    throw new Error("ops not loaded");
  },
  onesLike: () => {
    throw new Error("ops not loaded");
  },
  zeros: () => {
    throw new Error("ops not loaded");
  },
  contiguous: () => {
    throw new Error("ops not loaded");
  },
};

/**
 * Backpropagates from `roots` (with `grads`, default ones for each root) and accumulates into
 * the `.grad` of every leaf that requires grad.
 */
export function backward(
  roots: Tensor | Tensor[],
  grads?: Tensor | (Tensor | null)[] | null,
  options: BackwardOptions = {},
): void {
  const rs = Array.isArray(roots) ? roots : [roots];
  const gs: (Tensor | null)[] =
    grads == null ? rs.map(() => null) : Array.isArray(grads) ? grads : [grads];
  tidy(() =>
    noGrad(() => {
      const pending = new Map<Node, (Tensor | null)[]>();
      const leafGrads = new Map<Tensor, Tensor>();
      // Gradients are freed as soon as nothing needs them (not at the end of backward), so
      // peak memory stays near the forward's saved activations. `held` counts the slots that
      // reference a gradient; caller-provided root gradients are never freed.
      const held = new Map<Tensor, number>();
      const callerOwned = new Set<Tensor>(gs.filter((g): g is Tensor => g !== null));
      const hold = (t: Tensor) => held.set(t, (held.get(t) ?? 0) + 1);
      const unhold = (t: Tensor) => {
        const n = (held.get(t) ?? 1) - 1;
        if (n <= 0) held.delete(t);
        else held.set(t, n);
      };
      const release = (t: Tensor) => {
        if (!held.has(t) && !callerOwned.has(t)) t.dispose();
      };
      const accumulate = (prev: Tensor | undefined | null, g: Tensor): Tensor => {
        if (!prev) {
          hold(g);
          return g;
        }
        const sum = engineOps.add(prev, g);
        unhold(prev);
        release(prev);
        hold(sum);
        return sum;
      };
      const addTo = (edge: Edge, g: Tensor) => {
        if (!edge) return;
        if ("leaf" in edge) {
          leafGrads.set(edge.leaf, accumulate(leafGrads.get(edge.leaf), g));
          return;
        }
        let slot = pending.get(edge.node);
        if (!slot) {
          slot = edge.node.outputs.map(() => null);
          pending.set(edge.node, slot);
        }
        slot[edge.index] = accumulate(slot[edge.index], g);
      };
      rs.forEach((r, i) => {
        if (!r.requiresGrad)
          throw new Error(`backward: tensor ${r.describe()} does not require grad`);
        const g = gs[i] ?? (r.size === 1 ? engineOps.onesLike(r) : null);
        if (!g) {
          throw new Error(`backward: grad must be given for non-scalar root ${r.describe()}`);
        }
        if (g.shape.join() !== r.shape.join()) {
          throw new Error(`backward: grad shape [${g.shape}] does not match root ${r.describe()}`);
        }
        addTo(r._node ? { node: r._node, index: r._outIndex } : { leaf: r }, g);
      });
      // Topological order over nodes reachable from the roots.
      const order: Node[] = [];
      const visited = new Set<Node>();
      const stack: [Node, number][] = [];
      for (const r of rs)
        if (r._node && !visited.has(r._node)) {
          visited.add(r._node);
          stack.push([r._node, 0]);
          while (stack.length) {
            const top = stack[stack.length - 1];
            const [n, i] = top;
            if (i < n.edges.length) {
              top[1]++;
              const e = n.edges[i];
              if (e && "node" in e && !visited.has(e.node)) {
                visited.add(e.node);
                stack.push([e.node, 0]);
              }
            } else {
              stack.pop();
              order.push(n);
            }
          }
        }
      for (let k = order.length - 1; k >= 0; k--) {
        const node = order[k];
        const slot = pending.get(node);
        pending.delete(node);
        if (!slot) continue;
        const outGrads = slot.map(
          (g, i) => g ?? engineOps.zeros(node.outputs[i].shape, slot.find((x) => x)!),
        );
        for (const g of slot) if (g) unhold(g);
        // A node's temporaries (and unpacked saved tensors) go when it has run, not at the end.
        const inGrads = tidy(() => node.run(outGrads));
        if (!options.retainGraph) node.freeSaved();
        node.edges.forEach((e, i) => {
          const g = inGrads[i];
          if (e && g) addTo(e, g);
        });
        for (const g of new Set([...outGrads, ...inGrads])) if (g) release(g);
      }
      for (const [leaf, g] of leafGrads) {
        if (leaf.disposed) continue;
        const gc =
          g.isContiguous() && g.offset === 0 && g.size === g._buf.size
            ? g
            : engineOps.contiguous(g);
        if (leaf.grad) {
          const sum = engineOps.add(leaf.grad, gc);
          leaf.grad.dispose();
          leaf.grad = keep(sum);
        } else leaf.grad = keep(gc === g ? g.alias() : gc);
      }
    }),
  );
}
