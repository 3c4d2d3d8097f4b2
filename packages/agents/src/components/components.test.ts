import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { messageText } from "../messages.js";
import { RecordingModelClient } from "../models/recording.js";
import { ReplayModelClient } from "../models/replay.js";
import { GraphFlow } from "../teams/graph.js";
import { RoundRobinGroupChat } from "../teams/round-robin.js";
import { SelectorGroupChat } from "../teams/selector.js";
import type { Team } from "../teams/team.js";
import { buildComponents, buildTermination, loadComponentFile, parseComponents } from "./load.js";

const dir = mkdtempSync(join(tmpdir(), "athanor-components-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const roundRobinYaml = `
models:
  default: { provider: scripted, results: ["A first draft.", "Looks good. APPROVE"] }
team:
  type: round_robin
  name: writing
  participants:
    - type: assistant
      name: writer
      systemMessage: Write one sentence.
    - type: assistant
      name: critic
      systemMessage: Reply APPROVE when the sentence is good.
      memory:
        - { type: list, items: ["The reader is a child."] }
  termination:
    any:
      - { type: text_mention, text: APPROVE }
      - { type: max_messages, max: 10 }
`;

describe("components", () => {
  it("builds and runs a team declared in YAML", async () => {
    const loaded = buildComponents(parseComponents(roundRobinYaml));
    const team = loaded.team as Team;
    expect(team).toBeInstanceOf(RoundRobinGroupChat);
    expect(team.name).toBe("writing");
    const result = await team.run("Write about the sea.");
    expect(team.transcript.map((m) => `${m.source}: ${messageText(m)}`)).toEqual([
      "user: Write about the sea.",
      "writer: A first draft.",
      "critic: Looks good. APPROVE",
    ]);
    expect(result.stopReason).toMatch(/APPROVE/);
    await loaded.dispose();
  });

  it("builds selector and graph teams, nested teams, and every termination condition", async () => {
    const file = parseComponents(
      JSON.stringify({
        models: {
          default: { provider: "scripted", results: ["x"] },
          picker: { provider: "scripted", results: ["b"] },
        },
        team: {
          type: "selector",
          model: "picker",
          allowRepeatedSpeaker: true,
          transitions: { allowed: { a: ["b"] } },
          participants: [
            { type: "assistant", name: "a" },
            {
              type: "team",
              team: {
                type: "graph",
                name: "b",
                participants: [
                  { type: "assistant", name: "g1" },
                  { type: "assistant", name: "g2" },
                ],
                edges: [{ from: "g1", to: "g2", condition: "ok" }],
              },
            },
          ],
          termination: {
            all: [
              { type: "max_messages", max: 3 },
              { type: "token_usage", maxTotalTokens: 100 },
              { type: "timeout", seconds: 5 },
              { type: "handoff", target: "user" },
              { type: "source_match", sources: ["a"] },
              { type: "function_call", functionName: "f" },
              { type: "stop_message" },
            ],
          },
        },
      }),
    );
    const { team } = buildComponents(file);
    expect(team).toBeInstanceOf(SelectorGroupChat);
    const nested = (team as SelectorGroupChat).participants[1];
    expect(nested).toBeInstanceOf(GraphFlow);
    expect(buildTermination({ any: [{ type: "max_messages", max: 1 }] }).terminated).toBe(false);
  });

  it("reports what is wrong and where", () => {
    expect(() => parseComponents("team: [unclosed", "t.yaml")).toThrow(/t.yaml: not valid YAML/);
    expect(() => parseComponents("team:\n  type: circle\n  participants: []", "t.yaml")).toThrow(
      /t.yaml: team.type/,
    );
    expect(() =>
      parseComponents(
        "team:\n  type: round_robin\n  participants:\n    - { type: assistant, name: 'bad name' }",
        "t.yaml",
      ),
    ).toThrow(/team.participants\[0\].name: use letters/);
    expect(() =>
      parseComponents(
        "team:\n  type: round_robin\n  colour: red\n  participants: [{ type: user_proxy, name: u }]",
      ),
    ).toThrow(/colour/);
    expect(() => parseComponents("models: {}")).toThrow(/exactly one of `team` or `agent`/);
    const unknownModel = parseComponents(
      "team:\n  type: round_robin\n  participants:\n    - { type: assistant, name: a, model: fast }",
    );
    expect(() => buildComponents(unknownModel, {}, "t.yaml")).toThrow(
      't.yaml: team.participants[0].model: unknown model "fast" (declared: none)',
    );
    const unknownTool = parseComponents(
      "models: { default: { provider: scripted, results: [x] } }\nagent: { type: assistant, name: a, tools: [search] }",
    );
    expect(() => buildComponents(unknownTool)).toThrow(/agent.tools\[0\]: unknown tool "search"/);
    const envModel = parseComponents(
      "models: { default: { provider: env } }\nagent: { type: assistant, name: a }",
    );
    expect(() => buildComponents(envModel, { env: {} })).toThrow(
      /models.default: provider env, but no endpoint/,
    );
    const badGraph = parseComponents(
      "models: { default: { provider: scripted, results: [x] } }\nteam:\n  type: graph\n  participants: [{ type: assistant, name: a }]\n  edges: [{ from: a, to: zz }]",
    );
    expect(() => buildComponents(badGraph)).toThrow(/team: graph: edge a -> zz/);
  });

  it("loads a JSON file; a recording made once replays offline from a path relative to it", async () => {
    const declaration = {
      models: { default: { provider: "replay", path: "chat.jsonl" } },
      team: {
        type: "round_robin",
        participants: [{ type: "assistant", name: "greeter" }],
        maxTurns: 1,
      },
    };
    writeFileSync(join(dir, "agent.json"), JSON.stringify(declaration));
    // Record: the same declaration, with the model replaced by a recorder around a live one.
    const live = ReplayModelClient.fromResults([
      { content: "Hello from the recording.", usage: { promptTokens: 3, completionTokens: 4 } },
    ]);
    const recorder = new RecordingModelClient(live, { path: join(dir, "chat.jsonl") });
    const recorded = buildComponents(parseComponents(JSON.stringify(declaration)), {
      models: { default: recorder },
    });
    await (recorded.team as Team).run("hi");
    // Replay from the file.
    const loaded = loadComponentFile(join(dir, "agent.json"));
    const result = await (loaded.team as Team).run("hi");
    expect(result.usage).toEqual({ greeter: { promptTokens: 3, completionTokens: 4 } });
    expect(messageText(loaded.team?.transcript.at(-1) as never)).toBe("Hello from the recording.");
    expect(() => loadComponentFile(join(dir, "missing.yaml"))).toThrow(
      /cannot read .*missing.yaml/,
    );
  });
});
