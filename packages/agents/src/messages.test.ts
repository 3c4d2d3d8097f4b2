import { describe, expect, it } from "vitest";
import { addUsage, message, messageText, newId, safeName, toLLMMessage } from "./messages.js";

describe("messages", () => {
  it("builds messages with ids and timestamps", () => {
    const m = message("text", { source: "alice", content: "hi" });
    expect(m.type).toBe("text");
    expect(m.id).toMatch(/^msg_/);
    expect(Number.isNaN(Date.parse(m.createdAt))).toBe(false);
    expect(messageText(m)).toBe("hi");
  });

  it("makes unique ids", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId()));
    expect(ids.size).toBe(1000);
  });

  it("adds usage", () => {
    expect(
      addUsage({ promptTokens: 1, completionTokens: 2 }, { promptTokens: 3, completionTokens: 4 }),
    ).toEqual({
      promptTokens: 4,
      completionTokens: 6,
    });
  });

  it("turns chat messages into model context", () => {
    const mm = message("multimodal", {
      source: "user 1",
      content: [
        { type: "text", text: "look" },
        { type: "image", url: "http://x/y.png" },
      ],
    });
    expect(messageText(mm)).toBe("look\n<image>");
    expect(toLLMMessage(mm)).toEqual({ role: "user", content: mm.content, name: "user_1" });
    expect(safeName("")).toBe("anonymous");
  });
});
