import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LOCK_FILE_NAME, lockDataDir } from './data-dir-lock.js';

describe('data directory lock', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weftkit-lock-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('a second holder is refused, naming the first; release lets it in', async () => {
    const first = await lockDataDir(dir, 'kv engine');
    await assert.rejects(lockDataDir(dir, 'weftkit tenant shred'), (err: Error & { code: string }) => {
      assert.equal(err.code, 'WK_STORAGE_DATA_DIR_LOCKED');
      assert.match(err.message, /kv engine/);
      return true;
    });
    await first.release();
    const second = await lockDataDir(dir, 'weftkit tenant shred');
    await second.release();
  });

  test('a lock left by a killed process on this host is taken over', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    await writeFile(join(dir, LOCK_FILE_NAME), JSON.stringify({ pid: child.pid, host: hostname(), owner: 'old engine', since: '' }));
    await assert.rejects(lockDataDir(dir, 'new engine'), { code: 'WK_STORAGE_DATA_DIR_LOCKED' });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lock = await lockDataDir(dir, 'new engine');
    assert.match(await readFile(lock.path, 'utf8'), /new engine/);
    await lock.release();
  });

  test("another host's lock holds while fresh and is taken over once its heartbeat is stale", async () => {
    const path = join(dir, LOCK_FILE_NAME);
    await writeFile(path, JSON.stringify({ pid: 1, host: 'other-container', owner: 'engine elsewhere', since: '' }));
    await assert.rejects(lockDataDir(dir, 'cli'), { code: 'WK_STORAGE_DATA_DIR_LOCKED' });
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    const lock = await lockDataDir(dir, 'cli');
    await lock.release();
  });
});
