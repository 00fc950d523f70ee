// An in-memory KvStore implementing the store contract, for HTTP-layer tests. Not durable.
import { PreconditionFailed, RevisionCompacted } from '../errors.js';
import type { BatchResult, ChangeEvent, Item, ItemMeta, KvStore, ListPage, OpResult, TenantStore, WriteOp } from '../store/kv-store.js';

const HISTORY = 1000;

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

class MemoryTenantStore implements TenantStore {
  readonly tenant: string;
  revision = 0;
  readonly #items = new Map<string, Item>();
  readonly #history: ChangeEvent[] = [];
  readonly #watchers = new Set<{ prefix: string; listener: (e: ChangeEvent) => void }>();
  readonly #now: () => number;

  constructor(tenant: string, now: () => number) {
    this.tenant = tenant;
    this.#now = now;
  }

  /** Every stored item, expired or not (tests inspect what a key maps to). */
  get rawItems(): ReadonlyMap<string, Item> {
    return this.#items;
  }

  #live(key: string): Item | null {
    const item = this.#items.get(key);
    if (item === undefined) return null;
    if (item.expiresAt !== null && item.expiresAt <= this.#now()) return null;
    return item;
  }

  async get(key: string): Promise<Item | null> {
    return this.#live(key);
  }

  async head(key: string): Promise<ItemMeta | null> {
    const item = this.#live(key);
    if (item === null) return null;
    const { value: _v, ...meta } = item;
    return meta;
  }

  async list(prefix: string, limit: number, cursor: string | null, include: (key: string) => boolean): Promise<ListPage> {
    const after = cursor === null ? null : Buffer.from(cursor, 'base64url').toString('utf8');
    const keys = [...this.#items.keys()].filter((k) => k.startsWith(prefix) && (after === null || compareBytes(k, after) > 0)).sort(compareBytes);
    const items: ItemMeta[] = [];
    for (const key of keys) {
      const meta = await this.head(key);
      if (meta === null || !include(key)) continue;
      if (items.length === limit) return { items, nextCursor: Buffer.from(items[items.length - 1]!.key, 'utf8').toString('base64url') };
      items.push(meta);
    }
    return { items, nextCursor: null };
  }

  async batch(ops: readonly WriteOp[]): Promise<BatchResult> {
    const staged = new Map<string, Item | null>();
    const current = (key: string): Item | null => (staged.has(key) ? staged.get(key)! : this.#live(key));
    const writes = ops.some((o) => o.op !== 'get');
    const revision = writes ? this.revision + 1 : this.revision;
    const results: OpResult[] = [];
    const events: ChangeEvent[] = [];
    ops.forEach((op, i) => {
      const cur = current(op.key);
      if (op.op === 'get') {
        results.push({ op: 'get', key: op.key, item: cur });
        return;
      }
      if (op.ifMatch !== undefined && (cur === null || cur.version !== op.ifMatch)) throw new PreconditionFailed('precondition failed', i);
      if (op.op === 'put') {
        if (op.ifNoneMatch === true && cur !== null) throw new PreconditionFailed('item exists', i);
        const item: Item = {
          key: op.key,
          value: Buffer.from(op.value),
          version: revision,
          size: op.value.length,
          contentType: op.contentType,
          expiresAt: op.ttlSeconds === undefined ? null : this.#now() + op.ttlSeconds * 1000,
        };
        staged.set(op.key, item);
        results.push({ op: 'put', key: op.key, version: revision });
        events.push({ revision, type: 'put', key: op.key, version: revision, size: item.size, contentType: item.contentType });
      } else {
        staged.set(op.key, null);
        results.push({ op: 'delete', key: op.key, deleted: cur !== null, version: revision });
        if (cur !== null) events.push({ revision, type: 'delete', key: op.key, version: revision });
      }
    });
    if (!writes) return { revision, results };
    this.revision = revision;
    for (const [key, item] of staged) {
      if (item === null) this.#items.delete(key);
      else this.#items.set(key, item);
    }
    await new Promise((r) => setImmediate(r));
    for (const e of events) {
      this.#history.push(e);
      if (this.#history.length > HISTORY) this.#history.shift();
      for (const w of this.#watchers) if (e.key.startsWith(w.prefix)) w.listener(e);
    }
    return { revision, results };
  }

  watch(prefix: string, fromRevision: number | null, listener: (event: ChangeEvent) => void): () => void {
    if (fromRevision !== null) {
      const oldest = this.#history[0]?.revision ?? this.revision + 1;
      if (fromRevision + 1 < oldest && fromRevision < this.revision) throw new RevisionCompacted('revision is compacted');
      for (const e of this.#history) if (e.revision > fromRevision && e.key.startsWith(prefix)) listener(e);
    }
    const w = { prefix, listener };
    this.#watchers.add(w);
    return () => this.#watchers.delete(w);
  }
}

export class MemoryKvStore implements KvStore {
  readonly #tenants = new Map<string, MemoryTenantStore>();
  readonly #now: () => number;
  closed = false;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async tenant(name: string): Promise<MemoryTenantStore> {
    let t = this.#tenants.get(name);
    if (t === undefined) {
      t = new MemoryTenantStore(name, this.#now);
      this.#tenants.set(name, t);
    }
    return t;
  }

  /** Tenants opened so far. */
  tenantNames(): string[] {
    return [...this.#tenants.keys()];
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
