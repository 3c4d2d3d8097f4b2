/**
 * Tuple keys. A Python dict keyed by tuples (`cost["Pens", "Detroit", "Boston"]`) becomes a plain
 * object keyed by the tuple's parts joined with a comma (`cost["Pens,Detroit,Boston"]`); a model
 * variable keyed the same way is named `flow[Pens,Detroit,Boston]`. Parts that read as integers
 * (tsp's points) come back as numbers from {@link splitKey}.
 */

export type KeyPart = string | number;

/** `key("Pens", "Detroit")` → `"Pens,Detroit"`. */
export function joinKey(...parts: KeyPart[]): string {
  return parts.map((p) => String(p)).join(",");
}

/** `"9,4"` → `[9, 4]`; `"Pens,Detroit"` → `["Pens", "Detroit"]`. */
export function splitKey(key: string): KeyPart[] {
  return key.split(",").map((p) => (/^-?\d+$/.test(p) ? Number(p) : p));
}

/** The canonical variable name: `varName("x", ["supplier1", "roastery2"])` → `x[supplier1,roastery2]`. */
export function varName(family: string, parts: readonly KeyPart[]): string {
  return parts.length === 0 ? family : `${family}[${parts.join(",")}]`;
}
