/** Wrappers that add spans to any model client or tool, whoever wrote it. */
import type { Usage } from "../messages.js";
import type { CreateRequest, CreateResult, ModelClient, StreamChunk } from "../model-client.js";
import type { Tool } from "../tools/tool.js";
import { setUsageAttributes, withSpan, withSpanStream } from "./tracing.js";

function modelAttributes(client: ModelClient, request: CreateRequest, caller?: string) {
  return {
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": client.modelId,
    "gen_ai.request.message_count": request.messages.length,
    "gen_ai.request.tool_count": request.tools?.length ?? 0,
    ...(caller ? { "athanor.agent.name": caller } : {}),
  };
}

function setResult(span: import("@opentelemetry/api").Span, result: CreateResult): void {
  setUsageAttributes(span, result.usage as Usage);
  span.setAttribute("gen_ai.response.finish_reasons", [result.finishReason]);
  if (result.model) span.setAttribute("gen_ai.response.model", result.model);
  if (result.cached) span.setAttribute("athanor.cached", true);
  span.setAttribute("athanor.tool_calls", result.toolCalls.length);
}

/**
 * A model client whose every call is a `gen_ai.chat` span carrying the model, the caller and
 * the token usage. `caller` names who is asking (an agent, or a team's selector).
 */
export function tracedModelClient(client: ModelClient, caller?: string): ModelClient {
  return {
    get modelId() {
      return client.modelId;
    },
    get capabilities() {
      return client.capabilities;
    },
    create(request) {
      return withSpan(
        `chat ${client.modelId}`,
        modelAttributes(client, request, caller),
        async (span) => {
          const result = await client.create(request);
          setResult(span, result);
          return result;
        },
      );
    },
    stream(request) {
      return withSpanStream<StreamChunk>(
        `chat ${client.modelId}`,
        { ...modelAttributes(client, request, caller), "gen_ai.request.stream": true },
        async function* (span) {
          for await (const chunk of client.stream(request)) {
            if (chunk.type === "finish") setResult(span, chunk.result);
            yield chunk;
          }
        },
      );
    },
  };
}

/** A tool whose every call is an `execute_tool` span (name, call id, error or not). */
export function tracedTool(tool: Tool): Tool {
  return {
    name: tool.name,
    description: tool.description,
    parameters: tool.parameters,
    timeoutMs: tool.timeoutMs,
    run(args, ctx) {
      return withSpan(
        `execute_tool ${tool.name}`,
        {
          "gen_ai.operation.name": "execute_tool",
          "gen_ai.tool.name": tool.name,
          ...(ctx.callId ? { "gen_ai.tool.call.id": ctx.callId } : {}),
        },
        () => tool.run(args, ctx),
      );
    },
  };
}
