// The kv engine's storage: one LogTenantStore per tenant, opened on first use.
import {
  assertTenantName,
  type Keyring,
  type Logger,
  shredTenant,
  silentLogger,
  TenantDir,
  TenantKeyNotFound,
  TenantKeyShredded,
  type TenantShredded as TenantShredResult,
} from '@weftkit/kernel';
import { StoreClosed, TenantShredded } from '../errors.js';
import type { KvStore, TenantStore } from './kv-store.js';
import { Reencryptor, type ReencryptionStatus } from './reencryption.js';
import { recoverLog } from './recovery.js';
import type { PageWriteHook } from './segment.js';
import type { SegmentFileOptions } from './segment-files.js';
import { LogTenantStore, type TenantStoreSettings } from './tenant-store.js';

export interface KvStoreOptions {
  /** WEFTKIT_DATA_DIR: tenants live in `<dataDir>/tenants/<tenant>/`. */
  readonly dataDir: string;
  readonly keyring: Keyring;
  readonly logger?: Logger;
  /** Create a tenant's data key on its first use (default true); false: unknown tenants fail with the keyring's error. */
  readonly createTenants?: boolean;
  /** Page size of new log files (default 4096; 4–64 KiB, a power of two). Each group commit pads to a page. */
  readonly pageSize?: number;
  /** The active segment is sealed and a new one started past this size (default 64 MiB). */
  readonly segmentBytes?: number;
  /** Upper bound of one group commit's payload (default 4 MiB; a bigger batch goes alone). */
  readonly maxGroupBytes?: number;
  /** No compaction while the tenant's files are smaller than this (default 4 MiB). */
  readonly compactionMinBytes?: number;
  /** Compact when file bytes exceed this multiple of live bytes (default 1.5, keeping space amplification under 2x). */
  readonly compactionRatio?: number;
  /** Changes kept for `watch(fromRevision)` replay (default 10000). */
  readonly watchHistory?: number;
  /** Plaintext values cached in memory per tenant (default 32 MiB; 0 disables). */
  readonly valueCacheBytes?: number;
  /** How often expired items are swept and their expiry logged (default 1000 ms). */
  readonly expirySweepMs?: number;
  /** Most keys one `list` call examines before returning a (possibly short) page with a cursor (default 10000). */
  readonly listScanLimit?: number;
  /** Test instrumentation: called before every page write; throwing simulates an I/O error there. */
  readonly pageWriteHook?: PageWriteHook;
  /** Clock (Unix ms) for TTLs; tests inject one. */
  readonly now?: () => number;
  /** Default rate of background re-encryption after a DEK rotation (default 32 MiB/s). */
  readonly reencryptBytesPerSecond?: number;
}

export interface DekRotation {
  readonly tenant: string;
  /** The new current DEK version. */
  readonly keyVersion: number;
  /** Log files the background job rewrites under it. */
  readonly segmentsToReencrypt: number;
}

export interface TenantKeyStatus {
  readonly tenant: string;
  readonly currentVersion: number;
  readonly versions: readonly number[];
  /** Whether this engine has the tenant open (re-encryption runs only for open tenants). */
  readonly open: boolean;
  readonly reencryption: ReencryptionStatus | null;
}

/** The store with its test/ops surface: `tenantStore` gives the concrete per-tenant object. */
export interface LogKvStore extends KvStore {
  tenantStore(name: string): Promise<LogTenantStore>;
  /** New DEK version for `name`; its files are re-encrypted in the background (`bytesPerSecond` overrides the rate). */
  rotateTenantKey(name: string, options?: { readonly bytesPerSecond?: number }): Promise<DekRotation>;
  /** Closes the tenant (later calls fail `TenantShredded`), destroys its DEKs durably, removes its files. */
  shredTenant(name: string): Promise<TenantShredResult>;
  /** Every tenant of the keyring with its DEK versions and re-encryption progress. */
  keyStatus(): TenantKeyStatus[];
  /** Bytes re-encrypted since start, all tenants. */
  readonly reencryptedBytes: number;
  /** Resolves when no re-encryption job runs for `name` (tests, shutdown). */
  reencryptionIdle(name: string): Promise<void>;
}

const shreddedError = (): TenantShredded => new TenantShredded('this tenant was crypto-shredded; its data no longer exists');

export function createKvStore(options: KvStoreOptions): LogKvStore {
  const logger = options.logger ?? silentLogger;
  const settings: TenantStoreSettings = Object.freeze({
    segmentBytes: options.segmentBytes ?? 64 * 1024 * 1024,
    maxGroupBytes: options.maxGroupBytes ?? 4 * 1024 * 1024,
    compactionMinBytes: options.compactionMinBytes ?? 4 * 1024 * 1024,
    compactionRatio: Math.max(1.1, options.compactionRatio ?? 1.5),
    watchHistory: options.watchHistory ?? 10_000,
    valueCacheBytes: options.valueCacheBytes ?? 32 * 1024 * 1024,
    expirySweepMs: options.expirySweepMs ?? 1000,
    listScanLimit: options.listScanLimit ?? 10_000,
    now: options.now ?? Date.now,
  });
  const pageSize = options.pageSize ?? 4096;
  const tenants = new Map<string, Promise<LogTenantStore>>();
  // Shredded while this process runs: a later request must not silently re-create the tenant.
  const shredded = new Set<string>();
  const rotations = new Map<string, Promise<unknown>>();
  const reencryptor = new Reencryptor(options.keyring, logger, options.reencryptBytesPerSecond);
  let closed = false;

  const open = async (name: string): Promise<LogTenantStore> => {
    // The keyring keeps a tombstone per shredded tenant, so this holds across restarts too.
    if (options.keyring.isShredded(name)) throw shreddedError();
    if (options.createTenants !== false && !options.keyring.hasTenant(name)) {
      try {
        await options.keyring.createTenant(name);
      } catch (err) {
        throw err instanceof TenantKeyShredded ? shreddedError() : err;
      }
    }
    const ciphers = await options.keyring.tenantCiphers(name);
    try {
      const dir = TenantDir.openSync(options.dataDir, name);
      const files: SegmentFileOptions = { dir, ciphers, pageSize, hook: options.pageWriteHook };
      const log = await recoverLog(files, logger.child({ tenant: name }));
      const store = new LogTenantStore(dir, ciphers, files, log, settings, logger.child({ tenant: name }));
      reencryptor.resume(store);
      return store;
    } catch (err) {
      ciphers.destroy();
      throw err;
    }
  };

  const tenantStore = (name: string): Promise<LogTenantStore> => {
    if (closed) return Promise.reject(new StoreClosed('the store is closed'));
    let tenant: string;
    try {
      tenant = assertTenantName(name);
    } catch (err) {
      return Promise.reject(err);
    }
    if (shredded.has(tenant)) return Promise.reject(shreddedError());
    let p = tenants.get(tenant);
    if (p === undefined) {
      p = open(tenant);
      tenants.set(tenant, p);
      // A failed open (corruption, a key problem) is retried on the next use, not cached.
      p.catch(() => {
        if (tenants.get(tenant) === p) tenants.delete(tenant);
      });
    }
    return p;
  };

  const rotateTenantKey = async (name: string, o: { readonly bytesPerSecond?: number } = {}): Promise<DekRotation> => {
    const tenant = assertTenantName(name);
    if (!options.keyring.hasTenant(tenant)) throw new TenantKeyNotFound('tenant has no data key');
    const store = await tenantStore(tenant);
    const info = await options.keyring.rotateDek(tenant, o.bytesPerSecond === undefined ? {} : { reencryptRate: o.bytesPerSecond });
    const ciphers = await options.keyring.tenantCiphers(tenant);
    try {
      store.switchCiphers(ciphers);
    } catch (err) {
      ciphers.destroy();
      throw err;
    }
    reencryptor.start(store, o.bytesPerSecond);
    return { tenant, keyVersion: info.currentVersion, segmentsToReencrypt: store.oldKeySegments };
  };

  return {
    tenantStore,
    tenant: (name: string): Promise<TenantStore> => tenantStore(name),
    rotateTenantKey(name, o) {
      // One rotation per tenant at a time, so the store always switches to the newest version.
      const run = (rotations.get(name) ?? Promise.resolve()).then(() => rotateTenantKey(name, o));
      const tail = run.catch(() => undefined);
      rotations.set(name, tail);
      void tail.then(() => {
        if (rotations.get(name) === tail) rotations.delete(name);
      });
      return run;
    },
    async shredTenant(name) {
      const tenant = assertTenantName(name);
      if (closed) throw new StoreClosed('the store is closed');
      const had = shredded.has(tenant);
      shredded.add(tenant);
      try {
        const open = tenants.get(tenant);
        tenants.delete(tenant);
        const store = open === undefined ? undefined : await open.catch(() => undefined);
        await store?.closeForShred();
        await reencryptor.idle(tenant);
        reencryptor.forget(tenant);
        return await shredTenant(options.keyring, options.dataDir, tenant);
      } catch (err) {
        if (err instanceof TenantKeyNotFound && !had) shredded.delete(tenant);
        throw err;
      }
    },
    keyStatus() {
      return options.keyring.listTenants().map((t) => {
        const status = reencryptor.status(t.tenant);
        return {
          tenant: t.tenant,
          currentVersion: t.currentVersion,
          versions: t.versions,
          open: tenants.has(t.tenant),
          reencryption: status ?? null,
        };
      });
    },
    get reencryptedBytes() {
      return reencryptor.bytesTotal;
    },
    reencryptionIdle: (name) => reencryptor.idle(name),
    async close(): Promise<void> {
      closed = true;
      const all = [...tenants.values()];
      tenants.clear();
      // Tenants that failed to open have nothing to close.
      const results = await Promise.allSettled(all.map((p) => p.then((s) => s.close(), () => undefined)));
      for (const r of results) if (r.status === 'rejected') throw r.reason;
    },
  };
}
