/**
 * Human input from any async source. A team asks through an InputFunction
 * (`(prompt, signal) => Promise<string>`); `HumanInputQueue.ask` is one, and the answer can
 * come from anywhere that can call `reply`: an HTTP handler, a queue consumer, a chat bot, a
 * test. Pending questions are listed (and announced to listeners) so a UI can show them.
 */

export interface PendingInput {
  id: string;
  prompt: string;
  askedAt: string;
}

export class HumanInputQueue {
  private readonly waiting: (PendingInput & { resolve: (answer: string) => void })[] = [];
  private readonly buffered: string[] = [];
  private readonly listeners = new Set<(request: PendingInput) => void>();
  private counter = 0;

  /** An InputFunction: resolves with the next reply (or a reply given in advance). */
  readonly ask = (prompt: string, signal?: AbortSignal): Promise<string> => {
    signal?.throwIfAborted();
    const early = this.buffered.shift();
    if (early !== undefined) return Promise.resolve(early);
    return new Promise<string>((resolve, reject) => {
      const request = { id: `input_${++this.counter}`, prompt, askedAt: new Date().toISOString() };
      const onAbort = () => {
        const i = this.waiting.findIndex((w) => w.id === request.id);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push({
        ...request,
        resolve: (answer) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(answer);
        },
      });
      for (const l of this.listeners) l(request);
    });
  };

  /**
   * Answers the question `id` (default: the oldest one waiting). With nobody waiting, the
   * answer is kept for the next question. Returns the id answered, or null when buffered.
   */
  reply(answer: string, id?: string): string | null {
    if (typeof answer !== "string")
      throw new Error(`HumanInputQueue.reply: answer must be a string, got ${typeof answer}`);
    const i = id === undefined ? 0 : this.waiting.findIndex((w) => w.id === id);
    if (id !== undefined && i < 0) {
      throw new Error(
        `HumanInputQueue.reply: no question ${JSON.stringify(id)} is waiting (waiting: ${this.waiting.map((w) => w.id).join(", ") || "none"})`,
      );
    }
    const entry = this.waiting[i];
    if (!entry) {
      this.buffered.push(answer);
      return null;
    }
    this.waiting.splice(i, 1);
    entry.resolve(answer);
    return entry.id;
  }

  /** Questions waiting for an answer, oldest first. */
  pending(): PendingInput[] {
    return this.waiting.map(({ id, prompt, askedAt }) => ({ id, prompt, askedAt }));
  }

  /** Calls `listener` for every new question; returns a function that unsubscribes. */
  onRequest(listener: (request: PendingInput) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
