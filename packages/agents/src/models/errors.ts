/** Errors raised by model clients, replay fixtures and caches. */

export type ModelClientErrorKind =
  /** The endpoint answered with an HTTP error status. */
  | "http"
  /** No answer: refused, reset or dropped connection, DNS failure. */
  | "connection"
  /** An attempt took longer than the configured timeout. */
  | "timeout"
  /** The endpoint answered 2xx, but with something that is not a usable completion. */
  | "invalid_response";

export interface ModelClientErrorInit {
  kind: ModelClientErrorKind;
  /** The URL the client called. */
  endpoint: string;
  model: string;
  /** How many attempts were made (1 = no retry). */
  attempts: number;
  /** HTTP status, for kind "http". */
  status?: number;
  /** What the server (or the transport) said, trimmed to a few hundred characters. */
  serverMessage?: string;
  /** Why the client stopped retrying, when it matters ("Retry-After 120s exceeds ..."). */
  note?: string;
  cause?: unknown;
}

/** A model call that failed for good (after any retries). */
export class ModelClientError extends Error {
  override readonly name = "ModelClientError";
  readonly kind: ModelClientErrorKind;
  readonly endpoint: string;
  readonly model: string;
  readonly attempts: number;
  readonly status: number | undefined;
  readonly serverMessage: string | undefined;

  constructor(init: ModelClientErrorInit) {
    super(describe(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.endpoint = init.endpoint;
    this.model = init.model;
    this.attempts = init.attempts;
    this.status = init.status;
    this.serverMessage = init.serverMessage;
  }
}

function describe(e: ModelClientErrorInit): string {
  const what =
    e.kind === "http"
      ? `answered HTTP ${e.status}`
      : e.kind === "connection"
        ? "could not be reached"
        : e.kind === "timeout"
          ? "timed out"
          : "returned an invalid response";
  const attempts = e.attempts === 1 ? "1 attempt" : `${e.attempts} attempts`;
  let text = `model "${e.model}" at ${e.endpoint} ${what} (${attempts})`;
  if (e.serverMessage) text += `: ${e.serverMessage}`;
  if (e.note) text += ` [${e.note}]`;
  return text;
}

/** A replay fixture that does not match the calls made against it. */
export class ReplayMismatchError extends Error {
  override readonly name = "ReplayMismatchError";
}

/** A cache file that cannot be used (not SQLite, not a model cache, corrupt entry). */
export class ModelCacheError extends Error {
  override readonly name = "ModelCacheError";
}

/** A model-endpoint configuration that is partial or invalid. */
export class ModelConfigError extends Error {
  override readonly name = "ModelConfigError";
}

/** The error an aborted call rejects with: the signal's reason when it is an Error, else an AbortError. */
export function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new DOMException("The model call was aborted", "AbortError");
}

/** Throws the abort error when `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** Trims a server message for error texts. */
export function clip(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
