import { describe, expect, it } from "vitest";
import { modelClientFromConfig, modelClientFromEnv, modelConfigFromEnv } from "./env.js";
import { ModelConfigError } from "./errors.js";
import { AzureOpenAIChatClient, OpenAIChatClient } from "./openai-client.js";

describe("modelConfigFromEnv", () => {
  it("returns undefined when nothing is configured (an API key alone selects nothing)", () => {
    expect(modelConfigFromEnv({})).toBeUndefined();
    expect(modelConfigFromEnv({ OPENAI_API_KEY: "sk-x", ATHANOR_MODEL: "  " })).toBeUndefined();
    expect(modelClientFromEnv({ OPENAI_API_KEY: "sk-x" })).toBeUndefined();
  });

  it("reads a local OpenAI-compatible server", () => {
    expect(
      modelConfigFromEnv({
        ATHANOR_BASE_URL: "http://localhost:11434/v1",
        ATHANOR_MODEL: "llama3.2",
      }),
    ).toEqual({
      provider: "openai",
      baseURL: "http://localhost:11434/v1",
      model: "llama3.2",
    });
  });

  it("prefers ATHANOR_* over OPENAI_* and reads timeouts and retries", () => {
    expect(
      modelConfigFromEnv({
        OPENAI_BASE_URL: "http://ignored:1/v1",
        ATHANOR_BASE_URL: "http://vllm:8000/v1",
        OPENAI_API_KEY: "sk-openai",
        ATHANOR_API_KEY: "sk-athanor",
        ATHANOR_MODEL: "Qwen/Qwen2.5-7B-Instruct",
        ATHANOR_TIMEOUT_MS: "30000",
        ATHANOR_MAX_RETRIES: "2",
      }),
    ).toEqual({
      provider: "openai",
      baseURL: "http://vllm:8000/v1",
      apiKey: "sk-athanor",
      model: "Qwen/Qwen2.5-7B-Instruct",
      timeoutMs: 30000,
      retry: { maxRetries: 2 },
    });
  });

  it("defaults to api.openai.com with a key and a model", () => {
    const client = modelClientFromEnv({ OPENAI_API_KEY: "sk-x", ATHANOR_MODEL: "gpt-4o-mini" });
    expect(client).toBeInstanceOf(OpenAIChatClient);
    expect((client as OpenAIChatClient).endpoint).toBe(
      "https://api.openai.com/v1/chat/completions",
    );
    expect(client?.modelId).toBe("gpt-4o-mini");
  });

  it("reads Azure OpenAI", () => {
    const env = {
      AZURE_OPENAI_ENDPOINT: "https://res.openai.azure.com/",
      AZURE_OPENAI_API_KEY: "az-key",
      AZURE_OPENAI_DEPLOYMENT: "prod-4o",
      OPENAI_API_VERSION: "2025-01-01-preview",
    };
    expect(modelConfigFromEnv(env)).toEqual({
      provider: "azure",
      endpoint: "https://res.openai.azure.com/",
      apiKey: "az-key",
      deployment: "prod-4o",
      apiVersion: "2025-01-01-preview",
    });
    const client = modelClientFromEnv(env);
    expect(client).toBeInstanceOf(AzureOpenAIChatClient);
    expect((client as AzureOpenAIChatClient).endpoint).toBe(
      "https://res.openai.azure.com/openai/deployments/prod-4o/chat/completions",
    );
  });

  it.each([
    [
      { ATHANOR_BASE_URL: "http://localhost:8000/v1" },
      /ATHANOR_BASE_URL is set but ATHANOR_MODEL is not/,
    ],
    [
      { OPENAI_BASE_URL: "http://localhost:8000/v1" },
      /OPENAI_BASE_URL is set but ATHANOR_MODEL is not/,
    ],
    [{ ATHANOR_MODEL: "gpt-4o" }, /OPENAI_API_KEY is not/],
    [
      { ATHANOR_BASE_URL: "localhost:8000", ATHANOR_MODEL: "m" },
      /ATHANOR_BASE_URL must be an http\(s\) URL/,
    ],
    [{ ATHANOR_BASE_URL: "not a url", ATHANOR_MODEL: "m" }, /ATHANOR_BASE_URL is not a URL/],
    [
      { ATHANOR_BASE_URL: "http://h/v1", ATHANOR_MODEL: "m", ATHANOR_TIMEOUT_MS: "soon" },
      /ATHANOR_TIMEOUT_MS/,
    ],
    [
      { ATHANOR_BASE_URL: "http://h/v1", ATHANOR_MODEL: "m", ATHANOR_MAX_RETRIES: "-1" },
      /ATHANOR_MAX_RETRIES/,
    ],
    [
      { AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com", AZURE_OPENAI_API_KEY: "k" },
      /AZURE_OPENAI_DEPLOYMENT or ATHANOR_MODEL/,
    ],
    [
      { AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com", ATHANOR_MODEL: "d" },
      /AZURE_OPENAI_API_KEY is not/,
    ],
    [
      {
        AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com",
        ATHANOR_BASE_URL: "http://h/v1",
        ATHANOR_MODEL: "d",
      },
      /both AZURE_OPENAI_ENDPOINT and ATHANOR_BASE_URL/,
    ],
  ])("rejects a partial configuration %j", (env, pattern) => {
    expect(() => modelConfigFromEnv(env)).toThrow(ModelConfigError);
    expect(() => modelConfigFromEnv(env)).toThrow(pattern);
  });
});

describe("modelClientFromConfig", () => {
  it("builds OpenAI-compatible and Azure clients", () => {
    const local = modelClientFromConfig({
      baseURL: "http://localhost:8080/v1",
      model: "qwen",
      capabilities: { vision: true },
    });
    expect(local.modelId).toBe("qwen");
    expect(local.capabilities.vision).toBe(true);
    const azure = modelClientFromConfig({
      provider: "azure",
      endpoint: "https://r.openai.azure.com",
      deployment: "d",
      apiKey: "k",
    });
    expect(azure).toBeInstanceOf(AzureOpenAIChatClient);
  });

  it("rejects an unknown provider", () => {
    expect(() => modelClientFromConfig({ provider: "bedrock" as "openai", model: "m" })).toThrow(
      /unknown model provider "bedrock"/,
    );
  });
});
