import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { WriteOp } from './kv-store.js';
import { logFiles, openStore, removeDataDir, tenantBytes, tenantPath } from '../testing/store-fixture.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) removeDataDir(d);
});

const put = (key: string, value: string, ttlSeconds?: number): WriteOp => ({
  op: 'put',
  key,
  value: Buffer.from(value),
  contentType: 'text/plain',
  ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
});

const valueFor = (key: string, round: number): string => `${key}:${round}:${'v'.repeat(200)}`;

describe('compaction', () => {
  test('keeps every live key, drops dead ones, shrinks the files, survives restart', async () => {
    const f = await openStore({ compactionMinBytes: Number.MAX_SAFE_INTEGER });
    dirs.push(f.dataDir);
    const t = await f.store.tenant('acme');
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 200 }, (_, i) => t.batch([put(`key${i}`, valueFor(`key${i}`, round))])));
    }
    await Promise.all(Array.from({ length: 50 }, (_, i) => t.batch([{ op: 'delete', key: `key${i}` }])));
    const rev = t.revision;
    const ts = await f.store.tenantStore('acme');
    const before = tenantBytes(f.dataDir, 'acme');
    // Reads keep working while compaction runs.
    const compaction = ts.compactNow();
    const during = await Promise.all(Array.from({ length: 50 }, (_, i) => t.get(`key${150 + i}`)));
    for (const [i, item] of during.entries()) assert.equal(item?.value.toString(), valueFor(`key${150 + i}`, 4));
    await compaction;
    const afterBytes = tenantBytes(f.dataDir, 'acme');
    assert.ok(afterBytes < before / 3, `before ${before} after ${afterBytes}`);
    assert.ok(ts.fileBytes <= 2 * ts.liveBytes + 4 * 4124, `file ${ts.fileBytes} live ${ts.liveBytes}`);
    for (let i = 0; i < 200; i++) {
      const item = await t.get(`key${i}`);
      if (i < 50) assert.equal(item, null);
      else assert.equal(item?.value.toString(), valueFor(`key${i}`, 4));
    }
    assert.equal(t.revision, rev);
    await t.batch([put('post', 'compaction')]);
    await f.close();
    const g = await openStore({}, f);
    const t2 = await g.store.tenant('acme');
    assert.equal(t2.revision, rev + 1);
    for (let i = 0; i < 200; i++) {
      const item = await t2.get(`key${i}`);
      if (i < 50) assert.equal(item, null);
      else assert.equal(item?.value.toString(), valueFor(`key${i}`, 4));
    }
    assert.equal((await t2.list('', 1000, null, () => true)).items.length, 151);
    await g.close();
  });

  test('revision survives compacting away every record', async () => {
    const f = await openStore();
    dirs.push(f.dataDir);
    const t = await f.store.tenant('acme');
    await t.batch([put('a', '1')]);
    await t.batch([{ op: 'delete', key: 'a' }]);
    await (await f.store.tenantStore('acme')).compactNow();
    await f.close();
    const g = await openStore({}, f);
    assert.equal((await g.store.tenant('acme')).revision, 2);
    await g.close();
  });

  test('background compaction bounds space amplification under overwrites', async () => {
    const f = await openStore({ compactionMinBytes: 256 * 1024 });
    dirs.push(f.dataDir);
    const t = await f.store.tenant('acme');
    const ts = await f.store.tenantStore('acme');
    let maxRatio = 0;
    for (let round = 0; round < 30; round++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => t.batch([put(`key${i}`, valueFor(`key${i}`, round))])));
      if (ts.fileBytes > 512 * 1024) maxRatio = Math.max(maxRatio, ts.fileBytes / ts.liveBytes);
    }
    await new Promise((r) => setTimeout(r, 50));
    const live = ts.liveBytes;
    assert.ok(ts.fileBytes <= Math.max(2 * live, 256 * 1024 + 64 * 4124), `file ${ts.fileBytes} live ${live}`);
    for (let i = 0; i < 100; i++) assert.equal((await t.get(`key${i}`))?.value.toString(), valueFor(`key${i}`, 29));
    await f.close();
  });

  test('a crash mid-compaction loses nothing: leftover .tmp, or old files beside the published output', async () => {
    const f = await openStore({ compactionMinBytes: Number.MAX_SAFE_INTEGER });
    dirs.push(f.dataDir);
    const t = await f.store.tenant('acme');
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 40; i++) await t.batch([put(`key${i}`, valueFor(`key${i}`, round))]);
    }
    await t.batch([{ op: 'delete', key: 'key0' }]);
    const dir = tenantPath(f.dataDir, 'acme');
    const saved = join(f.dataDir, 'saved');
    const old = logFiles(f.dataDir, 'acme');
    writeFileSync(saved, '');
    for (const p of old) copyFileSync(p, `${saved}-${basename(p)}`);
    await (await f.store.tenantStore('acme')).compactNow();
    await t.batch([put('key1', 'newest')]);
    await f.close();
    // As if the process died after publishing the .cmp but before deleting what it replaced,
    // and a later compaction's .tmp was half written.
    for (const p of old) copyFileSync(`${saved}-${basename(p)}`, p);
    writeFileSync(join(dir, '0000000099.cmp.tmp'), Buffer.alloc(5000, 1));
    const g = await openStore({}, f);
    const t2 = await g.store.tenant('acme');
    assert.equal(await t2.get('key0'), null);
    assert.equal((await t2.get('key1'))?.value.toString(), 'newest');
    for (let i = 2; i < 40; i++) assert.equal((await t2.get(`key${i}`))?.value.toString(), valueFor(`key${i}`, 2));
    const names = readdirSync(dir);
    assert.ok(!names.some((n) => n.endsWith('.tmp')), names.join(','));
    for (const p of old) assert.equal(existsSync(p), false, `${basename(p)} should be gone`);
    await g.close();
  });

  test('expired items are not copied', async () => {
    let now = 5_000_000;
    const f = await openStore({ now: () => now, expirySweepMs: 60_000, compactionMinBytes: Number.MAX_SAFE_INTEGER });
    dirs.push(f.dataDir);
    const t = await f.store.tenant('acme');
    await t.batch([put('short', 'x', 1), put('long', 'y')]);
    now += 2000;
    await (await f.store.tenantStore('acme')).compactNow();
    assert.equal(await t.get('short'), null);
    await f.close();
    const g = await openStore({ now: () => now }, f);
    const t2 = await g.store.tenant('acme');
    assert.equal((await t2.list('', 10, null, () => true)).items.length, 1);
    assert.equal((await t2.get('long'))?.value.toString(), 'y');
    await g.close();
  });
});
