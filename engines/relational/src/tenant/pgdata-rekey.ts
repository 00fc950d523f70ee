// Re-encryption (after a DEK rotation) copies an open file page by page into `<name>.wk-rekey`
// under the current key, a slice at a time between PostgreSQL's calls; writes and truncations of
// pages already copied go to both files, so the copy never falls behind. When complete it is
// fsynced, renamed over the original, the directory fsynced, and the open file's PageFile (PgFile.pf) swapped
// in place (descriptors PostgreSQL holds keep working). A crash before the rename leaves only a
// stray copy, removed at the next open; the original still opens under its (not yet retired) key.
import { readdirSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type PageCipherSource, type PageFile, syncDirSync, type TenantDir } from '@weftkit/kernel';
import { errnoOf } from './fs-errno.js';
import { REKEY_SUFFIX } from './pgdata-scan.js';
import { writeSizePage } from './size-page.js';

/** The steps of finishing one file's re-encryption, for crash tests. */
export type RekeyStep = 'copied' | 'synced' | 'renamed' | 'dir-synced';

/** The re-encryption copy of one open file, written under the current key. */
export class RekeyShadow {
  readonly #dir: TenantDir;
  readonly #pf: PageFile;
  /** Path relative to the tenant directory. */
  readonly #rel: string;
  /** Pages [0, copied) are in the copy and kept in step with the original. */
  #copied = 0;

  /** Starts the copy of the file at `rel` (relative to the tenant directory), replacing a stray one. */
  constructor(dir: TenantDir, rel: string, ciphers: PageCipherSource, pageSize: number) {
    this.#dir = dir;
    this.#rel = rel + REKEY_SUFFIX;
    rmStray(dir.resolve(this.#rel));
    this.#pf = dir.createPageFileSync(this.#rel, { ciphers, pageSize, syncOnCreate: false });
  }

  /** Copies up to `maxPages` more pages of `src` through the scratch `page` (zeroed after); returns how many. */
  copy(src: PageFile, maxPages: number, page: Buffer): number {
    const end = Math.min(src.pageCount, this.#copied + maxPages);
    let pages = 0;
    try {
      for (; this.#copied < end; this.#copied++, pages++) {
        if (src.readSync(this.#copied, page) === null) break;
        this.#pf.writeSync(this.#copied, page);
      }
    } finally {
      page.fill(0);
    }
    return pages;
  }

  /** Whether the copy holds every page of `src`. */
  covers(src: PageFile): boolean {
    return this.#copied >= src.pageCount;
  }

  /** Mirrors a write of page `pageNo` of the original. */
  put(pageNo: number, data: Buffer): void {
    if (pageNo < this.#copied) this.#pf.writeSync(pageNo, data);
  }

  /** Mirrors a truncation of the original to `pages` pages. */
  cut(pages: number): void {
    if (pages < this.#copied) {
      this.#pf.truncateSync(pages);
      this.#copied = pages;
    }
  }

  /** Mirrors the original's size page once the copy holds page 0. */
  saveSize(size: number, page: Buffer): void {
    if (this.#copied > 0) writeSizePage(this.#pf, size, page);
  }

  /** Puts the complete copy in place of the file at `abs`; returns its PageFile, now the file's. */
  install(abs: string, onStep: ((step: RekeyStep) => void) | undefined): PageFile {
    onStep?.('copied');
    this.#pf.syncSync();
    onStep?.('synced');
    renameSync(this.#dir.resolve(this.#rel), abs);
    onStep?.('renamed');
    syncDirSync(dirname(abs));
    onStep?.('dir-synced');
    return this.#pf;
  }

  /** Closes and removes the copy; a failure to remove it goes to `onError`. */
  drop(onError: ((op: string, path: string, errno: number, err: unknown) => void) | undefined): void {
    this.#pf.closeSync();
    try {
      rmStray(this.#dir.resolve(this.#rel));
    } catch (err) {
      onError?.('rekey-drop', this.#rel, errnoOf(err), err);
    }
  }
}

/** Removes the re-encryption copies a crash left below the directory `root`. Returns how many. */
export function removeRekeyLeftovers(root: string): number {
  let removed = 0;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith(REKEY_SUFFIX)) {
        unlinkSync(full);
        syncDirSync(dir);
        removed++;
      }
    }
  };
  walk(root);
  return removed;
}

function rmStray(abs: string): void {
  try {
    unlinkSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
