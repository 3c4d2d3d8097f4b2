import { describe, expect, it } from "vitest";
import { kShortestPaths } from "./paths.js";
import { mannWhitneyGreater, normalCdf } from "./search/stats.js";
import { getTopology } from "./topologies.js";
import { parseTopology, randomTopology, undirected } from "./topology.js";

describe("topologies", () => {
  it("ships Abilene with its 11 PoPs and 14 links", () => {
    const t = getTopology("abilene");
    expect(t.nodes).toHaveLength(11);
    expect(t.links).toHaveLength(28);
  });

  it("rejects disconnected nodes, unknown nodes and bad capacities with the reason", () => {
    expect(() =>
      parseTopology({
        name: "t",
        nodes: ["a", "b", "c"],
        links: [
          { from: "a", to: "b", capacity: 1 },
          { from: "b", to: "a", capacity: 1 },
        ],
      }),
    ).toThrow(/not connected: "c"/);
    expect(() =>
      parseTopology({ links: [{ from: "a", to: "x", capacity: 1 }], nodes: ["a", "b"] }),
    ).toThrow(/unknown node "x"/);
    expect(() => undirected("t", [["a", "b", 0]])).toThrow(/capacity 0/);
    expect(() => getTopology("nope")).toThrow(/unknown topology "nope"/);
  });

  it("generates connected random topologies reproducibly", () => {
    const a = randomTopology({ nodes: 12, degree: 3, seed: 5 });
    expect(a).toEqual(randomTopology({ nodes: 12, degree: 3, seed: 5 }));
    expect(a.nodes).toHaveLength(12);
  });
});

describe("kShortestPaths", () => {
  it("finds loopless paths in order of length", () => {
    const t = getTopology("diamond");
    const ps = kShortestPaths(t, "a", "d", 4);
    expect(ps.map((p) => p.nodes.join(""))).toEqual(["abd", "acd", "abcd", "acbd"]);
    for (const p of ps) expect(new Set(p.nodes).size).toBe(p.nodes.length);
  });
});

describe("statistics", () => {
  it("normal CDF", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 5);
  });

  it("Mann-Whitney U detects a shift and not its absence", () => {
    const a = Array.from({ length: 30 }, (_, i) => 10 + (i % 7));
    const b = Array.from({ length: 30 }, (_, i) => i % 7);
    expect(mannWhitneyGreater(a, b).p).toBeLessThan(1e-6);
    expect(mannWhitneyGreater(b, a).p).toBeGreaterThan(0.99);
    expect(mannWhitneyGreater(b, b).p).toBeGreaterThan(0.3);
  });
});

describe("GML (Internet Topology Zoo)", () => {
  const zoo = `graph [
  label "Tiny"
  node [ id 0 label "Seattle" ]
  node [ id 1 label "Denver" ]
  node [ id 2 label "Chicago" ]
  edge [ source 0 target 1 LinkSpeedRaw 10000000000.0 ]
  edge [ source 1 target 2 LinkSpeed "2.5" LinkSpeedRaw 2500000000.0 ]
  edge [ source 2 target 0 ]
  edge [ source 2 target 0 ]
]`;

  it("reads nodes, edges and capacities, merging parallel edges", async () => {
    const { parseGml } = await import("./gml.js");
    const t = parseGml(zoo, { defaultCapacity: 1 });
    expect(t.name).toBe("Tiny");
    expect(t.nodes).toEqual(["Seattle", "Denver", "Chicago"]);
    const cap = (a: string, b: string) => t.links.find((l) => l.from === a && l.to === b)?.capacity;
    expect(cap("Seattle", "Denver")).toBe(10);
    expect(cap("Denver", "Chicago")).toBe(2.5);
    expect(cap("Chicago", "Seattle")).toBe(2);
  });

  it("says what is wrong with a bad file", async () => {
    const { parseGml } = await import("./gml.js");
    expect(() => parseGml('graph [ node [ id 0 label "a" ] ')).toThrow(/missing '\]'/);
    expect(() =>
      parseGml(
        'graph [ node [ id 0 label "a" ] node [ id 1 label "b" ] edge [ source 0 target 7 ] ]',
      ),
    ).toThrow(/unknown node id/);
    expect(() =>
      parseGml(
        'graph [ node [ id 0 label "a" ] node [ id 1 label "b" ] node [ id 2 label "c" ] edge [ source 0 target 1 ] ]',
      ),
    ).toThrow(/not connected: "c"/);
  });
});
