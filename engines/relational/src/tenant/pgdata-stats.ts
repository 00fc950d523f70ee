// The stat results PgDataFs gives PostgreSQL (through Emscripten's FS).
import type { Stats } from 'node:fs';
import type { FsStats } from '@electric-sql/pglite/basefs';
import { PG_PAGE } from './size-page.js';

const S_IFREG = 0o100000;

export function fileStats(size: number, st: Stats | undefined): FsStats {
  const t = st?.mtimeMs ?? Date.now();
  return {
    dev: 0,
    ino: st?.ino ?? 0,
    mode: S_IFREG | 0o600,
    nlink: 1,
    uid: 0,
    gid: 0,
    rdev: 0,
    size,
    blksize: PG_PAGE,
    blocks: Math.ceil(size / 512),
    atime: t,
    mtime: t,
    ctime: t,
  };
}

export function dirStats(st: Stats): FsStats {
  return {
    dev: 0,
    ino: st.ino,
    mode: st.mode,
    nlink: 1,
    uid: 0,
    gid: 0,
    rdev: 0,
    size: 4096,
    blksize: 4096,
    blocks: 8,
    atime: st.atimeMs,
    mtime: st.mtimeMs,
    ctime: st.ctimeMs,
  };
}
