// The contract between the kv engine's HTTP layer (src/http) and its storage (src/store).
// One TenantStore per tenant; every method is async and never blocks the event loop.

export interface ItemMeta {
  readonly key: string;
  /** The tenant revision that last wrote this item (also its ETag: `"<version>"`). */
  readonly version: number;
  readonly size: number;
  readonly contentType: string;
  /** Unix milliseconds, or null for no expiry. Expired items are invisible to every read. */
  readonly expiresAt: number | null;
}

export interface Item extends ItemMeta {
  readonly value: Buffer;
}

/** Preconditions: `ifMatch` is a version number; `ifNoneMatch: true` means create-only (`If-None-Match: *`). */
export type WriteOp =
  | {
      readonly op: 'put';
      readonly key: string;
      readonly value: Buffer;
      readonly contentType: string;
      readonly ifMatch?: number;
      readonly ifNoneMatch?: boolean;
      readonly ttlSeconds?: number;
    }
  | { readonly op: 'delete'; readonly key: string; readonly ifMatch?: number }
  | { readonly op: 'get'; readonly key: string };

export type OpResult =
  | { readonly op: 'put'; readonly key: string; readonly version: number }
  | { readonly op: 'delete'; readonly key: string; readonly deleted: boolean; readonly version: number }
  | { readonly op: 'get'; readonly key: string; readonly item: Item | null };

export interface BatchResult {
  /** The tenant revision after the batch (unchanged when it only read). */
  readonly revision: number;
  readonly results: readonly OpResult[];
}

/** One change, as `GET /watch` streams it. */
export interface ChangeEvent {
  readonly revision: number;
  readonly type: 'put' | 'delete' | 'expire';
  readonly key: string;
  readonly version: number;
  readonly size?: number;
  readonly contentType?: string;
}

export interface ListPage {
  readonly items: readonly ItemMeta[];
  /** Opaque; pass back as `cursor` for the next page. Null on the last page. */
  readonly nextCursor: string | null;
}

export interface TenantStore {
  readonly tenant: string;
  /** The latest committed revision of this tenant (0 when empty). */
  readonly revision: number;
  get(key: string): Promise<Item | null>;
  head(key: string): Promise<ItemMeta | null>;
  /**
   * Keys in byte order starting after `cursor`, that start with `prefix`, up to `limit` of those for
   * which `include(key)` is true (the HTTP layer passes its authorization filter).
   */
  list(prefix: string, limit: number, cursor: string | null, include: (key: string) => boolean): Promise<ListPage>;
  /**
   * Applies every op or none, atomically, and resolves only when the batch is durable (fsynced).
   * A failed precondition rejects with `PreconditionFailed` carrying `opIndex`, nothing applied.
   */
  batch(ops: readonly WriteOp[]): Promise<BatchResult>;
  /**
   * Calls `listener` for every change to a key with `prefix`, first replaying retained changes
   * after `fromRevision` (rejects with `RevisionCompacted` if they are no longer kept).
   * Returns a function that stops the watch.
   */
  watch(prefix: string, fromRevision: number | null, listener: (event: ChangeEvent) => void): () => void;
}

export interface KvStore {
  /** Opens (creating on first use) the tenant's store. */
  tenant(name: string): Promise<TenantStore>;
  /** Flushes, fsyncs and closes every tenant. */
  close(): Promise<void>;
}
