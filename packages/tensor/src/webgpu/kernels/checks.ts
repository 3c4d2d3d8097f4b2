/**
 * Device-side index range checks (a GPU backend cannot read indices back synchronously).
 * A check kernel scans an i32 index view; the first invocation that finds a value outside
 * [0, bound) (and not the ignore value) claims a small fault buffer with a compare-and-swap
 * and records which check failed, where and what it saw. The backend reads the fault buffer
 * together with the next read the user asks for and throws the same error the host check
 * would have thrown, like CUDA's device-side asserts: the op itself ran (with clamped reads),
 * the error arrives at the next synchronisation point.
 */

import { outOfRangeMessage, type View } from "../../backend.js";
import type { GpuStorage, Runtime } from "../runtime.js";
import { bindings, entry, grid } from "../wgsl.js";

const WG = 256;

/** Words of the fault buffer: [check id + 1 (0 = no fault), position, value bits, spare]. */
export const FAULT_WORDS = 4;

/** What a recorded check was about (to word the error when it fails). */
interface PendingCheck {
  op: string;
  what: string;
  bound: number;
  ignore: number | null;
}

/**
 * The checks recorded since the fault buffer was last read, by id (the id is what a failing
 * check writes into the fault buffer).
 */
export class IndexChecks {
  private pending = new Map<number, PendingCheck>();
  private nextId = 1;

  constructor(
    private readonly rt: Runtime,
    /** The fault buffer: FAULT_WORDS u32, zeroed. */
    private readonly fault: GpuStorage,
  ) {}

  /** True when a check was recorded since the fault buffer was last read. */
  get armed(): boolean {
    return this.pending.size > 0;
  }

  /** Records a range check of the contiguous i32 view `index` (see Backend.checkIndices). */
  record(op: string, what: string, index: View, bound: number, ignore: number | null): void {
    const n = index.shape.reduce((a, b) => a * b, 1);
    if (n === 0) return;
    const id = this.nextId;
    this.nextId = id >= 0x7fffffff ? 1 : id + 1;
    this.pending.set(id, { op, what, bound, ignore });
    this.rt.dispatch({
      key: "checkIndices",
      wgsl: () => `${bindings([
        { name: "I", type: "i32", access: "r" },
        { name: "F", type: "atomic<u32>", access: "rw" },
      ])}
${entry(WG)}
  if (gi >= P[0]) { return; }
  let v = I[P[1] + gi];
  let bound = bitcast<i32>(P[3]);
  let ignored = P[5] != 0u && v == bitcast<i32>(P[4]);
  if (!ignored && (v < 0 || v >= bound)) {
    let claim = atomicCompareExchangeWeak(&F[0], 0u, P[2]);
    if (claim.exchanged) {
      atomicStore(&F[1], gi);
      atomicStore(&F[2], bitcast<u32>(v));
    }
  }
}`,
      buffers: [
        { buffer: (index.storage as GpuStorage).buffer, access: "r" },
        { buffer: this.fault.buffer, access: "rw" },
      ],
      params: [n, index.offset, id, bound | 0, ignore ?? 0, ignore === null ? 0 : 1],
      groups: grid(Math.ceil(n / WG)),
    });
  }

  /**
   * Reads the fault buffer (after everything recorded so far) and clears it in the same
   * order, so checks recorded while the read is in flight start from a clean buffer. Resolves
   * with null when every check passed, else with the error of the first failed one.
   */
  async collect(): Promise<Error | null> {
    if (this.pending.size === 0) return null;
    const checks = this.pending;
    this.pending = new Map();
    const read = this.rt.readBytes(this.fault.buffer, 0, FAULT_WORDS * 4);
    this.rt.write(this.fault.buffer, 0, new Uint32Array(FAULT_WORDS));
    const words = new Uint32Array(await read);
    const c = checks.get(words[0]);
    if (!c) return null;
    const value = new Int32Array(words.buffer, 8, 1)[0];
    return new Error(
      `${outOfRangeMessage(c.op, c.what, value, words[1], c.bound, c.ignore)} (found by a ` +
        "device-side check; reported at the first read after the op)",
    );
  }
}
