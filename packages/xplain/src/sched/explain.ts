/**
 * Why SP-PIFO serves packets out of rank order on an input: each inversion, classified by its
 * cause, with the queue bounds that let the packets in. Structured data plus a short text.
 *
 * An inversion (a leaves while b, of lower rank, waits) has one of two causes:
 * - `queue-bounds`: b sits in a lower-priority queue than a. When b arrived, the bound of
 *   some lower-priority queue was <= b's rank (push-up put it there), while a had entered a
 *   higher-priority queue whose bound was <= a's rank at its own arrival.
 * - `fifo`: a and b share a queue and a arrived first: the queue mixes ranks (its bound let
 *   a in earlier, or a push-down put b behind a).
 * (b in a higher-priority queue than a cannot be inverted: strict priority serves it first.)
 */
import { compareSchedulers, type Inversion, type ScheduleOptions } from "./simulate.js";

export interface ExplainedInversion extends Inversion {
  earlyRank: number;
  lateRank: number;
  earlyQueue: number;
  lateQueue: number;
  cause: "queue-bounds" | "fifo";
  /** Bounds when each packet arrived. */
  earlyBounds: number[];
  lateBounds: number[];
  lateWasPushDown: boolean;
}

export interface SchedExplanation {
  ranks: number[];
  queues: number;
  pifoOrder: number[];
  spPifoOrder: number[];
  /** Every packet: its SP-PIFO queue, the bounds it met, and its departure slot in each. */
  packets: {
    packet: number;
    rank: number;
    queue: number;
    boundsOnArrival: number[];
    pushDown: number;
    pifoSlot: number;
    spPifoSlot: number;
  }[];
  inversions: ExplainedInversion[];
  byCause: { "queue-bounds": number; fifo: number };
  pushDowns: { packet: number; rank: number; cost: number }[];
  /** Packets most often overtaken by higher-rank packets, most first. */
  mostDelayed: { packet: number; rank: number; overtakenBy: number }[];
  weightedDelayGap: number;
  text: string;
}

export function explainSpPifo(
  ranks: readonly number[],
  queues: number,
  o: ScheduleOptions & { maxRank?: number } = {},
): SchedExplanation {
  const c = compareSchedulers(ranks, queues, o);
  const ps = c.spPifo.packets;
  const inv: ExplainedInversion[] = c.inversions.map((x) => {
    const a = ps[x.early]!;
    const b = ps[x.late]!;
    return {
      ...x,
      earlyRank: a.rank,
      lateRank: b.rank,
      earlyQueue: a.queue!,
      lateQueue: b.queue!,
      cause: a.queue! < b.queue! ? "queue-bounds" : "fifo",
      earlyBounds: a.boundsOnArrival!,
      lateBounds: b.boundsOnArrival!,
      lateWasPushDown: (b.pushDown ?? 0) > 0,
    };
  });
  const byCause = {
    "queue-bounds": inv.filter((x) => x.cause === "queue-bounds").length,
    fifo: inv.filter((x) => x.cause === "fifo").length,
  };
  const pushDowns = ps.flatMap((p) =>
    (p.pushDown ?? 0) > 0 ? [{ packet: p.packet, rank: p.rank, cost: p.pushDown! }] : [],
  );
  const counts = new Map<number, number>();
  for (const x of inv) counts.set(x.late, (counts.get(x.late) ?? 0) + 1);
  const mostDelayed = [...counts]
    .map(([packet, overtakenBy]) => ({ packet, rank: ranks[packet]!, overtakenBy }))
    .sort((a, b) => b.overtakenBy - a.overtakenBy || a.packet - b.packet);

  const lines: string[] = [];
  const b = (xs: number[]) => `[${xs.join(", ")}]`;
  lines.push(
    `SP-PIFO with ${queues} queues serves ${inv.length} packet pair${inv.length === 1 ? "" : "s"} out of rank order (PIFO: none); priority-weighted delay is ${c.weightedDelayGap} higher.`,
  );
  if (inv.length) {
    lines.push(
      `${byCause["queue-bounds"]} inversion(s) come from the queue bounds (the lower-rank packet was admitted to a lower-priority queue), ${byCause.fifo} from FIFO order inside one queue.`,
    );
    const ex = inv.find((x) => x.cause === "queue-bounds") ?? inv[0]!;
    if (ex.cause === "queue-bounds") {
      lines.push(
        `E.g. packet ${ex.early} (rank ${ex.earlyRank}) entered queue ${ex.earlyQueue} when the bounds were ${b(ex.earlyBounds)}; packet ${ex.late} (rank ${ex.lateRank}) arrived when the bounds were ${b(ex.lateBounds)}: queue ${ex.lateQueue}'s bound ${ex.lateBounds[ex.lateQueue]} was already <= ${ex.lateRank}, so push-up stopped at that lower-priority queue and packet ${ex.late} waited while packet ${ex.early} left.`,
      );
    } else {
      lines.push(
        `E.g. packets ${ex.early} (rank ${ex.earlyRank}) and ${ex.late} (rank ${ex.lateRank}) share queue ${ex.earlyQueue}; ${ex.late} arrived later${ex.lateWasPushDown ? " with a rank below every bound (a push-down put it at the back of the top queue)" : ""}, so FIFO serves ${ex.early} first.`,
      );
    }
    const md = mostDelayed[0]!;
    lines.push(
      `Packet ${md.packet} (rank ${md.rank}) is overtaken most: by ${md.overtakenBy} higher-rank packet(s).`,
    );
  }
  if (pushDowns.length)
    lines.push(
      `${pushDowns.length} push-down(s) lowered every bound (by ${pushDowns.map((p) => p.cost).join(", ")}), letting high ranks into high-priority queues afterwards.`,
    );
  return {
    ranks: [...ranks],
    queues,
    pifoOrder: c.pifo.order,
    spPifoOrder: c.spPifo.order,
    packets: ps.map((p) => ({
      packet: p.packet,
      rank: p.rank,
      queue: p.queue!,
      boundsOnArrival: p.boundsOnArrival!,
      pushDown: p.pushDown ?? 0,
      pifoSlot: c.pifo.packets[p.packet]!.slot,
      spPifoSlot: p.slot,
    })),
    inversions: inv,
    byCause,
    pushDowns,
    mostDelayed,
    weightedDelayGap: c.weightedDelayGap,
    text: lines.join(" "),
  };
}
