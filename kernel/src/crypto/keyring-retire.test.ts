import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../log/logger.js';
import { Keyring } from './keyring.js';
import { createLocalKeyProvider } from './local-key-providers.js';

test('retireDekVersion drops an old DEK from the file and from live ciphers; the current one stays', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wk-retire-'));
  const kek = createLocalKeyProvider({ kind: 'env', key: randomBytes(32).toString('base64') }, { dataDir: dir, logger: silentLogger });
  try {
    const ring = await Keyring.open({ dataDir: dir, provider: kek });
    await ring.createTenant('acme');
    await ring.rotateDek('acme');
    const live = await ring.tenantCiphers('acme');
    live.cipher(1);
    assert.throws(() => ring.retireDekVersion('acme', 2), RangeError);
    assert.throws(() => ring.retireDekVersion('acme', 9), { code: 'WK_CRYPTO_KEY_VERSION_UNKNOWN' });
    assert.deepEqual(ring.retireDekVersion('acme', 1), { tenant: 'acme', currentVersion: 2, versions: [2] });
    assert.throws(() => live.cipher(1), { code: 'WK_CRYPTO_KEY_VERSION_UNKNOWN' });
    live.cipher(2);
    const body = JSON.parse((await readFile(ring.path, 'utf8')).split('\n')[0]!);
    assert.deepEqual(body.tenants.acme.keys.map((k: { version: number }) => k.version), [2]);
    ring.close();
    const again = await Keyring.open({ dataDir: dir, provider: kek });
    assert.deepEqual(again.listTenants(), [{ tenant: 'acme', currentVersion: 2, versions: [2] }]);
    again.close();
  } finally {
    await kek.close();
    await rm(dir, { recursive: true, force: true });
  }
});
