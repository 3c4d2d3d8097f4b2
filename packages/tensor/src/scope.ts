/**
 * Scopes (`tidy`): every tensor created inside a scope is disposed when the scope ends, except
 * the tensors it returns (which move to the enclosing scope) and tensors passed to `keep`.
 */

import type { Tensor } from "./tensor.js";

const stack: Set<Tensor>[] = [];

/** Registers a new tensor with the innermost scope (internal). */
export function trackTensor(t: Tensor): void {
  if (stack.length > 0) stack[stack.length - 1].add(t);
}

/** Removes `t` from every open scope, so no scope disposes it. Returns `t`. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

/** Any value containing tensors: a tensor, arrays / plain objects of them, or anything else. */
function collect(value: unknown, out: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  if ((value as { __isTensor?: boolean }).__isTensor) {
    out.add(value as Tensor);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype || value instanceof Map) {
    const vals = value instanceof Map ? value.values() : Object.values(value);
    for (const v of vals) collect(v, out, seen);
  }
}

/** The tensors found in `value` (a tensor, or arrays / plain objects / Maps of them). */
export function tensorsIn(value: unknown): Set<Tensor> {
  const out = new Set<Tensor>();
  collect(value, out);
  return out;
}

/**
 * Runs `fn` in a scope and disposes every tensor it created that is not part of its result
 * (tensors found in the returned value, arrays and plain objects, survive and belong to the
 * enclosing scope). `fn` must be synchronous; for async code use `startScope` / `endScope`.
 */
export function tidy<T>(fn: () => T): T {
  startScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    endScope();
    throw e;
  }
  if (result instanceof Promise) {
    endScope();
    throw new Error(
      "tidy: the function returned a Promise; use startScope()/endScope(result) for async code",
    );
  }
  endScope(result);
  return result;
}

/** The tensors created so far in the innermost open scope (empty when none is open). */
export function scopeTensors(): ReadonlySet<Tensor> {
  return stack.length > 0 ? stack[stack.length - 1] : new Set();
}

/** Opens a scope (pair with `endScope`). */
export function startScope(): void {
  stack.push(new Set());
}

/** Closes the innermost scope, disposing its tensors except those found in `result`. */
export function endScope(result?: unknown): void {
  const scope = stack.pop();
  if (!scope) throw new Error("endScope: no scope is open");
  const survivors = new Set<Tensor>();
  collect(result, survivors);
  for (const t of scope) if (!survivors.has(t)) t.dispose();
  if (stack.length > 0) for (const t of survivors) if (scope.has(t)) stack[stack.length - 1].add(t);
}

/** Number of open scopes (for tests and diagnostics). */
export function scopeDepth(): number {
  return stack.length;
}
