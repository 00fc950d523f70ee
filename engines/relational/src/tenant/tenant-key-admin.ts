// Online key operations on the tenant manager's tenants: DEK rotation with background
// re-encryption, crypto-shredding, key status, and retiring versions no file uses any more.
import { join } from 'node:path';
import { assertTenantName, type Keyring, type Logger, shredTenant, type TenantShredded as ShredRecord, tenantDirPath } from '@weftkit/kernel';
import { TenantBackendClosed, TenantManagerClosed, TenantOpenFailed, TenantShredded } from '../errors.js';
import { answerGrant, createGrantChannel, type GrantChannel, INITIAL_GRANT } from './encryption-grant.js';
import { scanPgData } from './pgdata-scan.js';
import type { DekRotation, ReencryptionStatus, TenantKeyAdmin, TenantKeyStatus, TenantShredResult } from './tenant-backend.js';
import type { TenantWorker } from './worker-client.js';
import type { ReencryptProgress } from './worker-messages.js';

/** A tenant of the manager, as key administration sees it. */
export interface KeyedTenant {
  readonly tenant: string;
  readonly state: 'opening' | 'open' | 'closing' | 'gone';
  readonly worker: TenantWorker | undefined;
  /** Encryption grants handed to the worker; a version is served by the first that lists it. */
  readonly grants: GrantChannel[];
  /** Crypto-shredded: every exchange fails `TenantShredded`. */
  readonly shredded: boolean;
}

/** What key administration needs from the tenant manager. */
export interface KeyAdminHost {
  readonly keyring: Keyring;
  /** Re-encryption rate of a rotation given none (the configured default). */
  readonly reencryptBytesPerSecond: number;
  readonly dataDir: string;
  /** Directory of PGDATA inside a tenant directory. */
  readonly pgdataDir: string;
  readonly log: Logger;
  isClosed(): boolean;
  open(tenant: string): Promise<{ release(): void }>;
  entry(tenant: string): KeyedTenant | undefined;
  /** Stops the tenant's worker at once, failing its exchanges with `TenantShredded` (no checkpoint: its data goes). */
  kill(tenant: string): Promise<void>;
}

interface Rekey {
  running: boolean;
  filesRemaining: number;
  bytesRemaining: number;
  bytesDone: number;
  bytesPerSecond: number;
  lastError: string | null;
}

export class TenantKeys implements TenantKeyAdmin {
  readonly #host: KeyAdminHost;
  /** Tenants shredded while this manager ran: never opened (nor re-created) again. */
  readonly #shredded = new Set<string>();
  readonly #rekeys = new Map<string, Rekey>();
  #reencryptedBytes = 0;

  constructor(host: KeyAdminHost) {
    this.#host = host;
  }

  get reencryptedBytes(): number {
    return this.#reencryptedBytes;
  }

  isShredded(tenant: string): boolean {
    return this.#shredded.has(tenant);
  }

  /** Whether the tenant's re-encryption is running (it runs only while the tenant is open). */
  isReencrypting(tenant: string): boolean {
    return this.#rekeys.get(tenant)?.running === true;
  }

  async rotateDek(tenant: string, options: { readonly bytesPerSecond?: number } = {}): Promise<DekRotation> {
    assertTenantName(tenant);
    if (this.#shredded.has(tenant)) throw new TenantShredded('this tenant was crypto-shredded');
    const { keyring } = this.#host;
    const info = await keyring.rotateDek(tenant, options.bytesPerSecond === undefined ? {} : { reencryptRate: options.bytesPerSecond });
    // Opened if it was not: an open worker picks up files under older versions by itself.
    const held = await this.#host.open(tenant);
    try {
      const e = this.#host.entry(tenant);
      if (e === undefined || e.worker === undefined || e.state !== 'open') throw new TenantBackendClosed('tenant backend is closed');
      const exported = await keyring.exportTenantKeys(tenant);
      let key: ArrayBuffer | undefined;
      for (const k of exported.keys) {
        if (k.version === info.currentVersion) {
          key = new ArrayBuffer(k.key.length);
          new Uint8Array(key).set(k.key);
        }
        k.key.fill(0);
      }
      if (key === undefined) throw new TenantOpenFailed('the new data key version is missing from the keyring');
      const grant = createGrantChannel([info.currentVersion]);
      answerGrant(grant, info.currentVersion, (v) => keyring.reserveEncryptions(tenant, v, INITIAL_GRANT));
      e.grants.push(grant);
      const r = await e.worker.rekey({
        op: 'rekey',
        currentVersion: info.currentVersion,
        key: { version: info.currentVersion, key },
        grant,
        // Always a rate: one rotation's `--rate` must not carry over to a later rotation without one.
        bytesPerSecond: options.bytesPerSecond ?? this.#host.reencryptBytesPerSecond,
      });
      this.#host.log.info('data key rotated; re-encrypting in the background', { tenant, keyVersion: info.currentVersion, files: r.files, bytes: r.bytes });
      return { tenant, keyVersion: info.currentVersion, segmentsToReencrypt: r.files };
    } finally {
      held.release();
    }
  }

  async shred(tenant: string): Promise<TenantShredResult> {
    assertTenantName(tenant);
    if (this.#host.isClosed()) throw new TenantManagerClosed('tenant manager is closed');
    const had = this.#shredded.has(tenant);
    this.#shredded.add(tenant);
    let r: ShredRecord;
    try {
      await this.#host.kill(tenant);
      r = await shredTenant(this.#host.keyring, this.#host.dataDir, tenant);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'WK_CRYPTO_TENANT_UNKNOWN' && !had) this.#shredded.delete(tenant);
      throw err;
    }
    this.#rekeys.delete(tenant);
    this.#host.log.info('tenant crypto-shredded', { tenant, keyVersions: r.destroyedKeyVersions.length, files: r.filesRemoved });
    return { tenant, destroyedKeyVersions: r.destroyedKeyVersions, filesRemoved: r.filesRemoved, keyringGeneration: r.keyringGeneration };
  }

  keyStatus(): TenantKeyStatus[] {
    return this.#host.keyring.listTenants().map((t) => {
      const e = this.#host.entry(t.tenant);
      const open = e !== undefined && e.state === 'open';
      const r = this.#rekeys.get(t.tenant);
      let reencryption: ReencryptionStatus | null = null;
      if (r !== undefined && (open || r.running)) {
        reencryption = {
          tenant: t.tenant,
          running: r.running,
          segmentsRemaining: r.filesRemaining,
          bytesRemaining: r.bytesRemaining,
          bytesDone: r.bytesDone,
          bytesPerSecond: r.bytesPerSecond,
          lastError: r.lastError,
        };
      } else if (t.versions.length > 1 || r !== undefined) {
        // Not open: what its next open will re-encrypt, read from the file headers.
        const pending = this.#pendingOnDisk(t.tenant, t.currentVersion);
        reencryption = {
          tenant: t.tenant,
          running: false,
          segmentsRemaining: pending.files,
          bytesRemaining: pending.bytes,
          bytesDone: r?.bytesDone ?? 0,
          // What its next open resumes at.
          bytesPerSecond: this.#host.keyring.reencryptRate(t.tenant) ?? this.#host.reencryptBytesPerSecond,
          lastError: r?.lastError ?? null,
        };
      }
      return { tenant: t.tenant, currentVersion: t.currentVersion, versions: t.versions, open, reencryption };
    });
  }

  /** Re-encryption progress per tenant with one under way or pending in an open tenant (for /metrics). */
  reencryptRemaining(): { readonly tenant: string; readonly files: number; readonly bytes: number }[] {
    const out: { tenant: string; files: number; bytes: number }[] = [];
    for (const [tenant, r] of this.#rekeys) {
      const e = this.#host.entry(tenant);
      if (e !== undefined && e.state === 'open') out.push({ tenant, files: r.filesRemaining, bytes: r.bytesRemaining });
    }
    return out;
  }

  /** Tenants left with more than one DEK version (a rotation cut short) are opened to finish it. */
  resumeReencryption(): void {
    let tenants: string[];
    try {
      tenants = this.#host.keyring.listTenants().filter((t) => t.versions.length > 1).map((t) => t.tenant);
    } catch {
      return;
    }
    for (const tenant of tenants) {
      this.#host.open(tenant).then(
        (held) => held.release(),
        (err: unknown) => this.#host.log.error('could not open a tenant to resume its re-encryption', { tenant, error_code: (err as { code?: string }).code }),
      );
    }
  }

  /** A progress report from the worker of `e`. */
  onRekeyProgress(e: KeyedTenant, p: ReencryptProgress): void {
    if (e.shredded) return;
    let r = this.#rekeys.get(e.tenant);
    if (r === undefined) {
      r = { running: false, filesRemaining: 0, bytesRemaining: 0, bytesDone: 0, bytesPerSecond: p.bytesPerSecond, lastError: null };
      this.#rekeys.set(e.tenant, r);
    }
    r.running = p.running;
    r.filesRemaining = p.filesRemaining;
    r.bytesRemaining = p.bytesRemaining;
    r.bytesDone += p.bytesDelta;
    r.bytesPerSecond = p.bytesPerSecond;
    r.lastError = p.lastError;
    this.#reencryptedBytes += p.bytesDelta;
    if (p.lastError !== null && !p.running) {
      this.#host.log.error('re-encryption stopped; it resumes on the next rotation or when the tenant is opened again', { tenant: e.tenant, error_code: p.lastError });
    }
    // Only a complete, error-free scan of every file says which versions are still needed.
    if (!p.running && p.lastError === null && p.versionsInUse.length > 0) this.#retire(e, p.versionsInUse);
  }

  #pendingOnDisk(tenant: string, currentVersion: number): { files: number; bytes: number } {
    try {
      const scan = scanPgData(join(tenantDirPath(this.#host.dataDir, tenant), this.#host.pgdataDir), currentVersion);
      return { files: scan.old.length, bytes: scan.old.reduce((n, f) => n + f.bytes, 0) };
    } catch {
      return { files: 0, bytes: 0 };
    }
  }

  /** Drops every DEK version of the tenant that is neither current nor used by a file; the worker zeroes them. */
  #retire(e: KeyedTenant, inUse: readonly number[]): void {
    const { keyring, log } = this.#host;
    const info = keyring.listTenants().find((t) => t.tenant === e.tenant);
    if (info === undefined) return;
    const retired: number[] = [];
    for (const v of info.versions) {
      if (v === info.currentVersion || inUse.includes(v)) continue;
      try {
        keyring.retireDekVersion(e.tenant, v);
        retired.push(v);
        log.info('retired an old data key version', { tenant: e.tenant, keyVersion: v });
      } catch (err) {
        log.error('could not retire an old data key version', { tenant: e.tenant, keyVersion: v, error_code: (err as { code?: string }).code });
      }
    }
    if (retired.length > 0) e.worker?.forgetKeys(retired);
  }
}
