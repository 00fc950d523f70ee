import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import type { WriteOp } from './kv-store.js';
import { logFiles, openStore, removeDataDir, tenantPath } from '../testing/store-fixture.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) removeDataDir(d);
});

const put = (key: string, value: string): WriteOp => ({ op: 'put', key, value: Buffer.from(value), contentType: 'text/plain' });
const itemValue = (i: number, round: number): string => `v${i}:${round}:${'x'.repeat(300)}`;

/** The DEK version in a page file's (plaintext, authenticated) header. */
function headerKeyVersion(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(36);
    readSync(fd, b, 0, 36, 0);
    return b.readUInt32BE(32);
  } finally {
    closeSync(fd);
  }
}

describe('DEK rotation with background re-encryption', () => {
  test('rewrites every file under the new DEK while reads and writes continue, then retires the old version', async () => {
    const f = await openStore({ segmentBytes: 64 * 1024, compactionMinBytes: Number.MAX_SAFE_INTEGER });
    dirs.push(f.dataDir);
    const t = await f.store.tenant('acme');
    for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: 300 }, (_, i) => t.batch([put(`k${i}`, itemValue(i, round))])));
    assert.ok(logFiles(f.dataDir, 'acme').length > 1);
    assert.ok(logFiles(f.dataDir, 'acme').every((p) => headerKeyVersion(p) === 1));

    const r = await f.store.rotateTenantKey('acme', { bytesPerSecond: 64 * 1024 });
    assert.equal(r.keyVersion, 2);
    assert.ok(r.segmentsToReencrypt > 1);
    // Traffic during the job: new writes land, old items read back unchanged.
    let round = 0;
    let running = true;
    const done = f.store.reencryptionIdle('acme').then(() => {
      running = false;
    });
    while (running) {
      await Promise.all(Array.from({ length: 5 }, (_, j) => t.batch([put(`n${round}-${j}`, itemValue(j, round))])));
      for (let j = 0; j < 10; j++) {
        const i = (round * 7 + j * 13) % 300;
        assert.equal((await t.get(`k${i}`))?.value.toString(), itemValue(i, 2));
      }
      round++;
    }
    await done;
    assert.ok(round > 4, `the job was throttled long enough to overlap traffic (${round} rounds)`);
    assert.ok(logFiles(f.dataDir, 'acme').every((p) => headerKeyVersion(p) === 2), 'no file under the old version');
    assert.deepEqual(f.keyring.listTenants(), [{ tenant: 'acme', currentVersion: 2, versions: [2] }]);
    const status = f.store.keyStatus()[0]!;
    assert.equal(status.reencryption?.segmentsRemaining, 0);
    assert.ok((status.reencryption?.bytesDone ?? 0) > 90_000);
    await f.close();

    const g = await openStore({}, f);
    const t2 = await g.store.tenant('acme');
    for (let i = 0; i < 300; i++) assert.equal((await t2.get(`k${i}`))?.value.toString(), itemValue(i, 2));
    for (let r = 0; r < round; r++) for (let j = 0; j < 5; j++) assert.equal((await t2.get(`n${r}-${j}`))?.value.toString(), itemValue(j, r));
    await g.close();
  });

  test('a tenant reopened with files under an old version finishes the job by itself (resumable)', async () => {
    const f = await openStore({ compactionMinBytes: Number.MAX_SAFE_INTEGER });
    dirs.push(f.dataDir);
    const t = await f.store.tenant('acme');
    await Promise.all(Array.from({ length: 100 }, (_, i) => t.batch([put(`k${i}`, itemValue(i, 0))])));
    await f.close();
    // As if a rotation (with an operator's rate) crashed before any file was rewritten.
    const g0 = await openStore({}, f);
    await g0.keyring.rotateDek('acme', { reencryptRate: 1 << 20 });
    g0.keyring.close();
    const g = await openStore({}, f);
    const t2 = await g.store.tenant('acme');
    assert.equal(g.store.keyStatus()[0]!.reencryption?.bytesPerSecond, 1 << 20, 'resumed at the rate the rotation was started with');
    await g.store.reencryptionIdle('acme');
    assert.equal(g.keyring.reencryptRate('acme'), undefined, 'the rate goes with the retired version');
    assert.ok(logFiles(g.dataDir, 'acme').every((p) => headerKeyVersion(p) === 2));
    assert.deepEqual(g.keyring.listTenants()[0]!.versions, [2]);
    for (let i = 0; i < 100; i++) assert.equal((await t2.get(`k${i}`))?.value.toString(), itemValue(i, 0));
    await g.close();
  });

  test('shred: in-flight writes settle, later calls get WK_KV_TENANT_SHREDDED, other tenants are untouched', async () => {
    const f = await openStore();
    dirs.push(f.dataDir);
    const a = await f.store.tenant('ta');
    const b = await f.store.tenant('tb');
    await a.batch([put('x', '1')]);
    await b.batch([put('y', '2')]);
    const inflight = b.batch([put('z', '3')]);
    const r = await f.store.shredTenant('tb');
    await inflight;
    assert.deepEqual(r.destroyedKeyVersions, [1]);
    assert.equal(existsSync(tenantPath(f.dataDir, 'tb')), false);
    await assert.rejects(b.get('y'), { code: 'WK_KV_TENANT_SHREDDED' });
    await assert.rejects(f.store.tenant('tb'), { code: 'WK_KV_TENANT_SHREDDED' });
    assert.equal((await a.get('x'))?.value.toString(), '1');
    assert.equal(f.keyring.hasTenant('tb'), false);
    await assert.rejects(f.store.shredTenant('nobody'), { code: 'WK_CRYPTO_TENANT_UNKNOWN' });
    await f.close();
  });
});
