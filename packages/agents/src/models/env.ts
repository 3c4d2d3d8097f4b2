/**
 * Model endpoint configuration from environment variables or a config object. Returns
 * undefined when nothing is configured (commands then fall back to the embedded default
 * model) and throws a ModelConfigError naming the variable when a configuration is partial.
 *
 *   ATHANOR_BASE_URL | OPENAI_BASE_URL   OpenAI-compatible base URL (default api.openai.com)
 *   ATHANOR_API_KEY  | OPENAI_API_KEY    API key (required for api.openai.com only)
 *   ATHANOR_MODEL                         model name (Azure: the deployment, unless AZURE_OPENAI_DEPLOYMENT)
 *   AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY, AZURE_OPENAI_DEPLOYMENT, OPENAI_API_VERSION
 *   ATHANOR_TIMEOUT_MS, ATHANOR_MAX_RETRIES
 */
import type { ModelClient } from "../model-client.js";
import { ModelConfigError } from "./errors.js";
import {
  AZURE_DEFAULT_API_VERSION,
  AzureOpenAIChatClient,
  type AzureOpenAIChatClientConfig,
  type ChatClientOptions,
  OPENAI_BASE_URL,
  OpenAIChatClient,
  type OpenAIChatClientConfig,
} from "./openai-client.js";

export type ModelEndpointConfig =
  | ({ provider?: "openai" } & OpenAIChatClientConfig)
  | ({ provider: "azure" } & AzureOpenAIChatClientConfig);

type Env = Record<string, string | undefined>;

/** The endpoint configuration the environment describes, or undefined when it describes none. */
export function modelConfigFromEnv(env: Env = process.env): ModelEndpointConfig | undefined {
  const get = (name: string) => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const athanorBase = get("ATHANOR_BASE_URL");
  const baseURL = athanorBase ?? get("OPENAI_BASE_URL");
  const baseVar = athanorBase ? "ATHANOR_BASE_URL" : "OPENAI_BASE_URL";
  const model = get("ATHANOR_MODEL");
  const azureEndpoint = get("AZURE_OPENAI_ENDPOINT");
  const options = commonOptions(get);

  if (azureEndpoint) {
    if (baseURL) {
      throw new ModelConfigError(
        `both AZURE_OPENAI_ENDPOINT and ${baseVar} are set: unset one (Azure uses AZURE_OPENAI_ENDPOINT only)`,
      );
    }
    checkUrl(azureEndpoint, "AZURE_OPENAI_ENDPOINT");
    const deployment = get("AZURE_OPENAI_DEPLOYMENT") ?? model;
    if (!deployment) {
      throw new ModelConfigError(
        "AZURE_OPENAI_ENDPOINT is set but no deployment: set AZURE_OPENAI_DEPLOYMENT or ATHANOR_MODEL",
      );
    }
    const apiKey = get("AZURE_OPENAI_API_KEY");
    if (!apiKey)
      throw new ModelConfigError("AZURE_OPENAI_ENDPOINT is set but AZURE_OPENAI_API_KEY is not");
    return {
      provider: "azure",
      endpoint: azureEndpoint,
      deployment,
      apiKey,
      apiVersion: get("OPENAI_API_VERSION") ?? AZURE_DEFAULT_API_VERSION,
      ...(model ? { model } : {}),
      ...options,
    };
  }

  // OPENAI_API_KEY alone is common on developer machines and does not select an endpoint.
  if (!baseURL && !model) return undefined;
  if (baseURL) checkUrl(baseURL, baseVar);
  if (!model) {
    throw new ModelConfigError(
      `${baseVar} is set but ATHANOR_MODEL is not: name the model to use (e.g. ATHANOR_MODEL=llama3.2)`,
    );
  }
  const apiKey = get("ATHANOR_API_KEY") ?? get("OPENAI_API_KEY");
  const url = baseURL ?? OPENAI_BASE_URL;
  if (!apiKey && new URL(url).hostname === "api.openai.com") {
    throw new ModelConfigError(
      `ATHANOR_MODEL is set for ${url} but OPENAI_API_KEY is not (set ATHANOR_BASE_URL for a local server)`,
    );
  }
  return { provider: "openai", model, baseURL: url, ...(apiKey ? { apiKey } : {}), ...options };
}

/** A client for the endpoint the environment describes, or undefined when none is configured. */
export function modelClientFromEnv(
  env: Env = process.env,
  overrides: ChatClientOptions = {},
): ModelClient | undefined {
  const config = modelConfigFromEnv(env);
  return config ? modelClientFromConfig({ ...config, ...overrides }) : undefined;
}

/** A client for a configuration object (the same shape modelConfigFromEnv returns). */
export function modelClientFromConfig(config: ModelEndpointConfig): OpenAIChatClient {
  if (typeof config !== "object" || config === null) {
    throw new ModelConfigError("model configuration must be an object");
  }
  if (config.provider === "azure") {
    const { provider: _provider, ...azure } = config;
    return new AzureOpenAIChatClient(azure);
  }
  if (config.provider !== undefined && config.provider !== "openai") {
    throw new ModelConfigError(
      `unknown model provider ${JSON.stringify(config.provider)} (expected "openai" or "azure")`,
    );
  }
  const { provider: _provider, ...openai } = config;
  return new OpenAIChatClient(openai);
}

function commonOptions(get: (name: string) => string | undefined): ChatClientOptions {
  const out: ChatClientOptions = {};
  const timeout = get("ATHANOR_TIMEOUT_MS");
  if (timeout !== undefined) {
    const ms = Number(timeout);
    if (!Number.isFinite(ms) || ms <= 0) {
      throw new ModelConfigError(
        `ATHANOR_TIMEOUT_MS must be a positive number of milliseconds, got ${JSON.stringify(timeout)}`,
      );
    }
    out.timeoutMs = ms;
  }
  const retries = get("ATHANOR_MAX_RETRIES");
  if (retries !== undefined) {
    const n = Number(retries);
    if (!Number.isInteger(n) || n < 0) {
      throw new ModelConfigError(
        `ATHANOR_MAX_RETRIES must be a non-negative integer, got ${JSON.stringify(retries)}`,
      );
    }
    out.retry = { maxRetries: n };
  }
  return out;
}

function checkUrl(value: string, variable: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ModelConfigError(`${variable} is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ModelConfigError(`${variable} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
}
