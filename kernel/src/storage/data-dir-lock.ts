// One process at a time owns a data directory: an engine, or the CLI doing offline key and tenant
// work. Two writers of one keyring would silently undo each other's changes (a shred reverted by
// the engine's next keyring write), so the second one refuses to start.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { mkdir, open, readFile, rm, utimes, stat } from 'node:fs/promises';
import { DataDirLocked } from '../errors.js';

export const LOCK_FILE_NAME = 'weftkit.lock';
// The holder touches the lock every HEARTBEAT_MS; a lock untouched for STALE_MS is abandoned
// (its holder was killed, possibly in another container that shares the volume).
const HEARTBEAT_MS = 10_000;
const STALE_MS = 30_000;
// Locks this process holds: a lock file naming our own pid is ours only if it is in here.
const heldHere = new Set<string>();

interface LockBody {
  readonly pid: number;
  readonly host: string;
  readonly owner: string;
  readonly since: string;
}

export interface DataDirLock {
  readonly path: string;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(path: string, now: number): Promise<boolean> {
  let body: LockBody;
  let mtime: number;
  try {
    body = JSON.parse(await readFile(path, 'utf8')) as LockBody;
    mtime = (await stat(path)).mtimeMs;
  } catch {
    return true; // unreadable or half-written by a holder that died while creating it
  }
  if (now - mtime > STALE_MS) return true;
  if (body.host !== hostname()) return false;
  // Same host: a dead pid, or our own pid not held by us (a container's PID 1 restarted on the volume).
  if (body.pid === process.pid) return !heldHere.has(path);
  return !alive(body.pid);
}

/** Takes the data directory's lock for `owner` (e.g. `relational engine`, `weftkit tenant shred`). */
export async function lockDataDir(dataDir: string, owner: string, now: () => number = Date.now): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, LOCK_FILE_NAME);
  const body: LockBody = { pid: process.pid, host: hostname(), owner, since: new Date(now()).toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx', 0o600);
      await file.writeFile(JSON.stringify(body));
      await file.sync();
      await file.close();
      heldHere.add(path);
      const timer = setInterval(() => {
        const t = new Date();
        utimes(path, t, t).catch(() => {});
      }, HEARTBEAT_MS);
      timer.unref();
      let released = false;
      return {
        path,
        release: async () => {
          if (released) return;
          released = true;
          clearInterval(timer);
          heldHere.delete(path);
          await rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (attempt === 0 && (await isStale(path, now()))) {
        await rm(path, { force: true });
        continue;
      }
      let holder = 'another process';
      try {
        const other = JSON.parse(await readFile(path, 'utf8')) as LockBody;
        holder = `${other.owner} (pid ${other.pid} on ${other.host})`;
      } catch {}
      throw new DataDirLocked(`the data directory is in use by ${holder}; stop it first`);
    }
  }
  throw new DataDirLocked('the data directory is in use by another process; stop it first');
}
