import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLocalKeyProvider, Keyring, silentLogger, TenantDir } from '@weftkit/kernel';
import { weftkit } from '../testing/run-cli.js';

describe('weftkit keys rotate-dek / status (offline)', () => {
  let dir: string;
  let env: Record<string, string>;
  const key = randomBytes(32).toString('base64');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weftkit-cli-dek-'));
    env = { WEFTKIT_DATA_DIR: join(dir, 'data'), WEFTKIT_KEY: key, WEFTKIT_AUDIT: 'true', WEFTKIT_AUDIT_OUTPUT: join(dir, 'audit.jsonl'), WEFTKIT_AUDIT_EVENTS: 'admin' };
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  async function withKeyring<T>(fn: (k: Keyring) => Promise<T>): Promise<T> {
    const kek = createLocalKeyProvider({ kind: 'env', key }, { dataDir: env.WEFTKIT_DATA_DIR!, logger: silentLogger });
    const keyring = await Keyring.open({ dataDir: env.WEFTKIT_DATA_DIR!, provider: kek, logger: silentLogger });
    try {
      return await fn(keyring);
    } finally {
      keyring.close();
      await kek.close();
    }
  }

  test('kv log files are rewritten under the new DEK page for page; the old version is removed', async () => {
    const pages = [Buffer.alloc(4096, 1), Buffer.alloc(4096, 2), Buffer.alloc(4096, 3)];
    await withKeyring(async (k) => {
      await k.createTenant('t1');
      const ciphers = await k.tenantCiphers('t1');
      const dir1 = TenantDir.openSync(env.WEFTKIT_DATA_DIR!, 't1');
      for (const name of ['0000000001.seg', '0000000002.seg']) {
        const f = dir1.createPageFileSync(name, { ciphers, pageSize: 4096 });
        for (const [i, p] of pages.entries()) f.writeSync(i, p);
        f.syncSync();
        f.closeSync();
      }
      ciphers.destroy();
    });
    const r = await weftkit(['keys', 'rotate-dek', 't1'], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /tenant t1 now writes under key version 2; re-encrypted 2 file\(s\), removed 1 old key version\(s\)/);
    await withKeyring(async (k) => {
      assert.deepEqual(k.listTenants(), [{ tenant: 't1', currentVersion: 2, versions: [2] }]);
      const ciphers = await k.tenantCiphers('t1');
      const dir1 = TenantDir.openSync(env.WEFTKIT_DATA_DIR!, 't1');
      for (const name of ['0000000001.seg', '0000000002.seg']) {
        const f = dir1.openPageFileSync(name, { ciphers });
        assert.equal(f.keyVersion, 2);
        for (const [i, p] of pages.entries()) assert.deepEqual(f.readSync(i), p);
        f.closeSync();
      }
      ciphers.destroy();
    });
    const s = await weftkit(['keys', 'status'], env);
    assert.equal(s.code, 0, s.err);
    assert.equal(s.out, 't1\tkey version 2\tversions 2\n');
  });

  test('files of an engine it cannot re-encrypt offline: coded error, the DEK is not rotated', async () => {
    await withKeyring(async (k) => {
      await k.createTenant('t2');
    });
    await writeFile(join(TenantDir.openSync(env.WEFTKIT_DATA_DIR!, 't2').path, 'base.pgdata'), 'x');
    const r = await weftkit(['keys', 'rotate-dek', 't2'], env);
    assert.equal(r.code, 1);
    assert.match(r.err, /^WK_CLI_ENGINE_UNKNOWN: /);
    await withKeyring(async (k) => assert.deepEqual(k.listTenants().find((t) => t.tenant === 't2')?.versions, [1]));
    assert.equal((await weftkit(['keys', 'rotate-dek'], env)).code, 2);
    assert.equal((await weftkit(['keys', 'rotate-dek', 't2', '--rate', 'fast'], env)).code, 2);
  });
});
