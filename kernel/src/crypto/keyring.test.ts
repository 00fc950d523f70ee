import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../log/logger.js';
import type { KeyProvider, WrapContext } from './key-provider.js';
import { KEYRING_FILE_NAME, Keyring } from './keyring.js';
import { createLocalKeyProvider } from './local-key-providers.js';
import { PageCipher } from './page-cipher.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'wk-keyring-'));
  dirs.push(d);
  return d;
};
const newKeyB64 = (): string => randomBytes(32).toString('base64');
const envProvider = (key: string, dataDir = '/nonexistent'): KeyProvider =>
  createLocalKeyProvider({ kind: 'env', key }, { dataDir, logger: silentLogger });
const fileId = randomBytes(16);

async function sealWith(ring: Keyring, tenant: string): Promise<{ sealed: Buffer; plain: Buffer; version: number }> {
  const ciphers = await ring.tenantCiphers(tenant);
  const plain = randomBytes(8192);
  const sealed = ciphers.cipher().seal(fileId, 0, plain);
  const version = ciphers.currentVersion;
  ciphers.destroy();
  return { sealed, plain, version };
}

async function openWith(ring: Keyring, tenant: string, s: { sealed: Buffer; version: number }): Promise<Buffer> {
  const ciphers = await ring.tenantCiphers(tenant);
  try {
    return ciphers.cipher(s.version).open(fileId, 0, s.sealed);
  } finally {
    ciphers.destroy();
  }
}

describe('Keyring', () => {
  test('creates tenants, persists them, and reopens with the same KEK', async () => {
    const dataDir = tempDir();
    const key = newKeyB64();
    const ring = await Keyring.open({ dataDir, provider: envProvider(key) });
    await ring.createTenant('t1');
    await ring.createTenant('t2');
    await assert.rejects(ring.createTenant('t1'), { code: 'WK_CRYPTO_TENANT_EXISTS' });
    await assert.rejects(ring.createTenant('../x'), { code: 'WK_IDENTITY_INVALID_TENANT' });
    const s = await sealWith(ring, 't1');
    ring.close();
    const again = await Keyring.open({ dataDir, provider: envProvider(key) });
    assert.deepEqual(
      again.listTenants().map((t) => t.tenant),
      ['t1', 't2'],
    );
    assert.deepEqual(await openWith(again, 't1', s), s.plain);
    // t2's DEK does not open t1's page.
    const c2 = await again.tenantCiphers('t2');
    assert.throws(() => c2.cipher(1).open(fileId, 0, s.sealed), { code: 'WK_CRYPTO_PAGE_AUTH_FAILED' });
    again.close();
    const text = readFileSync(join(dataDir, KEYRING_FILE_NAME), 'utf8');
    assert.doesNotMatch(text, new RegExp(key.replace(/[+/=]/g, '.')));
  });

  test('a wrong KEK is refused at open with one coded error', async () => {
    const dataDir = tempDir();
    (await Keyring.open({ dataDir, provider: envProvider(newKeyB64()) })).close();
    await assert.rejects(Keyring.open({ dataDir, provider: envProvider(newKeyB64()) }), { code: 'WK_CRYPTO_WRONG_KEK' });
  });

  test('a wrong KEK with a matching key id (a remote provider) is still refused', async () => {
    const dataDir = tempDir();
    (await Keyring.open({ dataDir, provider: envProvider(newKeyB64()) })).close();
    const body = JSON.parse(readFileSync(join(dataDir, KEYRING_FILE_NAME), 'utf8').split('\n')[0]!);
    const impostor = envProvider(newKeyB64());
    const sameId: KeyProvider = {
      kind: 'env',
      keyId: body.kek.keyId,
      wrapKey: (k: Buffer, c: WrapContext) => impostor.wrapKey(k, c),
      unwrapKey: (w: Buffer, c: WrapContext) => impostor.unwrapKey(w, c),
      close: () => impostor.close(),
    } satisfies KeyProvider;
    await assert.rejects(Keyring.open({ dataDir, provider: sameId }), { code: 'WK_CRYPTO_WRONG_KEK' });
  });

  test('a corrupted keyring is refused: flipped body byte, flipped MAC, truncation, swapped DEKs', async () => {
    const dataDir = tempDir();
    const key = newKeyB64();
    const ring = await Keyring.open({ dataDir, provider: envProvider(key) });
    await ring.createTenant('t1');
    await ring.createTenant('t2');
    ring.close();
    const path = join(dataDir, KEYRING_FILE_NAME);
    const good = readFileSync(path);
    const text = good.toString('utf8');
    const flipAt = (at: number): Buffer => {
      const b = Buffer.from(good);
      b[at] = b[at] === 0x30 ? 0x31 : 0x30;
      return b;
    };
    const body = JSON.parse(text.split('\n')[0]!);
    const swapped = { ...body, tenants: { t1: body.tenants.t2, t2: body.tenants.t1 } };
    const cases: Buffer[] = [
      flipAt(text.indexOf('"generation":') + 13),
      flipAt(text.indexOf('hmac-sha256:') + 20),
      good.subarray(0, good.length - 10),
      good.subarray(0, 40),
      Buffer.from(`${JSON.stringify(swapped)}\n${text.split('\n')[1]}\n`),
      Buffer.alloc(0),
    ];
    for (const [i, bytes] of cases.entries()) {
      writeFileSync(path, bytes);
      await assert.rejects(Keyring.open({ dataDir, provider: envProvider(key) }), { code: 'WK_CRYPTO_KEYRING_CORRUPT' }, `case ${i}`);
    }
    writeFileSync(path, good);
    (await Keyring.open({ dataDir, provider: envProvider(key) })).close();
  });

  test('DEK rotation: new writes use the new version, old pages stay readable', async () => {
    const dataDir = tempDir();
    const key = newKeyB64();
    const ring = await Keyring.open({ dataDir, provider: envProvider(key) });
    await ring.createTenant('t1');
    const v1 = await sealWith(ring, 't1');
    const info = await ring.rotateDek('t1');
    assert.deepEqual(info, { tenant: 't1', currentVersion: 2, versions: [1, 2] });
    const v2 = await sealWith(ring, 't1');
    assert.equal(v2.version, 2);
    ring.close();
    const again = await Keyring.open({ dataDir, provider: envProvider(key) });
    assert.deepEqual(await openWith(again, 't1', v1), v1.plain);
    assert.deepEqual(await openWith(again, 't1', v2), v2.plain);
    const c = await again.tenantCiphers('t1');
    assert.throws(() => c.cipher(3), { code: 'WK_CRYPTO_KEY_VERSION_UNKNOWN' });
    again.close();
  });

  test('shred removes the wrapped DEK durably and zeroes live ciphers', async () => {
    const dataDir = tempDir();
    const key = newKeyB64();
    const ring = await Keyring.open({ dataDir, provider: envProvider(key) });
    await ring.createTenant('t1');
    await ring.createTenant('t2');
    const s = await sealWith(ring, 't1');
    const live = await ring.tenantCiphers('t1');
    const wrapped = JSON.parse(readFileSync(join(dataDir, KEYRING_FILE_NAME), 'utf8').split('\n')[0]!).tenants.t1.keys[0].wrapped;
    const result = await ring.shredTenant('t1');
    assert.deepEqual(result.destroyedVersions, [1]);
    assert.throws(() => live.cipher().open(fileId, 0, s.sealed), { code: 'WK_CRYPTO_KEY_DESTROYED' });
    await assert.rejects(ring.tenantCiphers('t1'), { code: 'WK_CRYPTO_TENANT_UNKNOWN' });
    ring.close();
    assert.equal(readFileSync(join(dataDir, KEYRING_FILE_NAME), 'utf8').includes(wrapped), false);
    const again = await Keyring.open({ dataDir, provider: envProvider(key) });
    assert.deepEqual(
      again.listTenants().map((t) => t.tenant),
      ['t2'],
    );
    await assert.rejects(again.tenantCiphers('t1'), { code: 'WK_CRYPTO_TENANT_UNKNOWN' });
    again.close();
  });

  test('KEK rotation rewraps every DEK; only the new KEK opens the keyring afterwards', async () => {
    const dataDir = tempDir();
    const oldKey = newKeyB64();
    const newKey = newKeyB64();
    const ring = await Keyring.open({ dataDir, provider: envProvider(oldKey) });
    await ring.createTenant('t1');
    await ring.rotateDek('t1');
    await ring.createTenant('t2');
    const s = await sealWith(ring, 't1');
    const result = await ring.rotateKek(envProvider(newKey));
    assert.equal(result.tenants, 2);
    assert.equal(result.keys, 3);
    assert.notEqual(result.keyId, result.previousKeyId);
    ring.close();
    await assert.rejects(Keyring.open({ dataDir, provider: envProvider(oldKey) }), { code: 'WK_CRYPTO_WRONG_KEK' });
    const again = await Keyring.open({ dataDir, provider: envProvider(newKey) });
    assert.deepEqual(await openWith(again, 't1', s), s.plain);
    again.close();
  });

  test('the encryption budget survives restarts: reservations are persisted before use', async () => {
    const dataDir = tempDir();
    const key = newKeyB64();
    const limits = { hardLimit: 10, softLimit: 8, reservationBlock: 4 };
    const ring = await Keyring.open({ dataDir, provider: envProvider(key), limits });
    await ring.createTenant('t1');
    const c = (await ring.tenantCiphers('t1')).cipher();
    for (let i = 0; i < 5; i++) c.seal(fileId, i, Buffer.alloc(8192));
    ring.close();
    // 8 encryptions are reserved on disk; after a restart only 2 remain.
    const again = await Keyring.open({ dataDir, provider: envProvider(key), limits });
    const c2 = (await again.tenantCiphers('t1')).cipher();
    assert.equal(c2.budget.used, 8);
    c2.seal(fileId, 0, Buffer.alloc(8192));
    c2.seal(fileId, 0, Buffer.alloc(8192));
    assert.throws(() => c2.seal(fileId, 0, Buffer.alloc(8192)), { code: 'WK_CRYPTO_KEY_EXHAUSTED' });
    again.close();
  });

  test('unwrapped DEKs are cached for the TTL, then unwrapped again', async () => {
    const dataDir = tempDir();
    const inner = envProvider(newKeyB64());
    let unwraps = 0;
    const counting: KeyProvider = {
      kind: inner.kind,
      keyId: inner.keyId,
      wrapKey: (k, c) => inner.wrapKey(k, c),
      unwrapKey: (w, c) => {
        unwraps++;
        return inner.unwrapKey(w, c);
      },
      close: () => inner.close(),
    };
    const ring = await Keyring.open({ dataDir, provider: counting, dekCacheTtlSeconds: 0.05 });
    await ring.createTenant('t1');
    const before = unwraps;
    (await ring.tenantCiphers('t1')).destroy();
    assert.equal(unwraps, before);
    await new Promise((r) => setTimeout(r, 120));
    (await ring.tenantCiphers('t1')).destroy();
    assert.equal(unwraps, before + 1);
    ring.close();
  });

  describe('a process killed at each step of the KEK rotation leaves a keyring that opens with the old or the new KEK', () => {
    const child = fileURLToPath(new URL('./keyring-crash-child.ts', import.meta.url));
    const steps = ['temp-opened', 'temp-half-written', 'temp-written', 'temp-synced', 'renamed', 'dir-synced'] as const;
    for (const step of steps) {
      test(step, async () => {
        const dataDir = tempDir();
        const oldKey = newKeyB64();
        const newKey = newKeyB64();
        const ring = await Keyring.open({ dataDir, provider: envProvider(oldKey) });
        await ring.createTenant('t1');
        await ring.createTenant('t2');
        const s = await sealWith(ring, 't1');
        ring.close();
        const r = spawnSync(process.execPath, ['--import', 'tsx', child, dataDir, oldKey, newKey, step], { encoding: 'utf8' });
        assert.equal(r.signal, 'SIGKILL', r.stderr);
        const renamed = step === 'renamed' || step === 'dir-synced';
        const expected = renamed ? newKey : oldKey;
        const other = renamed ? oldKey : newKey;
        await assert.rejects(Keyring.open({ dataDir, provider: envProvider(other) }), { code: 'WK_CRYPTO_WRONG_KEK' });
        const again = await Keyring.open({ dataDir, provider: envProvider(expected) });
        assert.deepEqual(
          again.listTenants().map((t) => t.tenant),
          ['t1', 't2'],
        );
        assert.deepEqual(await openWith(again, 't1', s), s.plain);
        again.close();
        assert.deepEqual(
          readdirSync(dataDir).filter((f) => f.endsWith('.tmp')),
          [],
        );
        // Reopening with the new KEK and the old one as `previousProvider` finishes the rotation.
        const resumed = await Keyring.open({ dataDir, provider: envProvider(newKey), previousProvider: envProvider(oldKey) });
        assert.deepEqual(await openWith(resumed, 't1', s), s.plain);
        resumed.close();
        await assert.rejects(Keyring.open({ dataDir, provider: envProvider(oldKey) }), { code: 'WK_CRYPTO_WRONG_KEK' });
        assert.ok(existsSync(join(dataDir, KEYRING_FILE_NAME)));
      });
    }
  });
});

describe('Keyring: keys for other threads', () => {
  test('exportTenantKeys gives copies that open pages sealed by the keyring', async () => {
    const ring = await Keyring.open({ dataDir: tempDir(), provider: envProvider(newKeyB64()) });
    await ring.createTenant('t1');
    const s = await sealWith(ring, 't1');
    const exported = await ring.exportTenantKeys('t1');
    assert.equal(exported.currentVersion, 1);
    const cipher = new PageCipher({ key: exported.keys[0]!.key, tenant: 't1', keyVersion: 1 });
    assert.deepEqual(cipher.open(fileId, 0, s.sealed), s.plain);
    await assert.rejects(ring.exportTenantKeys('nope'), { code: 'WK_CRYPTO_TENANT_UNKNOWN' });
    ring.close();
  });

  test('reserveEncryptions spends the shared budget durably and stops at the hard limit', async () => {
    const dataDir = tempDir();
    const key = newKeyB64();
    const limits = { hardLimit: 100, softLimit: 90, reservationBlock: 10 };
    const ring = await Keyring.open({ dataDir, provider: envProvider(key), limits });
    await ring.createTenant('t1');
    const generation = ring.generation;
    assert.equal(ring.reserveEncryptions('t1', 1, 60), 60);
    assert.ok(ring.generation > generation, 'the reservation reached the keyring file');
    assert.throws(() => ring.reserveEncryptions('t1', 2, 1), { code: 'WK_CRYPTO_KEY_VERSION_UNKNOWN' });
    ring.close();
    // A restart must not hand the same encryptions out again.
    const again = await Keyring.open({ dataDir, provider: envProvider(key), limits });
    assert.equal(again.reserveEncryptions('t1', 1, 60), 40);
    assert.throws(() => again.reserveEncryptions('t1', 1, 1), { code: 'WK_CRYPTO_KEY_EXHAUSTED' });
    const ciphers = await again.tenantCiphers('t1');
    assert.throws(() => ciphers.cipher().seal(fileId, 0, randomBytes(8192)), { code: 'WK_CRYPTO_KEY_EXHAUSTED' });
    ciphers.destroy();
    again.close();
  });

  test('macTag is keyed by the keyring and separated by purpose', async () => {
    const ring = await Keyring.open({ dataDir: tempDir(), provider: envProvider(newKeyB64()) });
    const data = Buffer.from('template bytes');
    const tag = ring.macTag('a', data);
    assert.deepEqual(ring.macTag('a', data), tag);
    assert.notDeepEqual(ring.macTag('b', data), tag);
    assert.notDeepEqual(ring.macTag('a', Buffer.from('template bytez')), tag);
    const other = await Keyring.open({ dataDir: tempDir(), provider: envProvider(newKeyB64()) });
    assert.notDeepEqual(other.macTag('a', data), tag);
    other.close();
    ring.close();
    assert.throws(() => ring.macTag('a', data), { code: 'WK_CRYPTO_KEY_DESTROYED' });
  });
});
