import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { silentLogger } from '../log/logger.js';
import { MIN_REENCRYPT_RATE } from '../runtime/tenant-key-commands.js';
import type { KeyProvider } from './key-provider.js';
import { Keyring } from './keyring.js';
import { parseKeyring } from './keyring-file.js';
import { createLocalKeyProvider } from './local-key-providers.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'wk-keyring-rate-'));
  dirs.push(d);
  return d;
};
const envProvider = (key: string): KeyProvider => createLocalKeyProvider({ kind: 'env', key }, { dataDir: '/nonexistent', logger: silentLogger });
const fileBody = (ring: Keyring): { tenants: Record<string, { reencryptRate?: unknown }> } => JSON.parse(readFileSync(ring.path, 'utf8').split('\n')[0]!);

describe('Keyring: the re-encryption rate of a DEK rotation', () => {
  test('stored with the new version, kept across reopen and KEK rotation, dropped when the old version is retired', async () => {
    const dataDir = tempDir();
    const key = randomBytes(32).toString('base64');
    const ring = await Keyring.open({ dataDir, provider: envProvider(key) });
    await ring.createTenant('t1');
    await ring.createTenant('t2');
    assert.equal(ring.reencryptRate('t1'), undefined);
    const generation = ring.generation;
    await ring.rotateDek('t1', { reencryptRate: 65536 });
    assert.equal(ring.generation, generation + 1, 'one write: the version and its rate together');
    assert.equal(ring.reencryptRate('t1'), 65536);
    assert.equal(fileBody(ring).tenants.t1!.reencryptRate, 65536);
    assert.equal(ring.reencryptRate('t2'), undefined);
    assert.equal(ring.reencryptRate('nobody'), undefined);
    ring.close();

    const next = randomBytes(32).toString('base64');
    const again = await Keyring.open({ dataDir, provider: envProvider(key) });
    assert.equal(again.reencryptRate('t1'), 65536);
    await again.rotateKek(envProvider(next));
    assert.equal(again.reencryptRate('t1'), 65536);
    // A third version while version 1 is still there: the newest rotation's rate replaces it.
    await again.rotateDek('t1', { reencryptRate: MIN_REENCRYPT_RATE });
    assert.equal(again.reencryptRate('t1'), MIN_REENCRYPT_RATE);
    again.retireDekVersion('t1', 1);
    assert.equal(again.reencryptRate('t1'), MIN_REENCRYPT_RATE, 'version 2 still waits for re-encryption');
    again.retireDekVersion('t1', 2);
    assert.equal(again.reencryptRate('t1'), undefined);
    assert.equal(Object.hasOwn(fileBody(again).tenants.t1!, 'reencryptRate'), false);
    again.close();
    const third = await Keyring.open({ dataDir, provider: envProvider(next) });
    assert.equal(third.reencryptRate('t1'), undefined);
    third.close();
  });

  test('absent when the rotation gives none, also after one that did; bad rates are refused before any write', async () => {
    const dataDir = tempDir();
    const ring = await Keyring.open({ dataDir, provider: envProvider(randomBytes(32).toString('base64')) });
    await ring.createTenant('t1');
    await ring.rotateDek('t1');
    assert.equal(ring.reencryptRate('t1'), undefined);
    assert.equal(Object.hasOwn(fileBody(ring).tenants.t1!, 'reencryptRate'), false);
    await ring.rotateDek('t1', { reencryptRate: 1 << 20 });
    await ring.rotateDek('t1');
    assert.equal(ring.reencryptRate('t1'), undefined, 'a rotation without a rate runs at the default');
    const generation = ring.generation;
    for (const bad of [MIN_REENCRYPT_RATE - 1, 0, -5, 1.5 * MIN_REENCRYPT_RATE + 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await assert.rejects(ring.rotateDek('t1', { reencryptRate: bad }), RangeError, String(bad));
    }
    assert.equal(ring.generation, generation);
    ring.close();
  });

  test('a malformed rate makes the keyring corrupt', () => {
    const record = { current: 1, keys: [{ version: 1, wrapped: 'AAAA', createdAt: '2024-01-01T00:00:00.000Z', reserved: 0 }] };
    const file = (t1: unknown): Buffer =>
      Buffer.from(
        `${JSON.stringify({ format: 'weftkit-keyring', version: 1, keyringId: '0'.repeat(32), generation: 3, kek: { kind: 'env', keyId: 'k' }, macKey: 'AAAA', tenants: { t1 } })}\nhmac-sha256:${'0'.repeat(64)}\n`,
      );
    assert.equal(parseKeyring(file(record)).body.tenants.t1!.reencryptRate, undefined);
    assert.equal(parseKeyring(file({ ...record, reencryptRate: MIN_REENCRYPT_RATE })).body.tenants.t1!.reencryptRate, MIN_REENCRYPT_RATE);
    const bad: unknown[] = [MIN_REENCRYPT_RATE - 1, 0, -1, 65536.5, '65536', null, true, [65536], { n: 65536 }, 2 ** 60];
    for (const [i, reencryptRate] of bad.entries()) {
      assert.throws(() => parseKeyring(file({ ...record, reencryptRate })), { code: 'WK_CRYPTO_KEYRING_CORRUPT' }, `case ${i}`);
    }
  });

  test('the MAC covers the rate: editing, adding or removing it refuses the keyring', async () => {
    const dataDir = tempDir();
    const key = randomBytes(32).toString('base64');
    const ring = await Keyring.open({ dataDir, provider: envProvider(key) });
    await ring.createTenant('t1');
    await ring.createTenant('t2');
    await ring.rotateDek('t1', { reencryptRate: 65536 });
    await ring.rotateDek('t2');
    ring.close();
    const path = join(dataDir, 'keyring.json');
    const original = readFileSync(path, 'utf8');
    const [body, mac] = original.split('\n');
    // The last `"current":2,` is t2's: the third edit gives it a rate it never had.
    const t2At = body!.lastIndexOf('"current":2,');
    const edits = [
      body!.replace('"reencryptRate":65536', '"reencryptRate":33554432'),
      body!.replace(',"reencryptRate":65536', ''),
      `${body!.slice(0, t2At)}"current":2,"reencryptRate":8192,${body!.slice(t2At + '"current":2,'.length)}`,
    ];
    for (const [i, edited] of edits.entries()) {
      assert.notEqual(edited, body, `edit ${i} changed the body`);
      parseKeyring(Buffer.from(`${edited}\n${mac}\n`));
      writeFileSync(path, `${edited}\n${mac}\n`);
      await assert.rejects(Keyring.open({ dataDir, provider: envProvider(key) }), { code: 'WK_CRYPTO_KEYRING_CORRUPT' }, `edit ${i}`);
    }
    writeFileSync(path, original);
    const ok = await Keyring.open({ dataDir, provider: envProvider(key) });
    assert.equal(ok.reencryptRate('t1'), 65536);
    ok.close();
  });
});
