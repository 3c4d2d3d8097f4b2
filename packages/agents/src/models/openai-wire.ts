/**
 * The Chat Completions wire format: LLM messages and requests to the JSON an OpenAI-compatible
 * endpoint expects, and its answers (JSON or SSE chunks) back to results. Pure functions; the
 * parsers treat the answer as untrusted and throw `InvalidResponseError` on anything unusable.
 */
import type OpenAI from "openai";
import type { LLMMessage, ToolCall, Usage } from "../messages.js";
import type { CreateRequest, CreateResult, FinishReason, StreamChunk } from "../model-client.js";

type WireMessage = OpenAI.Chat.ChatCompletionMessageParam;
type WireParams = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;

/** A 2xx answer that is not a usable completion (the client wraps it in a ModelClientError). */
export class InvalidResponseError extends Error {
  override readonly name = "InvalidResponseError";
}

export interface WireOptions {
  /** The `model` field sent to the endpoint. */
  model: string;
  /** Which field carries `maxTokens` (OpenAI's newer models only accept max_completion_tokens). */
  maxTokensParam: "max_tokens" | "max_completion_tokens";
  /** Vendor parameters merged into every request body (e.g. vLLM's `top_k`). */
  extraBody?: Record<string, unknown>;
}

/** LLM messages to Chat Completions messages; a ToolMessage becomes one `tool` message per result. */
export function toWireMessages(messages: LLMMessage[]): WireMessage[] {
  const out: WireMessage[] = [];
  for (const [i, m] of messages.entries()) {
    switch (m.role) {
      case "system":
        out.push({ role: "system", content: m.content });
        break;
      case "user": {
        const content =
          typeof m.content === "string"
            ? m.content
            : m.content.map(
                (part): OpenAI.Chat.ChatCompletionContentPart =>
                  part.type === "text"
                    ? { type: "text", text: part.text }
                    : {
                        type: "image_url",
                        image_url: {
                          url:
                            "url" in part ? part.url : `data:${part.mimeType};base64,${part.data}`,
                        },
                      },
              );
        out.push({ role: "user", content, ...(m.name ? { name: m.name } : {}) });
        break;
      }
      case "assistant": {
        const calls = m.toolCalls ?? [];
        out.push({
          role: "assistant",
          // Several servers reject a null content without tool calls.
          content: m.content ?? (calls.length > 0 ? null : ""),
          ...(m.name ? { name: m.name } : {}),
          ...(calls.length > 0
            ? {
                tool_calls: calls.map((c) => ({
                  id: c.id,
                  type: "function" as const,
                  function: { name: c.name, arguments: c.arguments },
                })),
              }
            : {}),
        });
        break;
      }
      case "tool":
        for (const r of m.results) {
          out.push({ role: "tool", tool_call_id: r.callId, content: r.content });
        }
        break;
      default:
        throw new TypeError(
          `messages[${i}]: unknown role ${JSON.stringify((m as { role: unknown }).role)}`,
        );
    }
  }
  return out;
}

/** A request to the Chat Completions body (without `stream`). */
export function toWireParams(request: CreateRequest, options: WireOptions): WireParams {
  const params: WireParams = {
    ...options.extraBody,
    model: options.model,
    messages: toWireMessages(request.messages),
  };
  const tools = request.tools ?? [];
  if (tools.length > 0) {
    params.tools = tools.map((t) => ({
      type: "function",
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
    if (request.parallelToolCalls !== undefined) {
      params.parallel_tool_calls = request.parallelToolCalls;
    }
  }
  if (request.toolChoice !== undefined) {
    params.tool_choice =
      typeof request.toolChoice === "string"
        ? request.toolChoice
        : { type: "function", function: { name: request.toolChoice.name } };
  }
  const format = request.responseFormat;
  if (format?.type === "json_object") params.response_format = { type: "json_object" };
  else if (format?.type === "json_schema") {
    params.response_format = {
      type: "json_schema",
      json_schema: {
        name: format.name,
        schema: format.schema,
        ...(format.strict !== undefined ? { strict: format.strict } : {}),
      },
    };
  }
  if (request.temperature !== undefined) params.temperature = request.temperature;
  if (request.topP !== undefined) params.top_p = request.topP;
  if (request.maxTokens !== undefined) params[options.maxTokensParam] = request.maxTokens;
  if (request.stop !== undefined && request.stop.length > 0) params.stop = request.stop;
  if (request.seed !== undefined) params.seed = request.seed;
  return params;
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

const FINISH_REASONS: Record<string, FinishReason> = {
  stop: "stop",
  length: "length",
  tool_calls: "tool_calls",
  function_call: "tool_calls",
  content_filter: "content_filter",
};

/**
 * The finish reason as Athanor names it. Servers that answer tool calls with "stop" (several
 * local ones do) are normalized to "tool_calls".
 */
export function toFinishReason(raw: unknown, hasToolCalls: boolean): FinishReason {
  const reason = typeof raw === "string" ? (FINISH_REASONS[raw] ?? "unknown") : "unknown";
  return hasToolCalls && (reason === "stop" || reason === "unknown") ? "tool_calls" : reason;
}

/** Token usage from a `usage` object; zeros when the server did not report it. */
export function toUsage(raw: unknown): Usage {
  if (!isObject(raw)) return { promptTokens: 0, completionTokens: 0 };
  return {
    promptTokens: count(raw.prompt_tokens),
    completionTokens: count(raw.completion_tokens),
  };
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** A non-streaming completion body to a result; throws InvalidResponseError on garbage. */
export function parseCompletion(body: unknown): CreateResult {
  if (!isObject(body)) {
    throw new InvalidResponseError(`expected a JSON object, got ${describe(body)}`);
  }
  if (isObject(body.error)) {
    throw new InvalidResponseError(`error in a 2xx answer: ${describe(body.error.message)}`);
  }
  if (!Array.isArray(body.choices) || body.choices.length === 0) {
    throw new InvalidResponseError(`no "choices" in the answer (${describe(body)})`);
  }
  const choice: unknown = body.choices[0];
  if (!isObject(choice) || !isObject(choice.message)) {
    throw new InvalidResponseError(`choices[0] has no "message" object (${describe(choice)})`);
  }
  const message = choice.message;
  const content = parseContent(message.content);
  const toolCalls = parseToolCalls(message.tool_calls);
  return {
    content,
    toolCalls,
    finishReason: toFinishReason(choice.finish_reason, toolCalls.length > 0),
    usage: toUsage(body.usage),
    ...(typeof body.model === "string" ? { model: body.model } : {}),
  };
}

function parseContent(raw: unknown): string | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === "string") return raw;
  // A few servers answer with content parts; keep their text.
  if (Array.isArray(raw) && raw.every((p) => isObject(p) && typeof p.text === "string")) {
    return raw.map((p) => (p as { text: string }).text).join("");
  }
  throw new InvalidResponseError(`message.content is not text (${describe(raw)})`);
}

function parseToolCalls(raw: unknown): ToolCall[] {
  if (raw === null || raw === undefined) return [];
  if (!Array.isArray(raw)) {
    throw new InvalidResponseError(`message.tool_calls is not an array (${describe(raw)})`);
  }
  return raw.map((call, i) => {
    const fn = isObject(call) ? call.function : undefined;
    if (!isObject(fn) || typeof fn.name !== "string" || fn.name === "") {
      throw new InvalidResponseError(`tool_calls[${i}] has no function name (${describe(call)})`);
    }
    const id =
      isObject(call) && typeof call.id === "string" && call.id !== "" ? call.id : `call_${i}`;
    return { id, name: fn.name, arguments: argumentsText(fn.arguments, i) };
  });
}

function argumentsText(raw: unknown, i: number): string {
  if (raw === undefined || raw === null || raw === "") return "{}";
  if (typeof raw === "string") return raw;
  // Some servers send the arguments as an object rather than JSON text.
  if (isObject(raw)) return JSON.stringify(raw);
  throw new InvalidResponseError(`tool_calls[${i}].function.arguments is ${describe(raw)}`);
}

/**
 * Assembles SSE chunks into stream events and, at the end, the complete result. Tool-call
 * deltas are matched by `index` (or by `id` where a server leaves the index out).
 */
export class StreamAssembler {
  private content = "";
  private sawContent = false;
  private readonly calls: { id: string; name: string; arguments: string }[] = [];
  private finish: unknown;
  private sawFinish = false;
  private usage: Usage = { promptTokens: 0, completionTokens: 0 };
  private model: string | undefined;

  /** Digests one chunk; returns the stream events it carries. */
  push(chunk: unknown): StreamChunk[] {
    if (!isObject(chunk)) {
      throw new InvalidResponseError(`stream chunk is not a JSON object (${describe(chunk)})`);
    }
    if (typeof chunk.model === "string" && chunk.model !== "") this.model = chunk.model;
    if (isObject(chunk.usage)) this.usage = toUsage(chunk.usage);
    if (chunk.choices === undefined || chunk.choices === null) return [];
    if (!Array.isArray(chunk.choices)) {
      throw new InvalidResponseError(`stream chunk "choices" is not an array (${describe(chunk)})`);
    }
    const events: StreamChunk[] = [];
    for (const choice of chunk.choices) {
      if (!isObject(choice)) {
        throw new InvalidResponseError(`stream choice is not an object (${describe(choice)})`);
      }
      if (typeof choice.index === "number" && choice.index !== 0) continue; // n > 1: keep the first
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
        this.finish = choice.finish_reason;
        this.sawFinish = true;
      }
      const delta = choice.delta;
      if (delta === undefined || delta === null) continue;
      if (!isObject(delta)) {
        throw new InvalidResponseError(`stream delta is not an object (${describe(delta)})`);
      }
      if (typeof delta.content === "string" && delta.content !== "") {
        this.content += delta.content;
        this.sawContent = true;
        events.push({ type: "text-delta", delta: delta.content });
      } else if (
        delta.content !== undefined &&
        delta.content !== null &&
        typeof delta.content !== "string"
      ) {
        throw new InvalidResponseError(
          `stream delta.content is not text (${describe(delta.content)})`,
        );
      }
      if (delta.tool_calls !== undefined && delta.tool_calls !== null) {
        if (!Array.isArray(delta.tool_calls)) {
          throw new InvalidResponseError(
            `stream delta.tool_calls is not an array (${describe(delta)})`,
          );
        }
        for (const [position, raw] of delta.tool_calls.entries()) {
          events.push(this.toolCallDelta(raw, position));
        }
      }
    }
    return events;
  }

  private toolCallDelta(raw: unknown, position: number): StreamChunk {
    if (!isObject(raw)) {
      throw new InvalidResponseError(`stream tool-call delta is not an object (${describe(raw)})`);
    }
    const id = typeof raw.id === "string" && raw.id !== "" ? raw.id : undefined;
    let index: number;
    if (typeof raw.index === "number" && Number.isInteger(raw.index) && raw.index >= 0)
      index = raw.index;
    else if (id !== undefined) {
      const known = this.calls.findIndex((c) => c.id === id);
      index = known >= 0 ? known : this.calls.length;
    } else index = Math.max(0, this.calls.length - 1 + position);
    if (index > this.calls.length + 16) {
      throw new InvalidResponseError(`stream tool-call delta has an implausible index ${index}`);
    }
    while (this.calls.length <= index) this.calls.push({ id: "", name: "", arguments: "" });
    const call = this.calls[index];
    if (id !== undefined && call.id === "") call.id = id;
    const fn = raw.function;
    if (fn !== undefined && fn !== null && !isObject(fn)) {
      throw new InvalidResponseError(
        `stream tool-call delta "function" is not an object (${describe(raw)})`,
      );
    }
    const name = isObject(fn) && typeof fn.name === "string" ? fn.name : undefined;
    // The name normally arrives whole, once; some servers repeat it, a few send fragments.
    if (name && call.name !== name) call.name += name;
    let argumentsDelta = "";
    if (isObject(fn) && fn.arguments !== undefined && fn.arguments !== null) {
      argumentsDelta =
        typeof fn.arguments === "string" ? fn.arguments : JSON.stringify(fn.arguments);
    }
    call.arguments += argumentsDelta;
    return {
      type: "tool-call-delta",
      index,
      ...(id !== undefined ? { id } : {}),
      ...(name ? { name } : {}),
      argumentsDelta,
    };
  }

  /** The complete result; throws when the stream was cut short or a tool call is incomplete. */
  result(): CreateResult {
    if (!this.sawFinish) {
      throw new InvalidResponseError(
        "the stream ended before a finish_reason (connection cut or not a Chat Completions stream)",
      );
    }
    const toolCalls: ToolCall[] = this.calls.map((c, i) => {
      if (c.name === "")
        throw new InvalidResponseError(`streamed tool call ${i} has no function name`);
      return {
        id: c.id || `call_${i}`,
        name: c.name,
        arguments: c.arguments === "" ? "{}" : c.arguments,
      };
    });
    return {
      content: this.sawContent ? this.content : null,
      toolCalls,
      finishReason: toFinishReason(this.finish, toolCalls.length > 0),
      usage: this.usage,
      ...(this.model !== undefined ? { model: this.model } : {}),
    };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A short description of an unexpected value for error messages. */
function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  let text: string;
  try {
    text =
      typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
