// PGDATA for one PGlite instance, every file an encrypted kernel PageFile inside the tenant's
// directory. PostgreSQL's block size is 8 KiB, the PageFile page size, so relation, WAL and SLRU
// I/O (always 8 KiB-aligned, measured) maps one block to one sealed page. Page 0 of every file
// records its logical size; the bytes of an open file over its pages are in pgdata-file.ts.
//
// Re-encryption after a DEK rotation builds a copy of each file beside it (pgdata-rekey.ts).
import { lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { BaseFilesystem, type FsStats } from '@electric-sql/pglite/basefs';
import { type PageCipherSource, type PageFile, syncDirSync, type TenantDir } from '@weftkit/kernel';
import { TenantWalUnreadable } from '../errors.js';
import { Errno, errnoOf, FsErrno } from './fs-errno.js';
import { PgFile } from './pgdata-file.js';
import { dirStats, fileStats } from './pgdata-stats.js';
import { RekeyShadow, type RekeyStep, removeRekeyLeftovers } from './pgdata-rekey.js';
import { REKEY_SUFFIX } from './pgdata-scan.js';
import { PG_PAGE } from './size-page.js';
import { decodeWalTailSlot, encodeWalTailHeader, isWalSegment, WAL_TAIL_PATH, WAL_TAIL_SLOT, type WalTailEntry } from './wal-tail.js';

export type { RekeyStep } from './pgdata-rekey.js';

const IDLE_FILES = 64;
const MOUNT_POINT = '/pglite/data';

export interface PgDataFsOptions {
  readonly dir: TenantDir;
  /** Directory of PGDATA inside the tenant directory (relative), e.g. `pgdata`. */
  readonly root: string;
  readonly ciphers: PageCipherSource;
  /** Called for every failed operation that is not a routine miss (ENOENT/EEXIST on lookups). */
  readonly onError?: (op: string, path: string, errno: number, err: unknown) => void;
  /** Test instrumentation: every fsync PostgreSQL asks for (file or directory). */
  readonly onFsync?: (path: string) => void;
  /** Test instrumentation: each step of finishing a file's re-encryption. */
  readonly onRekeyStep?: (step: RekeyStep, path: string) => void;
}

interface FileState {
  readonly file: PgFile;
  refs: number;
  /** Undefined once unlinked or renamed over while open. */
  path: string | undefined;
}

export class PgDataFs extends BaseFilesystem {
  readonly #dir: TenantDir;
  readonly #root: string;
  readonly #ciphers: PageCipherSource;
  readonly #onError: PgDataFsOptions['onError'];
  readonly #onFsync: PgDataFsOptions['onFsync'];
  readonly #onRekeyStep: PgDataFsOptions['onRekeyStep'];
  readonly #byPath = new Map<string, FileState>();
  readonly #byFd = new Map<number, FileState>();
  /** Open files nobody holds, oldest first: kept so create-then-open and lstat do not reopen. */
  readonly #idle = new Set<FileState>();
  readonly #page = Buffer.alloc(PG_PAGE);
  readonly #rekeyPage = Buffer.alloc(PG_PAGE);
  #nextFd = 1;
  /** The WAL tail journal (wal-tail.ts), held open once written; its last sequence number. */
  #tail: FileState | undefined;
  #tailSeq = 0;
  readonly #tailHeader = Buffer.alloc(PG_PAGE);

  constructor(options: PgDataFsOptions) {
    super();
    this.#dir = options.dir;
    this.#root = options.root;
    this.#ciphers = options.ciphers;
    this.#onError = options.onError;
    this.#onFsync = options.onFsync;
    this.#onRekeyStep = options.onRekeyStep;
  }

  // PostgreSQL calls fsync(); Emscripten sends it to stream_ops.fsync, which its generic FS bridge
  // lacks (then fsync is a silent no-op). This adds it. Relies on PGlite 0.5.16's shared stream_ops
  // object (pinned; `durability.test.ts` counts the calls so an upgrade that breaks it goes red).
  override async init(pg: Parameters<BaseFilesystem['init']>[0], opts: Parameters<BaseFilesystem['init']>[1]): ReturnType<BaseFilesystem['init']> {
    const r = await super.init(pg, opts);
    const preRun = [...(r.emscriptenOpts.preRun ?? [])];
    preRun.push((mod: { FS: EmFs }) => {
      const node = mod.FS.lookupPath(MOUNT_POINT).node;
      node.stream_ops.fsync = (stream: EmStream): number => {
        try {
          if (stream.nfd === undefined) this.fsyncDir(stream.path.slice(MOUNT_POINT.length));
          else this.fsyncFd(stream.nfd);
        } catch (err) {
          throw new mod.FS.ErrnoError(this.#fail('fsync', stream.path, err));
        }
        return 0;
      };
    });
    return { emscriptenOpts: { ...r.emscriptenOpts, preRun } };
  }

  fsyncFd(fd: number): void {
    const f = this.#file(fd);
    f.file.saveSize();
    f.file.pf.syncSync();
    this.#onFsync?.(f.path ?? '');
  }

  fsyncDir(path: string): void {
    syncDirSync(this.#abs(path));
    this.#onFsync?.(path === '' ? '/' : path);
  }

  /** Writes every pending size page and closes every file. */
  override async closeFs(): Promise<void> {
    this.closeAllSync();
  }

  closeAllSync(): void {
    const all = new Set([...this.#byPath.values(), ...this.#byFd.values()]);
    for (const f of all) {
      this.#dropShadow(f);
      if (!f.file.pf.closed) {
        f.file.saveSize();
        f.file.pf.closeSync();
      }
    }
    this.#byPath.clear();
    this.#byFd.clear();
    this.#idle.clear();
    this.#tail = undefined;
    this.#page.fill(0);
    this.#rekeyPage.fill(0);
  }

  open(path: string): number {
    return this.#op('open', path, () => {
      const f = this.#acquire(path);
      f.refs++;
      this.#idle.delete(f);
      const fd = this.#nextFd++;
      this.#byFd.set(fd, f);
      return fd;
    });
  }

  close(fd: number): void {
    this.#op('close', fd, () => {
      // Emscripten closes its streams again at exit, after closeFs: nothing left to do then.
      const f = this.#byFd.get(fd);
      if (f === undefined) return;
      this.#byFd.delete(fd);
      this.#release(f);
    });
  }

  fstat(fd: number): FsStats {
    return this.#op('fstat', fd, () => {
      const f = this.#file(fd);
      return fileStats(f.file.size, undefined);
    });
  }

  lstat(path: string): FsStats {
    return this.#op('lstat', path, () => {
      const st = lstatSync(this.#abs(path));
      if (st.isDirectory()) return dirStats(st);
      if (!st.isFile()) throw new FsErrno(Errno.EACCES);
      return fileStats(this.#sizeOf(path), st);
    });
  }

  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    return this.#op('read', fd, () => this.#file(fd).file.read(buffer, offset, length, position));
  }

  write(fd: number, buffer: Uint8Array | ArrayBuffer, offset: number, length: number, position: number): number {
    return this.#op('write', fd, () => {
      const f = this.#file(fd);
      const bytes = bytesOf(buffer, offset, length);
      if (f.path === undefined || !isWalSegment(f.path) || position % PG_PAGE !== 0) {
        f.file.write(bytes, position);
        return length;
      }
      // WAL: each whole page goes to the tail journal first, then in place (wal-tail.ts).
      for (let at = 0; at < bytes.length; at += PG_PAGE) {
        const page = bytes.subarray(at, Math.min(at + PG_PAGE, bytes.length));
        if (page.length === PG_PAGE) this.#journal(f.path, (position + at) / PG_PAGE, page);
        f.file.write(page, position + at);
      }
      return length;
    });
  }

  /**
   * Puts back the WAL page whose in-place write was cut short (a killed process), from the tail
   * journal. Call before PostgreSQL starts. Returns the page it put back, if any.
   */
  repairWalTail(): WalTailEntry | undefined {
    return this.#op('repair', WAL_TAIL_PATH, () => {
      if (!this.#exists(WAL_TAIL_PATH)) return undefined;
      let best: { entry: WalTailEntry; data: Buffer } | undefined;
      const tail = this.#acquire(WAL_TAIL_PATH);
      tail.refs++;
      try {
        for (const at of [0, WAL_TAIL_SLOT]) {
          const header = Buffer.alloc(PG_PAGE);
          const data = Buffer.alloc(PG_PAGE);
          try {
            if (tail.file.read(header, 0, PG_PAGE, at) !== PG_PAGE || tail.file.read(data, 0, PG_PAGE, at + PG_PAGE) !== PG_PAGE) continue;
          } catch {
            continue; // a slot whose write was cut short: the in-place write had not begun
          }
          const entry = decodeWalTailSlot(header, data);
          if (entry !== undefined && (best === undefined || entry.seq > best.entry.seq)) best = { entry, data };
        }
      } finally {
        this.#release(tail);
      }
      if (best === undefined) return undefined;
      this.#tailSeq = best.entry.seq;
      if (!this.#exists(best.entry.path)) return undefined;
      const target = this.#acquire(best.entry.path);
      target.refs++;
      try {
        try {
          target.file.read(Buffer.alloc(PG_PAGE), 0, PG_PAGE, best.entry.page * PG_PAGE);
          return undefined;
        } catch {
          // The newest WAL write was cut short: its whole page is in the journal.
        }
        target.file.write(best.data, best.entry.page * PG_PAGE);
        target.file.saveSize();
        target.file.pf.syncSync();
        return best.entry;
      } finally {
        this.#release(target);
      }
    });
  }

  #exists(path: string): boolean {
    try {
      lstatSync(this.#abs(path));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /** The open state of `path`, opening it, or creating it empty when it does not exist. */
  #openOrCreate(path: string): FileState {
    if (this.#byPath.has(path) || this.#exists(path)) return this.#acquire(path);
    return this.#track(path, new PgFile(this.#dir.createPageFileSync(this.#rel(path), { ciphers: this.#ciphers }), 0, this.#page));
  }

  #journal(path: string, page: number, data: Buffer): void {
    const tail = this.#tailFile();
    const seq = ++this.#tailSeq;
    const at = (seq % 2) * WAL_TAIL_SLOT;
    encodeWalTailHeader(this.#tailHeader, { seq, path, page }, data);
    tail.file.write(this.#tailHeader, at);
    tail.file.write(data, at + PG_PAGE);
  }

  /** The tail journal, created with both slots (and its size recorded) before its first entry. */
  #tailFile(): FileState {
    const known = this.#tail;
    if (known !== undefined && known.path === WAL_TAIL_PATH && !known.file.pf.closed) return known;
    const f = this.#openOrCreate(WAL_TAIL_PATH);
    f.refs++;
    this.#idle.delete(f);
    if (f.file.size < 2 * WAL_TAIL_SLOT) {
      // After a crash a file comes back no longer than its recorded size: record it first.
      f.file.resize(2 * WAL_TAIL_SLOT);
      f.file.saveSize();
      f.file.pf.syncSync();
    }
    this.#tail = f;
    return f;
  }

  writeFile(path: string, data: string | Uint8Array): void {
    this.#op('writeFile', path, () => {
      const f = this.#openOrCreate(path);
      f.refs++;
      try {
        f.file.resize(0);
        const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : bytesOf(data, 0, data.length);
        if (bytes.length > 0) f.file.write(bytes, 0);
      } finally {
        this.#release(f);
      }
    });
  }

  truncate(path: string, len: number): void {
    this.#op('truncate', path, () => {
      if (!Number.isSafeInteger(len) || len < 0) throw new FsErrno(Errno.EINVAL);
      const f = this.#acquire(path);
      f.refs++;
      try {
        f.file.resize(len);
      } finally {
        this.#release(f);
      }
    });
  }

  rename(oldPath: string, newPath: string): void {
    this.#op('rename', oldPath, () => {
      if (oldPath === newPath) return;
      const from = this.#abs(oldPath);
      const to = this.#abs(newPath);
      renameSync(from, to);
      this.#forget(newPath);
      for (const [p, f] of [...this.#byPath]) {
        if (p !== oldPath && !p.startsWith(`${oldPath}/`)) continue;
        const moved = newPath + p.slice(oldPath.length);
        // The copy sits beside the old name: start that file over later.
        this.#dropShadow(f);
        this.#byPath.delete(p);
        this.#byPath.set(moved, f);
        f.path = moved;
      }
      syncDirSync(dirname(from));
      if (dirname(to) !== dirname(from)) syncDirSync(dirname(to));
    });
  }

  unlink(path: string): void {
    this.#op('unlink', path, () => {
      const abs = this.#abs(path);
      unlinkSync(abs);
      this.#forget(path);
      syncDirSync(dirname(abs));
    });
  }

  mkdir(path: string, options?: { recursive?: boolean }): void {
    this.#op('mkdir', path, () => {
      const abs = this.#abs(path);
      mkdirSync(abs, { recursive: options?.recursive === true, mode: 0o700 });
      syncDirSync(dirname(abs));
    });
  }

  rmdir(path: string): void {
    this.#op('rmdir', path, () => {
      const abs = this.#abs(path);
      rmdirSync(abs);
      syncDirSync(dirname(abs));
    });
  }

  readdir(path: string): string[] {
    return this.#op('readdir', path, () =>
      readdirSync(this.#abs(path)).filter((n) => !n.endsWith(REKEY_SUFFIX) && !(n === WAL_TAIL_PATH.slice(1) && (path === '' || path === '/'))),
    );
  }

  // Modes and times are not stored: every file is a 0600 PageFile, PostgreSQL relies on neither.
  chmod(path: string): void {
    this.#op('chmod', path, () => void lstatSync(this.#abs(path)));
  }

  utimes(path: string): void {
    this.#op('utimes', path, () => void lstatSync(this.#abs(path)));
  }

  /** Opens (or reuses) the file at `path` and checks its size page: an authentication failure throws. */
  verifySync(path: string): number {
    return this.#op('verify', path, () => this.#sizeOf(path));
  }

  /**
   * One slice of re-encrypting the file at `path` under the current key: copies up to `maxPages`
   * pages into its copy, and once the copy is complete puts it in place of the original. Returns
   * the pages copied and whether the file is done (it then uses the current key). Files removed or
   * renamed meanwhile drop their copy; `reencryptSlice` starts them over.
   */
  reencryptSlice(path: string, maxPages: number): { readonly pages: number; readonly done: boolean } {
    const f = this.#acquire(path);
    const file = f.file;
    if (file.shadow === undefined) {
      if (file.pf.keyVersion === this.#ciphers.currentVersion) return { pages: 0, done: true };
      file.shadow = new RekeyShadow(this.#dir, this.#rel(path), this.#ciphers, file.pf.pageSize);
      // Held until the copy is in place or dropped, so the idle trim cannot close it.
      f.refs++;
      this.#idle.delete(f);
    }
    const s = file.shadow;
    let pages: number;
    let pf: PageFile;
    try {
      pages = s.copy(file.pf, maxPages, this.#rekeyPage);
      if (!s.covers(file.pf)) return { pages, done: false };
      const onStep = this.#onRekeyStep;
      pf = s.install(this.#abs(f.path!), onStep === undefined ? undefined : (step) => onStep(step, path));
    } catch (err) {
      this.#dropShadow(f);
      throw err;
    }
    const old = file.pf;
    file.pf = pf;
    file.shadow = undefined;
    old.closeSync();
    this.#release(f);
    return { pages, done: true };
  }

  /** Key versions of files PostgreSQL still holds open after removing or replacing them. */
  unlinkedKeyVersions(): Set<number> {
    const out = new Set<number>();
    for (const { path, file } of this.#byFd.values()) if (path === undefined && !file.pf.closed) out.add(file.pf.keyVersion);
    return out;
  }

  /** Removes re-encryption copies a crash left behind (call before PostgreSQL starts). Returns how many. */
  removeRekeyLeftovers(): number {
    return removeRekeyLeftovers(this.#abs(''));
  }

  /** Abandons `f`'s re-encryption copy (the file was moved, removed or closed). */
  #dropShadow(f: FileState): void {
    const s = f.file.shadow;
    if (s === undefined) return;
    f.file.shadow = undefined;
    s.drop(this.#onError);
    this.#release(f);
  }

  /**
   * The logical size of the file at `path`, opening it if needed. Holds a reference while it
   * looks: releasing one it never took would drop a descriptor's hold on a file PostgreSQL has
   * open (Emscripten's stat/fstat reach lstat), and the idle trim would then close it under that descriptor.
   */
  #sizeOf(path: string): number {
    const f = this.#acquire(path);
    f.refs++;
    try {
      return f.file.size;
    } finally {
      this.#release(f);
    }
  }

  #op<T>(op: string, path: string | number, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      const errno = this.#fail(op, path, err);
      // PostgreSQL takes a failed WAL read for the end of the WAL (and at recovery drops every
      // commit after it): throw what PGlite's bridge passes through instead of turning it into an
      // errno (an error without a `code`), so the backend stops. The coded error is its cause.
      if (errno === Errno.EIO && this.#pathOf(path).startsWith('/pg_wal/')) {
        throw new Error(`write-ahead log ${op} failed`, { cause: new TenantWalUnreadable(`write-ahead log ${op} failed`, { cause: err }) });
      }
      throw new FsErrno(errno, { cause: err });
    }
  }

  #pathOf(path: string | number): string {
    return typeof path === 'number' ? (this.#byFd.get(path)?.path ?? '') : path;
  }

  #fail(op: string, path: string | number, err: unknown): number {
    const errno = errnoOf(err);
    if (errno !== Errno.ENOENT && errno !== Errno.EEXIST) {
      this.#onError?.(op, this.#pathOf(path), errno, err);
    }
    return errno;
  }

  #rel(path: string): string {
    return path === '' || path === '/' ? this.#root : `${this.#root}/${path.replace(/^\/+/, '')}`;
  }

  /** Absolute OS path, confined to the tenant directory (TenantDir refuses `..`, NUL, symlinks). */
  #abs(path: string): string {
    return this.#dir.resolve(this.#rel(path));
  }

  #file(fd: number): FileState {
    const f = this.#byFd.get(fd);
    if (f === undefined) throw new FsErrno(Errno.EBADF);
    return f;
  }

  #acquire(path: string): FileState {
    const known = this.#byPath.get(path);
    if (known !== undefined) {
      // Refresh its place in the idle order.
      if (this.#idle.delete(known)) this.#idle.add(known);
      return known;
    }
    const pf = this.#dir.openPageFileSync(this.#rel(path), { ciphers: this.#ciphers });
    try {
      const f = this.#track(path, PgFile.open(pf, this.#page));
      f.file.zeroTail();
      return f;
    } catch (err) {
      if (!pf.closed && !this.#byPath.has(path)) pf.closeSync();
      throw err;
    }
  }

  #track(path: string, file: PgFile): FileState {
    const f: FileState = { file, refs: 0, path };
    this.#byPath.set(path, f);
    this.#idle.add(f);
    this.#trimIdle();
    return f;
  }

  #release(f: FileState): void {
    if (f.refs > 0) f.refs--;
    if (f.refs > 0) return;
    if (f.path === undefined) {
      f.file.pf.closeSync();
      this.#idle.delete(f);
      return;
    }
    this.#idle.delete(f);
    this.#idle.add(f);
    this.#trimIdle();
  }

  #trimIdle(): void {
    for (const f of this.#idle) {
      if (this.#idle.size <= IDLE_FILES) return;
      this.#idle.delete(f);
      if (f.refs > 0) continue;
      f.file.saveSize();
      f.file.pf.closeSync();
      if (f.path !== undefined && this.#byPath.get(f.path) === f) this.#byPath.delete(f.path);
    }
  }

  /** The file at `path` is gone (unlinked or replaced): open descriptors keep the old file. */
  #forget(path: string): void {
    const f = this.#byPath.get(path);
    if (f === undefined) return;
    this.#byPath.delete(path);
    f.path = undefined;
    this.#dropShadow(f);
    if (f.refs === 0) {
      this.#idle.delete(f);
      f.file.pf.closeSync();
    }
  }
}

function bytesOf(buffer: Uint8Array | ArrayBuffer, offset: number, length: number): Buffer {
  // PGlite passes the wasm heap's ArrayBuffer for writes, a view for reads and writeFile.
  if (buffer instanceof Uint8Array || buffer instanceof Int8Array) return Buffer.from(buffer.buffer, buffer.byteOffset + offset, length);
  return Buffer.from(buffer, offset, length);
}

interface EmStream {
  nfd: number | undefined;
  path: string;
}
interface EmFs {
  lookupPath(path: string): { node: { stream_ops: { fsync?: (stream: EmStream) => number } } };
  ErrnoError: new (errno: number) => Error;
}
