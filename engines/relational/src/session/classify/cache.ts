import { classify } from './classify.js';
import type { Classification } from './types.js';

export interface ClassifierCacheOptions {
  /** Classifications kept (LRU by exact SQL text). Default 2048. */
  readonly maxEntries?: number;
  /** Longer SQL strings are classified but not cached (bounds the cache's memory). Default 16384 chars. */
  readonly maxSqlLength?: number;
}

/** `classify` behind an LRU keyed by the exact SQL text, so a statement sent again is parsed once. */
export class ClassifierCache {
  readonly #entries: Map<string, Classification> = new Map();
  readonly #maxEntries: number;
  readonly #maxSqlLength: number;
  hits = 0;
  misses = 0;

  constructor(options: ClassifierCacheOptions = {}) {
    this.#maxEntries = Math.max(1, options.maxEntries ?? 2048);
    this.#maxSqlLength = options.maxSqlLength ?? 16384;
  }

  get size(): number {
    return this.#entries.size;
  }

  classify(sql: string): Classification {
    const entries = this.#entries;
    const hit = entries.get(sql);
    if (hit !== undefined) {
      this.hits++;
      // Map iteration order is insertion order: re-inserting makes this the most recent entry.
      entries.delete(sql);
      entries.set(sql, hit);
      return hit;
    }
    this.misses++;
    const result = classify(sql);
    if (sql.length <= this.#maxSqlLength) {
      if (entries.size >= this.#maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      entries.set(sql, result);
    }
    return result;
  }

  clear(): void {
    this.#entries.clear();
  }
}
