import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { TenantKeyShredded } from '../errors.js';
import { silentLogger } from '../log/logger.js';
import type { KeyProvider } from './key-provider.js';
import { KEYRING_FILE_NAME, Keyring } from './keyring.js';
import { parseKeyring } from './keyring-file.js';
import { createLocalKeyProvider } from './local-key-providers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'wk-tombstone-'));
  dirs.push(d);
  return d;
};
const newKeyB64 = (): string => randomBytes(32).toString('base64');
const envProvider = (key: string): KeyProvider => createLocalKeyProvider({ kind: 'env', key }, { dataDir: '/nonexistent', logger: silentLogger });
const fileId = randomBytes(16);
const bodyOf = (dataDir: string): Record<string, unknown> => JSON.parse(readFileSync(join(dataDir, KEYRING_FILE_NAME), 'utf8').split('\n')[0]!);

/** A keyring with tenants t1 and t2 where t1 was shredded; returns the shred's generation. */
async function shreddedRing(dataDir: string, key: string): Promise<number> {
  const ring = await Keyring.open({ dataDir, provider: envProvider(key) });
  await ring.createTenant('t1');
  await ring.createTenant('t2');
  const { keyringGeneration } = await ring.shredTenant('t1');
  ring.close();
  return keyringGeneration;
}

describe('Keyring: shred tombstones', () => {
  test('a shredded name stays dead across reopen: createTenant is refused, the tombstone is listed', async () => {
    const dataDir = tempDir();
    const key = newKeyB64();
    const before = Date.now();
    const generation = await shreddedRing(dataDir, key);
    const ring = await Keyring.open({ dataDir, provider: envProvider(key) });
    const err = await ring.createTenant('t1').catch((e: unknown) => e);
    assert.ok(err instanceof TenantKeyShredded);
    assert.deepEqual([err.code, err.httpStatus, err.sqlstate, err.expose], ['WK_CRYPTO_TENANT_SHREDDED', 410, '3D000', true]);
    assert.equal(ring.hasTenant('t1'), false);
    assert.equal(ring.isShredded('t1'), true);
    assert.equal(ring.isShredded('t2'), false);
    assert.deepEqual(
      ring.listTenants().map((t) => t.tenant),
      ['t2'],
    );
    const [tomb, ...more] = ring.listShreddedTenants();
    assert.equal(more.length, 0);
    assert.equal(tomb?.tenant, 't1');
    assert.equal(tomb?.keyringGeneration, generation);
    const at = Date.parse(tomb!.shreddedAt);
    assert.ok(at >= before - 1000 && at <= Date.now(), tomb!.shreddedAt);
    await assert.rejects(ring.tenantCiphers('t1'), { code: 'WK_CRYPTO_TENANT_UNKNOWN' });
    await assert.rejects(ring.shredTenant('t1'), { code: 'WK_CRYPTO_TENANT_UNKNOWN' });
    // Other names are unaffected.
    await ring.createTenant('t3');
    ring.close();
  });

  test('recreate makes a new, empty tenant and clears the tombstone in the same durable write', async () => {
    const dataDir = tempDir();
    const key = newKeyB64();
    const ring = await Keyring.open({ dataDir, provider: envProvider(key) });
    await ring.createTenant('t1');
    const old = await ring.tenantCiphers('t1');
    const sealed = old.cipher().seal(fileId, 0, randomBytes(8192));
    old.destroy();
    await ring.shredTenant('t1');
    const generation = ring.generation;
    assert.deepEqual(await ring.createTenant('t1', { recreate: true }), { tenant: 't1', currentVersion: 1, versions: [1] });
    assert.equal(ring.generation, generation + 1);
    await assert.rejects(ring.createTenant('t1', { recreate: true }), { code: 'WK_CRYPTO_TENANT_EXISTS' });
    ring.close();
    assert.equal('shredded' in bodyOf(dataDir), false, 'no empty tombstone map is written');
    const again = await Keyring.open({ dataDir, provider: envProvider(key) });
    assert.equal(again.isShredded('t1'), false);
    assert.deepEqual(again.listShreddedTenants(), []);
    // The new key is not the shredded one: pages written before the shred stay unreadable.
    const fresh = await again.tenantCiphers('t1');
    assert.throws(() => fresh.cipher(1).open(fileId, 0, sealed), { code: 'WK_CRYPTO_PAGE_AUTH_FAILED' });
    fresh.destroy();
    // Shredding it again leaves a new tombstone.
    await again.shredTenant('t1');
    await assert.rejects(again.createTenant('t1'), { code: 'WK_CRYPTO_TENANT_SHREDDED' });
    again.close();
  });

  test('recreate of a name that was never shredded is a plain create', async () => {
    const ring = await Keyring.open({ dataDir: tempDir(), provider: envProvider(newKeyB64()) });
    assert.equal((await ring.createTenant('fresh', { recreate: true })).currentVersion, 1);
    ring.close();
  });

  test('the tombstone survives KEK rotation', async () => {
    const dataDir = tempDir();
    const oldKey = newKeyB64();
    const newKey = newKeyB64();
    const generation = await shreddedRing(dataDir, oldKey);
    const ring = await Keyring.open({ dataDir, provider: envProvider(oldKey) });
    const shreddedAt = ring.listShreddedTenants()[0]!.shreddedAt;
    await ring.rotateKek(envProvider(newKey));
    ring.close();
    const again = await Keyring.open({ dataDir, provider: envProvider(newKey) });
    assert.deepEqual(again.listShreddedTenants(), [{ tenant: 't1', shreddedAt, keyringGeneration: generation }]);
    await assert.rejects(again.createTenant('t1'), { code: 'WK_CRYPTO_TENANT_SHREDDED' });
    again.close();
  });

  test('the MAC covers tombstones: editing, dropping or moving one refuses the keyring', async () => {
    const dataDir = tempDir();
    const key = newKeyB64();
    await shreddedRing(dataDir, key);
    const path = join(dataDir, KEYRING_FILE_NAME);
    const good = readFileSync(path, 'utf8');
    const [line, macLine] = good.split('\n');
    const body = JSON.parse(line!);
    const { shredded, ...withoutField } = body;
    const tomb = shredded.t1;
    const edits: Record<string, unknown>[] = [
      withoutField,
      { ...body, shredded: {} },
      { ...body, shredded: { t1: { ...tomb, shreddedAt: '2000-01-01T00:00:00.000Z' } } },
      { ...body, shredded: { t1: { ...tomb, generation: tomb.generation + 1 } } },
      { ...body, shredded: { t9: tomb } },
      { ...body, shredded: { ...shredded, t9: tomb } },
    ];
    for (const [i, edited] of edits.entries()) {
      writeFileSync(path, `${JSON.stringify(edited)}\n${macLine}\n`);
      await assert.rejects(Keyring.open({ dataDir, provider: envProvider(key) }), { code: 'WK_CRYPTO_KEYRING_CORRUPT' }, `edit ${i}`);
    }
    writeFileSync(path, good);
    const ring = await Keyring.open({ dataDir, provider: envProvider(key) });
    assert.equal(ring.isShredded('t1'), true);
    ring.close();
  });

  test('malformed tombstones are refused before the MAC is checked', () => {
    const mac = `hmac-sha256:${'0'.repeat(64)}`;
    const base = {
      format: 'weftkit-keyring',
      version: 1,
      keyringId: '0'.repeat(32),
      generation: 3,
      kek: { kind: 'env', keyId: 'k' },
      macKey: 'AAAA',
      tenants: { t2: { current: 1, keys: [{ version: 1, wrapped: 'AAAA', createdAt: '2024-01-01T00:00:00.000Z', reserved: 0 }] } },
    };
    const file = (body: unknown): Buffer => Buffer.from(`${JSON.stringify(body)}\n${mac}\n`);
    const tomb = { shreddedAt: '2024-01-02T00:00:00.000Z', generation: 2 };
    assert.equal(parseKeyring(file(base)).body.shredded, undefined);
    assert.deepEqual(parseKeyring(file({ ...base, shredded: { t1: tomb } })).body.shredded, { t1: tomb });
    const bad: unknown[] = [
      [],
      { t2: tomb },
      { '../x': tomb },
      { t1: { ...tomb, shreddedAt: 'yesterday' } },
      { t1: { ...tomb, shreddedAt: 7 } },
      { t1: { ...tomb, generation: -1 } },
      { t1: { generation: 2 } },
      { t1: null },
    ];
    for (const [i, shredded] of bad.entries()) {
      assert.throws(() => parseKeyring(file({ ...base, shredded })), { code: 'WK_CRYPTO_KEYRING_CORRUPT' }, `case ${i}`);
    }
  });
});
