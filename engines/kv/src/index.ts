// @weftkit/kv public entry point: start the engine in-process (tests, the dev launcher).
export * from './errors.js';
export type { HttpTimeouts } from './http/listener.js';
export { KvMetrics } from './ops/metrics.js';
export type { KvServer, KvServerOptions } from './server.js';
export { defaultTimeouts, KV_VERSION, startKvServer } from './server.js';
export type { KvStoreWithStats, TenantStats } from './open-store.js';
export { openKvStore } from './open-store.js';
export type * from './store/kv-store.js';
