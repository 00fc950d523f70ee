// One tenant's log-structured store: an in-memory index over append-only encrypted log files,
// batches staged in order against the latest (possibly not yet durable) state, and one group
// commit loop that writes every batch queued meanwhile with a single write+fsync.
import type { Logger, TenantCiphers, TenantDir } from '@weftkit/kernel';
import {
  InsufficientStorage,
  InvalidCursor,
  InvalidKey,
  InvalidRequest,
  PreconditionFailed,
  StoreClosed,
  StorageWriteFailed,
  TenantShredded,
} from '../errors.js';
import { ChangeFeed } from './change-feed.js';
import { type CompactionHost, compact } from './compaction.js';
import { ExpiryQueue } from './expiry-queue.js';
import { IndexEntry } from './index-entry.js';
import type { BatchResult, ChangeEvent, Item, ItemMeta, ListPage, OpResult, TenantStore, WriteOp } from './kv-store.js';
import { encodeFrame, type LogOp, MAX_CONTENT_TYPE_BYTES, MAX_KEY_BYTES, OP_DELETE, OP_EXPIRE, OP_PUT, opBytes } from './record-codec.js';
import type { RecoveredLog } from './recovery.js';
import type { Segment } from './segment.js';
import { createSegment, type SegmentFileOptions } from './segment-files.js';
import { compareKeys, type SortedKeys } from './sorted-keys.js';
import { ValueCache } from './value-cache.js';

export interface TenantStoreSettings {
  readonly segmentBytes: number;
  readonly maxGroupBytes: number;
  readonly compactionMinBytes: number;
  readonly compactionRatio: number;
  readonly watchHistory: number;
  readonly valueCacheBytes: number;
  readonly expirySweepMs: number;
  readonly listScanLimit: number;
  readonly now: () => number;
}

/** A staged write not yet durable: what later batches' preconditions must see. */
interface Staged {
  readonly version: number;
  /** null: deleted. */
  readonly value: Buffer | null;
  readonly contentType: string;
  readonly expiresAt: number | null;
}

interface GetSlot {
  readonly index: number;
  readonly key: string;
  readonly staged: Staged | null;
  readonly entry: IndexEntry | null;
}

interface QueuedBatch {
  readonly revision: number;
  readonly ops: LogOp[];
  readonly frame: Buffer | null;
  readonly valueOffsets: number[];
  resolve(): void;
  reject(err: unknown): void;
}

const COMPACTION_RETRY_MS = 30_000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export class LogTenantStore implements TenantStore, CompactionHost {
  readonly tenant: string;
  #files: SegmentFileOptions;
  readonly logger: Logger;
  readonly settings: TenantStoreSettings;
  readonly index: Map<string, IndexEntry>;
  readonly sorted: SortedKeys;
  segments: Segment[];
  #active: Segment;
  #nextFileNo: number;
  #committed: number;
  #staged: number;
  #liveBytes: number;
  readonly #pending = new Map<string, Staged>();
  readonly #queue: QueuedBatch[] = [];
  #flushing: Promise<void> | null = null;
  readonly #rotateWaiters: { resolve(): void; reject(err: unknown): void }[] = [];
  #cutTo: number | null = null;
  readonly #feed: ChangeFeed;
  readonly #cache: ValueCache;
  readonly #expiry = new ExpiryQueue();
  readonly #sweepTimer: NodeJS.Timeout;
  #sweepSoon = false;
  #compaction: Promise<void> | null = null;
  #compactAfter = 0;
  #closed = false;
  #shredded = false;
  /** Cipher sets replaced by a DEK rotation, kept while files opened with them may be open. */
  readonly #retiredCiphers: TenantCiphers[] = [];

  constructor(dir: TenantDir, ciphers: TenantCiphers, files: SegmentFileOptions, log: RecoveredLog, settings: TenantStoreSettings, logger: Logger) {
    this.tenant = dir.tenant;
    this.#files = files;
    if (files.ciphers !== ciphers) throw new TypeError('files and store must share one cipher set');
    this.logger = logger;
    this.settings = settings;
    this.index = log.index;
    this.sorted = log.sorted;
    this.segments = log.segments;
    this.#active = log.segments.at(-1)!;
    this.#nextFileNo = log.nextFileNo;
    this.#committed = log.revision;
    this.#staged = log.revision;
    this.#liveBytes = log.liveBytes;
    this.#feed = new ChangeFeed(settings.watchHistory, log.revision, logger);
    this.#cache = new ValueCache(settings.valueCacheBytes);
    for (const [key, e] of log.index) if (e.expiresAt !== null) this.#expiry.push({ at: e.expiresAt, key, version: e.version });
    this.#sweepTimer = setInterval(() => this.#sweep(), settings.expirySweepMs);
    this.#sweepTimer.unref();
    this.#maybeCompact();
  }

  get revision(): number {
    return this.#committed;
  }

  /** Bytes of every log file (headers and padding included). */
  get fileBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.bytes;
    return n;
  }

  /** Bytes of the log ops the live items need. */
  get liveBytes(): number {
    return this.#liveBytes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Where new log files go and which ciphers (current DEK version) seal them. */
  get files(): SegmentFileOptions {
    return this.#files;
  }

  // ---- keys --------------------------------------------------------------------------------

  /** The DEK version new files are sealed under. */
  get keyVersion(): number {
    return this.#files.ciphers.currentVersion;
  }

  /** Log files still sealed under an older DEK version than the current one. */
  get oldKeySegments(): number {
    const current = this.keyVersion;
    let n = 0;
    for (const s of this.segments) if (s.file.keyVersion < current) n++;
    return n;
  }

  /** DEK versions some log file is sealed under. */
  keyVersionsInUse(): Set<number> {
    return new Set(this.segments.map((s) => s.file.keyVersion));
  }

  /**
   * After a DEK rotation: new files (the next segment, compaction output) are sealed under the
   * current version of `next`. Existing files keep the ciphers they were opened with.
   */
  switchCiphers(next: TenantCiphers): void {
    this.#alive();
    if (next.tenant !== this.tenant) throw new TypeError('ciphers belong to another tenant');
    this.#retiredCiphers.push(this.#files.ciphers);
    this.#files = { ...this.#files, ciphers: next };
  }

  /**
   * Rewrites every sealed log file into one compaction file under the current DEK (sealing the
   * active segment first), `pace` awaited per item copied. Once no file is under an older
   * version, the replaced cipher sets are zeroed.
   */
  async reencrypt(pace: (bytes: number) => Promise<void>): Promise<void> {
    await this.compactNow(pace);
    if (this.oldKeySegments === 0) for (const c of this.#retiredCiphers.splice(0)) c.destroy();
  }

  // ---- reads -------------------------------------------------------------------------------

  async get(key: string): Promise<Item | null> {
    this.#alive();
    const e = this.#visible(key);
    if (e === null) return null;
    const value = await this.readEntry(key, e);
    return { key, version: e.version, size: e.size, contentType: e.contentType, expiresAt: e.expiresAt, value };
  }

  async head(key: string): Promise<ItemMeta | null> {
    this.#alive();
    const e = this.#visible(key);
    return e === null ? null : meta(key, e);
  }

  async list(prefix: string, limit: number, cursor: string | null, include: (key: string) => boolean): Promise<ListPage> {
    this.#alive();
    const max = Math.max(1, Math.floor(limit));
    const after = cursor === null ? null : decodeCursor(cursor);
    const fromCursor = after !== null && compareKeys(after, prefix) >= 0;
    const start = fromCursor ? after : prefix;
    const now = this.settings.now();
    const items: ItemMeta[] = [];
    let consumed: string | null = null;
    let scanned = 0;
    let more = false;
    this.sorted.forEachFrom(start, fromCursor, (key) => {
      if (!key.startsWith(prefix)) return false;
      const e = this.index.get(key);
      const visible = e !== undefined && !e.expired(now) && include(key);
      if (items.length === max) {
        if (visible) {
          more = true;
          return false;
        }
      } else if (visible) {
        items.push(meta(key, e!));
      }
      consumed = key;
      if (++scanned >= this.settings.listScanLimit) {
        more = true;
        return false;
      }
      return true;
    });
    const last: string | null = more ? (items.length === max ? items[max - 1]!.key : consumed) : null;
    return { items, nextCursor: last === null ? null : Buffer.from(last, 'utf8').toString('base64url') };
  }

  watch(prefix: string, fromRevision: number | null, listener: (event: ChangeEvent) => void): () => void {
    this.#alive();
    return this.#feed.watch(prefix, fromRevision, this.#committed, listener);
  }

  /** The value of `e` (the entry `key` had when read), from the cache or the log. */
  async readEntry(key: string, e: IndexEntry, cache = true): Promise<Buffer> {
    const cached = this.#cache.get(key, e.version);
    if (cached !== null) return cached;
    for (let attempt = 0; ; attempt++) {
      const seg = e.seg;
      try {
        const value = await seg.readValue(e.page, e.off, e.size);
        if (cache && this.index.get(key) === e) this.#cache.set(key, e.version, value);
        return value;
      } catch (err) {
        // Closed (or shredded) under the read: say so, not what the closed file or key threw.
        this.#alive();
        // Compaction moved the entry and closed the file under the read: read the new place.
        if (e.seg === seg || attempt >= 3) throw err;
      }
    }
  }

  #visible(key: string): IndexEntry | null {
    const e = this.index.get(key);
    if (e === undefined) return null;
    if (e.expired(this.settings.now())) {
      this.#noticeExpired();
      return null;
    }
    return e;
  }

  // ---- writes ------------------------------------------------------------------------------

  async batch(ops: readonly WriteOp[]): Promise<BatchResult> {
    this.#alive();
    const now = this.settings.now();
    const revision = this.#staged + 1;
    const overlay = new Map<string, Staged | null>();
    const logOps: LogOp[] = [];
    const results: OpResult[] = [];
    const gets: GetSlot[] = [];
    let observedPending = false;
    const current = (key: string): Staged | IndexEntry | null => {
      if (overlay.has(key)) return overlay.get(key)!;
      const p = this.#pending.get(key);
      if (p !== undefined) {
        observedPending = true;
        return p.value === null || (p.expiresAt !== null && p.expiresAt <= now) ? null : p;
      }
      const e = this.index.get(key);
      return e === undefined || e.expired(now) ? null : e;
    };
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      checkKey(op.key);
      const cur = current(op.key);
      if (op.op !== 'get' && op.ifMatch !== undefined && (cur === null || cur.version !== op.ifMatch)) {
        throw new PreconditionFailed(cur === null ? 'the item does not exist' : 'the item has another version', i);
      }
      if (op.op === 'get') {
        gets.push({
          index: i,
          key: op.key,
          staged: cur instanceof IndexEntry ? null : cur,
          entry: cur instanceof IndexEntry ? cur : null,
        });
        results.push({ op: 'get', key: op.key, item: null });
      } else if (op.op === 'put') {
        if (op.ifNoneMatch === true && cur !== null) throw new PreconditionFailed('the item already exists', i);
        if (!Buffer.isBuffer(op.value)) throw new InvalidRequest('a put needs a value');
        checkContentType(op.contentType);
        const expiresAt = ttlToExpiry(op.ttlSeconds, now);
        const staged: Staged = { version: revision, value: op.value, contentType: op.contentType, expiresAt };
        overlay.set(op.key, staged);
        logOps.push({ kind: OP_PUT, key: op.key, version: revision, expiresAt, contentType: op.contentType, value: op.value });
        results.push({ op: 'put', key: op.key, version: revision });
      } else {
        if (cur === null) {
          results.push({ op: 'delete', key: op.key, deleted: false, version: 0 });
          continue;
        }
        overlay.set(op.key, null);
        logOps.push({ kind: OP_DELETE, key: op.key, version: revision, expiresAt: null, contentType: '', value: null });
        results.push({ op: 'delete', key: op.key, deleted: true, version: revision });
      }
    }

    const readRevision = logOps.length > 0 ? revision : this.#staged;
    if (logOps.length > 0) {
      await this.#submit(revision, logOps, overlay);
    } else if (observedPending) {
      // It read state that is not durable yet: answer only once that state is (or fail with it).
      await this.#submit(readRevision, [], null);
    }
    for (const g of gets) results[g.index] = { op: 'get', key: g.key, item: await this.#getItem(g) };
    return { revision: logOps.length > 0 || observedPending ? readRevision : this.#committed, results };
  }

  async #getItem(g: GetSlot): Promise<Item | null> {
    if (g.staged !== null) {
      const s = g.staged;
      if (s.value === null) return null;
      return { key: g.key, version: s.version, size: s.value.length, contentType: s.contentType, expiresAt: s.expiresAt, value: s.value };
    }
    if (g.entry === null) return null;
    const e = g.entry;
    const value = await this.readEntry(g.key, e);
    return { key: g.key, version: e.version, size: e.size, contentType: e.contentType, expiresAt: e.expiresAt, value };
  }

  /** Queues one batch for the next group commit; resolves when it is durable and applied. */
  #submit(revision: number, ops: LogOp[], overlay: Map<string, Staged | null> | null): Promise<void> {
    let frame: Buffer | null = null;
    let valueOffsets: number[] = [];
    if (ops.length > 0) {
      ({ frame, valueOffsets } = encodeFrame(revision, ops));
      this.#staged = revision;
      for (const [key, s] of overlay!) {
        this.#pending.set(key, s ?? { version: revision, value: null, contentType: '', expiresAt: null });
      }
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ revision, ops, frame, valueOffsets, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#flushing !== null) return;
    // One event-loop turn of slack: every request parsed in this I/O phase joins the group.
    this.#flushing = new Promise<void>((r) => setImmediate(r))
      .then(() => this.#flushLoop())
      .catch((err) => {
        this.logger.error('group commit failed unexpectedly; queued writes rejected', { tenant: this.tenant, err });
        this.#pending.clear();
        this.#staged = this.#committed;
        for (const b of this.#queue.splice(0)) b.reject(new StorageWriteFailed('writing the log failed', { cause: err }));
      })
      .finally(() => {
        this.#flushing = null;
        if (this.#queue.length > 0 || this.#rotateWaiters.length > 0) this.#schedule();
      });
  }

  async #flushLoop(): Promise<void> {
    for (;;) {
      if (this.#rotateWaiters.length > 0) {
        const waiters = this.#rotateWaiters.splice(0);
        try {
          await this.#rotate();
          for (const w of waiters) w.resolve();
        } catch (err) {
          for (const w of waiters) w.reject(err);
        }
        continue;
      }
      if (this.#queue.length === 0) return;
      const group = this.#takeGroup();
      const frames = group.filter((b) => b.frame !== null).map((b) => b.frame!);
      let startPage = -1;
      if (frames.length > 0) {
        const seg = this.#active;
        const before = seg.file.pageCount;
        try {
          if (this.#cutTo !== null) {
            await seg.cut(this.#cutTo);
            this.#cutTo = null;
          }
          if (seg.bytes >= this.settings.segmentBytes) {
            await this.#rotate();
            this.#queue.unshift(...group);
            continue;
          }
          startPage = await seg.appendGroup(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
          await seg.file.sync();
          seg.nextSeq++;
        } catch (err) {
          await this.#failWrites(err, group, seg, before);
          continue;
        }
      }
      this.#apply(group, startPage);
      this.#maybeCompact();
    }
  }

  #takeGroup(): QueuedBatch[] {
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length) {
      const size = this.#queue[n]!.frame?.length ?? 0;
      if (n > 0 && bytes + size > this.settings.maxGroupBytes) break;
      bytes += size;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  /** A group write failed: nothing of it (or of anything staged on top of it) is applied. */
  async #failWrites(err: unknown, group: QueuedBatch[], seg: Segment, before: number): Promise<void> {
    const code = (err as NodeJS.ErrnoException).code;
    const coded =
      code === 'ENOSPC' || code === 'EDQUOT'
        ? new InsufficientStorage('the data volume is full; nothing of this write was applied', { cause: err })
        : new StorageWriteFailed('writing the log failed; nothing of this write was applied', { cause: err });
    this.logger.error('log write failed; queued writes rejected', { tenant: this.tenant, code: coded.code, errno: code });
    const failed = [...group, ...this.#queue.splice(0)];
    this.#pending.clear();
    this.#staged = this.#committed;
    if (seg === this.#active) {
      try {
        await seg.cut(before);
      } catch (cutErr) {
        this.#cutTo = before;
        this.logger.error('cutting a failed write off the log failed; retrying before the next write', { tenant: this.tenant, err: cutErr });
      }
    }
    for (const b of failed) b.reject(coded);
  }

  #apply(group: QueuedBatch[], startPage: number): void {
    let streamAt = 0;
    for (const b of group) {
      if (b.frame === null) {
        b.resolve();
        continue;
      }
      for (let i = 0; i < b.ops.length; i++) {
        const op = b.ops[i]!;
        const old = this.index.get(op.key);
        if (old !== undefined) this.#liveBytes -= old.recBytes;
        let event: ChangeEvent;
        if (op.kind === OP_PUT) {
          const value = op.value!;
          const at = this.#active.locate(startPage, streamAt + b.valueOffsets[i]!);
          const recBytes = opBytesOf(op);
          const e = new IndexEntry(op.version, value.length, op.contentType, op.expiresAt, this.#active, at.page, at.off, recBytes);
          this.index.set(op.key, e);
          if (old === undefined) this.sorted.insert(op.key);
          this.#liveBytes += recBytes;
          this.#cache.set(op.key, op.version, value);
          if (op.expiresAt !== null) this.#expiry.push({ at: op.expiresAt, key: op.key, version: op.version });
          event = { revision: b.revision, type: 'put', key: op.key, version: op.version, size: value.length, contentType: op.contentType };
        } else {
          if (old !== undefined) {
            this.index.delete(op.key);
            this.sorted.delete(op.key);
          }
          this.#cache.delete(op.key);
          event = { revision: b.revision, type: op.kind === OP_EXPIRE ? 'expire' : 'delete', key: op.key, version: op.version };
        }
        if (this.#pending.get(op.key)?.version === b.revision) this.#pending.delete(op.key);
        this.#feed.publish(event);
      }
      streamAt += b.frame.length;
      this.#committed = b.revision;
      b.resolve();
    }
  }

  // ---- files -------------------------------------------------------------------------------

  /** Seals the active segment and starts a new one (inside the commit loop, between groups). */
  async #rotate(): Promise<void> {
    const seg = await createSegment(this.files, this.#nextFileNo, 'seg');
    this.#nextFileNo++;
    this.segments.push(seg);
    this.#active = seg;
  }

  /** Compaction host: seals the active segment between groups; resolves once a new one is active. */
  rotate(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#rotateWaiters.push({ resolve, reject });
      this.#schedule();
    });
  }

  get activeSegment(): Segment {
    return this.#active;
  }

  get committedRevision(): number {
    return this.#committed;
  }

  isClosing(): boolean {
    return this.#closed;
  }

  /** Compaction host: replaces `replaced` by `out` in the file list (its entries already moved). */
  installCompacted(out: Segment, replaced: readonly Segment[]): void {
    const gone = new Set(replaced);
    this.segments = [out, ...this.segments.filter((s) => !gone.has(s))];
  }

  #maybeCompact(): void {
    if (this.#compaction !== null || this.#closed || this.settings.now() < this.#compactAfter) return;
    const fileBytes = this.fileBytes;
    if (fileBytes < this.settings.compactionMinBytes || fileBytes < this.settings.compactionRatio * this.#liveBytes) return;
    this.#startCompaction().catch((err) => {
      // A full disk fails compaction too: back off instead of retrying after every write.
      this.#compactAfter = this.settings.now() + COMPACTION_RETRY_MS;
      if (!this.#closed) this.logger.error('log compaction failed; will retry', { tenant: this.tenant, err });
    });
  }

  /** Runs one compaction now, after any that is running (tests, operations); `pace` as for `compact`. */
  async compactNow(pace?: (bytes: number) => Promise<void>): Promise<void> {
    while (this.#compaction !== null) await this.#compaction.catch(() => {});
    this.#alive();
    await this.#startCompaction(pace);
  }

  #startCompaction(pace?: (bytes: number) => Promise<void>): Promise<void> {
    const no = this.#nextFileNo;
    this.#nextFileNo++;
    const run = compact(this, no, pace);
    this.#compaction = run.then(
      () => {
        this.#compaction = null;
      },
      () => {
        this.#compaction = null;
      },
    );
    return run;
  }

  // ---- expiry ------------------------------------------------------------------------------

  #noticeExpired(): void {
    if (this.#sweepSoon) return;
    this.#sweepSoon = true;
    setImmediate(() => {
      this.#sweepSoon = false;
      this.#sweep();
    });
  }

  #sweep(): void {
    if (this.#closed) return;
    const now = this.settings.now();
    const due = this.#expiry.popDue(now, 1000);
    if (due.length === 0) return;
    const revision = this.#staged + 1;
    const ops: LogOp[] = [];
    const overlay = new Map<string, Staged | null>();
    for (const d of due) {
      const e = this.index.get(d.key);
      if (e === undefined || e.version !== d.version || !e.expired(now) || this.#pending.has(d.key) || overlay.has(d.key)) continue;
      overlay.set(d.key, null);
      ops.push({ kind: OP_EXPIRE, key: d.key, version: revision, expiresAt: null, contentType: '', value: null });
    }
    if (ops.length === 0) return;
    this.#submit(revision, ops, overlay).catch((err) => {
      this.logger.warn('writing TTL expiry failed; retrying later', { tenant: this.tenant, err });
      for (const d of due) this.#expiry.push({ at: now + this.settings.expirySweepMs, key: d.key, version: d.version });
    });
    if (this.#expiry.size > 0 && due.length === 1000) this.#noticeExpired();
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  #alive(): void {
    if (this.#shredded) throw new TenantShredded('this tenant was crypto-shredded; its data no longer exists');
    if (this.#closed) throw new StoreClosed('the store is closed');
  }

  /** Closes the store for a crypto-shred: queued writes finish, every later call is `TenantShredded`. */
  async closeForShred(): Promise<void> {
    this.#shredded = true;
    await this.close();
  }

  /** Waits for queued writes to be durable, stops background work, closes every file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    while (this.#flushing !== null) await this.#flushing;
    if (this.#compaction !== null) await this.#compaction;
    while (this.#flushing !== null) await this.#flushing;
    this.#feed.close();
    this.#cache.clear();
    for (const s of this.segments) await s.file.close();
    this.#files.ciphers.destroy();
    for (const c of this.#retiredCiphers.splice(0)) c.destroy();
  }
}

function meta(key: string, e: IndexEntry): ItemMeta {
  return { key, version: e.version, size: e.size, contentType: e.contentType, expiresAt: e.expiresAt };
}

function opBytesOf(op: LogOp): number {
  return opBytes(Buffer.byteLength(op.key), Buffer.byteLength(op.contentType), op.value?.length ?? 0);
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_BYTES * 2 || LONE_SURROGATE.test(key)) {
    throw new InvalidKey('a key must be 1 to 1024 bytes of UTF-8');
  }
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new InvalidKey('a key must be 1 to 1024 bytes of UTF-8');
}

function checkContentType(ct: unknown): void {
  if (typeof ct !== 'string' || Buffer.byteLength(ct, 'utf8') > MAX_CONTENT_TYPE_BYTES || LONE_SURROGATE.test(ct)) {
    throw new InvalidRequest('content type must be a string of at most 1024 bytes');
  }
}

function ttlToExpiry(ttlSeconds: number | undefined, now: number): number | null {
  if (ttlSeconds === undefined) return null;
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > 10 * 365 * 24 * 3600) {
    throw new InvalidRequest('ttl_seconds must be a positive number of seconds (at most ten years)');
  }
  return now + Math.ceil(ttlSeconds * 1000);
}

function decodeCursor(cursor: string): string {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new InvalidCursor('the cursor is not valid');
  }
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (Buffer.from(key, 'utf8').toString('base64url') !== cursor) throw new InvalidCursor('the cursor is not valid');
  return key;
}
