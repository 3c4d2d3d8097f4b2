import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The benchmark's files ship with this package (`packages/optiguide/data/`, a copy of
 * ../shared/data/optiguide/). The path is the same from src/ and from dist/.
 */
export const DATA_DIR = fileURLToPath(new URL("../data/", import.meta.url));

export const APP_NAMES = ["coffee", "diet", "facility", "netflow", "tsp", "workforce1"] as const;
export type AppName = (typeof APP_NAMES)[number];

export function isAppName(name: string): name is AppName {
  return (APP_NAMES as readonly string[]).includes(name);
}

/** A JSON value as the apps' data holds it. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** An app's editable data: one field per Python name before the data-edit point. */
export type AppData = Record<string, Json>;

/** Reads `data/apps/<app>.json` as written (tuple dicts as `{key, value}` lists). */
export function readAppFile(app: AppName): Record<string, unknown> {
  return JSON.parse(readFileSync(`${DATA_DIR}apps/${app}.json`, "utf8")) as Record<string, unknown>;
}

/** `[{key: ["a", "b"], value: 1}, ...]` → `{"a,b": 1, ...}` (source order kept). */
export function tupleDict(entries: unknown): Record<string, number> {
  if (!Array.isArray(entries)) throw new Error("expected a list of {key, value} entries");
  const out: Record<string, number> = {};
  for (const e of entries as { key: unknown[]; value: number }[]) out[e.key.join(",")] = e.value;
  return out;
}

/** Deep copy of JSON data (what an edit gets to mutate). */
export function cloneData<T>(data: T): T {
  return structuredClone(data);
}
