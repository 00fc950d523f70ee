import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLocalKeyProvider, Keyring, lockDataDir, PageFile, silentLogger, TenantDir } from '@weftkit/kernel';
import { weftkit } from '../testing/run-cli.js';

describe('weftkit tenant and keys', () => {
  let dir: string;
  let env: Record<string, string>;
  const oldKey = randomBytes(32).toString('base64');
  const marker = Buffer.from('SHRED-ME-MARKER-7f3a');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weftkit-cli-keys-'));
    env = {
      WEFTKIT_DATA_DIR: join(dir, 'data'),
      WEFTKIT_KEY: oldKey,
      WEFTKIT_AUDIT: 'true',
      WEFTKIT_AUDIT_OUTPUT: join(dir, 'audit', 'audit.jsonl'),
      WEFTKIT_AUDIT_EVENTS: 'admin',
    };
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  async function withKeyring<T>(key: string, fn: (k: Keyring) => Promise<T>): Promise<T> {
    const kek = createLocalKeyProvider({ kind: 'env', key }, { dataDir: env.WEFTKIT_DATA_DIR!, logger: silentLogger });
    const keyring = await Keyring.open({ dataDir: env.WEFTKIT_DATA_DIR!, provider: kek, logger: silentLogger });
    try {
      return await fn(keyring);
    } finally {
      keyring.close();
      await kek.close();
    }
  }

  test('create and list', async () => {
    for (const t of ['tenant-a', 'tenant-b']) {
      const r = await weftkit(['tenant', 'create', t], env);
      assert.equal(r.code, 0, r.err);
    }
    const list = await weftkit(['tenant', 'list'], env);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^tenant-a\tkey version 1\ntenant-b\tkey version 1\n$/);
    assert.match((await weftkit(['tenant', 'create', 'Bad/Name'], env)).err, /WK_IDENTITY_INVALID_TENANT/);
  });

  test('shred destroys the key first: a copy of the data taken before is unreadable; audited', async () => {
    const saved = join(dir, 'saved.pages');
    await withKeyring(oldKey, async (keyring) => {
      const ciphers = await keyring.tenantCiphers('tenant-a');
      const tdir = TenantDir.openSync(env.WEFTKIT_DATA_DIR!, 'tenant-a');
      const file = PageFile.createSync(join(tdir.path, 'data.pages'), { ciphers });
      file.writeSync(0, Buffer.concat([marker, Buffer.alloc(8192 - marker.length)]));
      file.closeSync();
      await copyFile(join(tdir.path, 'data.pages'), saved);
    });
    assert.equal((await weftkit(['tenant', 'shred', 'tenant-a'], env)).code, 2, 'needs --yes');
    const r = await weftkit(['tenant', 'shred', 'tenant-a', '--yes'], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /1 key version\(s\) destroyed, 1 file\(s\) removed/);
    assert.deepEqual(await readdir(join(env.WEFTKIT_DATA_DIR!, 'tenants')), ['tenant-b']);
    await withKeyring(oldKey, async (keyring) => {
      assert.equal(keyring.hasTenant('tenant-a'), false);
      await assert.rejects(keyring.tenantCiphers('tenant-a'), { code: 'WK_CRYPTO_TENANT_UNKNOWN' });
      // The only key left cannot open the copy either: it is bound to another tenant.
      const other = await keyring.tenantCiphers('tenant-b');
      assert.throws(() => PageFile.openSync(saved, { ciphers: other }).readSync(0), /./);
    });
    const audit = await readFile(env.WEFTKIT_AUDIT_OUTPUT!, 'utf8');
    assert.match(audit, /"operation":"tenant.shred","resource":"tenant-a","result":"success"/);
    assert.ok(!audit.includes(oldKey));
    assert.equal((await weftkit(['audit', 'verify', env.WEFTKIT_AUDIT_OUTPUT!])).code, 0);
    assert.ok(!(await readFile(saved)).includes(marker), 'the page was encrypted on disk');
  });

  test('rotate-kek: afterwards only the new key opens the keyring', async () => {
    const newKeyFile = join(dir, 'new.key');
    const newKey = randomBytes(32);
    await writeFile(newKeyFile, newKey.toString('base64'), { mode: 0o600 });
    const r = await weftkit(['keys', 'rotate-kek', '--new-key-file', newKeyFile], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /rewrapped 1 key\(s\) of 1 tenant\(s\)/);
    const old = await weftkit(['tenant', 'list'], env);
    assert.equal(old.code, 1);
    assert.match(old.err, /WK_CRYPTO_WRONG_KEK/);
    const fresh = await weftkit(['tenant', 'list'], { ...env, WEFTKIT_KEY: '', WEFTKIT_KEY_FILE: newKeyFile });
    assert.equal(fresh.code, 0, fresh.err);
    assert.match(fresh.out, /tenant-b/);
  });

  test('refuses while an engine holds the data directory', async () => {
    const lock = await lockDataDir(env.WEFTKIT_DATA_DIR!, 'kv engine');
    try {
      const r = await weftkit(['tenant', 'shred', 'tenant-b', '--yes'], env);
      assert.equal(r.code, 1);
      assert.match(r.err, /WK_STORAGE_DATA_DIR_LOCKED.*kv engine/);
    } finally {
      await lock.release();
    }
  });
});
