import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLocalKeyProvider, Keyring, silentLogger, TenantDir } from '@weftkit/kernel';
import { weftkit } from '../testing/run-cli.js';

describe('weftkit tenant: a shredded tenant stays shredded', () => {
  let dir: string;
  let env: Record<string, string>;
  const key = randomBytes(32).toString('base64');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weftkit-cli-recreate-'));
    env = {
      WEFTKIT_DATA_DIR: join(dir, 'data'),
      WEFTKIT_KEY: key,
      WEFTKIT_AUDIT: 'true',
      WEFTKIT_AUDIT_OUTPUT: join(dir, 'audit', 'audit.jsonl'),
      WEFTKIT_AUDIT_EVENTS: 'admin',
    };
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('create refuses a shredded name without --recreate; list shows it as shredded; --recreate brings it back empty', async () => {
    for (const t of ['gone', 'kept']) assert.equal((await weftkit(['tenant', 'create', t], env)).code, 0);
    assert.equal((await weftkit(['tenant', 'shred', 'gone', '--yes'], env)).code, 0);

    const list = await weftkit(['tenant', 'list'], env);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^kept\tkey version 1\ngone\tshredded \d{4}-\d\d-\d\dT[\d:.]+Z\n$/);

    const refused = await weftkit(['tenant', 'create', 'gone'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /^WK_CRYPTO_TENANT_SHREDDED: /);
    assert.match(refused.err, /--recreate/);
    assert.deepEqual(await readdir(join(env.WEFTKIT_DATA_DIR!, 'tenants')), ['kept'], 'nothing created on disk');

    const again = await weftkit(['tenant', 'create', 'gone', '--recreate'], env);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /re-created shredded tenant gone \(key version 1\)/);
    assert.match((await weftkit(['tenant', 'list'], env)).out, /^gone\tkey version 1\nkept\tkey version 1\n$/);
    // The tombstone is gone for good: a plain create now meets the live tenant.
    assert.match((await weftkit(['tenant', 'create', 'gone'], env)).err, /WK_CRYPTO_TENANT_EXISTS/);
    assert.match((await weftkit(['tenant', 'create', 'kept', '--recreate'], env)).err, /WK_CRYPTO_TENANT_EXISTS/);

    const audit = await readFile(env.WEFTKIT_AUDIT_OUTPUT!, 'utf8');
    assert.match(audit, /"operation":"tenant.create","resource":"gone","result":"failure"[^\n]*"error_code":"WK_CRYPTO_TENANT_SHREDDED"/);
    assert.match(audit, /"operation":"tenant.create","resource":"gone","result":"success"[^\n]*"recreated":true/);
  });

  test('--recreate finishes a shred that was interrupted before its files were deleted', async () => {
    const kek = createLocalKeyProvider({ kind: 'env', key }, { dataDir: env.WEFTKIT_DATA_DIR!, logger: silentLogger });
    const keyring = await Keyring.open({ dataDir: env.WEFTKIT_DATA_DIR!, provider: kek, logger: silentLogger });
    try {
      const tdir = TenantDir.openSync(env.WEFTKIT_DATA_DIR!, 'kept');
      await writeFile(join(tdir.path, 'old.seg'), randomBytes(64));
      await keyring.shredTenant('kept');
    } finally {
      keyring.close();
      await kek.close();
    }
    const r = await weftkit(['tenant', 'create', 'kept', '--recreate'], env);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(await readdir(join(env.WEFTKIT_DATA_DIR!, 'tenants', 'kept')), []);
  });
});
