/**
 * Canonical form of a model request: the JSON a cache key or a replay match is computed from.
 * Object keys are sorted, `undefined` fields and the abort signal are dropped, so two requests
 * that mean the same thing hash the same.
 */
import { createHash } from "node:crypto";
import type { CreateRequest } from "../model-client.js";

/** The parts of a request that determine the answer (everything but the signal). */
export type RequestData = Omit<CreateRequest, "signal">;

/** The request without its signal (and without undefined fields), as plain JSON. */
export function requestData(request: CreateRequest): RequestData {
  const { signal: _signal, ...rest } = request;
  return JSON.parse(canonicalJson(rest)) as RequestData;
}

/** JSON with object keys sorted at every depth and undefined members dropped. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined && typeof v !== "function") out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** sha256 (hex) of the canonical request; `modelId` is part of the key when given. */
export function requestHash(request: CreateRequest, modelId?: string): string {
  const data = requestData(request);
  const keyed = modelId === undefined ? data : { model: modelId, request: data };
  return createHash("sha256").update(canonicalJson(keyed)).digest("hex");
}

/**
 * The first place two JSON values differ, as a short "path: expected X, received Y" line
 * (undefined when they are equal).
 */
export function firstDifference(
  expected: unknown,
  received: unknown,
  path = "request",
): string | undefined {
  if (canonicalJson(expected) === canonicalJson(received)) return undefined;
  if (Array.isArray(expected) && Array.isArray(received)) {
    const n = Math.min(expected.length, received.length);
    for (let i = 0; i < n; i++) {
      const d = firstDifference(expected[i], received[i], `${path}[${i}]`);
      if (d) return d;
    }
    return `${path}: expected ${expected.length} items, received ${received.length}`;
  }
  if (isPlainObject(expected) && isPlainObject(received)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(received)])].sort();
    for (const key of keys) {
      const d = firstDifference(expected[key], received[key], `${path}.${key}`);
      if (d) return d;
    }
  }
  return `${path}: expected ${preview(expected)}, received ${preview(received)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function preview(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = canonicalJson(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
