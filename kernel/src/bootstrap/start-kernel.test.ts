import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Action } from '../authz/actions.js';
import { scramVerifier } from '../auth/password/scram-verifier.js';
import { loadConfig } from '../config/load-config.js';
import { silentLogger } from '../log/logger.js';
import { startKernel } from './start-kernel.js';

describe('startKernel', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weftkit-boot-'));
    await writeFile(join(dir, 'users.htpasswd'), `alice:${await scramVerifier('alice-password-1')}\n`);
    await writeFile(join(dir, 'roles.yaml'), 'users:\n  alice: { roles: [read_only], tenants: [tenant-001], default_tenant: tenant-001 }\n');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('password users get their tenant and roles from the roles file; SIGHUP targets reload it', async () => {
    const config = loadConfig(
      { WEFTKIT_AUTH_USERS_FILE: join(dir, 'users.htpasswd'), WEFTKIT_ROLES_FILE: join(dir, 'roles.yaml'), WEFTKIT_DATA_DIR: join(dir, 'data') },
      'kv',
    );
    const k = await startKernel(config, { logger: silentLogger });
    try {
      assert.equal(k.jwt, undefined);
      const ctx = await k.password!.authenticate({ login: 'alice', password: 'alice-password-1', peer: '127.0.0.1:1' });
      assert.equal(ctx.tenant, 'tenant-001');
      assert.equal(k.policy.policy.authorize(ctx, Action.SELECT), true);
      assert.equal(k.policy.policy.authorize(ctx, Action.INSERT), false);

      await writeFile(join(dir, 'roles.yaml'), 'users:\n  alice: { roles: [read_write], tenants: [tenant-001], default_tenant: tenant-001 }\n');
      for (const r of k.reloadables) await r.reload();
      const again = await k.password!.authenticate({ login: 'alice', password: 'alice-password-1', peer: '127.0.0.1:1' });
      assert.equal(k.policy.policy.authorize(again, Action.INSERT), true);

      await writeFile(join(dir, 'roles.yaml'), 'users: [not, a, map\n');
      const roles = k.reloadables.find((r) => r.name === 'roles file')!;
      await assert.rejects(roles.reload(), { code: 'WK_AUTHZ_ROLES_FILE_INVALID' });
      assert.equal(k.policy.policy.authorize(again, Action.INSERT), true, 'a bad file keeps the old policy');
    } finally {
      await writeFile(join(dir, 'roles.yaml'), '');
      await k.close();
    }
  });

  test('a missing users file stops start-up with a coded error', async () => {
    const config = loadConfig({ WEFTKIT_AUTH_USERS_FILE: join(dir, 'nope.htpasswd'), WEFTKIT_ROLES_FILE: join(dir, 'roles.yaml'), WEFTKIT_DATA_DIR: join(dir, 'data') }, 'kv');
    await assert.rejects(startKernel(config, { logger: silentLogger }), { code: 'WK_AUTH_USERS_FILE_UNREADABLE' });
  });

  test('encryption on: the keyring opens under the env KEK and a wrong KEK refuses start', async () => {
    const env = {
      WEFTKIT_AUTH_USERS_FILE: join(dir, 'users.htpasswd'),
      WEFTKIT_ROLES_FILE: join(dir, 'roles.yaml'),
      WEFTKIT_DATA_DIR: join(dir, 'enc-data'),
      WEFTKIT_KEY: Buffer.alloc(32, 1).toString('base64'),
    };
    const k = await startKernel(loadConfig(env, 'kv'), { logger: silentLogger });
    await k.keyring!.createTenant('tenant-001');
    await assert.rejects(startKernel(loadConfig(env, 'kv'), { logger: silentLogger }), { code: 'WK_STORAGE_DATA_DIR_LOCKED' });
    await k.close();
    const wrong = loadConfig({ ...env, WEFTKIT_KEY: Buffer.alloc(32, 2).toString('base64') }, 'kv');
    await assert.rejects(startKernel(wrong, { logger: silentLogger }), { code: 'WK_CRYPTO_WRONG_KEK' });
    const vault = loadConfig(
      { ...env, WEFTKIT_DATA_DIR: join(dir, 'vault-data'), WEFTKIT_KEY: '', WEFTKIT_KEY_PROVIDER: 'vault', WEFTKIT_VAULT_ADDR: 'http://127.0.0.1:1', WEFTKIT_VAULT_TOKEN: 't', WEFTKIT_VAULT_TRANSIT_KEY: 'k', WEFTKIT_KEY_PROVIDER_TIMEOUT_SECONDS: '1' },
      'kv',
    );
    await assert.rejects(startKernel(vault, { logger: silentLogger }), { code: 'WK_KEYPROVIDER_UNAVAILABLE' });
  });

  test('WEFTKIT_AUTH=none gives the dev superuser, only in dev mode', async () => {
    const config = loadConfig({ WEFTKIT_AUTH: 'none', WEFTKIT_INSECURE_DEV: 'true', WEFTKIT_ROLES_FILE: join(dir, 'roles.yaml'), WEFTKIT_DATA_DIR: join(dir, 'data') }, 'kv');
    const k = await startKernel(config, { logger: silentLogger });
    try {
      assert.equal(k.password, undefined);
      const ctx = k.insecure!.authenticate({ login: 'x@tenant-9', peer: '127.0.0.1:1' });
      assert.deepEqual([ctx.identity, ctx.tenant, ctx.roles[0], ctx.authMethod], ['dev', 'tenant-9', 'superuser', 'none']);
    } finally {
      await k.close();
    }
  });
});

describe('startKernel with audit', () => {
  test('WEFTKIT_AUDIT=true opens the chained log at WEFTKIT_AUDIT_OUTPUT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weftkit-boot-audit-'));
    try {
      await writeFile(join(dir, 'users.htpasswd'), '');
      await writeFile(join(dir, 'roles.yaml'), '');
      const output = join(dir, 'log', 'audit.jsonl');
      const config = loadConfig(
        { WEFTKIT_AUTH_USERS_FILE: join(dir, 'users.htpasswd'), WEFTKIT_ROLES_FILE: join(dir, 'roles.yaml'), WEFTKIT_DATA_DIR: join(dir, 'data'), WEFTKIT_AUDIT: 'true', WEFTKIT_AUDIT_OUTPUT: output },
        'kv',
      );
      const k = await startKernel(config, { logger: silentLogger });
      const seq = await k.audit!.appendUnauthenticated({ event: 'auth', operation: 'login', result: 'failure', identity: 'mallory', errorCode: 'WK_AUTH_FAILED' });
      assert.equal(seq, 1);
      await k.close();
      const lines = (await readFile(output, 'utf8')).trim().split('\n');
      assert.equal(lines.length, 1);
      assert.equal(JSON.parse(lines[0]!).identity, 'mallory');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
