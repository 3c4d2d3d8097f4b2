/** Backend registry: `registerBackend`, `setBackend`, `getBackend`. */

import type { Backend } from "./backend.js";
import { ReferenceBackend } from "./reference/backend.js";

interface Entry {
  factory: () => Backend;
  priority: number;
  instance: Backend | null;
}

const entries = new Map<string, Entry>();
let current: Backend | null = null;

/**
 * Registers a backend factory under `name`. The factory runs on first use. Without an
 * explicit `setBackend`, the registered backend with the highest priority is used
 * (reference: 0; the cpu backend registers with a higher one).
 */
export function registerBackend(
  name: string,
  factory: () => Backend,
  options: { priority?: number } = {},
): void {
  const old = entries.get(name);
  if (old?.instance && current === old.instance) current = null;
  entries.set(name, { factory, priority: options.priority ?? 1, instance: null });
}

/** Names of the registered backends, highest priority first. */
export function listBackends(): string[] {
  return [...entries.entries()].sort((a, b) => b[1].priority - a[1].priority).map(([n]) => n);
}

/** Returns the backend registered as `name`, creating it on first use. */
export function backendByName(name: string): Backend {
  const e = entries.get(name);
  if (!e) {
    throw new Error(`unknown backend "${name}"; registered: ${listBackends().join(", ")}`);
  }
  if (!e.instance) e.instance = e.factory();
  return e.instance;
}

/** Makes `name` (or a backend instance, registered on the fly) the current backend. */
export function setBackend(nameOrBackend: string | Backend): Backend {
  if (typeof nameOrBackend !== "string") {
    const b = nameOrBackend;
    entries.set(b.name, {
      factory: () => b,
      priority: entries.get(b.name)?.priority ?? 1,
      instance: b,
    });
    current = b;
    return b;
  }
  current = backendByName(nameOrBackend);
  return current;
}

/** The current backend (the highest-priority registered one unless `setBackend` was called). */
export function getBackend(): Backend {
  if (!current) current = backendByName(listBackends()[0]);
  return current;
}

registerBackend("reference", () => new ReferenceBackend(), { priority: 0 });
