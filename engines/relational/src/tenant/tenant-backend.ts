// The contract between the relational engine's sessions (src/session, src/server) and its
// per-tenant PostgreSQL backends (src/tenant): one PGlite cluster per tenant, run off the main
// event loop, reached only through raw protocol bytes.

/** Transaction status from the last ReadyForQuery: idle, in a transaction, in a failed transaction. */
export type TransactionStatus = 'I' | 'T' | 'E';

export interface TenantBackend {
  readonly tenant: string;
  /**
   * Sends complete frontend protocol messages (a simple Query, or extended-protocol messages up to
   * and including Sync or Flush) to the tenant's PostgreSQL, passing backend bytes to `onData` as
   * they stream. Resolves when the backend has processed them, with the status of the last
   * ReadyForQuery in the output, or null if there was none (e.g. after a Flush).
   * Calls must not overlap: the session layer serializes them. A backend that crashed or hung
   * rejects with a coded error and is replaced on the next `TenantManager.open`.
   */
  exchange(messages: Uint8Array, onData: (chunk: Uint8Array) => void): Promise<TransactionStatus | null>;
}

export interface TenantManagerStats {
  readonly open: number;
  readonly opening: number;
  readonly created: number;
  readonly evicted: number;
}

export interface TenantManager {
  /**
   * The tenant's backend, opening it (and creating the tenant from the template on first use)
   * if needed; concurrent callers share one open. While held (until `release()`), the backend is
   * never evicted; release it when the session lets go.
   */
  open(tenant: string): Promise<{ readonly backend: TenantBackend; release(): void }>;
  stats(): TenantManagerStats;
  /** Closes every backend cleanly (checkpoint, fsync), within the shutdown deadline. */
  close(): Promise<void>;
}

/** A DEK rotation started by `TenantKeyAdmin.rotateDek` (the admin socket's `keys.rotate-dek` result). */
export interface DekRotation {
  readonly tenant: string;
  /** The new current DEK version. */
  readonly keyVersion: number;
  /** PGDATA files the background job rewrites under it. */
  readonly segmentsToReencrypt: number;
}

export interface ReencryptionStatus {
  readonly tenant: string;
  readonly running: boolean;
  /** PGDATA files still under an older DEK version. */
  readonly segmentsRemaining: number;
  readonly bytesRemaining: number;
  /** Bytes rewritten for this tenant since the engine started. */
  readonly bytesDone: number;
  /** The job's throttle: the rotation's `--rate` (kept in the keyring across restarts) or the default. */
  readonly bytesPerSecond: number;
  /** Code of the last failure (the job retries on the next rotation or open). */
  readonly lastError: string | null;
}

export interface TenantKeyStatus {
  readonly tenant: string;
  readonly currentVersion: number;
  readonly versions: readonly number[];
  /** Whether this engine has the tenant open (re-encryption runs only while it is). */
  readonly open: boolean;
  /** Null when nothing was or is to be re-encrypted. */
  readonly reencryption: ReencryptionStatus | null;
}

export interface TenantShredResult {
  readonly tenant: string;
  readonly destroyedKeyVersions: readonly number[];
  readonly filesRemoved: number;
  readonly keyringGeneration: number;
}

/** Online key operations of the tenant manager (the admin socket's `keys.*` and `tenant.shred`). */
export interface TenantKeyAdmin {
  /** New DEK version; the tenant (opened if needed) re-encrypts its files in the background. */
  rotateDek(tenant: string, options?: { readonly bytesPerSecond?: number }): Promise<DekRotation>;
  /** Terminates the tenant's sessions (`TenantShredded`), closes it, destroys its DEKs, removes its files. */
  shred(tenant: string): Promise<TenantShredResult>;
  keyStatus(): TenantKeyStatus[];
  /** Open tenants' re-encryption backlog: files and bytes still under an older version (for /metrics). */
  reencryptRemaining(): { readonly tenant: string; readonly files: number; readonly bytes: number }[];
  /** Bytes re-encrypted since start, all tenants. */
  readonly reencryptedBytes: number;
}

export function hasKeyAdmin(m: TenantManager): m is TenantManager & TenantKeyAdmin {
  return typeof (m as Partial<TenantKeyAdmin>).rotateDek === 'function' && typeof (m as Partial<TenantKeyAdmin>).shred === 'function';
}
