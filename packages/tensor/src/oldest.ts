/**
 * Taking the earliest-created item from a free list: the reuse order that hands a loop which
 * allocates and frees in the same sequence every iteration the same items every iteration
 * (the webgpu backend caches bind groups by buffer identity; a stack would permute them).
 */

/** Removes and returns the item of `list` with the smallest creation number in `born`. */
export function takeOldest<T extends object>(list: T[], born: WeakMap<T, number>): T | undefined {
  if (list.length === 0) return undefined;
  let best = 0;
  let bestAge = born.get(list[0]) ?? 0;
  for (let i = 1; i < list.length; i++) {
    const age = born.get(list[i]) ?? 0;
    if (age < bestAge) {
      best = i;
      bestAge = age;
    }
  }
  const item = list[best];
  list[best] = list[list.length - 1];
  list.pop();
  return item;
}
