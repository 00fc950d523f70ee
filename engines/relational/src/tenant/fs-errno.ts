// PGlite's filesystem bridge turns a thrown `{ code }` into an Emscripten ErrnoError only when
// `code` is an Emscripten errno NUMBER (measured: a Node-style string code gave silently wrong
// query results, an error without a code broke the session). These are Emscripten's numbers, not Linux's.
import { KeyDestroyed, KeyUsageExhausted, PageAuthenticationFailed, PageFileCorrupt, PathNotAllowed } from '@weftkit/kernel';

export const Errno = {
  EACCES: 2,
  EBADF: 8,
  EEXIST: 20,
  EINVAL: 28,
  EIO: 29,
  EISDIR: 31,
  ENOENT: 44,
  ENOSPC: 51,
  ENOTDIR: 54,
  ENOTEMPTY: 55,
  EPERM: 63,
} as const;

const FROM_NODE: Readonly<Record<string, number>> = {
  ENOENT: Errno.ENOENT,
  EEXIST: Errno.EEXIST,
  ENOTDIR: Errno.ENOTDIR,
  EISDIR: Errno.EISDIR,
  ENOTEMPTY: Errno.ENOTEMPTY,
  EBADF: Errno.EBADF,
  EINVAL: Errno.EINVAL,
  EIO: Errno.EIO,
  ENOSPC: Errno.ENOSPC,
  EDQUOT: Errno.ENOSPC,
  EACCES: Errno.EACCES,
  EPERM: Errno.EPERM,
};

/** What PGlite's bridge expects to catch: an Error whose `code` is an Emscripten errno number. */
export class FsErrno extends Error {
  readonly code: number;
  constructor(code: number, options?: { cause?: unknown }) {
    super(`errno ${code}`, options);
    this.code = code;
  }
}

/** The errno for any failure; authentication failures and anything unknown are EIO. */
export function errnoOf(err: unknown): number {
  if (err instanceof FsErrno) return err.code;
  if (err instanceof PathNotAllowed) return Errno.EPERM;
  if (err instanceof PageAuthenticationFailed || err instanceof PageFileCorrupt) return Errno.EIO;
  if (err instanceof KeyUsageExhausted || err instanceof KeyDestroyed) return Errno.EIO;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? (FROM_NODE[code] ?? Errno.EIO) : Errno.EIO;
}
