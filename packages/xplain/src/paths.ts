/** Shortest paths: Dijkstra and Yen's k loopless shortest paths over a topology's links. */
import type { Topology } from "./topology.js";

/** A path as the indices of the links it uses, in order, plus its nodes. */
export interface Path {
  nodes: string[];
  links: number[];
}

type Weight = (linkIndex: number) => number;

/** Indices of the links leaving each node. */
function outLinks(t: Topology): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [i, l] of t.links.entries()) out.set(l.from, [...(out.get(l.from) ?? []), i]);
  return out;
}

function dijkstra(
  t: Topology,
  out: Map<string, number[]>,
  from: string,
  to: string,
  weight: Weight,
  bannedLinks: Set<number>,
  bannedNodes: Set<string>,
): Path | undefined {
  const dist = new Map<string, number>([[from, 0]]);
  const prev = new Map<string, number>();
  const done = new Set<string>();
  for (;;) {
    // Linear scan: topologies here have tens of nodes; ties broken by node order for determinism.
    let u: string | undefined;
    let best = Number.POSITIVE_INFINITY;
    for (const n of t.nodes) {
      const d = dist.get(n);
      if (d !== undefined && !done.has(n) && d < best) {
        best = d;
        u = n;
      }
    }
    if (u === undefined) return undefined;
    if (u === to) break;
    done.add(u);
    for (const li of out.get(u) ?? []) {
      const v = t.links[li]!.to;
      if (bannedLinks.has(li) || bannedNodes.has(v) || done.has(v)) continue;
      const nd = best + weight(li);
      if (nd < (dist.get(v) ?? Number.POSITIVE_INFINITY)) {
        dist.set(v, nd);
        prev.set(v, li);
      }
    }
  }
  const links: number[] = [];
  for (let n = to; n !== from; ) {
    const li = prev.get(n)!;
    links.unshift(li);
    n = t.links[li]!.from;
  }
  return { nodes: [from, ...links.map((li) => t.links[li]!.to)], links };
}

const cost = (p: Path, w: Weight) => p.links.reduce((s, li) => s + w(li), 0);

/**
 * Up to `k` loopless paths from `from` to `to`, shortest first (Yen's algorithm). Weights
 * default to 1 per link (hop count).
 */
export function kShortestPaths(
  t: Topology,
  from: string,
  to: string,
  k: number,
  weight: Weight = () => 1,
): Path[] {
  if (from === to) throw new Error(`kShortestPaths: source and target are both "${from}"`);
  const out = outLinks(t);
  const first = dijkstra(t, out, from, to, weight, new Set(), new Set());
  if (!first) return [];
  const found: Path[] = [first];
  const candidates: Path[] = [];
  const key = (p: Path) => p.links.join(",");
  while (found.length < k) {
    const last = found[found.length - 1]!;
    for (let i = 0; i < last.links.length; i++) {
      const rootLinks = last.links.slice(0, i);
      const spur = last.nodes[i]!;
      const bannedLinks = new Set<number>();
      for (const p of found) {
        if (p.links.slice(0, i).join(",") === rootLinks.join(",") && p.links[i] !== undefined) {
          bannedLinks.add(p.links[i]!);
        }
      }
      const bannedNodes = new Set(last.nodes.slice(0, i));
      const tail = dijkstra(t, out, spur, to, weight, bannedLinks, bannedNodes);
      if (!tail) continue;
      const cand: Path = {
        nodes: [...last.nodes.slice(0, i), ...tail.nodes],
        links: [...rootLinks, ...tail.links],
      };
      if (
        !candidates.some((c) => key(c) === key(cand)) &&
        !found.some((c) => key(c) === key(cand))
      ) {
        candidates.push(cand);
      }
    }
    if (candidates.length === 0) break;
    candidates.sort((a, b) => cost(a, weight) - cost(b, weight) || key(a).localeCompare(key(b)));
    found.push(candidates.shift()!);
  }
  return found;
}
