// Which DEK version each PGDATA file is under, read from the PageFile headers without opening
// them as page files (no key needed): for re-encryption and `keys status`.
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { PG_PAGE } from './size-page.js';

/** Suffix of a re-encryption copy (see pgdata-fs.ts); hidden from PostgreSQL, skipped by scans. */
export const REKEY_SUFFIX = '.wk-rekey';
/** Bytes one sealed 8 KiB page takes on disk (nonce + tag). */
export const SEALED_PAGE: number = PG_PAGE + 28;
// PageFile header: magic at 0, key version (u32 BE) at 32 (kernel/src/storage/page-file.ts).
const MAGIC = Buffer.from('WKPAGEF\0', 'latin1');
const HEADER_PEEK = 36;

export interface PgDataScan {
  /** Files (PgDataFs paths, `/base/5/1259`) under a version other than `currentVersion`, with their data bytes. */
  readonly old: { readonly path: string; readonly bytes: number }[];
  /** Every version some file is under. */
  readonly versions: Set<number>;
}

/** Scans PGDATA at `root` (absolute). Headers are read unauthenticated: a forged one fails at open anyway. */
export function scanPgData(root: string, currentVersion: number): PgDataScan {
  const old: { path: string; bytes: number }[] = [];
  const versions = new Set<number>();
  const head = Buffer.alloc(HEADER_PEEK);
  const walk = (abs: string, rel: string): void => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const full = join(abs, e.name);
      const path = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(full, path);
      else if (e.isFile() && !e.name.endsWith(REKEY_SUFFIX)) {
        const peek = peekHeader(full, head);
        if (peek === undefined) continue;
        versions.add(peek.version);
        if (peek.version !== currentVersion) old.push({ path, bytes: peek.bytes });
      }
    }
  };
  walk(root, '');
  return { old, versions };
}

function peekHeader(abs: string, head: Buffer): { version: number; bytes: number } | undefined {
  let fd: number;
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    if (readSync(fd, head, 0, HEADER_PEEK, 0) < HEADER_PEEK || !head.subarray(0, 8).equals(MAGIC)) return undefined;
    // Data slots after the header slot (one sealed page wide).
    const slots = Math.max(0, Math.ceil(fstatSync(fd).size / SEALED_PAGE) - 1);
    return { version: head.readUInt32BE(32), bytes: slots * SEALED_PAGE };
  } finally {
    closeSync(fd);
  }
}
