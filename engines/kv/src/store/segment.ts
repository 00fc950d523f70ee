// One log file: a kernel PageFile whose pages carry groups. A group is what one write+fsync adds:
// it starts on a fresh page and spans `count` pages, each page starting with this header
// (big-endian), the group's payload stream continuing in the rest of each page:
//   0 u8 kind (1 first page, 2 continuation)   1 u8 zero   2 u16 payload bytes used in this page
//   4 u32 group sequence (1, 2, ... per file)   8 u32 index in group   12 u32 pages in group
// Pages are never rewritten once a group is durable: a torn write can only hit the last group.
import { PageAuthenticationFailed, type PageFile, SEAL_OVERHEAD } from '@weftkit/kernel';
import { StoreCorrupt } from '../errors.js';

export const PAGE_HEADER_BYTES = 16;
const KIND_FIRST = 1;
const KIND_NEXT = 2;

/** Called before each page write; throwing simulates an I/O failure there (tests inject ENOSPC). */
export type PageWriteHook = (info: { readonly tenant: string; readonly file: string; readonly page: number }) => void;

export type SegmentKind = 'seg' | 'cmp';

export function segmentName(no: number, kind: SegmentKind): string {
  return `${String(no).padStart(10, '0')}.${kind}`;
}

export function parseSegmentName(name: string): { no: number; kind: SegmentKind } | null {
  const m = /^(\d{10})\.(seg|cmp)$/.exec(name);
  return m === null ? null : { no: Number(m[1]), kind: m[2] as SegmentKind };
}

export class Segment {
  readonly no: number;
  readonly kind: SegmentKind;
  readonly name: string;
  readonly file: PageFile;
  readonly payloadPerPage: number;
  /** Sequence number the next appended group gets. */
  nextSeq = 1;
  #hook: PageWriteHook | undefined;

  constructor(no: number, kind: SegmentKind, file: PageFile, hook?: PageWriteHook) {
    this.no = no;
    this.kind = kind;
    this.name = segmentName(no, kind);
    this.file = file;
    this.payloadPerPage = file.pageSize - PAGE_HEADER_BYTES;
    this.#hook = hook;
  }

  /** Bytes the file takes on disk (header slot included). */
  get bytes(): number {
    return (this.file.pageCount + 1) * (this.file.pageSize + SEAL_OVERHEAD);
  }

  /** Page and in-page offset of byte `streamOffset` of a group starting at `startPage`. */
  locate(startPage: number, streamOffset: number): { page: number; off: number } {
    return { page: startPage + Math.floor(streamOffset / this.payloadPerPage), off: streamOffset % this.payloadPerPage };
  }

  /**
   * Appends `stream` as one group at the end of the file (not synced); returns its first page.
   * On failure the caller must `cut` back to `pageCount` as it was before.
   */
  async appendGroup(stream: Buffer): Promise<number> {
    const start = this.file.pageCount;
    const cap = this.payloadPerPage;
    const count = Math.max(1, Math.ceil(stream.length / cap));
    const page = Buffer.alloc(this.file.pageSize);
    for (let i = 0; i < count; i++) {
      const from = i * cap;
      const used = Math.min(cap, stream.length - from);
      page.fill(0);
      page.writeUInt8(i === 0 ? KIND_FIRST : KIND_NEXT, 0);
      page.writeUInt16BE(used, 2);
      page.writeUInt32BE(this.nextSeq, 4);
      page.writeUInt32BE(i, 8);
      page.writeUInt32BE(count, 12);
      stream.copy(page, PAGE_HEADER_BYTES, from, from + used);
      this.#hook?.({ tenant: this.file.tenant, file: this.name, page: start + i });
      await this.file.write(start + i, page);
    }
    page.fill(0);
    return start;
  }

  /** Cuts the file back to `pages` pages, durably. */
  async cut(pages: number): Promise<void> {
    await this.file.truncate(pages);
    await this.file.sync();
  }

  /** `length` value bytes starting at (`page`, `off`), following the stream across pages. */
  async readValue(page: number, off: number, length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    let p = page;
    let o = off;
    while (done < length) {
      const plain = await this.file.read(p);
      if (plain === null) throw new StoreCorrupt('value lies beyond the end of its log file');
      const n = Math.min(this.payloadPerPage - o, length - done);
      plain.copy(out, done, PAGE_HEADER_BYTES + o, PAGE_HEADER_BYTES + o + n);
      plain.fill(0);
      done += n;
      p++;
      o = 0;
    }
    return out;
  }

  /**
   * Reads every complete group in order, calling `onGroup(stream, startPage)`. Where the groups
   * stop before the end of the file: if `tolerateTail` and no page after that point belongs to a
   * later group, it is a torn tail (a write that was never acknowledged) and is cut; otherwise the
   * file is corrupt. Returns the number of pages cut.
   */
  async scan(tolerateTail: boolean, onGroup: (stream: Buffer, startPage: number) => void): Promise<number> {
    const total = this.file.pageCount;
    let p = 0;
    let seq = 1;
    while (p < total) {
      const first = await this.#tryRead(p);
      if (first === null || !isPage(first, KIND_FIRST, seq, 0)) break;
      const count = first.readUInt32BE(12);
      if (count < 1 || p + count > total) break;
      const pages = [first];
      for (let i = 1; i < count; i++) {
        const next = await this.#tryRead(p + i);
        if (next === null || !isPage(next, KIND_NEXT, seq, i) || next.readUInt32BE(12) !== count) break;
        pages.push(next);
      }
      if (pages.length !== count) break;
      onGroup(payload(pages), p);
      p += count;
      seq++;
    }
    this.nextSeq = seq;
    if (p === total) return 0;
    if (!tolerateTail) throw new StoreCorrupt('log file fails authentication before its end');
    // Pages of the torn group itself (same sequence) may have reached the disk out of order, and
    // pages of an earlier failed write (lower sequence) may linger; a later group may not.
    for (let q = p; q < total; q++) {
      const page = await this.#tryRead(q);
      if (page !== null && page.readUInt32BE(4) > seq) throw new StoreCorrupt('log file fails authentication before its end');
    }
    await this.cut(p);
    return total - p;
  }

  async #tryRead(pageNo: number): Promise<Buffer | null> {
    try {
      return await this.file.read(pageNo);
    } catch (err) {
      if (err instanceof PageAuthenticationFailed) return null;
      throw err;
    }
  }
}

function isPage(page: Buffer, kind: number, seq: number, index: number): boolean {
  return page.readUInt8(0) === kind && page.readUInt32BE(4) === seq && page.readUInt32BE(8) === index;
}

function payload(pages: Buffer[]): Buffer {
  let size = 0;
  for (const pg of pages) size += pg.readUInt16BE(2);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const pg of pages) {
    const used = pg.readUInt16BE(2);
    if (used > pg.length - PAGE_HEADER_BYTES) throw new StoreCorrupt('log page header is malformed');
    at += pg.copy(out, at, PAGE_HEADER_BYTES, PAGE_HEADER_BYTES + used);
    pg.fill(0);
  }
  return out;
}
