import { createHmac, hkdfSync, randomBytes, randomFillSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  KeyDestroyed,
  KeyringWrongKey,
  KeyUnwrapFailed,
  KeyUsageExhausted,
  KeyVersionUnknown,
  TenantKeyExists,
  TenantKeyNotFound,
  TenantKeyShredded,
} from '../errors.js';
import { assertTenantName } from '../identity/tenant.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { type AtomicWriteStep, atomicTempPath, writeFileAtomicSync } from '../storage/atomic-file.js';
import { EncryptionBudget } from './encryption-budget.js';
import type { KeyProvider, WrapContext } from './key-provider.js';
import {
  encodeKeyring,
  KEYRING_FORMAT,
  KEYRING_VERSION,
  MIN_REENCRYPT_RATE,
  type KeyringBody,
  type KeyRecord,
  parseKeyring,
  type TenantRecord,
  type TenantTombstone,
  verifyKeyringMac,
} from './keyring-file.js';
import { DEFAULT_PAGE_SIZE, PageCipher } from './page-cipher.js';

export const KEYRING_FILE_NAME = 'keyring.json';

export interface KeyringOptions {
  /** WEFTKIT_DATA_DIR; the keyring file is `<dataDir>/keyring.json`. */
  readonly dataDir: string;
  /** The KEK. The keyring does not close it. */
  readonly provider: KeyProvider;
  /**
   * The KEK a rotation was moving away from. If the keyring does not open with `provider` but
   * opens with this one (a crash mid-rotation from a caller's point of view), the rotation is finished.
   */
  readonly previousProvider?: KeyProvider;
  readonly logger?: Logger;
  /** WEFTKIT_DEK_CACHE_TTL_SECONDS (default 300): how long unwrapped DEKs stay cached; 0 disables. */
  readonly dekCacheTtlSeconds?: number;
  /** Per-DEK encryption limits (defaults: hard 2^31, soft 2^30, reservation block 2^16). */
  readonly limits?: { readonly hardLimit?: number; readonly softLimit?: number; readonly reservationBlock?: number };
  /** Test instrumentation: each step of every keyring file write. */
  readonly onWriteStep?: (step: AtomicWriteStep) => void;
}

/** The ciphers of one tenant, one per DEK version; synchronous once obtained (PGlite's filesystem is). */
export interface TenantCiphers {
  readonly tenant: string;
  readonly currentVersion: number;
  /** Cipher for `version` (default: current) and `pageSize`; throws `KeyVersionUnknown`. */
  cipher(version?: number, pageSize?: number): PageCipher;
  /** Zeroes every key it holds. */
  destroy(): void;
}

export interface TenantKeyInfo {
  readonly tenant: string;
  readonly currentVersion: number;
  readonly versions: readonly number[];
}

/** A crypto-shredded tenant whose name `createTenant` refuses until it is re-created on purpose. */
export interface ShreddedTenantInfo {
  readonly tenant: string;
  /** ISO 8601 time of the shred. */
  readonly shreddedAt: string;
  /** The keyring generation written by the shred. */
  readonly keyringGeneration: number;
}

export interface RotateDekOptions {
  /**
   * Re-encryption rate (bytes per second, an integer of at least `MIN_REENCRYPT_RATE`) the caller
   * started the rotation with; kept in the keyring until the older versions are retired.
   */
  readonly reencryptRate?: number;
}

export interface CreateTenantOptions {
  /** Create a new, empty tenant under a shredded name, clearing its tombstone (an operator's deliberate act). */
  readonly recreate?: boolean;
}

/** Copies of a tenant's unwrapped DEKs (see `Keyring.exportTenantKeys`); the holder zeroes them. */
export interface ExportedTenantKeys {
  readonly tenant: string;
  readonly currentVersion: number;
  readonly keys: readonly { readonly version: number; readonly key: Buffer }[];
}

export interface ShredResult {
  readonly tenant: string;
  /** DEK versions whose wrapped copies were removed from the keyring. */
  readonly destroyedVersions: readonly number[];
  readonly keyringGeneration: number;
}

export interface KekRotationResult {
  readonly previousKeyId: string;
  readonly keyId: string;
  readonly tenants: number;
  readonly keys: number;
  readonly keyringGeneration: number;
}

interface CachedKey {
  key: Buffer;
  timer: NodeJS.Timeout | undefined;
}

const DEFAULT_TTL_SECONDS = 300;
const macContext = (keyringId: string): WrapContext => ({ keyringId, purpose: 'keyring-mac' });
const dekContext = (keyringId: string, tenant: string, keyVersion: number): WrapContext => ({
  keyringId,
  purpose: 'dek',
  tenant,
  keyVersion,
});
const slot = (tenant: string, version: number): string => `${tenant}#${version}`;

/**
 * One DEK per tenant (with older versions kept), each wrapped by the KEK, in an authenticated
 * keyring file replaced atomically on every change.
 */
export class Keyring {
  readonly path: string;
  #provider: KeyProvider;
  #body: KeyringBody;
  #macKey: Buffer;
  readonly #logger: Logger;
  readonly #ttlMs: number;
  readonly #limits: NonNullable<KeyringOptions['limits']>;
  readonly #onWriteStep: ((step: AtomicWriteStep) => void) | undefined;
  readonly #cache = new Map<string, CachedKey>();
  readonly #budgets = new Map<string, EncryptionBudget>();
  readonly #live = new Map<string, Set<TenantCiphers>>();
  #closed = false;

  private constructor(path: string, provider: KeyProvider, body: KeyringBody, macKey: Buffer, options: KeyringOptions) {
    this.path = path;
    this.#provider = provider;
    this.#body = body;
    this.#macKey = macKey;
    this.#logger = options.logger ?? silentLogger;
    this.#ttlMs = Math.max(0, options.dekCacheTtlSeconds ?? DEFAULT_TTL_SECONDS) * 1000;
    this.#limits = options.limits ?? {};
    this.#onWriteStep = options.onWriteStep;
  }

  /** Opens `<dataDir>/keyring.json`, creating an empty keyring if there is none. */
  static async open(options: KeyringOptions): Promise<Keyring> {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const path = join(options.dataDir, KEYRING_FILE_NAME);
    // A temp file is a write that never reached its rename: the keyring file itself is intact.
    rmSync(atomicTempPath(path), { force: true });
    if (!existsSync(path)) {
      const keyringId = randomBytes(16).toString('hex');
      const macKey = newKey();
      const wrapped = await options.provider.wrapKey(macKey, macContext(keyringId));
      const body: KeyringBody = {
        format: KEYRING_FORMAT,
        version: KEYRING_VERSION,
        keyringId,
        generation: 0,
        kek: { kind: options.provider.kind, keyId: options.provider.keyId },
        macKey: wrapped.toString('base64'),
        tenants: {},
      };
      const ring = new Keyring(path, options.provider, body, macKey, options);
      ring.#write(body);
      return ring;
    }
    const parsed = parseKeyring(readFileSync(path));
    try {
      const macKey = await unlock(parsed.body, options.provider);
      verifyKeyringMac(parsed, macKey);
      return new Keyring(path, options.provider, parsed.body, macKey, options);
    } catch (err) {
      if (!(err instanceof KeyringWrongKey) || options.previousProvider === undefined) throw err;
    }
    const macKey = await unlock(parsed.body, options.previousProvider);
    verifyKeyringMac(parsed, macKey);
    const ring = new Keyring(path, options.previousProvider, parsed.body, macKey, options);
    ring.#logger.warn('keyring still under the previous key-encryption key; finishing the rotation');
    await ring.rotateKek(options.provider);
    return ring;
  }

  get keyId(): string {
    return this.#provider.keyId;
  }

  get generation(): number {
    return this.#body.generation;
  }

  listTenants(): TenantKeyInfo[] {
    this.#alive();
    return Object.entries(this.#body.tenants)
      .map(([tenant, t]) => ({ tenant, currentVersion: t.current, versions: t.keys.map((k) => k.version) }))
      .sort((a, b) => (a.tenant < b.tenant ? -1 : 1));
  }

  hasTenant(tenant: string): boolean {
    return Object.hasOwn(this.#body.tenants, tenant);
  }

  /** Crypto-shredded tenants (tombstones), by name. */
  listShreddedTenants(): ShreddedTenantInfo[] {
    this.#alive();
    return Object.entries(this.#body.shredded ?? {})
      .map(([tenant, s]) => ({ tenant, shreddedAt: s.shreddedAt, keyringGeneration: s.generation }))
      .sort((a, b) => (a.tenant < b.tenant ? -1 : 1));
  }

  isShredded(tenant: string): boolean {
    return this.#body.shredded !== undefined && Object.hasOwn(this.#body.shredded, tenant);
  }

  /**
   * Creates a random DEK (version 1) for a new tenant; durable when this resolves. A shredded name
   * is refused (`TenantKeyShredded`) unless `recreate` is set, which clears its tombstone in the same write.
   */
  async createTenant(tenant: string, options: CreateTenantOptions = {}): Promise<TenantKeyInfo> {
    this.#alive();
    assertTenantName(tenant);
    this.#assertCreatable(tenant, options);
    const dek = newKey();
    try {
      const wrapped = await this.#provider.wrapKey(dek, dekContext(this.#body.keyringId, tenant, 1));
      this.#alive();
      this.#assertCreatable(tenant, options);
      const record: TenantRecord = { current: 1, keys: [keyRecord(1, wrapped)] };
      const { [tenant]: _cleared, ...shredded } = this.#body.shredded ?? {};
      // An empty map is left out: a keyring that never had a shred keeps its original shape.
      const rest = Object.keys(shredded).length > 0 ? shredded : undefined;
      this.#write({ ...this.#body, tenants: { ...this.#body.tenants, [tenant]: record }, shredded: rest });
      this.#cachePut(slot(tenant, 1), dek);
    } finally {
      dek.fill(0);
    }
    return { tenant, currentVersion: 1, versions: [1] };
  }

  /**
   * Adds a new DEK version for new writes; older versions stay readable. `reencryptRate` is recorded
   * in the same write (and a rate of an earlier rotation dropped when it is absent).
   */
  async rotateDek(tenant: string, options: RotateDekOptions = {}): Promise<TenantKeyInfo> {
    this.#alive();
    const rate = options.reencryptRate;
    if (rate !== undefined && (!Number.isSafeInteger(rate) || rate < MIN_REENCRYPT_RATE)) {
      throw new RangeError(`reencryptRate must be an integer of at least ${MIN_REENCRYPT_RATE}`);
    }
    const before = this.#tenant(tenant);
    const version = Math.max(...before.keys.map((k) => k.version)) + 1;
    const dek = newKey();
    try {
      const wrapped = await this.#provider.wrapKey(dek, dekContext(this.#body.keyringId, tenant, version));
      const t = this.#tenant(tenant);
      if (t.keys.some((k) => k.version === version)) throw new TenantKeyExists('concurrent data key rotation');
      const record: TenantRecord = { current: version, keys: [...t.keys, keyRecord(version, wrapped)], ...(rate === undefined ? {} : { reencryptRate: rate }) };
      this.#write({ ...this.#body, tenants: { ...this.#body.tenants, [tenant]: record } });
      this.#cachePut(slot(tenant, version), dek);
    } finally {
      dek.fill(0);
    }
    const t = this.#tenant(tenant);
    return { tenant, currentVersion: t.current, versions: t.keys.map((k) => k.version) };
  }

  /** The `reencryptRate` of the tenant's last DEK rotation while older versions remain; undefined otherwise. */
  reencryptRate(tenant: string): number | undefined {
    this.#alive();
    return this.hasTenant(tenant) ? this.#body.tenants[tenant]!.reencryptRate : undefined;
  }

  /** Unwraps (or takes from the cache) every DEK version of `tenant`; the result is synchronous. */
  async tenantCiphers(tenant: string): Promise<TenantCiphers> {
    this.#alive();
    const record = this.#tenant(tenant);
    const keys = new Map<number, Buffer>();
    try {
      for (const k of record.keys) keys.set(k.version, await this.#dek(tenant, k));
    } catch (err) {
      for (const key of keys.values()) key.fill(0);
      throw err;
    }
    if (this.#closed || !this.hasTenant(tenant)) {
      for (const key of keys.values()) key.fill(0);
      this.#tenant(tenant);
    }
    const set = this.#live.get(tenant) ?? new Set<TenantCiphers>();
    this.#live.set(tenant, set);
    const ciphers = new TenantKeySet(tenant, record.current, keys, (v) => this.#budget(tenant, v), () => set.delete(ciphers));
    set.add(ciphers);
    return ciphers;
  }

  /**
   * Copies of every DEK of `tenant`, for a holder that seals pages outside this keyring (a worker
   * thread running the tenant's storage). The caller zeroes them when done, and reserves every
   * encryption it makes with them through `reserveEncryptions` first.
   */
  async exportTenantKeys(tenant: string): Promise<ExportedTenantKeys> {
    this.#alive();
    const record = this.#tenant(tenant);
    const keys: { version: number; key: Buffer }[] = [];
    try {
      for (const k of record.keys) keys.push({ version: k.version, key: await this.#dek(tenant, k) });
      this.#tenant(tenant);
    } catch (err) {
      for (const k of keys) k.key.fill(0);
      throw err;
    }
    return { tenant, currentVersion: record.current, keys };
  }

  /**
   * Takes up to `count` encryptions from the budget of `tenant`'s DEK `version` for a holder of an
   * exported key, durably reserved in the keyring file before this returns (the same budget the
   * keyring's own ciphers spend). Returns how many were granted: fewer than `count` only at the hard
   * limit, where a call that can grant none throws `KeyUsageExhausted`.
   */
  reserveEncryptions(tenant: string, version: number, count: number): number {
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('count must be a positive integer');
    if (!this.#tenant(tenant).keys.some((k) => k.version === version)) {
      throw new KeyVersionUnknown('no data key with that version for this tenant');
    }
    const budget = this.#budget(tenant, version);
    let granted = 0;
    try {
      for (; granted < count; granted++) budget.take();
    } catch (err) {
      if (!(err instanceof KeyUsageExhausted) || granted === 0) throw err;
    }
    return granted;
  }

  /**
   * HMAC-SHA256 of `data` under a key derived (HKDF) from the keyring's MAC key for `purpose`, so an
   * engine can authenticate a file it keeps beside the keyring. Changes when the KEK is rotated.
   */
  macTag(purpose: string, data: Uint8Array): Buffer {
    this.#alive();
    const key = Buffer.from(hkdfSync('sha256', this.#macKey, Buffer.alloc(0), `weftkit-mac:${purpose}`, 32));
    try {
      return createHmac('sha256', key).update(data).digest();
    } finally {
      key.fill(0);
    }
  }

  /**
   * Crypto-shred: removes every wrapped DEK of `tenant` from the keyring durably, then zeroes every
   * copy this process holds. The tenant's pages are unreadable from then on. The same write leaves a
   * tombstone, so `createTenant` refuses the name until it is re-created on purpose. (Backups of the
   * keyring file taken earlier still hold the wrapped DEKs; they are as sensitive as the KEK that opens them.)
   */
  async shredTenant(tenant: string): Promise<ShredResult> {
    this.#alive();
    const record = this.#tenant(tenant);
    const tenants = { ...this.#body.tenants };
    delete tenants[tenant];
    const tombstone: TenantTombstone = { shreddedAt: new Date().toISOString(), generation: this.#body.generation + 1 };
    this.#write({ ...this.#body, tenants, shredded: { ...this.#body.shredded, [tenant]: tombstone } });
    for (const c of [...(this.#live.get(tenant) ?? [])]) c.destroy();
    this.#live.delete(tenant);
    const versions = record.keys.map((k) => k.version);
    for (const v of versions) {
      this.#cacheDrop(slot(tenant, v));
      this.#budgets.delete(slot(tenant, v));
    }
    return { tenant, destroyedVersions: versions, keyringGeneration: this.#body.generation };
  }

  /**
   * Removes DEK `version` of `tenant` from the keyring durably and zeroes every copy this process
   * holds, once the caller has re-encrypted everything sealed under it (after a DEK rotation).
   * The current version cannot be retired.
   */
  retireDekVersion(tenant: string, version: number): TenantKeyInfo {
    const t = this.#tenant(tenant);
    if (version === t.current) throw new RangeError('the current data key version cannot be retired');
    if (!t.keys.some((k) => k.version === version)) throw new KeyVersionUnknown('no data key with that version for this tenant');
    const keys = t.keys.filter((k) => k.version !== version);
    // With one version left there is nothing to re-encrypt: the rate goes with the last old version.
    const record: TenantRecord = { current: t.current, keys, ...(keys.length > 1 && t.reencryptRate !== undefined ? { reencryptRate: t.reencryptRate } : {}) };
    this.#write({ ...this.#body, tenants: { ...this.#body.tenants, [tenant]: record } });
    for (const c of this.#live.get(tenant) ?? []) (c as TenantKeySet).forget(version);
    this.#cacheDrop(slot(tenant, version));
    this.#budgets.delete(slot(tenant, version));
    return { tenant, currentVersion: record.current, versions: record.keys.map((k) => k.version) };
  }

  /**
   * Rewraps every DEK and a new MAC key under `next`, then replaces the keyring file in one atomic
   * rename: after a crash the file opens with either the old KEK or the new one, never neither.
   */
  async rotateKek(next: KeyProvider): Promise<KekRotationResult> {
    this.#alive();
    const previousKeyId = this.#provider.keyId;
    for (;;) {
      const snapshot = this.#body;
      const rewrapped = new Map<string, string>();
      for (const [tenant, t] of Object.entries(snapshot.tenants)) {
        for (const k of t.keys) {
          const dek = await this.#dek(tenant, k);
          try {
            const w = await next.wrapKey(dek, dekContext(snapshot.keyringId, tenant, k.version));
            rewrapped.set(slot(tenant, k.version), w.toString('base64'));
          } finally {
            dek.fill(0);
          }
        }
      }
      const macKey = newKey();
      const wrappedMac = await next.wrapKey(macKey, macContext(snapshot.keyringId));
      this.#alive();
      // Tenants or versions changed while we awaited: start over. Budget reservations may have
      // moved on, which is why the records are rebuilt from the current body, not the snapshot.
      const current = this.#body;
      const stale = Object.entries(current.tenants).some(([tn, t]) => t.keys.some((k) => !rewrapped.has(slot(tn, k.version))));
      if (stale || Object.keys(current.tenants).length !== Object.keys(snapshot.tenants).length) {
        macKey.fill(0);
        continue;
      }
      const tenants: Record<string, TenantRecord> = {};
      let keys = 0;
      for (const [tn, t] of Object.entries(current.tenants)) {
        tenants[tn] = { ...t, keys: t.keys.map((k) => ({ ...k, wrapped: rewrapped.get(slot(tn, k.version))! })) };
        keys += t.keys.length;
      }
      const body: KeyringBody = {
        ...current,
        kek: { kind: next.kind, keyId: next.keyId },
        macKey: wrappedMac.toString('base64'),
        tenants,
      };
      const oldMac = this.#macKey;
      this.#macKey = macKey;
      try {
        this.#write(body);
      } catch (err) {
        this.#macKey = oldMac;
        macKey.fill(0);
        throw err;
      }
      oldMac.fill(0);
      this.#provider = next;
      return { previousKeyId, keyId: next.keyId, tenants: Object.keys(tenants).length, keys, keyringGeneration: body.generation };
    }
  }

  /** Zeroes the MAC key, cached DEKs and every cipher handed out. Does not close the provider. */
  close(): void {
    if (this.#closed) return;
    for (const set of this.#live.values()) for (const c of [...set]) c.destroy();
    this.#live.clear();
    for (const k of [...this.#cache.keys()]) this.#cacheDrop(k);
    this.#macKey.fill(0);
    this.#closed = true;
  }

  #alive(): void {
    if (this.#closed) throw new KeyDestroyed('keyring is closed');
  }

  #assertCreatable(tenant: string, options: CreateTenantOptions): void {
    if (this.hasTenant(tenant)) throw new TenantKeyExists('tenant already has a data key');
    if (this.isShredded(tenant) && options.recreate !== true) {
      throw new TenantKeyShredded('this tenant was crypto-shredded; an operator must re-create it deliberately');
    }
  }

  #tenant(tenant: string): TenantRecord {
    this.#alive();
    if (!this.hasTenant(tenant)) throw new TenantKeyNotFound('tenant has no data key');
    return this.#body.tenants[tenant]!;
  }

  /** Writes `body` (with the next generation) durably, then makes it current. */
  #write(body: KeyringBody): void {
    const next: KeyringBody = { ...body, generation: this.#body.generation + 1 };
    writeFileAtomicSync(this.path, encodeKeyring(next, this.#macKey), {
      mode: 0o600,
      ...(this.#onWriteStep === undefined ? {} : { onStep: this.#onWriteStep }),
    });
    this.#body = next;
  }

  /** A copy of the DEK for `tenant`/`record.version` (the caller zeroes it). */
  async #dek(tenant: string, record: KeyRecord): Promise<Buffer> {
    const id = slot(tenant, record.version);
    const cached = this.#cache.get(id);
    if (cached !== undefined) return Buffer.from(cached.key);
    const dek = await this.#provider.unwrapKey(Buffer.from(record.wrapped, 'base64'), dekContext(this.#body.keyringId, tenant, record.version));
    this.#cachePut(id, dek);
    return dek;
  }

  #cachePut(id: string, key: Buffer): void {
    if (this.#ttlMs === 0) return;
    this.#cacheDrop(id);
    const entry: CachedKey = { key: Buffer.alloc(key.length), timer: undefined };
    key.copy(entry.key);
    entry.timer = setTimeout(() => this.#cacheDrop(id), this.#ttlMs);
    entry.timer.unref();
    this.#cache.set(id, entry);
  }

  #cacheDrop(id: string): void {
    const entry = this.#cache.get(id);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    entry.key.fill(0);
    this.#cache.delete(id);
  }

  #budget(tenant: string, version: number): EncryptionBudget {
    const id = slot(tenant, version);
    let budget = this.#budgets.get(id);
    if (budget === undefined) {
      const record = this.#tenant(tenant).keys.find((k) => k.version === version)!;
      budget = new EncryptionBudget({
        ...this.#limits,
        used: record.reserved,
        reserve: (ceiling) => this.#reserve(tenant, version, ceiling),
        onRotationDue: () => this.#logger.warn('tenant data key is near its encryption limit; rotate it', { tenant, dekVersion: version }),
      });
      this.#budgets.set(id, budget);
    }
    return budget;
  }

  #reserve(tenant: string, version: number, ceiling: number): void {
    const t = this.#tenant(tenant);
    const keys = t.keys.map((k) => (k.version === version ? { ...k, reserved: Math.max(k.reserved, ceiling) } : k));
    this.#write({ ...this.#body, tenants: { ...this.#body.tenants, [tenant]: { ...t, keys } } });
  }
}

/** Unwraps the keyring's MAC key; a KEK other than the one that wrote the file is `KeyringWrongKey`. */
async function unlock(body: KeyringBody, provider: KeyProvider): Promise<Buffer> {
  const hint = 'the keyring was written under another key-encryption key: check WEFTKIT_KEY, WEFTKIT_KEY_FILE or WEFTKIT_KEY_PROVIDER';
  if (body.kek.keyId !== provider.keyId) throw new KeyringWrongKey(hint);
  try {
    return await provider.unwrapKey(Buffer.from(body.macKey, 'base64'), macContext(body.keyringId));
  } catch (err) {
    if (err instanceof KeyUnwrapFailed) throw new KeyringWrongKey(`${hint} (or the keyring was altered)`);
    throw err;
  }
}

function newKey(): Buffer {
  const key = Buffer.alloc(32);
  randomFillSync(key);
  return key;
}

function keyRecord(version: number, wrapped: Buffer): KeyRecord {
  return { version, wrapped: wrapped.toString('base64'), createdAt: new Date().toISOString(), reserved: 0 };
}

class TenantKeySet implements TenantCiphers {
  readonly tenant: string;
  readonly currentVersion: number;
  readonly #keys: Map<number, Buffer>;
  readonly #ciphers = new Map<string, PageCipher>();
  readonly #budget: (version: number) => EncryptionBudget;
  readonly #onDestroy: () => void;
  #destroyed = false;

  constructor(tenant: string, current: number, keys: Map<number, Buffer>, budget: (v: number) => EncryptionBudget, onDestroy: () => void) {
    this.tenant = tenant;
    this.currentVersion = current;
    this.#keys = keys;
    this.#budget = budget;
    this.#onDestroy = onDestroy;
  }

  cipher(version: number = this.currentVersion, pageSize: number = DEFAULT_PAGE_SIZE): PageCipher {
    if (this.#destroyed) throw new KeyDestroyed('tenant keys were destroyed');
    const id = `${version}/${pageSize}`;
    let c = this.#ciphers.get(id);
    if (c === undefined) {
      const key = this.#keys.get(version);
      if (key === undefined) throw new KeyVersionUnknown('no data key with that version for this tenant');
      c = new PageCipher({ key, tenant: this.tenant, keyVersion: version, pageSize, budget: this.#budget(version) });
      this.#ciphers.set(id, c);
    }
    return c;
  }

  /** Zeroes and drops the key (and ciphers) of a retired `version`. */
  forget(version: number): void {
    for (const [id, c] of this.#ciphers) {
      if (id.startsWith(`${version}/`)) {
        c.destroy();
        this.#ciphers.delete(id);
      }
    }
    this.#keys.get(version)?.fill(0);
    this.#keys.delete(version);
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const c of this.#ciphers.values()) c.destroy();
    for (const k of this.#keys.values()) k.fill(0);
    this.#ciphers.clear();
    this.#onDestroy();
  }
}
