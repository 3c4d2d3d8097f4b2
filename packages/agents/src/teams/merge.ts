/** Interleaves several async streams, yielding each item with the index of its stream as it arrives. */
export async function* mergeStreams<T>(
  streams: readonly AsyncIterable<T>[],
): AsyncGenerator<{ index: number; item: T }, void, undefined> {
  const iterators = streams.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<T> }>>();
  const pull = (index: number) =>
    pending.set(
      index,
      iterators[index].next().then((result) => ({ index, result })),
    );
  for (let i = 0; i < iterators.length; i++) pull(i);
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(index);
        continue;
      }
      pull(index);
      yield { index, item: result.value };
    }
  } finally {
    // Stop the streams that are still running (an error or an early return of the consumer).
    await Promise.allSettled([...pending.keys()].map((i) => iterators[i].return?.()));
  }
}
