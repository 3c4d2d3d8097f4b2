/** A tokenizer.json feature Athanor does not implement, or a malformed field: names both. */
export class TokenizerConfigError extends Error {
  constructor(
    readonly field: string,
    detail: string,
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ""}${field}: ${detail}`);
    this.name = "TokenizerConfigError";
  }
}

export type Json = { [key: string]: unknown };

export function asObject(value: unknown, field: string): Json {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TokenizerConfigError(field, `expected an object, got ${JSON.stringify(value)}`);
  }
  return value as Json;
}
