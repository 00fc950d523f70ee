// Messages between worker-client.ts (main thread) and tenant-worker.ts.
import type { PGliteOptions } from '@electric-sql/pglite';
import type { GrantChannel } from './encryption-grant.js';
import type { TransactionStatus } from './tenant-backend.js';

/** A compiled pglite.wasm (`WebAssembly.Module`). */
export type WasmModule = NonNullable<PGliteOptions['pgliteWasmModule']>;

export interface WorkerData {
  readonly wasmModule?: WasmModule;
  /** The exchange lane's shared memory (exchange-lane.ts); without it every exchange goes by port. */
  readonly lane?: SharedArrayBuffer;
}

export interface WorkerOpen {
  readonly op: 'open';
  readonly dataDir: string;
  readonly tenant: string;
  readonly currentVersion: number;
  /** Each key is a fresh 32-byte ArrayBuffer, transferred (detached on the main side). */
  readonly keys: readonly { readonly version: number; readonly key: ArrayBuffer }[];
  readonly grant: GrantChannel;
  /** The template archive, when the tenant has no PGDATA yet. */
  readonly template?: Uint8Array;
  readonly countFsyncs?: boolean;
  /** Re-encryption rate for files left under an older DEK (default 32 MiB/s). */
  readonly reencryptBytesPerSecond?: number;
}

/** A DEK rotation: the new version's key (transferred), its encryption grant, and re-encryption under it. */
export interface WorkerRekey {
  readonly op: 'rekey';
  readonly currentVersion: number;
  readonly key: { readonly version: number; readonly key: ArrayBuffer };
  readonly grant: GrantChannel;
  readonly bytesPerSecond?: number;
}

/** Where a tenant's re-encryption stands (sent at each rescan, file done, and about every 500 ms). */
export interface ReencryptProgress {
  readonly running: boolean;
  /** Files still under an older DEK version. */
  readonly filesRemaining: number;
  readonly bytesRemaining: number;
  /** Bytes rewritten since the previous report. */
  readonly bytesDelta: number;
  /** The job's current throttle. */
  readonly bytesPerSecond: number;
  /** Key versions of the tenant's files; complete only when `running` is false and `lastError` null. */
  readonly versionsInUse: readonly number[];
  readonly lastError: string | null;
}

export type ToWorker =
  | WorkerOpen
  | { readonly op: 'x'; readonly id: number; readonly bytes: Uint8Array }
  | { readonly op: 'close' }
  | WorkerRekey
  | { readonly op: 'forget-keys'; readonly versions: readonly number[] }
  | { readonly op: 'build-template'; readonly scratchDir: string; readonly setupSql: string };

export type ToMain =
  | { readonly op: 'ready' }
  | { readonly op: 'opened'; readonly heapBytes: number }
  | { readonly op: 'failed'; readonly code: string; readonly message: string }
  | { readonly op: 'd'; readonly id: number; readonly b: Uint8Array }
  | {
      readonly op: 'r';
      readonly id: number;
      readonly status: TransactionStatus | null;
      readonly fatal?: boolean;
      readonly crashed?: boolean;
      readonly heapBytes?: number;
      readonly b?: Uint8Array;
    }
  | { readonly op: 'refill'; readonly version: number }
  | { readonly op: 'rekeyed'; readonly files: number; readonly bytes: number }
  | ({ readonly op: 'rekey-progress' } & ReencryptProgress)
  | { readonly op: 'fsync' }
  | { readonly op: 'closed' }
  | { readonly op: 'template'; readonly bytes: Uint8Array }
  | { readonly op: 'log'; readonly level: 'warn' | 'error'; readonly message: string; readonly fields: Record<string, unknown> };
