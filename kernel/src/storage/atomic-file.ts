import { closeSync, constants, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The points `writeFileAtomicSync` passes, in order (a test hook can stop the process at each). */
export type AtomicWriteStep = 'temp-opened' | 'temp-half-written' | 'temp-written' | 'temp-synced' | 'renamed' | 'dir-synced';

export interface AtomicWriteOptions {
  mode?: number;
  /** Test instrumentation: called after each step. */
  onStep?: (step: AtomicWriteStep) => void;
}

/** fsyncs a directory so a rename or create in it is durable. */
export function syncDirSync(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Temp file name used for `path`; a leftover one is garbage from a crash before the rename. */
export function atomicTempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp`);
}

/**
 * Replaces `path` with `data` so that after a crash at any point the file holds either the old or
 * the new content in full: write a temp file, fsync it, rename it over, fsync the directory.
 */
export function writeFileAtomicSync(path: string, data: Buffer, options: AtomicWriteOptions = {}): void {
  const tmp = atomicTempPath(path);
  const step = options.onStep ?? (() => {});
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, options.mode ?? 0o600);
  try {
    step('temp-opened');
    const half = data.length >>> 1;
    writeAll(fd, data.subarray(0, half), 0);
    step('temp-half-written');
    writeAll(fd, data.subarray(half), half);
    step('temp-written');
    fsyncSync(fd);
    step('temp-synced');
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  step('renamed');
  syncDirSync(dirname(path));
  step('dir-synced');
}

function writeAll(fd: number, data: Buffer, position: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, position + done);
}
