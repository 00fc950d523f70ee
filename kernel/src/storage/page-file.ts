import { randomFillSync } from 'node:crypto';
import { closeSync, constants, fstatSync, fsync, fsyncSync, ftruncate, ftruncateSync, openSync, read, readSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { InvalidPageArgument, KeyVersionUnknown, PageAuthenticationFailed, PageFileClosed, PageFileCorrupt, PathNotAllowed } from '../errors.js';
import { DEFAULT_PAGE_SIZE, FILE_ID_BYTES, isValidPageSize, type PageCipher, SEAL_OVERHEAD } from '../crypto/page-cipher.js';
import { syncDirSync } from './atomic-file.js';

/** Where a page file gets its ciphers (the keyring's `TenantCiphers` is one). */
export interface PageCipherSource {
  readonly tenant: string;
  readonly currentVersion: number;
  cipher(version?: number, pageSize?: number): PageCipher;
}

export interface PageFileOptions {
  readonly ciphers: PageCipherSource;
  /** New files only (4–64 KiB, power of two; default 8 KiB). An existing file's header decides. */
  readonly pageSize?: number;
  /**
   * New files only. False skips the fsync of the new file and of its directory: for bulk copies
   * whose caller syncs every file and directory itself before relying on them. Default true.
   */
  readonly syncOnCreate?: boolean;
}

// File layout: a header slot, then page n at offset (n + 1) * slot, slot = pageSize + 28.
// Header (big-endian integers), bytes 0..99 authenticated by the seal at 100..127:
//   0  8  magic "WKPAGEF\0"      8  2  format version (1)   10 2  zero
//  12  4  page size             16 16  file id             32 4  key version
//  36  1  tenant length         37 63  tenant, zero-padded
// 100 28  nonce(12) | GMAC tag(16) under the tenant's DEK of that version (PageCipher.sealHeader)
// The rest of the header slot is zero and ignored.
const MAGIC = Buffer.from('WKPAGEF\0', 'latin1');
export const PAGE_FILE_FORMAT_VERSION = 1;
const HEADER_SIGNED = 100;
const HEADER_BYTES = HEADER_SIGNED + SEAL_OVERHEAD;

const readAsync = promisify(read);
const writeAsync = promisify(write);
const fsyncAsync = promisify(fsync);
const ftruncateAsync = promisify(ftruncate);

/**
 * An encrypted random-access file of fixed-size pages. Reading a page at or beyond the end returns
 * `null` (not present); writing past the end first fills the gap with sealed zero pages, so every
 * page below `pageCount` authenticates. The file id, not the path, is bound into every page: rename freely.
 */
export class PageFile {
  readonly fileId: Buffer;
  readonly tenant: string;
  readonly keyVersion: number;
  readonly pageSize: number;
  readonly #slot: number;
  readonly #cipher: PageCipher;
  #fd: number;
  #pages: number;
  readonly #syncSlot: Buffer;
  readonly #asyncSlot: Buffer;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(fd: number, fileId: Buffer, cipher: PageCipher, pages: number) {
    this.#fd = fd;
    this.fileId = fileId;
    this.#cipher = cipher;
    this.tenant = cipher.tenant;
    this.keyVersion = cipher.keyVersion;
    this.pageSize = cipher.pageSize;
    this.#slot = cipher.sealedSize;
    this.#pages = pages;
    this.#syncSlot = Buffer.alloc(this.#slot);
    this.#asyncSlot = Buffer.alloc(this.#slot);
  }

  /** Creates a new page file (fails if `path` exists or is a symlink) under the tenant's current DEK. */
  static createSync(path: string, options: PageFileOptions): PageFile {
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    if (!isValidPageSize(pageSize)) throw new InvalidPageArgument('page size must be a power of two from 4 KiB to 64 KiB');
    const cipher = options.ciphers.cipher(options.ciphers.currentVersion, pageSize);
    const fileId = Buffer.alloc(FILE_ID_BYTES);
    randomFillSync(fileId);
    const header = Buffer.alloc(cipher.sealedSize);
    MAGIC.copy(header, 0);
    header.writeUInt16BE(PAGE_FILE_FORMAT_VERSION, 8);
    header.writeUInt32BE(pageSize, 12);
    fileId.copy(header, 16);
    header.writeUInt32BE(cipher.keyVersion, 32);
    header.writeUInt8(cipher.tenant.length, 36);
    header.write(cipher.tenant, 37, 'latin1');
    cipher.sealHeader(fileId, header.subarray(0, HEADER_SIGNED)).copy(header, HEADER_SIGNED);
    const fd = openNoFollow(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL);
    try {
      writeFully(fd, header, 0);
      if (options.syncOnCreate !== false) {
        fsyncSync(fd);
        syncDirSync(dirname(path));
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return new PageFile(fd, fileId, cipher, 0);
  }

  /** Opens an existing page file, verifying its header (magic, format, tenant, and its seal). */
  static openSync(path: string, options: PageFileOptions): PageFile {
    const fd = openNoFollow(path, constants.O_RDWR);
    try {
      const header = Buffer.alloc(HEADER_BYTES);
      if (readFully(fd, header, 0) !== HEADER_BYTES) throw new PageFileCorrupt('page file header is truncated');
      if (!header.subarray(0, 8).equals(MAGIC)) throw new PageFileCorrupt('not a page file');
      if (header.readUInt16BE(8) !== PAGE_FILE_FORMAT_VERSION) throw new PageFileCorrupt('unsupported page file format');
      const pageSize = header.readUInt32BE(12);
      if (!isValidPageSize(pageSize)) throw new PageFileCorrupt('bad page size in page file header');
      const tenantLen = header.readUInt8(36);
      if (tenantLen > 63 || header.toString('latin1', 37, 37 + tenantLen) !== options.ciphers.tenant) {
        throw new PageAuthenticationFailed('page authentication failed');
      }
      const fileId = Buffer.from(header.subarray(16, 32));
      let cipher: PageCipher;
      try {
        cipher = options.ciphers.cipher(header.readUInt32BE(32), pageSize);
      } catch (err) {
        if (err instanceof KeyVersionUnknown) throw new PageAuthenticationFailed('page authentication failed');
        throw err;
      }
      cipher.verifyHeader(fileId, header.subarray(0, HEADER_SIGNED), header.subarray(HEADER_SIGNED, HEADER_BYTES));
      const size = fstatSync(fd).size;
      if (size < cipher.sealedSize) throw new PageFileCorrupt('page file header is truncated');
      // A trailing partial page counts: reading it fails authentication instead of vanishing silently.
      return new PageFile(fd, fileId, cipher, Math.ceil((size - cipher.sealedSize) / cipher.sealedSize));
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  static async create(path: string, options: PageFileOptions): Promise<PageFile> {
    return PageFile.createSync(path, options);
  }

  static async open(path: string, options: PageFileOptions): Promise<PageFile> {
    return PageFile.openSync(path, options);
  }

  /** Pages in the file (a trailing partial page included). */
  get pageCount(): number {
    return this.#pages;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Page `pageNo`'s plaintext (into `out` if given), or `null` at or beyond the end. */
  readSync(pageNo: number, out?: Buffer): Buffer | null {
    this.#checkPage(pageNo);
    if (pageNo >= this.#pages) return null;
    const n = readFully(this.#fd, this.#syncSlot, this.#offset(pageNo));
    return this.#open(pageNo, this.#syncSlot.subarray(0, n), out);
  }

  writeSync(pageNo: number, data: Buffer): void {
    this.#checkPage(pageNo);
    this.#checkData(data);
    for (let gap = this.#pages; gap < pageNo; gap++) this.#writePageSync(gap, Buffer.alloc(this.pageSize));
    this.#writePageSync(pageNo, data);
  }

  /** Cuts the file to `pages` pages (growing it fills with sealed zero pages). */
  truncateSync(pages: number): void {
    this.#checkPage(pages);
    if (pages > this.#pages) {
      for (let p = this.#pages; p < pages; p++) this.#writePageSync(p, Buffer.alloc(this.pageSize));
      return;
    }
    ftruncateSync(this.#fd, this.#offset(pages));
    this.#pages = pages;
  }

  syncSync(): void {
    fsyncSync(this.#live());
  }

  closeSync(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    this.#syncSlot.fill(0);
    this.#asyncSlot.fill(0);
    closeSync(fd);
  }

  // Async variants run one at a time per file, in call order.
  read(pageNo: number, out?: Buffer): Promise<Buffer | null> {
    return this.#enqueue(async () => {
      this.#checkPage(pageNo);
      if (pageNo >= this.#pages) return null;
      const n = await readFullyAsync(this.#live(), this.#asyncSlot, this.#offset(pageNo));
      return this.#open(pageNo, this.#asyncSlot.subarray(0, n), out);
    });
  }

  write(pageNo: number, data: Buffer): Promise<void> {
    return this.#enqueue(async () => {
      this.#checkPage(pageNo);
      this.#checkData(data);
      for (let gap = this.#pages; gap < pageNo; gap++) await this.#writePageAsync(gap, Buffer.alloc(this.pageSize));
      await this.#writePageAsync(pageNo, data);
    });
  }

  truncate(pages: number): Promise<void> {
    return this.#enqueue(async () => {
      this.#checkPage(pages);
      if (pages > this.#pages) {
        for (let p = this.#pages; p < pages; p++) await this.#writePageAsync(p, Buffer.alloc(this.pageSize));
        return;
      }
      await ftruncateAsync(this.#live(), this.#offset(pages));
      this.#pages = pages;
    });
  }

  sync(): Promise<void> {
    return this.#enqueue(() => fsyncAsync(this.#live()));
  }

  close(): Promise<void> {
    return this.#enqueue(async () => this.closeSync());
  }

  #enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => {});
    return run;
  }

  #live(): number {
    if (this.#fd < 0) throw new PageFileClosed('page file is closed');
    return this.#fd;
  }

  #offset(pageNo: number): number {
    return (pageNo + 1) * this.#slot;
  }

  #checkPage(pageNo: number): void {
    this.#live();
    if (!Number.isSafeInteger(pageNo) || pageNo < 0 || this.#offset(pageNo) > Number.MAX_SAFE_INTEGER) {
      throw new InvalidPageArgument('page number out of range');
    }
  }

  #checkData(data: Buffer): void {
    if (data.length !== this.pageSize) throw new InvalidPageArgument('page data must be exactly one page');
  }

  #open(pageNo: number, sealed: Buffer, out: Buffer | undefined): Buffer {
    if (out === undefined) return this.#cipher.open(this.fileId, pageNo, sealed);
    if (out.length < this.pageSize) throw new InvalidPageArgument('output buffer smaller than a page');
    this.#cipher.openInto(this.fileId, pageNo, sealed, out, 0);
    return out;
  }

  #writePageSync(pageNo: number, data: Buffer): void {
    this.#cipher.sealInto(this.fileId, pageNo, data, this.#syncSlot, 0);
    writeFully(this.#live(), this.#syncSlot, this.#offset(pageNo));
    if (pageNo >= this.#pages) this.#pages = pageNo + 1;
  }

  async #writePageAsync(pageNo: number, data: Buffer): Promise<void> {
    this.#cipher.sealInto(this.fileId, pageNo, data, this.#asyncSlot, 0);
    let done = 0;
    while (done < this.#slot) {
      const { bytesWritten } = await writeAsync(this.#live(), this.#asyncSlot, done, this.#slot - done, this.#offset(pageNo) + done);
      done += bytesWritten;
    }
    if (pageNo >= this.#pages) this.#pages = pageNo + 1;
  }
}

/** Opens without following a symlink in the last component (ELOOP becomes `PathNotAllowed`). */
export function openNoFollow(path: string, flags: number, mode = 0o600): number {
  try {
    return openSync(path, flags | constants.O_NOFOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new PathNotAllowed('refusing to follow a symlink');
    throw err;
  }
}

function readFully(fd: number, buf: Buffer, position: number): number {
  let n = 0;
  while (n < buf.length) {
    const r = readSync(fd, buf, n, buf.length - n, position + n);
    if (r === 0) break;
    n += r;
  }
  return n;
}

async function readFullyAsync(fd: number, buf: Buffer, position: number): Promise<number> {
  let n = 0;
  while (n < buf.length) {
    const { bytesRead } = await readAsync(fd, buf, n, buf.length - n, position + n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return n;
}

function writeFully(fd: number, buf: Buffer, position: number): void {
  let n = 0;
  while (n < buf.length) n += writeSync(fd, buf, n, buf.length - n, position + n);
}
