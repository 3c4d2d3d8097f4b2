/**
 * OpenTelemetry spans for agent turns, model calls and tool calls, through
 * `@opentelemetry/api` only: with no SDK registered every call here is a cheap no-op, and an
 * application that registers one (with a context manager, as `NodeSDK` does) sees team runs,
 * turns, model calls and tool calls nested under each other.
 *
 * Span names and attributes follow the GenAI semantic conventions where they exist
 * (`gen_ai.usage.input_tokens`, `gen_ai.request.model`, `gen_ai.tool.name`, ...).
 */
import {
  type Attributes,
  context,
  type Span,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { Usage } from "../messages.js";

export const TRACER_NAME = "@athanor/agents";

export function getTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Runs `fn` inside an active span: the span ends when `fn` settles, records an exception and
 * an error status when it throws, and is the parent of spans started inside `fn`.
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return getTracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: (err as Error)?.message ?? String(err),
      });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * Like `withSpan` for an async generator: the span covers the whole iteration, and the
 * generator body runs with the span active.
 */
export async function* withSpanStream<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => AsyncIterable<T>,
): AsyncGenerator<T> {
  const span = getTracer().startSpan(name, { attributes });
  const ctx = trace.setSpan(context.active(), span);
  const iterator = context.with(ctx, () => fn(span)[Symbol.asyncIterator]());
  try {
    while (true) {
      const next = await context.with(ctx, () => iterator.next());
      if (next.done) break;
      yield next.value;
    }
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) });
    throw err;
  } finally {
    await iterator.return?.();
    span.end();
  }
}

export function setUsageAttributes(span: Span, usage: Usage | undefined): void {
  if (!usage) return;
  span.setAttribute("gen_ai.usage.input_tokens", usage.promptTokens);
  span.setAttribute("gen_ai.usage.output_tokens", usage.completionTokens);
}
