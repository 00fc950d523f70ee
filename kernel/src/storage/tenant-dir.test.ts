import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { KeyProvider } from '../crypto/key-provider.js';
import { Keyring } from '../crypto/keyring.js';
import { createLocalKeyProvider } from '../crypto/local-key-providers.js';
import { silentLogger } from '../log/logger.js';
import { TenantDir } from './tenant-dir.js';
import { createTenant, listTenants, rotateKek, shredTenant } from './tenant-lifecycle.js';

const REFUSED = { code: 'WK_STORAGE_PATH_REFUSED' };
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'wk-td-'));
  dirs.push(d);
  return d;
};
const env = (): KeyProvider =>
  createLocalKeyProvider({ kind: 'env', key: randomBytes(32).toString('base64') }, { dataDir: '/x', logger: silentLogger });

describe('TenantDir', () => {
  test('lives at <data>/tenants/<tenant> and rejects bad tenant names', () => {
    const data = tempDir();
    const d = TenantDir.openSync(data, 't1');
    assert.equal(d.path, join(data, 'tenants', 't1'));
    assert.throws(() => TenantDir.openSync(data, '../t1'), { code: 'WK_IDENTITY_INVALID_TENANT' });
    assert.throws(() => TenantDir.openSync(data, 'T1'), { code: 'WK_IDENTITY_INVALID_TENANT' });
  });

  test('refuses traversal, absolute paths, NUL and backslashes', () => {
    const d = TenantDir.openSync(tempDir(), 't1');
    for (const bad of ['../t2/x', 'a/../../x', '..', '/etc/passwd', 'a\0b', '', '.', 'a\\..\\x', './..']) {
      assert.throws(() => d.resolve(bad), REFUSED, JSON.stringify(bad));
    }
    assert.equal(d.resolve('base/1/2'), join(d.path, 'base/1/2'));
    assert.equal(d.resolve('./a//b'), join(d.path, 'a/b'));
  });

  test('refuses symlinks that escape, as a directory on the way or as the file itself', async () => {
    const data = tempDir();
    const outside = tempDir();
    writeFileSync(join(outside, 'victim'), 'secret');
    const d = TenantDir.openSync(data, 't1');
    symlinkSync(outside, join(d.path, 'escape'));
    symlinkSync(join(outside, 'victim'), join(d.path, 'file-link'));
    assert.throws(() => d.resolve('escape/victim'), REFUSED);
    assert.throws(() => d.resolve('escape/new-file'), REFUSED);
    assert.throws(() => d.resolve('file-link'), REFUSED);
    const ring = await Keyring.open({ dataDir: data, provider: env() });
    await ring.createTenant('t1');
    const ciphers = await ring.tenantCiphers('t1');
    assert.throws(() => d.openPageFileSync('file-link', { ciphers }), REFUSED);
    assert.throws(() => d.createPageFileSync('escape/x', { ciphers }), REFUSED);
    assert.equal(readFileSync(join(outside, 'victim'), 'utf8'), 'secret');
    ring.close();
  });

  test('a tenant directory that is itself a symlink is refused', () => {
    const data = tempDir();
    const outside = tempDir();
    mkdirSync(join(data, 'tenants'), { recursive: true });
    symlinkSync(outside, join(data, 'tenants', 't1'));
    assert.throws(() => TenantDir.openSync(data, 't1'), REFUSED);
    const data2 = tempDir();
    symlinkSync(outside, join(data2, 'tenants'));
    assert.throws(() => TenantDir.openSync(data2, 't1'), REFUSED);
  });

  test("page files are refused for another tenant's ciphers", async () => {
    const data = tempDir();
    const ring = await Keyring.open({ dataDir: data, provider: env() });
    await ring.createTenant('t2');
    const d = TenantDir.openSync(data, 't1');
    const ciphers = await ring.tenantCiphers('t2');
    assert.throws(() => d.createPageFileSync('x', { ciphers }), REFUSED);
    ring.close();
  });
});

describe('tenant lifecycle', () => {
  test('create, list, shred: the DEK goes first, then the files; pages are unreadable afterwards', async () => {
    const data = tempDir();
    const ring = await Keyring.open({ dataDir: data, provider: env() });
    const created = await createTenant(ring, data, 'acme');
    assert.equal(created.keyVersion, 1);
    await createTenant(ring, data, 'other');
    assert.deepEqual(
      listTenants(ring).map((t) => t.tenant),
      ['acme', 'other'],
    );
    const dir = TenantDir.openSync(data, 'acme');
    dir.mkdirSync('base/1');
    const ciphers = await ring.tenantCiphers('acme');
    const f = dir.createPageFileSync('base/1/16384', { ciphers });
    f.writeSync(0, Buffer.alloc(8192, 1));
    f.closeSync();
    const report = await shredTenant(ring, data, 'acme');
    assert.deepEqual(report, { tenant: 'acme', destroyedKeyVersions: [1], keyringGeneration: ring.generation, filesRemoved: 1, directoryRemoved: true });
    assert.equal(existsSync(dir.path), false);
    await assert.rejects(ring.tenantCiphers('acme'), { code: 'WK_CRYPTO_TENANT_UNKNOWN' });
    await assert.rejects(shredTenant(ring, data, 'acme'), { code: 'WK_CRYPTO_TENANT_UNKNOWN' });
    assert.deepEqual(
      listTenants(ring).map((t) => t.tenant),
      ['other'],
    );
    ring.close();
  });

  test('a shred interrupted after the keyring write finishes on re-run', async () => {
    const data = tempDir();
    const ring = await Keyring.open({ dataDir: data, provider: env() });
    await createTenant(ring, data, 'acme');
    writeFileSync(join(TenantDir.openSync(data, 'acme').path, 'f'), 'x');
    await ring.shredTenant('acme');
    const report = await shredTenant(ring, data, 'acme');
    assert.deepEqual(report.destroyedKeyVersions, []);
    assert.equal(report.filesRemoved, 1);
    ring.close();
  });

  test('rotateKek rewraps and reports', async () => {
    const data = tempDir();
    const ring = await Keyring.open({ dataDir: data, provider: env() });
    await createTenant(ring, data, 'acme');
    const next = env();
    const result = await rotateKek(ring, next);
    assert.equal(result.keyId, next.keyId);
    assert.equal(result.keys, 1);
    ring.close();
  });
});
