/**
 * Reads topologies in GML, the format of the Internet Topology Zoo (topology-zoo.org), so the
 * hundreds of real WANs published there load directly: nodes by `label`, edges between node
 * `id`s, capacity from `LinkSpeedRaw` (bit/s, converted to Gbit/s) when present, otherwise a
 * default. Parallel edges are merged (capacities added); self-loops are dropped.
 */
import { type Topology, TopologyError, undirected } from "./topology.js";

type GmlValue = string | number | GmlList;
type GmlList = [string, GmlValue][];

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(?:(\[|\])|"((?:[^"\\]|\\.)*)"|([^\s[\]"]+))/gy;
  let m: RegExpExecArray | null;
  for (;;) {
    const at = re.lastIndex;
    m = re.exec(text);
    if (!m) {
      if (text.slice(at).trim())
        throw new TopologyError(`GML: cannot read "${text.slice(at, at + 20)}"`);
      break;
    }
    tokens.push(m[1] ?? (m[2] !== undefined ? `"${m[2]}` : m[3]!));
  }
  return tokens;
}

function parseList(tokens: string[], pos: { i: number }, closing: boolean): GmlList {
  const out: GmlList = [];
  while (pos.i < tokens.length) {
    const key = tokens[pos.i++]!;
    if (key === "]") {
      if (!closing) throw new TopologyError("GML: unexpected ']'");
      return out;
    }
    const v = tokens[pos.i++];
    if (v === undefined) throw new TopologyError(`GML: key "${key}" has no value`);
    if (v === "[") out.push([key, parseList(tokens, pos, true)]);
    else if (v.startsWith('"')) out.push([key, v.slice(1)]);
    else out.push([key, Number.isFinite(Number(v)) ? Number(v) : v]);
  }
  if (closing) throw new TopologyError("GML: missing ']'");
  return out;
}

const get = (l: GmlList, key: string) => l.find(([k]) => k === key)?.[1];

export function parseGml(
  text: string,
  opts: { name?: string; defaultCapacity?: number } = {},
): Topology {
  const top = parseList(tokenize(text), { i: 0 }, false);
  const graph = get(top, "graph");
  if (!Array.isArray(graph)) throw new TopologyError("GML: no graph [ ... ] block");
  const labels = new Map<number, string>();
  for (const [k, v] of graph) {
    if (k !== "node" || !Array.isArray(v)) continue;
    const id = get(v, "id");
    if (typeof id !== "number") throw new TopologyError("GML: a node has no numeric id");
    const label = get(v, "label");
    labels.set(
      id,
      typeof label === "string" || typeof label === "number" ? String(label) : `n${id}`,
    );
  }
  // Labels repeat in some Zoo files: make them unique by appending the id.
  const counts = new Map<string, number>();
  for (const l of labels.values()) counts.set(l, (counts.get(l) ?? 0) + 1);
  for (const [id, l] of labels) if (counts.get(l)! > 1) labels.set(id, `${l}#${id}`);
  const fallback = opts.defaultCapacity ?? 10;
  const edges = new Map<string, [string, string, number]>();
  for (const [k, v] of graph) {
    if (k !== "edge" || !Array.isArray(v)) continue;
    const s = get(v, "source");
    const t = get(v, "target");
    if (typeof s !== "number" || typeof t !== "number" || !labels.has(s) || !labels.has(t)) {
      throw new TopologyError(`GML: edge ${String(s)} -> ${String(t)} names an unknown node id`);
    }
    if (s === t) continue;
    const raw = get(v, "LinkSpeedRaw");
    const cap = typeof raw === "number" && raw > 0 ? raw / 1e9 : fallback;
    const [a, b] = s < t ? [s, t] : [t, s];
    const key = `${a},${b}`;
    const prev = edges.get(key);
    edges.set(key, [labels.get(a)!, labels.get(b)!, (prev?.[2] ?? 0) + cap]);
  }
  const name = opts.name ?? String(get(graph, "label") ?? get(graph, "Network") ?? "gml");
  const isolated = [...labels.values()].filter(
    (l) => ![...edges.values()].some(([a, b]) => a === l || b === l),
  );
  if (isolated.length) {
    throw new TopologyError(
      `topology "${name}": not connected: ${isolated.map((n) => `"${n}"`).join(", ")} has no links (drop the node or add a link)`,
    );
  }
  return undirected(name, [...edges.values()], "GML (Internet Topology Zoo format)");
}
