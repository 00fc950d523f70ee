// The bytes of one open PGDATA file over its sealed pages (see pgdata-fs.ts).
//
// Logical size. A PageFile only holds whole pages, so page 0 of every file is a size page: magic
// "WKPGSZ\0\x01" and the file's byte length (u64 BE), sealed like any page (AAD: tenant, file id,
// page 0, key version), so the size cannot be altered or moved to another file. Byte `b` of the
// file lives in page 1 + floor(b / 8192). An empty PageFile (no pages) is an empty file. The size
// page is written when the size changed and the file is fsynced, closed or dropped from the open
// cache, like a file size reaching the disk with fsync: after a crash a file may come back shorter
// than its unsynced writes, never longer. Pages beyond the size are cut off when a file is opened,
// and bytes past the size in the last page are always zero, so growing a file shows zeros.
import type { PageFile } from '@weftkit/kernel';
import { Errno, FsErrno } from './fs-errno.js';
import type { RekeyShadow } from './pgdata-rekey.js';
import { PG_PAGE, readSizePage, writeSizePage } from './size-page.js';

/**
 * One open file: its PageFile, logical size and re-encryption copy. Partial pages go through
 * `page`, one scratch page shared by every open file (no page allocated per read or write).
 */
export class PgFile {
  /** Replaced by the re-encryption copy once that is in place. */
  pf: PageFile;
  /** The re-encryption copy being built, if any: every page write and cut goes to it too. */
  shadow: RekeyShadow | undefined = undefined;
  /** Logical size in bytes. */
  #size: number;
  /** Size recorded in the size page on disk. */
  #savedSize: number;
  readonly #page: Buffer;

  /** Reads the size page of `pf` (an authentication failure throws) and cuts off the pages past the size. */
  static open(pf: PageFile, page: Buffer): PgFile {
    let size = 0;
    if (pf.pageCount > 0) {
      const recorded = readSizePage(pf.readSync(0, page)!);
      if (recorded === undefined) throw new FsErrno(Errno.EIO);
      size = recorded;
      // Pages past the recorded size are writes whose size never reached the disk: drop them.
      const pages = 1 + Math.ceil(size / PG_PAGE);
      if (pf.pageCount > pages) pf.truncateSync(pages);
    }
    return new PgFile(pf, size, page);
  }

  /** `size` is the size `pf` records (0 for a new file). */
  constructor(pf: PageFile, size: number, page: Buffer) {
    this.pf = pf;
    this.#size = size;
    this.#savedSize = size;
    this.#page = page;
  }

  get size(): number {
    return this.#size;
  }

  /** Reads up to `length` bytes at `position` into `buffer` from `offset`; returns how many. */
  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const end = Math.min(position + length, this.#size);
    if (position >= end) return 0;
    const dst = Buffer.from(buffer.buffer, buffer.byteOffset + offset, end - position);
    let done = 0;
    while (position + done < end) {
      const at = position + done;
      const p = Math.floor(at / PG_PAGE);
      const inPage = at - p * PG_PAGE;
      const n = Math.min(PG_PAGE - inPage, end - at);
      if (n === PG_PAGE) {
        if (this.pf.readSync(p + 1, dst.subarray(done, done + PG_PAGE)) === null) dst.fill(0, done, done + PG_PAGE);
      } else if (this.pf.readSync(p + 1, this.#page) === null) {
        dst.fill(0, done, done + n);
      } else {
        this.#page.copy(dst, done, inPage, inPage + n);
      }
      done += n;
    }
    return done;
  }

  write(src: Buffer, position: number): void {
    const end = position + src.length;
    if (!Number.isSafeInteger(end)) throw new FsErrno(Errno.EINVAL);
    let done = 0;
    while (done < src.length) {
      const at = position + done;
      const p = Math.floor(at / PG_PAGE);
      const inPage = at - p * PG_PAGE;
      const n = Math.min(PG_PAGE - inPage, src.length - done);
      if (n === PG_PAGE) {
        this.#put(p + 1, src.subarray(done, done + PG_PAGE));
      } else {
        const page = this.#pageForUpdate(p);
        src.copy(page, inPage, done, done + n);
        this.#put(p + 1, page);
      }
      done += n;
    }
    if (end > this.#size) this.#size = end;
  }

  // Invariant kept here and by zeroTail: bytes past the size in the last page are zero, so a
  // file that grows shows zeros. A shrink records the new size first, so a crash cannot leave a
  // size page promising bytes that were cut off.
  resize(len: number): void {
    if (len === this.#size) return;
    if (len > this.#size) {
      this.#cut(1 + Math.ceil(len / PG_PAGE));
      this.#size = len;
      return;
    }
    this.#size = len;
    if (this.pf.pageCount > 0) this.saveSize();
    this.#cut(this.pf.pageCount === 0 ? 0 : 1 + Math.ceil(len / PG_PAGE));
    if (len % PG_PAGE !== 0) {
      const p = Math.floor(len / PG_PAGE);
      this.#put(p + 1, this.#pageForUpdate(p));
    }
  }

  /** Writes the size page if the size changed since it was last written (and the file is open). */
  saveSize(): void {
    if (this.#size === this.#savedSize || this.pf.closed) return;
    writeSizePage(this.pf, this.#size, this.#page);
    this.shadow?.saveSize(this.#size, this.#page);
    this.#savedSize = this.#size;
  }

  /** After a crash the last page may hold bytes past the recorded size: make them zero. */
  zeroTail(): void {
    if (this.#size % PG_PAGE === 0) return;
    const p = Math.floor(this.#size / PG_PAGE);
    const off = this.#size - p * PG_PAGE;
    const page = this.#page;
    if (this.pf.readSync(p + 1, page) === null) return;
    for (let i = off; i < PG_PAGE; i++) {
      if (page[i] !== 0) {
        page.fill(0, off);
        this.#put(p + 1, page);
        return;
      }
    }
  }

  /** Page `p`'s current bytes (zeros past the logical size), in the scratch page. */
  #pageForUpdate(p: number): Buffer {
    const page = this.#page;
    const start = p * PG_PAGE;
    if (start >= this.#size || this.pf.readSync(p + 1, page) === null) {
      page.fill(0);
    } else if (this.#size - start < PG_PAGE) {
      page.fill(0, this.#size - start);
    }
    return page;
  }

  #put(pageNo: number, data: Buffer): void {
    this.pf.writeSync(pageNo, data);
    this.shadow?.put(pageNo, data);
  }

  #cut(pages: number): void {
    this.pf.truncateSync(pages);
    this.shadow?.cut(pages);
  }
}
