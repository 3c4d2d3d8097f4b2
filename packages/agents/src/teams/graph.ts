/**
 * Directed graphs of agents (AutoGen's GraphFlow): edges may carry a condition, a node with
 * several children fans out (the children run in parallel, as one turn), and a node with
 * several parents joins (it waits for all of them, or for any one).
 */
import type { ChatAgent, JsonValue } from "../agent.js";
import { type ChatMessage, messageText } from "../messages.js";
import { BaseGroupChat, type GroupChatOptions, type SpeakerSelection } from "./base-group-chat.js";

/** A condition on the message of an edge's source: text it must contain, or a predicate. */
export type EdgeCondition = string | ((message: ChatMessage) => boolean);

export interface GraphEdge {
  source: string;
  target: string;
  condition?: EdgeCondition;
  /**
   * Edges into one node are grouped (default group: "default"); the node activates when its
   * activation rule holds within one group. Put a loop's back edge in its own group so the
   * node does not wait for it on the first pass.
   */
  group?: string;
}

export interface GraphNode {
  name: string;
  /** "all": wait for every incoming edge of a group (a join); "any": the first one will do. */
  activation: "all" | "any";
}

export interface DiGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** The nodes that run first. */
  entryPoints: string[];
}

/** Builds and validates a DiGraph. */
export class DiGraphBuilder {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly agents = new Map<string, ChatAgent>();
  private readonly edges: GraphEdge[] = [];
  private entry: string[] = [];

  addNode(agent: ChatAgent, options: { activation?: "all" | "any" } = {}): this {
    if (this.nodes.has(agent.name))
      throw new Error(`DiGraphBuilder: node ${JSON.stringify(agent.name)} added twice`);
    this.nodes.set(agent.name, { name: agent.name, activation: options.activation ?? "all" });
    this.agents.set(agent.name, agent);
    return this;
  }

  addEdge(
    source: ChatAgent | string,
    target: ChatAgent | string,
    options: { condition?: EdgeCondition; group?: string } = {},
  ): this {
    const s = typeof source === "string" ? source : source.name;
    const t = typeof target === "string" ? target : target.name;
    this.edges.push({ source: s, target: t, ...options });
    return this;
  }

  setEntryPoint(...names: (ChatAgent | string)[]): this {
    this.entry = names.map((n) => (typeof n === "string" ? n : n.name));
    return this;
  }

  build(): DiGraph {
    const graph: DiGraph = {
      nodes: [...this.nodes.values()],
      edges: [...this.edges],
      entryPoints: this.entry,
    };
    if (graph.entryPoints.length === 0) {
      const targets = new Set(graph.edges.map((e) => e.target));
      graph.entryPoints = graph.nodes.filter((n) => !targets.has(n.name)).map((n) => n.name);
    }
    validateGraph(graph);
    return graph;
  }

  /** The agents added with `addNode`, in order (the GraphFlow's participants). */
  participants(): ChatAgent[] {
    return [...this.agents.values()];
  }
}

export function validateGraph(graph: DiGraph): void {
  const names = new Set(graph.nodes.map((n) => n.name));
  for (const e of graph.edges) {
    for (const end of [e.source, e.target]) {
      if (!names.has(end))
        throw new Error(
          `graph: edge ${e.source} -> ${e.target} names ${JSON.stringify(end)}, which is not a node`,
        );
    }
  }
  if (graph.entryPoints.length === 0) {
    throw new Error("graph: no entry point (every node has a parent); call setEntryPoint(...)");
  }
  for (const n of graph.entryPoints) {
    if (!names.has(n)) throw new Error(`graph: entry point ${JSON.stringify(n)} is not a node`);
  }
  // A cycle made only of unconditional edges would never end.
  const unconditional = new Map<string, string[]>();
  for (const e of graph.edges) {
    if (e.condition === undefined)
      unconditional.set(e.source, [...(unconditional.get(e.source) ?? []), e.target]);
  }
  const state = new Map<string, "visiting" | "done">();
  const visit = (n: string, path: string[]): void => {
    if (state.get(n) === "done") return;
    if (state.get(n) === "visiting") {
      const cycle = [...path.slice(path.indexOf(n)), n].join(" -> ");
      throw new Error(`graph: cycle ${cycle} has no conditional edge, so it would never end`);
    }
    state.set(n, "visiting");
    for (const t of unconditional.get(n) ?? []) visit(t, [...path, n]);
    state.set(n, "done");
  };
  for (const n of names) visit(n, []);
}

export interface GraphFlowOptions extends GroupChatOptions {
  graph: DiGraph;
}

/**
 * Runs a DiGraph: the entry points speak first; after each turn, the edges whose conditions
 * hold activate their targets; all activated nodes speak together in the next turn. The run
 * ends when no node is active ("Graph execution is complete"), and the next run starts again
 * from the entry points.
 */
export class GraphFlow extends BaseGroupChat {
  private readonly graph: DiGraph;
  private started = false;
  private ready: string[] = [];
  /** target -> group -> sources whose edges fired since the target last ran. */
  private fired: Record<string, Record<string, string[]>> = {};

  constructor(participants: readonly ChatAgent[], options: GraphFlowOptions) {
    super(participants, { ...options, defaultName: "graph_flow" });
    validateGraph(options.graph);
    const nodeNames = new Set(options.graph.nodes.map((n) => n.name));
    for (const p of participants) {
      if (!nodeNames.has(p.name))
        throw new Error(`${this.name}: participant ${p.name} is not a node of the graph`);
    }
    for (const n of nodeNames) {
      if (!this.byName.has(n))
        throw new Error(`${this.name}: graph node ${n} is not a participant`);
    }
    this.graph = options.graph;
  }

  protected async selectSpeakers(): Promise<SpeakerSelection> {
    if (!this.started) {
      this.started = true;
      this.ready = [...this.graph.entryPoints];
      this.fired = {};
    }
    if (this.ready.length === 0) return { speakers: [], reason: "Graph execution is complete" };
    return { speakers: [...this.ready] };
  }

  protected override afterTurn(
    responses: readonly { speaker: string; message: ChatMessage }[],
  ): void {
    const next = new Set<string>();
    for (const { speaker, message } of responses) {
      for (const edge of this.graph.edges) {
        if (edge.source !== speaker || !conditionHolds(edge.condition, message)) continue;
        const group = edge.group ?? "default";
        this.fired[edge.target] ??= {};
        const byGroup = this.fired[edge.target];
        byGroup[group] ??= [];
        if (!byGroup[group].includes(speaker)) byGroup[group].push(speaker);
      }
    }
    for (const node of this.graph.nodes) {
      const byGroup = this.fired[node.name];
      if (!byGroup) continue;
      for (const [group, sources] of Object.entries(byGroup)) {
        const needed = new Set(
          this.graph.edges
            .filter((e) => e.target === node.name && (e.group ?? "default") === group)
            .map((e) => e.source),
        );
        const ok =
          node.activation === "any"
            ? sources.length > 0
            : [...needed].every((s) => sources.includes(s));
        if (ok) {
          next.add(node.name);
          delete byGroup[group];
        }
      }
    }
    // Keep the graph's node order, so fan-out results land in the transcript deterministically.
    this.ready = this.graph.nodes.map((n) => n.name).filter((n) => next.has(n));
  }

  protected override onRunEnd(): void {
    this.started = false;
    this.ready = [];
    this.fired = {};
  }

  protected saveManagerState(): JsonValue {
    return { started: this.started, ready: [...this.ready], fired: structuredClone(this.fired) };
  }

  protected loadManagerState(state: JsonValue): void {
    const s = (state ?? {}) as {
      started?: boolean;
      ready?: string[];
      fired?: Record<string, Record<string, string[]>>;
    };
    this.started = Boolean(s.started);
    this.ready = Array.isArray(s.ready) ? [...s.ready] : [];
    this.fired = s.fired ? structuredClone(s.fired) : {};
  }

  protected resetManager(): void {
    this.onRunEnd();
  }
}

function conditionHolds(condition: EdgeCondition | undefined, message: ChatMessage): boolean {
  if (condition === undefined) return true;
  if (typeof condition === "string") return messageText(message).includes(condition);
  return condition(message);
}
