import { afterEach, describe, expect, it } from "vitest";
import { ChatCompletionsTestServer } from "./chat-completions-server.js";

const servers: ChatCompletionsTestServer[] = [];
async function start(options?: Parameters<typeof ChatCompletionsTestServer.start>[0]) {
  const s = await ChatCompletionsTestServer.start(options);
  servers.push(s);
  return s;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("ChatCompletionsTestServer", () => {
  it("serves scripted steps in order and records requests", async () => {
    const server = await start();
    server.enqueue({ type: "error", status: 503, times: 2 }, { type: "reply", content: "hi" });
    expect(server.pending).toBe(3);
    const url = `${server.baseURL}/chat/completions`;
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await post(url, { model: "m", messages: [] })).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect(server.pending).toBe(0);
    expect(server.requests.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(server.requests[0]).toMatchObject({
      method: "POST",
      path: "/v1/chat/completions",
      body: { model: "m" },
      stream: false,
    });
  });

  it("streams SSE with [DONE] and usage only when asked", async () => {
    const server = await start();
    server.enqueue({ type: "reply", content: "a b" }, { type: "reply", content: "a b" });
    const url = `${server.baseURL}/chat/completions`;
    const plain = await (await post(url, { model: "m", messages: [], stream: true })).text();
    expect(plain.trim().endsWith("data: [DONE]")).toBe(true);
    expect(plain).not.toContain('"usage"');
    const withUsage = await (
      await post(url, {
        model: "m",
        messages: [],
        stream: true,
        stream_options: { include_usage: true },
      })
    ).text();
    expect(withUsage).toContain('"usage":{"prompt_tokens"');
  });

  it("answers an empty script with a clear 500, or with the fallback", async () => {
    const bare = await start();
    const res = await post(`${bare.baseURL}/chat/completions`, { messages: [] });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({
      error: { message: expect.stringMatching(/no scripted response left for request #0/) },
    });

    const echo = await start({
      fallback: (req) => {
        const body = req.body as { messages: { content: string }[] };
        return { type: "reply", content: `echo: ${body.messages.at(-1)?.content}` };
      },
    });
    const answer = (await (
      await post(`${echo.baseURL}/chat/completions`, {
        messages: [{ role: "user", content: "ping" }],
      })
    ).json()) as { choices: { message: { content: string } }[] };
    expect(answer.choices[0].message.content).toBe("echo: ping");
  });

  it("lists models and 404s unknown routes", async () => {
    const server = await start({ models: ["a", "b"] });
    const list = (await (await fetch(`${server.baseURL}/models`)).json()) as {
      data: { id: string }[];
    };
    expect(list.data.map((m: { id: string }) => m.id)).toEqual(["a", "b"]);
    expect((await post(`${server.baseURL}/embeddings`, {})).status).toBe(404);
  });

  it("validates times and closes with hanging requests open", async () => {
    const server = await start();
    expect(() => server.enqueue({ type: "error", status: 500, times: 0 })).toThrow(
      /positive integer/,
    );
    server.enqueue({ type: "hang" });
    const pending = post(`${server.baseURL}/chat/completions`, {}).catch((e: Error) => e);
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await server.close();
    servers.pop();
    expect(await pending).toBeInstanceOf(Error);
  });
});
