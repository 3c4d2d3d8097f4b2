/**
 * Well-known topologies as data.
 *
 * - `abilene`: the Internet2 Abilene backbone (11 PoPs, 14 bidirectional links) as used by
 *   the traffic-engineering literature (e.g. Zhang's Abilene traffic-matrix dataset, the
 *   TOTEM project); all links OC-192 (9.92 Gbit/s) except Atlanta–Indianapolis, OC-48
 *   (2.48 Gbit/s). Capacities here in Gbit/s.
 * - `diamond`: a 4-node, 5-link example (ours) in the spirit of the small examples MetaOpt
 *   (NSDI 2024) uses to explain demand pinning's gap: a short path through a thin link.
 * - `ring8`: eight nodes in a ring with two chords (ours), a mid-size test case.
 */
import { readFileSync } from "node:fs";
import { parseGml } from "./gml.js";
import { loadTopologyFile, type Topology, TopologyError, undirected } from "./topology.js";

const builtins: Record<string, () => Topology> = {
  abilene: () =>
    undirected(
      "abilene",
      [
        ["ATLA", "HSTN", 9.92],
        ["ATLA", "IPLS", 2.48],
        ["ATLA", "WASH", 9.92],
        ["CHIN", "IPLS", 9.92],
        ["CHIN", "NYCM", 9.92],
        ["DNVR", "KSCY", 9.92],
        ["DNVR", "SNVA", 9.92],
        ["DNVR", "STTL", 9.92],
        ["HSTN", "KSCY", 9.92],
        ["HSTN", "LOSA", 9.92],
        ["IPLS", "KSCY", 9.92],
        ["LOSA", "SNVA", 9.92],
        ["NYCM", "WASH", 9.92],
        ["SNVA", "STTL", 9.92],
      ],
      "Internet2 Abilene backbone (Zhang's traffic-matrix dataset / TOTEM)",
    ),
  diamond: () =>
    undirected(
      "diamond",
      [
        ["a", "b", 100],
        ["a", "c", 100],
        ["b", "d", 100],
        ["c", "d", 100],
        ["b", "c", 50],
      ],
      "a 4-node example written for Athanor",
    ),
  ring8: () =>
    undirected(
      "ring8",
      [
        ...Array.from(
          { length: 8 },
          (_, i) => [`r${i}`, `r${(i + 1) % 8}`, 100] as [string, string, number],
        ),
        ["r0", "r4", 50],
        ["r2", "r6", 50],
      ],
      "an 8-node ring with two chords, written for Athanor",
    ),
};

export const TOPOLOGY_NAMES = Object.keys(builtins);

/** A built-in topology by name, or a JSON file by path. */
export function getTopology(nameOrFile: string): Topology {
  const make = builtins[nameOrFile];
  if (make) return make();
  if (nameOrFile.endsWith(".json")) return loadTopologyFile(nameOrFile);
  if (nameOrFile.endsWith(".gml")) {
    let text: string;
    try {
      text = readFileSync(nameOrFile, "utf8");
    } catch (err) {
      throw new TopologyError(`cannot read topology file ${nameOrFile}: ${(err as Error).message}`);
    }
    return parseGml(text);
  }
  throw new TopologyError(
    `unknown topology "${nameOrFile}": use one of ${TOPOLOGY_NAMES.join(", ")}, a .json file, or a Topology Zoo .gml file`,
  );
}
