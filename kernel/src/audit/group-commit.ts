// Group commit: lines appended while a batch is being written and synced wait, and then go out
// together as the next batch (one write, one sync). A batch starts on the next microtask, so
// appends made in the same tick share the first batch too.

export type FlushBatch = (lines: readonly string[]) => Promise<void>;

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export class GroupCommit {
  readonly #flush: FlushBatch;
  readonly #onError: (err: unknown) => Error;
  #lines: string[] = [];
  #waiters: Waiter[] = [];
  #running = false;
  #failed: Error | undefined;
  #idle: Array<() => void> = [];

  /** `onError` turns a failed flush into the error every waiting and later append gets. */
  constructor(flush: FlushBatch, onError: (err: unknown) => Error) {
    this.#flush = flush;
    this.#onError = onError;
  }

  get failed(): Error | undefined {
    return this.#failed;
  }

  /** Resolves once `line` (which ends in a newline) is written and synced. */
  enqueue(line: string): Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    return new Promise<void>((resolve, reject) => {
      this.#lines.push(line);
      this.#waiters.push({ resolve, reject });
      if (!this.#running) {
        this.#running = true;
        queueMicrotask(() => void this.#drain());
      }
    });
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #drain(): Promise<void> {
    while (this.#lines.length > 0) {
      const lines = this.#lines;
      const waiters = this.#waiters;
      this.#lines = [];
      this.#waiters = [];
      try {
        await this.#flush(lines);
      } catch (err) {
        this.#failed = this.#onError(err);
        for (const w of waiters) w.reject(this.#failed);
        for (const w of this.#waiters) w.reject(this.#failed);
        this.#lines = [];
        this.#waiters = [];
        break;
      }
      for (const w of waiters) w.resolve();
    }
    this.#running = false;
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }
}
