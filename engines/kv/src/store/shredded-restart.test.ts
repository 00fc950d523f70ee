// Regression (issue #8): after a restart, the first request to a shredded tenant re-created it
// empty. The keyring's tombstone now answers 410 WK_KV_TENANT_SHREDDED, and nothing is created.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createLocalKeyProvider, Keyring, shredTenant, silentLogger } from '@weftkit/kernel';
import { request } from 'undici';
import { openStore, removeDataDir, tenantPath } from '../testing/store-fixture.js';
import { startTestEngine } from '../testing/test-engine.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) removeDataDir(d);
});

describe('a shredded tenant stays shredded across restarts', () => {
  test('store: a reopened store answers WK_KV_TENANT_SHREDDED and creates nothing (with or without createTenants)', async () => {
    const f = await openStore();
    dirs.push(f.dataDir);
    await (await f.store.tenant('gone')).batch([{ op: 'put', key: 'k', value: Buffer.from('v'), contentType: 'text/plain' }]);
    await f.store.shredTenant('gone');
    await f.close();
    for (const createTenants of [true, false]) {
      const again = await openStore({ createTenants }, f);
      const err = await again.store.tenant('gone').catch((e: unknown) => e);
      assert.deepEqual([(err as { code?: string }).code, (err as { httpStatus?: number }).httpStatus], ['WK_KV_TENANT_SHREDDED', 410]);
      assert.equal(again.keyring.hasTenant('gone'), false);
      assert.equal(existsSync(tenantPath(f.dataDir, 'gone')), false);
      await again.close();
    }
  });

  test('engine: an offline shred, a restart, then a request gets 410 and the tenant is not re-created', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'wk-kv-shred-restart-')), 'data');
    dirs.push(dataDir);
    const first = await startTestEngine({ dataDir });
    try {
      const put = await request(`${first.url}/items/k`, { method: 'PUT', body: 'v', headers: { authorization: `Bearer ${await first.token()}` } });
      assert.equal(put.statusCode, 200);
      await put.body.dump();
    } finally {
      await first.close();
    }
    // What `weftkit tenant shred t1 --yes` does while no engine runs.
    const kek = createLocalKeyProvider({ kind: 'env', key: Buffer.alloc(32, 7).toString('base64') }, { dataDir, logger: silentLogger });
    const keyring = await Keyring.open({ dataDir, provider: kek });
    await shredTenant(keyring, dataDir, 't1');
    keyring.close();

    const second = await startTestEngine({ dataDir });
    try {
      const auth = { authorization: `Bearer ${await second.token()}` };
      for (const method of ['GET', 'PUT'] as const) {
        const r = await request(`${second.url}/items/k`, { method, headers: auth, ...(method === 'PUT' ? { body: 'again' } : {}) });
        assert.equal(r.statusCode, 410, method);
        assert.equal(((await r.body.json()) as { error: { code: string } }).error.code, 'WK_KV_TENANT_SHREDDED');
      }
      // Another tenant still works.
      const other = await request(`${second.url}/items/k`, { method: 'PUT', body: 'v', headers: { authorization: `Bearer ${await second.token({ tenant_id: 't2' })}` } });
      assert.equal(other.statusCode, 200);
      await other.body.dump();
    } finally {
      await second.close();
    }
    assert.equal(existsSync(tenantPath(dataDir, 't1')), false);
    const reopened = await Keyring.open({ dataDir, provider: kek });
    assert.equal(reopened.hasTenant('t1'), false);
    assert.equal(reopened.isShredded('t1'), true);
    reopened.close();
    await kek.close();
  });
});
