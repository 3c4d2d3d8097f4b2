/**
 * Why a first-fit heuristic uses more bins than the optimum on an input: which items it puts
 * together that the optimum separates, which dimension of each of its bins is wasted, and
 * which dimension blocked each item that had to open a new bin. Structured data plus text.
 * Structured data numbers items, bins and dimensions from 0; the text numbers them from 1.
 */
import {
  binLoads,
  type FfdVariant,
  firstFit,
  type Item,
  type OptimalPacking,
  validateItems,
} from "./packing.js";

export interface BinSummary {
  bin: number;
  items: number[];
  load: number[];
  /** `1 - load` per dimension. */
  waste: number[];
}

export interface BlockedItem {
  item: number;
  /** The bin it opened. */
  opened: number;
  /** For each earlier bin, the dimensions in which the item did not fit (0-based). */
  blockedBy: { bin: number; dims: number[] }[];
}

export interface PackingExplanation {
  variant: FfdVariant;
  heuristicBins: number;
  optimalBins: number;
  /** Whether the optimum is proven (false: it is the best packing found in the time limit). */
  optimalProven: boolean;
  heuristic: BinSummary[];
  optimal: BinSummary[];
  /** Pairs of items the heuristic puts in one bin while the optimum separates them. */
  together: [number, number][];
  /** Items that opened a new heuristic bin, and what blocked them in each earlier bin. */
  blocked: BlockedItem[];
  /** Per dimension: how many earlier-bin blockings happened in it. */
  blockingDims: number[];
  /** Per dimension: total unused capacity over the heuristic's bins. */
  wastedByDim: number[];
  text: string;
}

const fmt = (x: number) =>
  Math.abs(x - Math.round(x)) < 1e-9 ? String(Math.round(x)) : x.toFixed(2);
const vec = (v: readonly number[]) => `(${v.map(fmt).join(", ")})`;

function summaries(items: readonly Item[], assignment: readonly number[]): BinSummary[] {
  const loads = binLoads(items, assignment);
  return loads.map((load, b) => ({
    bin: b,
    items: assignment.flatMap((a, i) => (a === b ? [i] : [])),
    load,
    waste: load.map((l) => Math.max(0, 1 - l)),
  }));
}

export function explainPacking(
  items: readonly Item[],
  variant: FfdVariant,
  optimum: Pick<OptimalPacking, "bins" | "assignment" | "proven">,
): PackingExplanation {
  const d = validateItems(items);
  if (optimum.assignment.length !== items.length)
    throw new Error(
      `optimum assigns ${optimum.assignment.length} items, the input has ${items.length}`,
    );
  const h = firstFit(items, variant);
  const heuristic = summaries(items, h.assignment);
  const optimal = summaries(items, optimum.assignment);

  const together: [number, number][] = [];
  for (const bin of heuristic)
    for (const [a, i] of bin.items.entries())
      for (const j of bin.items.slice(a + 1))
        if (optimum.assignment[i] !== optimum.assignment[j]) together.push([i, j]);

  // Replay the packing to see, for each item that opened a bin, why earlier bins refused it.
  const loads: number[][] = [];
  const blocked: BlockedItem[] = [];
  const blockingDims = new Array<number>(d).fill(0);
  for (const i of h.order) {
    const b = h.assignment[i]!;
    if (b === loads.length) {
      if (b > 0) {
        const blockedBy = loads.map((load, bin) => ({
          bin,
          dims: load.flatMap((l, j) => (l + items[i]![j]! > 1 + 1e-9 ? [j] : [])),
        }));
        for (const x of blockedBy) for (const j of x.dims) blockingDims[j]!++;
        blocked.push({ item: i, opened: b, blockedBy });
      }
      loads.push(new Array<number>(d).fill(0));
    }
    for (let j = 0; j < d; j++) loads[b]![j]! += items[i]![j]!;
  }
  const wastedByDim = Array.from({ length: d }, (_, j) =>
    heuristic.reduce((s, bin) => s + bin.waste[j]!, 0),
  );

  const lines: string[] = [];
  lines.push(
    `${variant} uses ${h.bins} bins; the optimum uses ${optimum.bins}${optimum.proven ? "" : " (best found, not proven)"}.`,
  );
  if (together.length) {
    const shown = together
      .slice(0, 4)
      .map(([i, j]) => `${i + 1} ${vec(items[i]!)} with ${j + 1} ${vec(items[j]!)}`)
      .join("; ");
    lines.push(
      `It puts together items the optimum keeps apart: ${shown}${together.length > 4 ? ` and ${together.length - 4} more pairs` : ""}.`,
    );
  }
  // Group heuristic bins by their most-wasted dimension.
  const byDim = new Map<number, number[]>();
  for (const bin of heuristic) {
    const j = bin.waste.indexOf(Math.max(...bin.waste));
    if (bin.waste[j]! > 0.05) byDim.set(j, [...(byDim.get(j) ?? []), bin.bin]);
  }
  for (const [j, bins] of [...byDim].sort((a, b) => a[0] - b[0])) {
    const waste = bins.reduce((s, b) => s + heuristic[b]!.waste[j]!, 0);
    lines.push(
      `${bins.length === 1 ? "Bin" : "Bins"} ${bins.map((b) => b + 1).join(", ")} ${bins.length === 1 ? "leaves" : "leave"} dimension ${j + 1} underused (${fmt(waste)} of capacity in total) while another dimension is nearly full.`,
    );
  }
  if (blocked.length) {
    const dims = blockingDims
      .map((c, j) => (c > 0 ? `dimension ${j + 1} (${c}×)` : ""))
      .filter(Boolean)
      .join(", ");
    // The most telling example: the item refused in the most distinct dimensions (last on ties).
    const distinct = (b: BlockedItem) => new Set(b.blockedBy.flatMap((x) => x.dims)).size;
    const first = blocked.reduce((best, b) => (distinct(b) >= distinct(best) ? b : best));
    lines.push(
      `${blocked.length} items had to open new bins; earlier bins refused them in ${dims}. E.g. item ${first.item + 1} ${vec(items[first.item]!)} did not fit ${first.blockedBy.map((x) => `bin ${x.bin + 1} in dimension ${x.dims.map((j) => j + 1).join("+")}`).join(", ")}.`,
    );
  }
  return {
    variant,
    heuristicBins: h.bins,
    optimalBins: optimum.bins,
    optimalProven: optimum.proven,
    heuristic,
    optimal,
    together,
    blocked,
    blockingDims,
    wastedByDim,
    text: lines.join(" "),
  };
}
