import type { Segment } from './segment.js';

/** Where an item's latest version lives and what it is. Compaction moves `seg/page/off` in place. */
export class IndexEntry {
  version: number;
  size: number;
  contentType: string;
  expiresAt: number | null;
  seg: Segment;
  page: number;
  off: number;
  /** Bytes of its log op: what the entry keeps alive on disk. */
  recBytes: number;

  constructor(version: number, size: number, contentType: string, expiresAt: number | null, seg: Segment, page: number, off: number, recBytes: number) {
    this.version = version;
    this.size = size;
    this.contentType = contentType;
    this.expiresAt = expiresAt;
    this.seg = seg;
    this.page = page;
    this.off = off;
    this.recBytes = recBytes;
  }

  expired(now: number): boolean {
    return this.expiresAt !== null && this.expiresAt <= now;
  }
}
