// Worker side of a DEK rotation: re-encrypts the tenant's PGDATA files left under an older key
// version, one bounded slice per timer tick (the worker is single-threaded with PGlite, so queries
// run between slices), throttled to a byte rate, and reports progress to the main thread, which
// retires a version once a complete scan finds no file under it.
import type { PgDataFs } from './pgdata-fs.js';
import { SEALED_PAGE, scanPgData } from './pgdata-scan.js';
import type { ReencryptProgress } from './worker-messages.js';

/** Default re-encryption rate, as in the kv engine: gigabytes in minutes without starving queries. */
export const DEFAULT_REENCRYPT_BYTES_PER_SECOND: number = 32 * 1024 * 1024;
/** Pages per slice: ~256 KiB, well under a millisecond of sealing. */
const SLICE_PAGES = 32;
const REPORT_MS = 500;
const BUSY_RETRY_MS = 2;
/** While only files PostgreSQL removed but still holds open use an old version, look again this often. */
const UNLINKED_RETRY_MS = 1000;

export interface ReencryptJobOptions {
  readonly fs: PgDataFs;
  /** Absolute path of PGDATA. */
  readonly root: string;
  readonly currentVersion: () => number;
  /** True while an exchange runs: the slice waits for it. */
  readonly busy: () => boolean;
  readonly report: (progress: ReencryptProgress) => void;
  readonly bytesPerSecond?: number;
}

interface Pending {
  readonly path: string;
  bytes: number;
}

export class ReencryptJob {
  readonly #o: ReencryptJobOptions;
  #rate: number;
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #stopped = false;
  #bytesDelta = 0;
  #lastReport = 0;
  #lastError: string | null = null;
  #failedThisRound = 0;
  #started = 0;
  #paced = 0;

  constructor(options: ReencryptJobOptions) {
    this.#o = options;
    this.#rate = options.bytesPerSecond ?? DEFAULT_REENCRYPT_BYTES_PER_SECOND;
  }

  /** Scans now and runs until no file is under an older version; returns what it found to do. */
  start(bytesPerSecond?: number): { readonly files: number; readonly bytes: number } {
    if (bytesPerSecond !== undefined) this.#rate = bytesPerSecond;
    const scan = scanPgData(this.#o.root, this.#o.currentVersion());
    this.#queue = scan.old.map((f) => ({ path: f.path, bytes: f.bytes }));
    this.#lastError = null;
    this.#failedThisRound = 0;
    this.#started = performance.now();
    this.#paced = 0;
    this.#running = true;
    this.#report(true);
    if (this.#timer === undefined && !this.#stopped) this.#later(0);
    return { files: scan.old.length, bytes: scan.old.reduce((n, f) => n + f.bytes, 0) };
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #later(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#tick();
    }, ms);
  }

  #tick(): void {
    if (this.#stopped) return;
    if (this.#o.busy()) {
      this.#later(BUSY_RETRY_MS);
      return;
    }
    const head = this.#queue[0];
    if (head === undefined) {
      this.#rescan();
      return;
    }
    let pages = 0;
    let done = false;
    try {
      ({ pages, done } = this.#o.fs.reencryptSlice(head.path, SLICE_PAGES));
    } catch (err) {
      const code = codeOf(err);
      // Removed by PostgreSQL meanwhile: nothing left to re-encrypt there.
      if (code !== 'ENOENT') {
        this.#failedThisRound++;
        this.#lastError = code;
      }
      done = true;
    }
    const bytes = pages * SEALED_PAGE;
    this.#bytesDelta += bytes;
    head.bytes = Math.max(0, head.bytes - bytes);
    if (done) this.#queue.shift();
    if (done || performance.now() - this.#lastReport >= REPORT_MS) this.#report(true);
    this.#paced += bytes;
    const due = this.#started + (this.#paced / this.#rate) * 1000;
    this.#later(Math.max(0, due - performance.now()));
  }

  #rescan(): void {
    const current = this.#o.currentVersion();
    const scan = scanPgData(this.#o.root, current);
    for (const v of this.#o.fs.unlinkedKeyVersions()) scan.versions.add(v);
    if (scan.old.length > 0 && this.#failedThisRound > 0) {
      // The same files would fail again: stop; the next rotation or open retries.
      this.#finish();
      return;
    }
    this.#failedThisRound = 0;
    if (scan.old.length > 0) {
      this.#queue = scan.old.map((f) => ({ path: f.path, bytes: f.bytes }));
      this.#report(true);
      this.#later(0);
      return;
    }
    if ([...scan.versions].some((v) => v !== current)) {
      this.#report(true, scan.versions);
      this.#later(UNLINKED_RETRY_MS);
      return;
    }
    this.#lastError = null;
    // New files are created under the current version even if none is yet.
    scan.versions.add(current);
    this.#finish(scan.versions);
  }

  #finish(versions?: Set<number>): void {
    this.#running = false;
    this.#report(false, versions);
  }

  #report(running: boolean, versions?: Set<number>): void {
    this.#lastReport = performance.now();
    const delta = this.#bytesDelta;
    this.#bytesDelta = 0;
    this.#o.report({
      running: running && this.#running,
      filesRemaining: this.#queue.length,
      bytesRemaining: this.#queue.reduce((n, f) => n + f.bytes, 0),
      bytesDelta: delta,
      bytesPerSecond: this.#rate,
      // Only a finished, error-free scan is complete enough to retire versions by.
      versionsInUse: versions === undefined ? [] : [...versions].sort((a, b) => a - b),
      lastError: this.#lastError,
    });
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof cause === 'string' ? cause : 'WK_INTERNAL';
}
