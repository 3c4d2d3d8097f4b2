import type { CreateRequest, CreateResult, ModelClient } from "@athanor/agents";
import { streamFromResult } from "@athanor/agents";
import { describe, expect, it } from "vitest";
import { type Example, evolveExamples, requiredWords } from "../src/index.js";

/** A scripted endpoint: replies with fixed paraphrases, one of which drops a value. */
class Scripted implements ModelClient {
  readonly modelId = "scripted";
  readonly capabilities = {
    tools: false,
    vision: false,
    structuredOutput: false,
    streaming: false,
  };
  readonly seen: CreateRequest[] = [];
  async create(request: CreateRequest): Promise<CreateResult> {
    this.seen.push(request);
    return {
      content:
        "1. Suppose Cafe 3 wanted 13% more coffee, what then?\n- What if demand at cafe3 grew a little?\nHow does a 13 percent jump in cafe3's demand change things?",
      toolCalls: [],
      finishReason: "stop",
      usage: { promptTokens: 1, completionTokens: 1 },
    };
  }
  async *stream(request: CreateRequest) {
    yield* streamFromResult(await this.create(request));
  }
}

describe("prompt evolution", () => {
  it("keeps only paraphrases that still name every entity and value of the action", async () => {
    const ex: Example = {
      app: "coffee",
      kind: "demand",
      question: "What if cafe3's demand rose by 13%?",
      action: "set demand cafe3 +13%",
    };
    const client = new Scripted();
    const out = await evolveExamples([ex], client, { count: 1, seed: 2 });
    expect(out.map((e) => e.question)).toEqual([
      "Suppose Cafe 3 wanted 13% more coffee, what then?",
      "How does a 13 percent jump in cafe3's demand change things?",
    ]);
    expect(out.every((e) => e.action === ex.action)).toBe(true);
    expect(JSON.stringify(client.seen[0]!.messages[1])).toContain(ex.question);
  });

  it("does not require values the question only implies", async () => {
    const ex: Example = {
      app: "workforce1",
      kind: "availability",
      question: "Can Gu work Tue2 instead of Sun7?",
      action: "forbid work gu sun7 ; fix work gu tue2 =1",
    };
    const client = new (class extends Scripted {
      override async create(request: CreateRequest): Promise<CreateResult> {
        const r = await super.create(request);
        return { ...r, content: "Is it OK if Gu swaps Sun7 for Tue2?\nCould Gu swap shifts?" };
      }
    })();
    const out = await evolveExamples([ex], client, { count: 1 });
    expect(out.map((e) => e.question)).toEqual(["Is it OK if Gu swaps Sun7 for Tue2?"]);
  });

  it("knows which words an action needs", () => {
    expect(requiredWords("forbid work gu sun7 ; fix work gu tue2 =1")).toEqual([
      "gu",
      "sun7",
      "gu",
      "tue2",
      "1",
    ]);
    expect(requiredWords("set cost * * new_york +48")).toEqual(["new_york", "48"]);
  });
});
