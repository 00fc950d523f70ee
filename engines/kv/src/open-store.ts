// Opens the log-structured store for the engine on the kernel's keyring, and remembers the
// tenants it opened so the ops port can report their revision and size.
import { ConfigConflict, type KernelServices, type Logger, type WeftKitConfig } from '@weftkit/kernel';
import type { KvStore, TenantStore } from './store/kv-store.js';
import { createKvStore } from './store/index.js';

export interface TenantStats {
  readonly tenant: string;
  readonly revision: number;
  readonly fileBytes: number;
  readonly liveBytes: number;
}

/** A store that can report per-tenant figures for `/metrics`. */
export interface KvStoreWithStats extends KvStore {
  tenantStats(): readonly TenantStats[];
}

export function hasTenantStats(store: KvStore): store is KvStoreWithStats {
  return typeof (store as Partial<KvStoreWithStats>).tenantStats === 'function';
}

export async function openKvStore(config: WeftKitConfig, kernel: KernelServices, logger: Logger): Promise<KvStoreWithStats> {
  if (kernel.keyring === undefined) {
    throw new ConfigConflict('the kv engine writes only encrypted pages; WEFTKIT_ENCRYPTION=off is not supported');
  }
  const store = createKvStore({ dataDir: config.dataDir, keyring: kernel.keyring, logger: logger.child({ component: 'store' }) });
  const open = new Map<string, Awaited<ReturnType<typeof store.tenantStore>>>();
  return {
    async tenant(name: string): Promise<TenantStore> {
      const t = await store.tenantStore(name);
      if (!open.has(name)) open.set(name, t);
      return t;
    },
    close: () => store.close(),
    tenantStats: () =>
      [...open.entries()]
        .filter(([, t]) => !t.closed)
        .map(([tenant, t]) => ({ tenant, revision: t.revision, fileBytes: t.fileBytes, liveBytes: t.liveBytes })),
  };
}
