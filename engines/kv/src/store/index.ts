// Public surface of src/store: the contract types and the log-structured implementation.
export type { BatchResult, ChangeEvent, Item, ItemMeta, KvStore, ListPage, OpResult, TenantStore, WriteOp } from './kv-store.js';
export type { KvStoreOptions, LogKvStore } from './create-kv-store.js';
export { createKvStore } from './create-kv-store.js';
export type { PageWriteHook } from './segment.js';
