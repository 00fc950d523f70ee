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
