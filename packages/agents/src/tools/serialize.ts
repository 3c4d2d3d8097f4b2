/**
 * Tool outputs as text for the model: strings as they are, everything else as compact JSON
 * with object keys sorted, so the same value always gives the same bytes (and cache hits).
 */
export function serializeToolOutput(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(normalize(value, new WeakSet()));
}

function normalize(value: unknown, seen: WeakSet<object>): unknown {
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "function":
    case "symbol":
    case "undefined":
      return undefined;
    case "object": {
      if (value === null) return null;
      if (value instanceof Date) return value.toISOString();
      if (value instanceof Error) return { error: value.message };
      if (seen.has(value)) return "[Circular]";
      seen.add(value);
      try {
        if (value instanceof Map) {
          return normalize(Object.fromEntries(value), seen);
        }
        if (value instanceof Set) return [...value].map((v) => normalize(v, seen) ?? null);
        if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
        if (Array.isArray(value)) return value.map((v) => normalize(v, seen) ?? null);
        const toJSON = (value as { toJSON?: () => unknown }).toJSON;
        if (typeof toJSON === "function") return normalize(toJSON.call(value), seen);
        const out: Record<string, unknown> = {};
        for (const key of Object.keys(value).sort()) {
          const v = normalize((value as Record<string, unknown>)[key], seen);
          if (v !== undefined) out[key] = v;
        }
        return out;
      } finally {
        seen.delete(value);
      }
    }
    default:
      return value;
  }
}
