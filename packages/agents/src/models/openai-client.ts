/**
 * A model client for any OpenAI-compatible Chat Completions endpoint (OpenAI, Azure OpenAI,
 * vLLM, Ollama, llama.cpp's server, Athanor's own `serve`), on the official `openai` package.
 *
 * The SDK builds and sends the requests (URLs, auth headers, Azure deployments, SSE parsing);
 * this client owns everything around them: the retry loop (the SDK's own retries are off),
 * per-attempt timeouts, cancellation, and turning whatever comes back into a CreateResult or
 * a clear ModelClientError.
 */
import OpenAI, { AzureOpenAI } from "openai";
import type {
  CreateRequest,
  CreateResult,
  ModelCapabilities,
  ModelClient,
  StreamChunk,
} from "../model-client.js";
import { streamFromResult } from "../model-client.js";
import {
  abortError,
  clip,
  ModelClientError,
  type ModelClientErrorKind,
  ModelConfigError,
  throwIfAborted,
} from "./errors.js";
import {
  InvalidResponseError,
  parseCompletion,
  StreamAssembler,
  toWireParams,
  type WireOptions,
} from "./openai-wire.js";
import {
  backoffDelay,
  parseRetryAfter,
  type RetryOptions,
  type RetryPolicy,
  retryPolicy,
  sleep,
} from "./retry.js";

export const OPENAI_BASE_URL = "https://api.openai.com/v1";

/** Called before each retry (for logs and progress displays). */
export interface RetryEvent {
  /** The attempt that failed (1-based). */
  attempt: number;
  /** How long the client waits before the next attempt. */
  delayMs: number;
  /** The failure, as it would be thrown if no retry followed. */
  error: ModelClientError;
}

/** Settings shared by the OpenAI and Azure OpenAI clients. */
export interface ChatClientOptions {
  /** Overrides the declared capabilities (defaults: tools, structured output and streaming on; vision by model name). */
  capabilities?: Partial<ModelCapabilities>;
  /** Retries on 408/409/429/5xx, connection errors and timeouts. Default: 4 retries, 0.5 s doubling to 20 s. */
  retry?: RetryOptions;
  /**
   * Per-attempt timeout in ms. For `create`: the whole request; for `stream`: until the answer
   * starts, then the longest silence between two chunks. Default 120 000.
   */
  timeoutMs?: number;
  /** Which field carries `maxTokens`. Default: max_completion_tokens for OpenAI and Azure, max_tokens elsewhere. */
  maxTokensParam?: "max_tokens" | "max_completion_tokens";
  /** Ask for usage in streams (`stream_options.include_usage`). Default true; turn off for servers that reject it. */
  streamUsage?: boolean;
  /** Vendor parameters merged into every request body (e.g. `{ top_k: 20 }` for vLLM). */
  extraBody?: Record<string, unknown>;
  /** Extra HTTP headers on every request. */
  defaultHeaders?: Record<string, string>;
  /** A fetch implementation (proxies, instrumentation); default the global fetch. */
  fetch?: typeof fetch;
  /** Called before each retry. */
  onRetry?: (event: RetryEvent) => void;
}

export interface OpenAIChatClientConfig extends ChatClientOptions {
  /** The model name sent to the endpoint, e.g. "gpt-4o-mini", "Qwen/Qwen2.5-7B-Instruct", "llama3.2". */
  model: string;
  /** Default https://api.openai.com/v1. vLLM: http://host:8000/v1; Ollama: http://localhost:11434/v1. */
  baseURL?: string;
  /** Required for api.openai.com; optional for local servers that do not check it. */
  apiKey?: string;
  organization?: string;
  project?: string;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** Model names that accept images, for the default `vision` capability. */
const VISION_MODELS =
  /gpt-4o|gpt-4\.1|gpt-4-turbo|gpt-5|(^|\/)o[134](-|$)|vision|llava|-vl\b|vl-|pixtral|gemma-?3|llama-?3\.2-.*vision|qwen2(\.5)?-?vl|minicpm-v/i;

export function defaultCapabilities(model: string): ModelCapabilities {
  return {
    tools: true,
    vision: VISION_MODELS.test(model),
    structuredOutput: true,
    streaming: true,
  };
}

/** A Chat Completions client. One instance per model; safe to share across concurrent calls. */
export class OpenAIChatClient implements ModelClient {
  readonly modelId: string;
  readonly capabilities: ModelCapabilities;
  /** The URL requests go to (for messages and errors). */
  readonly endpoint: string;
  protected readonly sdk: OpenAI;
  private readonly wire: WireOptions;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly streamUsage: boolean;
  private readonly onRetry: ((event: RetryEvent) => void) | undefined;

  /**
   * @param sdk an `openai` client to send requests with, instead of one built from `config`
   *   (its own retries and timeout are overridden per request).
   */
  constructor(config: OpenAIChatClientConfig, sdk?: OpenAI) {
    if (typeof config.model !== "string" || config.model.trim() === "") {
      throw new ModelConfigError('OpenAIChatClient: `model` is required (e.g. "gpt-4o-mini")');
    }
    const baseURL = trimSlash(config.baseURL ?? OPENAI_BASE_URL);
    checkUrl(baseURL, "OpenAIChatClient: baseURL");
    const official = isOfficialOpenAI(baseURL);
    if (!sdk && official && !config.apiKey) {
      throw new ModelConfigError(`OpenAIChatClient: an apiKey is required for ${baseURL}`);
    }
    this.sdk =
      sdk ??
      new OpenAI({
        baseURL,
        // Local servers usually ignore the key, but the SDK insists on one.
        apiKey: config.apiKey || "not-needed",
        organization: config.organization ?? null,
        project: config.project ?? null,
        ...sdkOptions(config),
      });
    const base = config.baseURL || !sdk ? baseURL : trimSlash(sdk.baseURL);
    this.endpoint = `${base}/chat/completions`;
    this.modelId = config.model;
    this.capabilities = { ...defaultCapabilities(config.model), ...config.capabilities };
    this.wire = {
      model: config.model,
      maxTokensParam: config.maxTokensParam ?? (official ? "max_completion_tokens" : "max_tokens"),
      ...(config.extraBody ? { extraBody: config.extraBody } : {}),
    };
    this.policy = retryPolicy(config.retry);
    this.timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.timeoutMs > 0) || !Number.isFinite(this.timeoutMs)) {
      throw new ModelConfigError(
        `OpenAIChatClient: timeoutMs must be a positive number, got ${config.timeoutMs}`,
      );
    }
    this.streamUsage = config.streamUsage ?? true;
    this.onRetry = config.onRetry;
  }

  async create(request: CreateRequest): Promise<CreateResult> {
    const params = toWireParams(request, this.wire);
    const { value } = await this.withRetries(request.signal, async (attempt) => {
      const body: unknown = await this.sdk.chat.completions.create(
        params,
        this.requestOptions(attempt),
      );
      return parseCompletion(body);
    });
    return value;
  }

  async *stream(request: CreateRequest): AsyncIterable<StreamChunk> {
    if (!this.capabilities.streaming) {
      yield* streamFromResult(await this.create(request));
      return;
    }
    const params = {
      ...toWireParams(request, this.wire),
      stream: true as const,
      ...(this.streamUsage ? { stream_options: { include_usage: true } } : {}),
    };
    const opened = await this.withRetries(
      request.signal,
      (attempt) => this.sdk.chat.completions.create(params, this.requestOptions(attempt)),
      { keepAttempt: true },
    );
    const attempt = opened.attempt;
    const assembler = new StreamAssembler();
    try {
      attempt.startTimer();
      for await (const chunk of opened.value) {
        attempt.stopTimer();
        for (const event of assembler.push(chunk)) yield event;
        attempt.startTimer();
      }
      attempt.stopTimer();
      // The SDK ends an aborted stream quietly; say why it ended.
      throwIfAborted(request.signal);
      if (attempt.timedOut)
        throw this.failure(this.classify(new Error("stream stalled"), attempt), opened.attempts);
      yield { type: "finish", result: assembler.result() };
    } catch (error) {
      if (request.signal?.aborted) throw abortError(request.signal);
      if (error instanceof ModelClientError) throw error;
      throw this.failure(this.classify(error, attempt), opened.attempts);
    } finally {
      attempt.dispose();
    }
  }

  private requestOptions(attempt: Attempt) {
    // Our timer fires first; the SDK's is a backstop. Its retries stay off.
    return { signal: attempt.signal, maxRetries: 0, timeout: this.timeoutMs + 5_000 };
  }

  /** Runs `fn` until it succeeds, a failure is final, retries are spent or the caller aborts. */
  private async withRetries<T>(
    signal: AbortSignal | undefined,
    fn: (attempt: Attempt) => Promise<T>,
    options: { keepAttempt?: boolean } = {},
  ): Promise<{ value: T; attempt: Attempt; attempts: number }> {
    for (let n = 1; ; n++) {
      throwIfAborted(signal);
      const attempt = new Attempt(signal, this.timeoutMs);
      attempt.startTimer();
      let kept = false;
      try {
        const value = await fn(attempt);
        attempt.stopTimer();
        kept = options.keepAttempt === true;
        return { value, attempt, attempts: n };
      } catch (error) {
        if (signal?.aborted) throw abortError(signal);
        const failure = this.classify(error, attempt);
        const last = n > this.policy.maxRetries;
        if (!failure.retryable || last) throw this.failure(failure, n);
        if (
          failure.retryAfterMs !== undefined &&
          failure.retryAfterMs > this.policy.maxRetryAfterMs
        ) {
          const note = `Retry-After ${Math.ceil(failure.retryAfterMs / 1000)} s exceeds retry.maxRetryAfterMs`;
          throw this.failure({ ...failure, note }, n);
        }
        const delayMs = backoffDelay(this.policy, n, failure.retryAfterMs);
        this.onRetry?.({ attempt: n, delayMs, error: this.failure(failure, n) });
        await sleep(delayMs, signal);
      } finally {
        if (!kept) attempt.dispose();
      }
    }
  }

  private classify(error: unknown, attempt: Attempt): Failure {
    if (error instanceof InvalidResponseError) {
      return { kind: "invalid_response", retryable: false, message: error.message, cause: error };
    }
    if (error instanceof SyntaxError) {
      return {
        kind: "invalid_response",
        retryable: false,
        message: `the body is not valid JSON (${error.message})`,
        cause: error,
      };
    }
    if (attempt.timedOut || error instanceof OpenAI.APIConnectionTimeoutError) {
      return {
        kind: "timeout",
        retryable: true,
        message: `no answer within ${this.timeoutMs} ms`,
        cause: error,
      };
    }
    if (error instanceof OpenAI.APIConnectionError) {
      return {
        kind: "connection",
        retryable: true,
        message: connectionMessage(error),
        cause: error,
      };
    }
    if (error instanceof OpenAI.APIError) {
      const status = error.status;
      if (status === undefined) {
        // An error event inside a 200 stream.
        return {
          kind: "invalid_response",
          retryable: false,
          message: `error event in the stream: ${serverMessage(error)}`,
          cause: error,
        };
      }
      const hint = error.headers?.get("x-should-retry");
      const retryable =
        hint === "true" ||
        (hint !== "false" && (status === 408 || status === 409 || status === 429 || status >= 500));
      return {
        kind: "http",
        status,
        retryable,
        message: serverMessage(error),
        retryAfterMs: parseRetryAfter(error.headers),
        cause: error,
      };
    }
    if (error instanceof TypeError || (error instanceof Error && error.name === "AbortError")) {
      // undici's "terminated" / "fetch failed" while reading a body.
      return {
        kind: "connection",
        retryable: true,
        message: connectionMessage(error),
        cause: error,
      };
    }
    if (error instanceof OpenAI.OpenAIError) {
      return { kind: "invalid_response", retryable: false, message: error.message, cause: error };
    }
    throw error; // a bug, not a transport failure: let it surface as is
  }

  private failure(failure: Failure, attempts: number): ModelClientError {
    return new ModelClientError({
      kind: failure.kind,
      endpoint: this.endpoint,
      model: this.modelId,
      attempts,
      ...(failure.status !== undefined ? { status: failure.status } : {}),
      ...(failure.message ? { serverMessage: clip(failure.message) } : {}),
      ...(failure.note ? { note: failure.note } : {}),
      cause: failure.cause,
    });
  }
}

export interface AzureOpenAIChatClientConfig extends ChatClientOptions {
  /** The resource endpoint, e.g. https://my-resource.openai.azure.com */
  endpoint: string;
  /** The deployment name (Azure routes by deployment, not model). */
  deployment: string;
  /** Default "2024-10-21" (the current GA Chat Completions API version). */
  apiVersion?: string;
  /** An API key, or ... */
  apiKey?: string;
  /** ... a Microsoft Entra ID token provider (e.g. from @azure/identity's getBearerTokenProvider). */
  azureADTokenProvider?: () => Promise<string>;
  /** The `modelId` to report (and the body's `model`); default the deployment name. */
  model?: string;
}

export const AZURE_DEFAULT_API_VERSION = "2024-10-21";

/** Azure OpenAI, through the SDK's `AzureOpenAI` (deployment URLs, `api-key` header, api-version). */
export class AzureOpenAIChatClient extends OpenAIChatClient {
  constructor(config: AzureOpenAIChatClientConfig) {
    if (!config.endpoint)
      throw new ModelConfigError("AzureOpenAIChatClient: `endpoint` is required");
    if (!config.deployment)
      throw new ModelConfigError("AzureOpenAIChatClient: `deployment` is required");
    if (!config.apiKey && !config.azureADTokenProvider) {
      throw new ModelConfigError(
        "AzureOpenAIChatClient: an apiKey or an azureADTokenProvider is required",
      );
    }
    if (config.apiKey && config.azureADTokenProvider) {
      throw new ModelConfigError(
        "AzureOpenAIChatClient: give an apiKey or an azureADTokenProvider, not both",
      );
    }
    const endpoint = trimSlash(config.endpoint);
    checkUrl(endpoint, "AzureOpenAIChatClient: endpoint");
    const sdk = new AzureOpenAI({
      // An explicit baseURL keeps the SDK from reading OPENAI_BASE_URL from the environment.
      baseURL: `${endpoint}/openai`,
      deployment: config.deployment,
      apiVersion: config.apiVersion ?? AZURE_DEFAULT_API_VERSION,
      ...(config.apiKey ? { apiKey: config.apiKey } : {}),
      ...(config.azureADTokenProvider ? { azureADTokenProvider: config.azureADTokenProvider } : {}),
      ...sdkOptions(config),
    });
    super(
      {
        ...config,
        model: config.model ?? config.deployment,
        baseURL: `${endpoint}/openai/deployments/${encodeURIComponent(config.deployment)}`,
        maxTokensParam: config.maxTokensParam ?? "max_completion_tokens",
      },
      sdk,
    );
  }
}

interface Failure {
  kind: ModelClientErrorKind;
  retryable: boolean;
  message: string;
  status?: number;
  retryAfterMs?: number | undefined;
  note?: string;
  cause: unknown;
}

/** One attempt's abort scope: the caller's signal plus a restartable timeout. */
class Attempt {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly unlink: () => void;
  timedOut = false;

  constructor(
    parent: AbortSignal | undefined,
    private readonly timeoutMs: number,
  ) {
    const onAbort = () => this.controller.abort(parent?.reason);
    parent?.addEventListener("abort", onAbort, { once: true });
    this.unlink = () => parent?.removeEventListener("abort", onAbort);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  startTimer(): void {
    this.stopTimer();
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new DOMException("model call timed out", "TimeoutError"));
    }, this.timeoutMs);
  }

  stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.stopTimer();
    this.unlink();
  }
}

function sdkOptions(config: ChatClientOptions) {
  return {
    maxRetries: 0,
    logLevel: "off" as const,
    ...(config.defaultHeaders ? { defaultHeaders: config.defaultHeaders } : {}),
    ...(config.fetch ? { fetch: config.fetch } : {}),
  };
}

function serverMessage(error: InstanceType<typeof OpenAI.APIError>): string {
  const body: unknown = error.error;
  if (body && typeof body === "object" && "message" in body && typeof body.message === "string") {
    return body.message;
  }
  if (typeof body === "string" && body !== "") return body;
  // The SDK's message starts with the status ("429 Too many requests"); drop it.
  return error.message.replace(/^\d{3}\s+/, "");
}

function connectionMessage(error: Error): string {
  // The useful part is usually deep in the cause chain: fetch failed -> connect ECONNREFUSED ...
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const text = current.message || current.name;
    if (text && !parts.some((p) => p.includes(text))) parts.push(text.replace(/\.$/, ""));
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(": ");
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

function checkUrl(url: string, what: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ModelConfigError(`${what} is not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ModelConfigError(`${what} must be http(s), got ${JSON.stringify(url)}`);
  }
}

function isOfficialOpenAI(baseURL: string): boolean {
  return new URL(baseURL).hostname === "api.openai.com";
}
