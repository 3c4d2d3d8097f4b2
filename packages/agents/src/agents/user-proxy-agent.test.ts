import { describe, expect, it } from "vitest";
import { type ChatMessage, message } from "../messages.js";
import { type InputFunction, UserProxyAgent } from "./user-proxy-agent.js";

const from = (content: string): ChatMessage[] => [
  message("text", { source: "assistant", content }),
];

/** Answers from a script and records the prompts it was shown. */
function scripted(answers: string[]) {
  const prompts: string[] = [];
  const input: InputFunction = async (prompt) => {
    prompts.push(prompt);
    const a = answers.shift();
    if (a === undefined) throw new Error("no scripted answer left");
    return a;
  };
  return { input, prompts };
}

describe("UserProxyAgent", () => {
  it("ALWAYS asks; a reply is a text message, empty sends the auto reply", async () => {
    const { input, prompts } = scripted(["Tell me more", ""]);
    const u = new UserProxyAgent("human", {
      inputFunc: input,
      humanInputMode: "ALWAYS",
      defaultAutoReply: "continue",
    });
    const r1 = await u.onMessages(from("Here is a draft."));
    expect(r1.message).toMatchObject({ type: "text", source: "human", content: "Tell me more" });
    expect(r1.inner[0]).toMatchObject({ type: "user_input_requested" });
    expect(prompts[0]).toBe("assistant: Here is a draft.\nhuman>");
    const r2 = await u.onMessages(from("More."));
    expect(r2.message).toMatchObject({ type: "text", content: "continue" });
  });

  it("ALWAYS: an empty answer to a termination message ends, and so does exit", async () => {
    const { input } = scripted(["", "exit"]);
    const u = new UserProxyAgent("human", { inputFunc: input, humanInputMode: "ALWAYS" });
    expect((await u.onMessages(from("Done. TERMINATE"))).message.type).toBe("stop");
    expect((await u.onMessages(from("Anything else?"))).message).toMatchObject({
      type: "stop",
      content: "conversation ended by the user",
    });
  });

  it("TERMINATE asks only on termination messages or after too many auto replies", async () => {
    const { input, prompts } = scripted(["one more thing", ""]);
    const u = new UserProxyAgent("human", {
      inputFunc: input,
      maxConsecutiveAutoReplies: 2,
      defaultAutoReply: "go on",
    });
    expect((await u.onMessages(from("a"))).message).toMatchObject({ content: "go on" });
    expect((await u.onMessages(from("b"))).message).toMatchObject({ content: "go on" });
    expect(prompts).toEqual([]);
    // Two auto replies in a row: the human is asked.
    expect((await u.onMessages(from("c"))).message).toMatchObject({ content: "one more thing" });
    expect((await u.onMessages(from("d"))).message).toMatchObject({ content: "go on" });
    // A termination message: asked; the empty answer ends the conversation.
    expect((await u.onMessages(from("All done TERMINATE"))).message.type).toBe("stop");
    expect(prompts).toHaveLength(2);
  });

  it("NEVER never asks and ends on termination or the auto-reply limit", async () => {
    const input: InputFunction = () => Promise.reject(new Error("must not ask"));
    const u = new UserProxyAgent("human", {
      inputFunc: input,
      humanInputMode: "NEVER",
      maxConsecutiveAutoReplies: 1,
    });
    expect((await u.onMessages(from("a"))).message).toMatchObject({ type: "text", content: "" });
    expect((await u.onMessages(from("b"))).message).toMatchObject({
      type: "stop",
      content: "conversation ended: 1 automatic replies in a row",
    });
    await u.reset();
    expect((await u.onMessages(from("TERMINATE"))).message).toMatchObject({
      type: "stop",
      content: "conversation ended: termination message received",
    });
  });

  it("passes the signal to the input function and rejects when cancelled", async () => {
    const input: InputFunction = (_p, signal) =>
      new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason)));
    const u = new UserProxyAgent("human", { inputFunc: input, humanInputMode: "ALWAYS" });
    const ac = new AbortController();
    const p = u.onMessages(from("?"), { signal: ac.signal });
    ac.abort(new Error("cancelled"));
    await expect(p).rejects.toThrow("cancelled");
  });

  it("keeps the auto-reply count in its state", async () => {
    const u = new UserProxyAgent("human", {
      humanInputMode: "NEVER",
      maxConsecutiveAutoReplies: 1,
    });
    await u.onMessages(from("a"));
    const v = new UserProxyAgent("human", {
      humanInputMode: "NEVER",
      maxConsecutiveAutoReplies: 1,
    });
    await v.loadState(JSON.parse(JSON.stringify(await u.saveState())));
    expect((await v.onMessages(from("b"))).message.type).toBe("stop");
    await expect(v.loadState({})).rejects.toThrow(/not a UserProxyAgent state/);
    expect(() => new UserProxyAgent("h", { humanInputMode: "SOMETIMES" as never })).toThrow(
      /humanInputMode must be ALWAYS, TERMINATE or NEVER/,
    );
  });
});
