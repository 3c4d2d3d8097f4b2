/**
 * Network topologies for traffic-engineering analyses: nodes and directed links with
 * capacities. Well-known WANs ship as data (see `topologies.ts`); generators make random ones.
 */
import { readFileSync } from "node:fs";

export interface Link {
  from: string;
  to: string;
  /** Capacity in the topology's traffic unit (e.g. Gbit/s). */
  capacity: number;
}

export interface Topology {
  name: string;
  nodes: string[];
  /** Directed links; a bidirectional link is two entries. */
  links: Link[];
  /** Where the data comes from. */
  source?: string;
}

export class TopologyError extends Error {
  override name = "TopologyError";
}

/** Checks names, capacities and connectivity; throws a `TopologyError` saying what is wrong. */
export function validateTopology(t: Topology): Topology {
  const where = `topology "${t.name}"`;
  if (t.nodes.length < 2) throw new TopologyError(`${where}: needs at least two nodes`);
  const nodes = new Set<string>();
  for (const n of t.nodes) {
    if (nodes.has(n)) throw new TopologyError(`${where}: node "${n}" is listed twice`);
    nodes.add(n);
  }
  const seen = new Set<string>();
  t.links.forEach((l, i) => {
    for (const end of [l.from, l.to]) {
      if (!nodes.has(end))
        throw new TopologyError(`${where}: links[${i}] uses unknown node "${end}"`);
    }
    if (l.from === l.to)
      throw new TopologyError(`${where}: links[${i}] is a self-loop at "${l.from}"`);
    if (!(l.capacity > 0) || !Number.isFinite(l.capacity)) {
      throw new TopologyError(
        `${where}: links[${i}] ${l.from}->${l.to} has capacity ${l.capacity}; it must be positive`,
      );
    }
    const k = `${l.from}->${l.to}`;
    if (seen.has(k)) throw new TopologyError(`${where}: link ${k} is listed twice`);
    seen.add(k);
  });
  // Every node must reach every other (strong connectivity): TE demands may go anywhere.
  const adj = adjacency(t);
  const reach = (start: string, next: Map<string, string[]>) => {
    const seenN = new Set([start]);
    const stack = [start];
    while (stack.length) {
      for (const m of next.get(stack.pop()!) ?? []) {
        if (seenN.has(m)) continue;
        seenN.add(m);
        stack.push(m);
      }
    }
    return seenN;
  };
  const rev = new Map<string, string[]>();
  for (const l of t.links) rev.set(l.to, [...(rev.get(l.to) ?? []), l.from]);
  const fwd = reach(t.nodes[0]!, adj);
  const bwd = reach(t.nodes[0]!, rev);
  const cut = t.nodes.filter((n) => !fwd.has(n) || !bwd.has(n));
  if (cut.length > 0) {
    throw new TopologyError(
      `${where}: not connected: ${cut.map((n) => `"${n}"`).join(", ")} cannot reach or be reached from "${t.nodes[0]}"`,
    );
  }
  return t;
}

export function adjacency(t: Topology): Map<string, string[]> {
  const adj = new Map<string, string[]>(t.nodes.map((n) => [n, []]));
  for (const l of t.links) adj.get(l.from)!.push(l.to);
  return adj;
}

/** Adds both directions of each undirected edge `[a, b, capacity]`. */
export function undirected(
  name: string,
  edges: [string, string, number][],
  source?: string,
): Topology {
  const nodes = [...new Set(edges.flatMap(([a, b]) => [a, b]))];
  const links = edges.flatMap(([a, b, c]) => [
    { from: a, to: b, capacity: c },
    { from: b, to: a, capacity: c },
  ]);
  return validateTopology({ name, nodes, links, source });
}

/** A small PRNG (mulberry32) so generated topologies and searches are reproducible. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random connected topology: a random spanning tree plus extra edges until the average
 * degree is reached; capacities drawn from `capacities`.
 */
export function randomTopology(opts: {
  nodes: number;
  degree?: number;
  capacities?: number[];
  seed?: number;
}): Topology {
  const n = opts.nodes;
  if (!(n >= 2)) throw new TopologyError(`randomTopology: needs at least 2 nodes, got ${n}`);
  const rand = rng(opts.seed ?? 1);
  const caps = opts.capacities ?? [100];
  const names = Array.from({ length: n }, (_, i) => `n${i}`);
  const edges = new Map<string, [string, string, number]>();
  const pick = () => caps[Math.floor(rand() * caps.length)]!;
  for (let i = 1; i < n; i++) {
    const j = Math.floor(rand() * i);
    edges.set(`${j},${i}`, [names[j]!, names[i]!, pick()]);
  }
  const target = Math.min((n * (n - 1)) / 2, Math.round(((opts.degree ?? 3) * n) / 2));
  while (edges.size < target) {
    const a = Math.floor(rand() * n);
    const b = Math.floor(rand() * n);
    if (a === b) continue;
    const [x, y] = a < b ? [a, b] : [b, a];
    if (!edges.has(`${x},${y}`)) edges.set(`${x},${y}`, [names[x]!, names[y]!, pick()]);
  }
  return undirected(`random-${n}-s${opts.seed ?? 1}`, [...edges.values()], "randomTopology()");
}

/** Reads a topology from JSON: `{ name?, nodes?, links: [{from,to,capacity}], undirected? }`. */
export function parseTopology(json: unknown, file = "<json>"): Topology {
  if (!json || typeof json !== "object") throw new TopologyError(`${file}: expected a JSON object`);
  const o = json as Record<string, unknown>;
  if (!Array.isArray(o.links)) throw new TopologyError(`${file}: "links" must be an array`);
  const links = o.links.map((l, i) => {
    const x = l as Record<string, unknown>;
    if (typeof x.from !== "string" || typeof x.to !== "string" || typeof x.capacity !== "number") {
      throw new TopologyError(
        `${file}: links[${i}] must be { from: string, to: string, capacity: number }`,
      );
    }
    return { from: x.from, to: x.to, capacity: x.capacity };
  });
  const name = typeof o.name === "string" ? o.name : file;
  if (o.undirected === true) {
    const t = undirected(
      name,
      links.map((l) => [l.from, l.to, l.capacity]),
    );
    if (Array.isArray(o.nodes)) {
      const extra = (o.nodes as string[]).filter((n) => !t.nodes.includes(n));
      if (extra.length)
        throw new TopologyError(
          `topology "${name}": not connected: ${extra.map((n) => `"${n}"`).join(", ")} has no links`,
        );
    }
    return t;
  }
  const nodes = Array.isArray(o.nodes)
    ? (o.nodes as string[])
    : [...new Set(links.flatMap((l) => [l.from, l.to]))];
  return validateTopology({ name, nodes, links, source: file });
}

export function loadTopologyFile(path: string): Topology {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new TopologyError(`cannot read topology file ${path}: ${(err as Error).message}`);
  }
  try {
    return parseTopology(JSON.parse(text), path);
  } catch (err) {
    if (err instanceof SyntaxError)
      throw new TopologyError(`${path}: not valid JSON: ${err.message}`);
    throw err;
  }
}
