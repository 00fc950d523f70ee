// Background re-encryption after a DEK rotation: rewrite a tenant's log files under the current
// DEK (compaction-style), throttled to a byte rate, then retire from the keyring every DEK version
// no file uses any more. Resumable by construction: a tenant opened with files under an older
// version (a crash mid-job, an offline rotation) is picked up again.
import type { Keyring, Logger } from '@weftkit/kernel';
import { StoreClosed } from '../errors.js';
import type { LogTenantStore } from './tenant-store.js';

/** Default re-encryption rate: enough to finish gigabytes in minutes without starving requests. */
export const DEFAULT_REENCRYPT_BYTES_PER_SECOND: number = 32 * 1024 * 1024;
// Sleeps shorter than this are carried over (timer granularity).
const MIN_SLEEP_MS = 10;

export interface ReencryptionStatus {
  readonly tenant: string;
  readonly running: boolean;
  /** Log files still under an older DEK version. */
  readonly segmentsRemaining: number;
  /** Bytes rewritten for this tenant since the engine started. */
  readonly bytesDone: number;
  /** The job's throttle: the rotation's `--rate` (kept in the keyring across restarts) or the default. */
  readonly bytesPerSecond: number;
  /** Code of the last failure (the job retries on the next rotation or open). */
  readonly lastError: string | null;
}

interface Job {
  readonly store: LogTenantStore;
  running: Promise<void> | null;
  again: boolean;
  bytes: number;
  lastError: string | null;
  rate: number;
}

export class Reencryptor {
  readonly #keyring: Keyring;
  readonly #logger: Logger;
  readonly #defaultRate: number;
  readonly #jobs = new Map<string, Job>();
  #bytesTotal = 0;

  constructor(keyring: Keyring, logger: Logger, bytesPerSecond: number = DEFAULT_REENCRYPT_BYTES_PER_SECOND) {
    this.#keyring = keyring;
    this.#logger = logger;
    this.#defaultRate = bytesPerSecond;
  }

  /** Bytes rewritten across all tenants since start (`weftkit_reencrypt_bytes_total`). */
  get bytesTotal(): number {
    return this.#bytesTotal;
  }

  /**
   * Starts (or, if one runs, repeats after it) the job for `store`'s tenant, at `bytesPerSecond` or
   * else the rate the keyring holds for the tenant's last rotation, or else the default.
   */
  start(store: LogTenantStore, bytesPerSecond?: number): void {
    let job = this.#jobs.get(store.tenant);
    if (job === undefined || job.store !== store) {
      job = { store, running: null, again: false, bytes: job?.bytes ?? 0, lastError: null, rate: this.#defaultRate };
      this.#jobs.set(store.tenant, job);
    }
    job.rate = bytesPerSecond ?? this.#keptRate(store.tenant) ?? this.#defaultRate;
    if (job.running !== null) {
      job.again = true;
      return;
    }
    const j = job;
    j.running = this.#run(j).finally(() => {
      j.running = null;
      if (j.again && !j.store.closed) {
        j.again = false;
        this.start(j.store);
      }
    });
  }

  /** At tenant open: resume a job left unfinished, or retire versions nothing uses. */
  resume(store: LogTenantStore): void {
    if (store.oldKeySegments > 0) {
      this.#logger.info('resuming re-encryption under the current data key', { tenant: store.tenant, segments: store.oldKeySegments });
      this.start(store);
    } else {
      this.#retireUnused(store);
    }
  }

  /** Resolves when no job runs for `tenant`. */
  async idle(tenant: string): Promise<void> {
    for (let job = this.#jobs.get(tenant); job?.running; job = this.#jobs.get(tenant)) await job.running;
  }

  status(tenant: string): ReencryptionStatus | undefined {
    const job = this.#jobs.get(tenant);
    if (job === undefined) return undefined;
    return {
      tenant,
      running: job.running !== null,
      segmentsRemaining: job.store.closed ? 0 : job.store.oldKeySegments,
      bytesDone: job.bytes,
      bytesPerSecond: job.rate,
      lastError: job.lastError,
    };
  }

  forget(tenant: string): void {
    this.#jobs.delete(tenant);
  }

  async #run(job: Job): Promise<void> {
    const { store } = job;
    const started = performance.now();
    let paced = 0;
    const pace = async (bytes: number): Promise<void> => {
      if (store.closed) throw new StoreClosed('re-encryption stopped: the store is closing');
      job.bytes += bytes;
      this.#bytesTotal += bytes;
      paced += bytes;
      const due = started + (paced / job.rate) * 1000;
      const wait = due - performance.now();
      if (wait >= MIN_SLEEP_MS) await new Promise((r) => setTimeout(r, wait));
    };
    try {
      while (!store.closed && store.oldKeySegments > 0) await store.reencrypt(pace);
      if (!store.closed) {
        this.#retireUnused(store);
        job.lastError = null;
        this.#logger.info('re-encryption finished', { tenant: store.tenant, keyVersion: store.keyVersion, bytes: job.bytes });
      }
    } catch (err) {
      if (store.closed) return;
      job.lastError = (err as { code?: string }).code ?? 'WK_INTERNAL';
      this.#logger.error('re-encryption failed; it resumes on the next rotation or when the tenant is opened again', {
        tenant: store.tenant,
        error_code: job.lastError,
        err,
      });
    }
  }

  #keptRate(tenant: string): number | undefined {
    try {
      return this.#keyring.reencryptRate(tenant);
    } catch {
      // A closed keyring: the store is closing too, and the job stops at its next step.
      return undefined;
    }
  }

  /** Drops from the keyring every DEK version of the tenant that is neither current nor used by a file. */
  #retireUnused(store: LogTenantStore): void {
    const info = this.#keyring.listTenants().find((t) => t.tenant === store.tenant);
    if (info === undefined) return;
    const inUse = store.keyVersionsInUse();
    for (const v of info.versions) {
      if (v === info.currentVersion || v === store.keyVersion || inUse.has(v)) continue;
      try {
        this.#keyring.retireDekVersion(store.tenant, v);
        this.#logger.info('retired an old data key version', { tenant: store.tenant, keyVersion: v });
      } catch (err) {
        this.#logger.error('could not retire an old data key version', { tenant: store.tenant, keyVersion: v, error_code: (err as { code?: string }).code });
      }
    }
  }
}
