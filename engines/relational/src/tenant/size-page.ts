// Page 0 of every PGDATA PageFile records the file's logical byte length (see pgdata-file.ts).
import type { PageFile } from '@weftkit/kernel';

export const PG_PAGE = 8192;
const SIZE_MAGIC = Buffer.from('WKPGSZ\0\x01', 'latin1');

/** Writes the size page of `pf` using `scratch` (one page). */
export function writeSizePage(pf: PageFile, size: number, scratch: Buffer): void {
  scratch.fill(0);
  SIZE_MAGIC.copy(scratch, 0);
  scratch.writeBigUInt64BE(BigInt(size), 8);
  pf.writeSync(0, scratch);
}

/**
 * The logical size in an opened size page, or undefined if the page is not one. An all-zero page
 * is size 0: PageFile fills page 0 with zeros when data pages are written before any size was
 * recorded (a file written and never fsynced or closed before a crash).
 */
export function readSizePage(page: Buffer): number | undefined {
  if (!page.subarray(0, SIZE_MAGIC.length).equals(SIZE_MAGIC)) return page.every((b) => b === 0) ? 0 : undefined;
  const size = Number(page.readBigUInt64BE(8));
  return Number.isSafeInteger(size) ? size : undefined;
}
