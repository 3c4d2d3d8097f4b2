/** A traffic-engineering instance: a topology, the demand pairs, and k candidate paths each. */
import { kShortestPaths, type Path } from "../paths.js";
import { type Topology, TopologyError, validateTopology } from "../topology.js";

export interface DemandPair {
  src: string;
  dst: string;
}

export interface TeInstance {
  topology: Topology;
  pairs: DemandPair[];
  /** `paths[k]`: candidate paths of pair k, shortest first (`paths[k][0]` is the shortest). */
  paths: Path[][];
}

export function pairName(p: DemandPair): string {
  return `${p.src}->${p.dst}`;
}

/**
 * Builds an instance. Pairs default to every ordered pair of nodes; `pathsPerPair` (k)
 * defaults to 2.
 */
export function teInstance(
  topology: Topology,
  opts: { pairs?: DemandPair[]; pathsPerPair?: number } = {},
): TeInstance {
  validateTopology(topology);
  const nodes = new Set(topology.nodes);
  const pairs =
    opts.pairs ??
    topology.nodes.flatMap((a) =>
      topology.nodes.filter((b) => b !== a).map((b) => ({ src: a, dst: b })),
    );
  pairs.forEach((p, i) => {
    for (const n of [p.src, p.dst]) {
      if (!nodes.has(n))
        throw new TopologyError(
          `demand pair ${i} (${pairName(p)}) uses unknown node "${n}" of topology "${topology.name}"`,
        );
    }
    if (p.src === p.dst) throw new TopologyError(`demand pair ${i} goes from "${p.src}" to itself`);
  });
  const k = opts.pathsPerPair ?? 2;
  const paths = pairs.map((p) => kShortestPaths(topology, p.src, p.dst, k));
  return { topology, pairs, paths };
}

/** Pairs whose shortest path uses each link: `byLink[e]` lists pair indices. */
export function shortestPathUsers(inst: TeInstance): number[][] {
  const byLink = inst.topology.links.map(() => [] as number[]);
  inst.paths.forEach((ps, k) => {
    for (const e of ps[0]!.links) byLink[e]!.push(k);
  });
  return byLink;
}

/** Total capacity of the topology (the unit gaps are reported against). */
export function totalCapacity(inst: TeInstance): number {
  return inst.topology.links.reduce((s, l) => s + l.capacity, 0);
}
