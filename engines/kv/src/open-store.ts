// Opens the log-structured store for the engine on the kernel's keyring, and remembers the
// tenants it opened so the ops port can report their revision and size.
import { ConfigConflict, type KernelServices, type Logger, type WeftKitConfig } from '@weftkit/kernel';
import type { DekRotation, TenantKeyStatus } from './store/create-kv-store.js';
import type { KvStore, TenantStore } from './store/kv-store.js';
import { createKvStore } from './store/index.js';
import type { TenantShredded } from '@weftkit/kernel';

export interface TenantStats {
  readonly tenant: string;
  readonly revision: number;
  readonly fileBytes: number;
  readonly liveBytes: number;
}

/** A store that can report per-tenant figures for `/metrics`, and do online key operations. */
export interface KvStoreWithStats extends KvStore {
  tenantStats(): readonly TenantStats[];
  readonly keys: KvKeyAdmin;
}

/** Online key operations (the admin socket's `keys.rotate-dek`, `tenant.shred`, `keys.status`). */
export interface KvKeyAdmin {
  rotateDek(tenant: string, options?: { readonly bytesPerSecond?: number }): Promise<DekRotation>;
  shred(tenant: string): Promise<TenantShredded>;
  status(): TenantKeyStatus[];
  /** Re-encryption progress per open tenant: log files still under an older DEK. */
  segmentsRemaining(): readonly { readonly tenant: string; readonly segments: number }[];
  readonly reencryptedBytes: number;
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
  // Tenants with more than one DEK version may have a re-encryption to finish: open them now.
  for (const t of kernel.keyring.listTenants()) {
    if (t.versions.length > 1) {
      store.tenantStore(t.tenant).then(
        (s) => open.set(t.tenant, s),
        (err) => logger.error('could not open a tenant to resume its re-encryption', { tenant: t.tenant, error_code: (err as { code?: string }).code }),
      );
    }
  }
  const keys: KvKeyAdmin = {
    rotateDek: async (tenant, o) => {
      const r = await store.rotateTenantKey(tenant, o);
      open.set(r.tenant, await store.tenantStore(r.tenant));
      return r;
    },
    shred: async (tenant) => {
      const r = await store.shredTenant(tenant);
      open.delete(tenant);
      return r;
    },
    status: () => store.keyStatus(),
    segmentsRemaining: () =>
      [...open.entries()].filter(([, t]) => !t.closed).map(([tenant, t]) => ({ tenant, segments: t.oldKeySegments })),
    get reencryptedBytes() {
      return store.reencryptedBytes;
    },
  };
  return {
    keys,
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
