// The in-memory change feed of one tenant: live watchers plus the last `capacity` changes for
// `fromRevision` replay. Changes at or below `floor` are no longer (all) retained.
import type { Logger } from '@weftkit/kernel';
import { RevisionCompacted } from '../errors.js';
import type { ChangeEvent } from './kv-store.js';

interface Watcher {
  readonly prefix: string;
  readonly after: number;
  readonly listener: (event: ChangeEvent) => void;
}

export class ChangeFeed {
  readonly #ring: (ChangeEvent | undefined)[];
  #start = 0;
  #count = 0;
  #floor: number;
  readonly #watchers = new Set<Watcher>();
  readonly #logger: Logger;

  /** `floor`: the revision the tenant opened at (earlier changes were never seen by this process). */
  constructor(capacity: number, floor: number, logger: Logger) {
    this.#ring = new Array<ChangeEvent | undefined>(Math.max(1, capacity));
    this.#floor = floor;
    this.#logger = logger;
  }

  get watcherCount(): number {
    return this.#watchers.size;
  }

  publish(event: ChangeEvent): void {
    const cap = this.#ring.length;
    if (this.#count === cap) {
      const dropped = this.#ring[this.#start]!;
      this.#floor = Math.max(this.#floor, dropped.revision);
      this.#ring[this.#start] = event;
      this.#start = (this.#start + 1) % cap;
    } else {
      this.#ring[(this.#start + this.#count) % cap] = event;
      this.#count++;
    }
    for (const w of this.#watchers) {
      if (event.revision > w.after && event.key.startsWith(w.prefix)) this.#deliver(w, event);
    }
  }

  watch(prefix: string, fromRevision: number | null, current: number, listener: (event: ChangeEvent) => void): () => void {
    if (fromRevision !== null && fromRevision < this.#floor) {
      throw new RevisionCompacted('changes at that revision are no longer retained');
    }
    const w: Watcher = { prefix, after: fromRevision ?? current, listener };
    if (fromRevision !== null) {
      const cap = this.#ring.length;
      for (let i = 0; i < this.#count; i++) {
        const e = this.#ring[(this.#start + i) % cap]!;
        if (e.revision > fromRevision && e.key.startsWith(prefix)) this.#deliver(w, e);
      }
    }
    this.#watchers.add(w);
    return () => {
      this.#watchers.delete(w);
    };
  }

  close(): void {
    this.#watchers.clear();
  }

  #deliver(w: Watcher, event: ChangeEvent): void {
    try {
      w.listener(event);
    } catch (err) {
      this.#logger.warn('watch listener threw', { err });
    }
  }
}
