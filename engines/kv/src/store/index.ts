// Public surface of src/store: the contract types and the log-structured implementation.
export type { BatchResult, ChangeEvent, Item, ItemMeta, KvStore, ListPage, OpResult, TenantStore, WriteOp } from './kv-store.js';
export type { DekRotation, KvStoreOptions, LogKvStore, TenantKeyStatus } from './create-kv-store.js';
export type { ReencryptionStatus } from './reencryption.js';
export { DEFAULT_REENCRYPT_BYTES_PER_SECOND } from './reencryption.js';
export { createKvStore } from './create-kv-store.js';
export type { PageWriteHook } from './segment.js';
