import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startKernel } from '../bootstrap/start-kernel.js';
import { loadConfig } from '../config/load-config.js';
import { silentLogger } from '../log/logger.js';

/** One request over the socket, one reply. */
// biome-ignore lint/suspicious/noExplicitAny: test JSON
function ask(path: string, command: string, args: Record<string, unknown> = {}): Promise<any> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) {
        s.destroy();
        resolve(JSON.parse(buf.slice(0, buf.indexOf('\n'))));
      }
    });
    s.on('error', reject);
    s.write(`${JSON.stringify({ id: 1, command, args })}\n`);
  });
}

describe('kernel admin commands over the socket', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wk-kadm-'));
    await writeFile(join(dir, 'roles.yaml'), '');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('keys.rotate-kek reads the new key from a file the engine opens; the keyring then opens only with it', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const keyFile = join(dir, 'new.key');
    await writeFile(keyFile, newKey, { mode: 0o600 });
    await writeFile(join(dir, 'users.htpasswd'), '');
    const env = { WEFTKIT_AUTH_USERS_FILE: join(dir, 'users.htpasswd'), WEFTKIT_ROLES_FILE: join(dir, 'roles.yaml'), WEFTKIT_DATA_DIR: join(dir, 'data'), WEFTKIT_KEY: oldKey, WEFTKIT_AUDIT: 'true', WEFTKIT_AUDIT_OUTPUT: join(dir, 'audit.jsonl'), WEFTKIT_AUDIT_EVENTS: 'admin' };
    const k = await startKernel(loadConfig(env, 'kv'), { logger: silentLogger });
    try {
      await k.keyring!.createTenant('acme');
      assert.ok(k.adminSocketPath !== undefined);
      assert.deepEqual((await ask(k.adminSocketPath, 'tenant.list')).result, { tenants: [{ tenant: 'acme', currentVersion: 1, versions: [1] }], shredded: [] });
      assert.equal((await ask(k.adminSocketPath, 'keys.rotate-kek', { newKeyFile: 'new.key' })).error.code, 'WK_ADMIN_KEK_SOURCE_INVALID');
      assert.equal((await ask(k.adminSocketPath, 'keys.rotate-kek', {})).error.code, 'WK_ADMIN_INVALID_ARGUMENT');
      assert.equal((await ask(k.adminSocketPath, 'keys.rotate-kek', { newKeyFile: join(dir, 'missing.key') })).ok, false);
      const r = await ask(k.adminSocketPath, 'keys.rotate-kek', { newKeyFile: keyFile });
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.deepEqual([r.result.tenants, r.result.keys, r.result.provider, r.result.previousProvider], [1, 1, 'file', 'env']);
      // The running kernel keeps working with the new KEK (a new tenant is wrapped under it).
      await k.keyring!.createTenant('beta');
    } finally {
      await k.close();
    }
    await assert.rejects(startKernel(loadConfig(env, 'kv'), { logger: silentLogger }), { code: 'WK_CRYPTO_WRONG_KEK' });
    const k2 = await startKernel(loadConfig({ ...env, WEFTKIT_KEY: newKey }, 'kv'), { logger: silentLogger });
    try {
      assert.deepEqual(k2.keyring!.listTenants().map((t) => t.tenant), ['acme', 'beta']);
      await (await k2.keyring!.tenantCiphers('acme')).destroy();
    } finally {
      await k2.close();
    }
    const audit = (await readFile(join(dir, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const rotations = audit.filter((e) => e.operation === 'keys.rotate_kek');
    assert.deepEqual(rotations.map((e) => e.result), ['failure', 'failure', 'failure', 'success']);
    assert.equal(rotations[3].resource, 'keyring');
    assert.ok(!JSON.stringify(audit).includes(newKey) && !JSON.stringify(audit).includes(oldKey));
  });
});
