// The WAL tail journal: a copy of each WAL page just before it is written in place.
//
// PostgreSQL rewrites the last, partly filled WAL page at every commit. A sealed page gets a new
// nonce and ciphertext each time, so a write cut short leaves a page that fails authentication,
// records already acknowledged included. A SIGKILL can cut one: Linux stops a buffered write between
// page-cache pages once a fatal signal is pending, and a sealed 8 KiB slot spans three of them
// (seen in the 6-cycle kill test as WK_REL_TENANT_WAL_UNREADABLE). So each WAL page goes first to
// one of two journal slots, then in place. If the in-place write was cut, the newest journal entry
// holds the whole page; `PgDataFs.repairWalTail` puts it back before PostgreSQL starts.
//
// The journal is a PGDATA file (`/wk_wal_tail`, re-encrypted with the rest) of two slots, each
// a header page then a data page. Header: magic, sequence number (u64), target page (u32), target
// path length (u16) and path, SHA-256 of the data page. A slot whose two writes were not both
// completed fails the hash (or authentication) and is ignored: the in-place write had not begun.
// It is not fsynced: it covers a killed process, whose page cache survives, not a power cut.
import { createHash } from 'node:crypto';
import { PG_PAGE } from './size-page.js';

export const WAL_TAIL_PATH = '/wk_wal_tail';
/** Bytes of one journal slot (header page, data page). */
export const WAL_TAIL_SLOT: number = 2 * PG_PAGE;
const MAGIC = Buffer.from('WKWTAIL1', 'latin1');
const HASH_BYTES = 32;
const MAX_PATH = 256;
const WAL_SEGMENT = /^\/pg_wal\/[0-9A-F]{24}$/;

export function isWalSegment(path: string): boolean {
  return WAL_SEGMENT.test(path);
}

export interface WalTailEntry {
  readonly seq: number;
  readonly path: string;
  readonly page: number;
}

/** Fills `header` (one page) for `data` (one page) written to `path` at page `page`. */
export function encodeWalTailHeader(header: Buffer, entry: WalTailEntry, data: Uint8Array): void {
  const path = Buffer.from(entry.path, 'utf8');
  if (path.length > MAX_PATH) throw new RangeError('WAL path too long for the tail journal');
  header.fill(0);
  MAGIC.copy(header, 0);
  header.writeBigUInt64BE(BigInt(entry.seq), 8);
  header.writeUInt32BE(entry.page, 16);
  header.writeUInt16BE(path.length, 20);
  path.copy(header, 22);
  createHash('sha256').update(data).digest().copy(header, 22 + MAX_PATH);
}

/** The entry a slot holds, or undefined when its header is not one or `data` is not the page it names. */
export function decodeWalTailSlot(header: Buffer, data: Uint8Array): WalTailEntry | undefined {
  if (!header.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const len = header.readUInt16BE(20);
  if (len === 0 || len > MAX_PATH) return undefined;
  const hash = header.subarray(22 + MAX_PATH, 22 + MAX_PATH + HASH_BYTES);
  if (!createHash('sha256').update(data).digest().equals(hash)) return undefined;
  const path = header.toString('utf8', 22, 22 + len);
  if (!isWalSegment(path)) return undefined;
  return { seq: Number(header.readBigUInt64BE(8)), path, page: header.readUInt32BE(16) };
}
