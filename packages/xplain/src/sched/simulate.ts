/**
 * Packet scheduling: PIFO (an ideal priority queue: every dequeue takes the lowest rank
 * waiting, FIFO among equal ranks) and SP-PIFO (Alcoz et al., NSDI 2020), which approximates
 * it with Q strict-priority FIFO queues and adaptive per-queue bounds:
 *
 * - enqueue a packet of rank r: scan the queues from the lowest priority up to the
 *   highest (0) and put it in the first queue whose bound is <= r, then set that bound to r
 *   ("push-up");
 * - if r is below every bound (the highest-priority queue's bound too), put it in queue 0
 *   and lower every bound by `bound[0] - r` ("push-down");
 * - dequeue: the head of the highest-priority non-empty queue.
 *
 * The arrival/dequeue schedule is shared by both: packet i arrives at step i, and after every
 * `dequeueEvery` arrivals one packet leaves (0: all arrive before the first dequeue); the
 * rest drain after the last arrival. Queues are unbounded (no drops).
 */

export interface ScheduleOptions {
  /** One dequeue after every this many arrivals (default 2; 0: all arrive first). */
  dequeueEvery?: number;
}

export interface PacketTrace {
  packet: number;
  rank: number;
  /** Event index of the arrival and of the departure (one shared event clock). */
  arrivedAt: number;
  departedAt: number;
  /** Position in the departure order (0 = first out). */
  slot: number;
  /** SP-PIFO only: the queue it entered (0 = highest priority). */
  queue?: number;
  /** SP-PIFO only: the queue bounds when it arrived. */
  boundsOnArrival?: number[];
  /** SP-PIFO only: the push-down it caused (0 when it was a push-up). */
  pushDown?: number;
}

export interface ScheduleResult {
  scheduler: "pifo" | "sp-pifo";
  /** Packet indices in departure order. */
  order: number[];
  packets: PacketTrace[];
  /** SP-PIFO only: the bounds after the last arrival. */
  finalBounds?: number[];
}

export function validateRanks(ranks: readonly number[]): void {
  if (ranks.length === 0) throw new Error("no packets: give at least one rank");
  ranks.forEach((r, i) => {
    if (!(Number.isFinite(r) && r >= 0))
      throw new Error(`packet ${i} has rank ${r}; ranks must be finite and >= 0`);
  });
}

function checkSchedule(o: ScheduleOptions): number {
  const k = o.dequeueEvery ?? 2;
  if (!(Number.isInteger(k) && k >= 0))
    throw new Error(`dequeueEvery must be an integer >= 0, got ${k}`);
  return k;
}

interface Discipline {
  push(i: number): void;
  pop(): number | undefined;
}

/** Runs the shared arrival/dequeue schedule over a queueing discipline. */
function run(
  ranks: readonly number[],
  o: ScheduleOptions,
  d: Discipline,
  packets: PacketTrace[],
): number[] {
  const every = checkSchedule(o);
  let clock = 0;
  const order: number[] = [];
  const dequeue = () => {
    const i = d.pop();
    if (i === undefined) return;
    packets[i]!.departedAt = clock++;
    packets[i]!.slot = order.length;
    order.push(i);
  };
  ranks.forEach((_, i) => {
    packets[i]!.arrivedAt = clock++;
    d.push(i);
    if (every > 0 && (i + 1) % every === 0) dequeue();
  });
  while (order.length < ranks.length) dequeue();
  return order;
}

const blank = (ranks: readonly number[]): PacketTrace[] =>
  ranks.map((rank, packet) => ({ packet, rank, arrivedAt: -1, departedAt: -1, slot: -1 }));

export function simulatePifo(ranks: readonly number[], o: ScheduleOptions = {}): ScheduleResult {
  validateRanks(ranks);
  const waiting: number[] = [];
  const packets = blank(ranks);
  const order = run(
    ranks,
    o,
    {
      push: (i) => waiting.push(i),
      pop: () => {
        if (waiting.length === 0) return undefined;
        let best = 0;
        for (let k = 1; k < waiting.length; k++) {
          const a = waiting[k]!;
          const b = waiting[best]!;
          if (ranks[a]! < ranks[b]! || (ranks[a] === ranks[b] && a < b)) best = k;
        }
        return waiting.splice(best, 1)[0];
      },
    },
    packets,
  );
  return { scheduler: "pifo", order, packets };
}

export function simulateSpPifo(
  ranks: readonly number[],
  queues: number,
  o: ScheduleOptions = {},
): ScheduleResult {
  validateRanks(ranks);
  if (!(Number.isInteger(queues) && queues >= 1))
    throw new Error(`queues must be a positive integer, got ${queues}`);
  const bounds = new Array<number>(queues).fill(0);
  const qs: number[][] = Array.from({ length: queues }, () => []);
  const packets = blank(ranks);
  const order = run(
    ranks,
    o,
    {
      push: (i) => {
        const r = ranks[i]!;
        const p = packets[i]!;
        p.boundsOnArrival = [...bounds];
        for (let q = queues - 1; q >= 0; q--) {
          if (r >= bounds[q]!) {
            qs[q]!.push(i);
            bounds[q] = r;
            p.queue = q;
            p.pushDown = 0;
            return;
          }
        }
        const cost = bounds[0]! - r;
        for (let q = 0; q < queues; q++) bounds[q]! -= cost;
        qs[0]!.push(i);
        p.queue = 0;
        p.pushDown = cost;
      },
      pop: () => qs.find((q) => q.length > 0)?.shift(),
    },
    packets,
  );
  return { scheduler: "sp-pifo", order, packets, finalBounds: [...bounds] };
}

export type SchedMetric = "inversions" | "weighted-delay";
export const SCHED_METRICS: SchedMetric[] = ["inversions", "weighted-delay"];

export interface Inversion {
  /** Served first, though its rank is higher (lower priority). */
  early: number;
  /** Was waiting when `early` left, and has the lower rank. */
  late: number;
}

/**
 * Priority inversions of a schedule: pairs where a packet leaves while a packet of strictly
 * lower rank is waiting. PIFO has none by construction.
 */
export function inversions(res: ScheduleResult): Inversion[] {
  const out: Inversion[] = [];
  const ps = res.packets;
  for (const a of ps)
    for (const b of ps)
      if (a.rank > b.rank && b.arrivedAt < a.departedAt && b.departedAt > a.departedAt)
        out.push({ early: a.packet, late: b.packet });
  return out.sort((x, y) => ps[x.early]!.slot - ps[y.early]!.slot || x.late - y.late);
}

/**
 * Priority-weighted delay: sum over packets of `(maxRank - rank + 1) * slot`, so waiting
 * costs more for important (low-rank) packets. Both schedulers dequeue at the same times, and
 * serving the heaviest waiting packet first (PIFO) minimizes it for unit-size packets.
 */
export function weightedDelay(res: ScheduleResult, maxRank: number): number {
  return res.packets.reduce((s, p) => s + (maxRank - p.rank + 1) * p.slot, 0);
}

export interface SchedComparison {
  pifo: ScheduleResult;
  spPifo: ScheduleResult;
  inversions: Inversion[];
  /** SP-PIFO's priority-weighted delay minus PIFO's (>= 0). */
  weightedDelayGap: number;
}

export function compareSchedulers(
  ranks: readonly number[],
  queues: number,
  o: ScheduleOptions & { maxRank?: number } = {},
): SchedComparison {
  const pifo = simulatePifo(ranks, o);
  const spPifo = simulateSpPifo(ranks, queues, o);
  const maxRank = o.maxRank ?? Math.max(...ranks);
  return {
    pifo,
    spPifo,
    inversions: inversions(spPifo),
    weightedDelayGap: weightedDelay(spPifo, maxRank) - weightedDelay(pifo, maxRank),
  };
}
