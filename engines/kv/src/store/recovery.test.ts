import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, openSync, readSync, statSync, truncateSync, writeSync, closeSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import type { WriteOp } from './kv-store.js';
import { logFiles, openStore, removeDataDir, type StoreFixture } from '../testing/store-fixture.js';

const SLOT = 4096 + 28;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) removeDataDir(d);
});

const put = (key: string, value: string | Buffer): WriteOp => ({
  op: 'put',
  key,
  value: typeof value === 'string' ? Buffer.from(value) : value,
  contentType: 'text/plain',
});

/** A closed store with `n` single-put batches (one page each) in tenant `acme`. */
async function seeded(n: number, options: Parameters<typeof openStore>[0] = {}): Promise<{ dataDir: string; kek: string }> {
  const f = await openStore(options);
  dirs.push(f.dataDir);
  const t = await f.store.tenant('acme');
  for (let i = 0; i < n; i++) await t.batch([put(`k${i}`, `value-${i}`)]);
  await f.close();
  return { dataDir: f.dataDir, kek: f.kek };
}

async function reopen(saved: { dataDir: string; kek: string }, options: Parameters<typeof openStore>[0] = {}): Promise<StoreFixture> {
  return openStore(options, saved);
}

function flipByte(path: string, offset: number): void {
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, offset);
  b[0] = b[0]! ^ 0x40;
  writeSync(fd, b, 0, 1, offset);
  closeSync(fd);
}

describe('recovery', () => {
  test('a last segment truncated mid-page loses only the torn write, and the cut is durable', async () => {
    const saved = await seeded(10);
    const [seg] = logFiles(saved.dataDir, 'acme');
    const size = statSync(seg!).size;
    assert.equal(size, 11 * SLOT);
    truncateSync(seg!, size - 2000);
    const f = await reopen(saved);
    const t = await f.store.tenant('acme');
    assert.equal(t.revision, 9);
    for (let i = 0; i < 9; i++) assert.equal((await t.get(`k${i}`))?.value.toString(), `value-${i}`);
    assert.equal(await t.get('k9'), null);
    assert.equal(statSync(seg!).size, 10 * SLOT);
    await t.batch([put('after', 'cut')]);
    await f.close();
    const g = await reopen(saved);
    const t2 = await g.store.tenant('acme');
    assert.equal((await t2.get('after'))?.value.toString(), 'cut');
    assert.equal(t2.revision, 10);
    await g.close();
  });

  test('garbage appended after the last page is cut; nothing acknowledged is lost', async () => {
    const saved = await seeded(10);
    const [seg] = logFiles(saved.dataDir, 'acme');
    const size = statSync(seg!).size;
    appendFileSync(seg!, randomBytes(3 * SLOT + 123));
    const f = await reopen(saved);
    const t = await f.store.tenant('acme');
    assert.equal(t.revision, 10);
    for (let i = 0; i < 10; i++) assert.equal((await t.get(`k${i}`))?.value.toString(), `value-${i}`);
    assert.equal(statSync(seg!).size, size);
    await f.close();
  });

  test('a torn multi-page group whose later pages reached the disk is still a torn tail', async () => {
    const saved = await seeded(3);
    const f = await reopen(saved);
    await (await f.store.tenant('acme')).batch([put('big', randomBytes(3 * 4096))]);
    await f.close();
    const [seg] = logFiles(saved.dataDir, 'acme');
    // The big batch is pages 3..6; its first page never made it.
    flipByte(seg!, 4 * SLOT + 50);
    const g = await reopen(saved);
    const t = await g.store.tenant('acme');
    assert.equal(await t.get('big'), null);
    assert.equal(t.revision, 3);
    await g.close();
  });

  test('a flipped byte in the middle of a segment refuses to open the tenant', async () => {
    const saved = await seeded(10);
    const [seg] = logFiles(saved.dataDir, 'acme');
    flipByte(seg!, 3 * SLOT + 700);
    const f = await reopen(saved);
    await assert.rejects(f.store.tenant('acme'), { code: 'WK_KV_STORE_CORRUPT' });
    // Other tenants are unaffected, and the refusal is not cached as success.
    await (await f.store.tenant('other')).batch([put('x', 'y')]);
    await assert.rejects(f.store.tenant('acme'), { code: 'WK_KV_STORE_CORRUPT' });
    await f.close();
  });

  test('a flipped byte in a segment header, or in a sealed segment, refuses to open', async () => {
    const saved = await seeded(4, { segmentBytes: 3 * SLOT });
    const files = logFiles(saved.dataDir, 'acme');
    assert.ok(files.length >= 2, `files ${files.length}`);
    flipByte(files[0]!, 2 * SLOT - 10);
    let f = await reopen(saved);
    await assert.rejects(f.store.tenant('acme'), { code: 'WK_KV_STORE_CORRUPT' });
    await f.close();
    flipByte(files[0]!, 2 * SLOT - 10);
    f = await reopen(saved);
    await f.store.tenant('acme');
    await f.close();
    flipByte(files[0]!, 40);
    f = await reopen(saved);
    await assert.rejects(f.store.tenant('acme'), { code: 'WK_KV_STORE_CORRUPT' });
    await f.close();
  });

  test('disk full: the write fails with a code, nothing acknowledged is lost, writes resume after', async () => {
    let full = false;
    let pagesWritten = 0;
    const f = await openStore({
      pageWriteHook: () => {
        if (full && pagesWritten++ >= 1) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
    });
    dirs.push(f.dataDir);
    const t = await f.store.tenant('acme');
    await t.batch([put('before', 'safe')]);
    const ts = await f.store.tenantStore('acme');
    const pages = ts.activeSegment.file.pageCount;
    full = true;
    // The big value needs several pages; the second page write fails with ENOSPC.
    const outcomes = await Promise.allSettled([t.batch([put('big', randomBytes(3 * 4096))]), t.batch([put('small', 's')])]);
    for (const o of outcomes) assert.equal(o.status === 'rejected' && (o.reason as { code: string }).code, 'WK_KV_INSUFFICIENT_STORAGE');
    assert.equal(ts.activeSegment.file.pageCount, pages);
    assert.equal(t.revision, 1);
    assert.equal((await t.get('before'))?.value.toString(), 'safe');
    assert.equal(await t.get('big'), null);
    assert.equal(await t.get('small'), null);
    full = false;
    const r = await t.batch([put('after', 'space back')]);
    assert.equal(r.revision, 2);
    await f.close();
    const g = await reopen(f);
    const t2 = await g.store.tenant('acme');
    assert.equal((await t2.get('before'))?.value.toString(), 'safe');
    assert.equal((await t2.get('after'))?.value.toString(), 'space back');
    assert.equal(await t2.get('big'), null);
    assert.equal(t2.revision, 2);
    await g.close();
  });

  test('a failed write left on disk uncut (crash right after ENOSPC) is cut at open', async () => {
    const f = await openStore({
      pageWriteHook: ({ page }) => {
        if (page === 3) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
    });
    dirs.push(f.dataDir);
    const t = await f.store.tenant('acme');
    await t.batch([put('a', '1')]);
    await assert.rejects(t.batch([put('big', randomBytes(3 * 4096))]), { code: 'WK_KV_INSUFFICIENT_STORAGE' });
    await f.close();
    const [seg] = logFiles(f.dataDir, 'acme');
    // Put the failed group's first two pages back, as if the cut never reached the disk.
    const g0 = await openStore({}, f);
    await (await g0.store.tenant('acme')).batch([put('big', randomBytes(3 * 4096))]);
    await g0.close();
    truncateSync(seg!, 4 * SLOT);
    const g = await reopen(f);
    const t2 = await g.store.tenant('acme');
    assert.equal(t2.revision, 1);
    assert.equal((await t2.get('a'))?.value.toString(), '1');
    await t2.batch([put('b', '2')]);
    await g.close();
    const h = await reopen(f);
    assert.equal((await (await h.store.tenant('acme')).get('b'))?.value.toString(), '2');
    await h.close();
  });
});
