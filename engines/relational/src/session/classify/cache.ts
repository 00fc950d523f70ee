import { classifyWithTrees } from './classify.js';
import { holesAreNumericConstants, numericShape } from './literal-shape.js';
import type { Classification, StatementClassification } from './types.js';

export interface ClassifierCacheOptions {
  /** Classifications kept per table (LRU, exact texts and shapes each). Default 2048. */
  readonly maxEntries?: number;
  /** Longer SQL strings are classified but not cached (bounds the cache's memory). Default 16384 chars. */
  readonly maxSqlLength?: number;
}

/** Counters for the ops port: calls, where they were answered, and time spent classifying. */
export interface ClassifierCacheStats {
  readonly calls: number;
  readonly exactHits: number;
  readonly shapeHits: number;
  readonly misses: number;
  /** Wall time inside `classify`, hits included. */
  readonly seconds: number;
}

/** Statement kinds whose classification may be shared by texts differing only in integer literals. */
const SHAPED_KINDS: ReadonlySet<string> = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt']);

interface ShapeEntry {
  readonly classification: Classification;
  /** Length of the text it was classified from: the statement's length moves with the literals'. */
  readonly sqlLength: number;
}

/**
 * `classify` behind two LRUs: one keyed by the exact SQL text, and one keyed by the text's shape
 * with plain integer literals cut out (see literal-shape.ts), for single DML statements whose
 * every cut-out literal PostgreSQL's grammar confirmed as a numeric constant.
 */
export class ClassifierCache {
  readonly #entries: Map<string, Classification> = new Map();
  readonly #shapes: Map<string, ShapeEntry> = new Map();
  readonly #maxEntries: number;
  readonly #maxSqlLength: number;
  hits = 0;
  shapeHits = 0;
  misses = 0;
  #ms = 0;

  constructor(options: ClassifierCacheOptions = {}) {
    this.#maxEntries = Math.max(1, options.maxEntries ?? 2048);
    this.#maxSqlLength = options.maxSqlLength ?? 16384;
  }

  /** Exact texts and shapes cached. */
  get size(): number {
    return this.#entries.size + this.#shapes.size;
  }

  get stats(): ClassifierCacheStats {
    return {
      calls: this.hits + this.shapeHits + this.misses,
      exactHits: this.hits,
      shapeHits: this.shapeHits,
      misses: this.misses,
      seconds: this.#ms / 1000,
    };
  }

  classify(sql: string): Classification {
    const started = performance.now();
    try {
      return this.#classify(sql);
    } finally {
      this.#ms += performance.now() - started;
    }
  }

  #classify(sql: string): Classification {
    const entries = this.#entries;
    const hit = entries.get(sql);
    if (hit !== undefined) {
      this.hits++;
      touch(entries, sql, hit);
      return hit;
    }
    const cacheable = sql.length <= this.#maxSqlLength;
    const shape = cacheable ? numericShape(sql) : undefined;
    if (shape !== undefined) {
      const s = this.#shapes.get(shape.key);
      if (s !== undefined) {
        this.shapeHits++;
        touch(this.#shapes, shape.key, s);
        return s.sqlLength === sql.length ? s.classification : withLength(s.classification, sql.length - s.sqlLength);
      }
    }
    this.misses++;
    const { classification, parsed } = classifyWithTrees(sql);
    if (!cacheable) return classification;
    const only = parsed?.length === 1 ? parsed[0] : undefined;
    if (
      shape !== undefined &&
      only !== undefined &&
      classification.statements.length === 1 &&
      SHAPED_KINDS.has(classification.statements[0]?.kind ?? '') &&
      holesAreNumericConstants(only.tree, sql, shape.holes)
    ) {
      insert(this.#shapes, shape.key, { classification, sqlLength: sql.length }, this.#maxEntries);
    } else {
      insert(entries, sql, classification, this.#maxEntries);
    }
    return classification;
  }

  clear(): void {
    this.#entries.clear();
    this.#shapes.clear();
  }
}

// Map iteration order is insertion order: re-inserting makes this the most recent entry.
function touch<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
}

function insert<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  if (map.size >= max) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, value);
}

/** The one-statement classification with its statement's byte length moved by `delta` (0 = to the end stays 0). */
function withLength(c: Classification, delta: number): Classification {
  const st = c.statements[0] as StatementClassification;
  if (st.length === 0) return c;
  const statement = Object.freeze({ ...st, length: st.length + delta });
  return Object.freeze({ ...c, statements: Object.freeze([statement]) });
}
