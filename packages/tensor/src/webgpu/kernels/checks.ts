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
    const check = { op, what, bound, ignore };
    this.pending.set(id, check);
    // a replay of a capture runs this kernel again: arm its check again too
    this.rt.onReplay(() => this.pending.set(id, check));
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
   * Starts reading the checks recorded so far: null when there are none; else the fault
   * buffer's range (read it with the data it guards, in the same submit) and `finish`, which
   * clears the buffer (call it right after the read is recorded, so checks recorded later start
   * from a clean buffer) and, given the words read, returns the first failed check's error.
   */
  begin(): {
    range: { buffer: GPUBuffer; offset: number; bytes: number };
    clear: () => void;
    finish: (bytes: ArrayBuffer) => Error | null;
  } | null {
    if (this.pending.size === 0) return null;
    const checks = this.pending;
    this.pending = new Map();
    return {
      range: { buffer: this.fault.buffer, offset: 0, bytes: FAULT_WORDS * 4 },
      clear: () => this.rt.write(this.fault.buffer, 0, new Uint32Array(FAULT_WORDS)),
      finish: (bytes) => {
        const words = new Uint32Array(bytes);
        const c = checks.get(words[0]);
        if (!c) return null;
        const value = new Int32Array(bytes, 8, 1)[0];
        return new Error(
          `${outOfRangeMessage(c.op, c.what, value, words[1], c.bound, c.ignore)} (found by a ` +
            "device-side check; reported at the first read after the op)",
        );
      },
    };
  }

  /** Reads the fault buffer alone (after everything recorded so far); see {@link begin}. */
  async collect(): Promise<Error | null> {
    const check = this.begin();
    if (!check) return null;
    const read = this.rt.readBytes(check.range.buffer, check.range.offset, check.range.bytes);
    check.clear();
    return check.finish(await read);
  }
}
