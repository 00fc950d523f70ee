import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../log/logger.js';
import { FakeVault } from '../../testing/fake-kms/index.js';
import type { WrapContext } from '../key-provider.js';
import { VaultKeyProvider, type VaultProviderOptions } from './vault-provider.js';

const ctx: WrapContext = { keyringId: 'ring-1', purpose: 'dek', tenant: 'acme', keyVersion: 1 };
// A roomy deadline: the first call is slow on a loaded machine. The test about the deadline sets its own.
const deps = { logger: silentLogger, retry: { deadlineMs: 15_000, baseDelayMs: 10, maxDelayMs: 50 } };

describe('vault provider against a fake Vault (real node-vault)', () => {
  const vault = new FakeVault();
  let base: VaultProviderOptions;
  before(async () => {
    await vault.start();
    vault.addToken('tok-good', { keys: ['weftkit'] });
    vault.rotateKey('weftkit');
    base = { addr: vault.url, transitKey: 'weftkit', token: 'tok-good' };
  });
  after(() => vault.stop());

  test('wraps with transit and the context as associated data; only the same context unwraps', async () => {
    const p = await VaultKeyProvider.create(base, deps);
    assert.equal(p.keyId, 'vault:transit/keys/weftkit');
    const dek = Buffer.alloc(32, 9);
    const wrapped = await p.wrapKey(dek, ctx);
    assert.match(wrapped.toString(), /^vault:v1:/);
    assert.ok(!wrapped.includes(dek), 'the wrapped form is not the key');
    assert.deepEqual(await p.unwrapKey(wrapped, ctx), dek);
    await assert.rejects(p.unwrapKey(wrapped, { ...ctx, tenant: 'other' }), { code: 'WK_CRYPTO_UNWRAP_FAILED' });
    await assert.rejects(p.unwrapKey(wrapped, { ...ctx, keyVersion: 2 }), { code: 'WK_CRYPTO_UNWRAP_FAILED' });
    await assert.rejects(p.unwrapKey(Buffer.from('not-a-vault-blob'), ctx), { code: 'WK_CRYPTO_UNWRAP_FAILED' });
  });

  test('a wrong token is refused at once, naming WEFTKIT_VAULT_TOKEN', async () => {
    const p = await VaultKeyProvider.create({ ...base, token: 'tok-wrong' }, deps);
    const before = vault.requests;
    await assert.rejects(p.wrapKey(Buffer.alloc(32), ctx), (err: Error & { code: string }) => {
      assert.equal(err.code, 'WK_KEYPROVIDER_ACCESS_DENIED');
      assert.match(err.message, /WEFTKIT_VAULT_TOKEN/);
      assert.doesNotMatch(err.message, /tok-wrong/);
      return true;
    });
    assert.equal(vault.requests - before, 1, 'a permanent failure is not retried');
  });

  test('a missing transit key on decrypt is WK_KEYPROVIDER_KEY_UNUSABLE naming WEFTKIT_VAULT_TRANSIT_KEY', async () => {
    vault.rotateKey('gone');
    vault.addToken('tok-gone');
    const p = await VaultKeyProvider.create({ ...base, transitKey: 'gone', token: 'tok-gone' }, deps);
    const wrapped = await p.wrapKey(Buffer.alloc(32, 1), ctx);
    vault.deleteKey('gone');
    await assert.rejects(p.unwrapKey(wrapped, ctx), (err: Error & { code: string }) => err.code === 'WK_KEYPROVIDER_KEY_UNUSABLE' && /WEFTKIT_VAULT_TRANSIT_KEY/.test(err.message));
  });

  test('5xx (sealed) is retried until it clears', async () => {
    const p = await VaultKeyProvider.create(base, deps);
    vault.inject({ kind: 'status', reply: { status: 503, body: { errors: ['Vault is sealed'] } } }, 2);
    const wrapped = await p.wrapKey(Buffer.alloc(32, 2), ctx);
    assert.deepEqual(await p.unwrapKey(wrapped, ctx), Buffer.alloc(32, 2));
  });

  test('a hung Vault fails within the deadline as WK_KEYPROVIDER_UNAVAILABLE naming WEFTKIT_VAULT_ADDR', async () => {
    const p = await VaultKeyProvider.create(base, { ...deps, retry: { deadlineMs: 600, attemptTimeoutMs: 200, baseDelayMs: 10 } });
    vault.inject({ kind: 'hang' }, 20);
    const t0 = Date.now();
    await assert.rejects(p.wrapKey(Buffer.alloc(32), ctx), (err: Error & { code: string }) => err.code === 'WK_KEYPROVIDER_UNAVAILABLE' && /WEFTKIT_VAULT_ADDR/.test(err.message));
    assert.ok(Date.now() - t0 < 1500, 'bounded by the deadline');
    vault.clearFaults();
  });

  test('AppRole: logs in, sends the namespace, logs in again before the token expires and after a revocation', async () => {
    vault.addAppRole('role-1', 'secret-1', { namespace: 'team-a', ttlSeconds: 1 });
    vault.rotateKey('weftkit', 'transit', 'team-a');
    const p = await VaultKeyProvider.create({ addr: vault.url, transitKey: 'weftkit', namespace: 'team-a', appRole: { roleId: 'role-1', secretId: 'secret-1' } }, deps);
    assert.equal(p.keyId, 'vault:team-a/transit/keys/weftkit');
    const logins = vault.logins;
    const wrapped = await p.wrapKey(Buffer.alloc(32, 3), ctx);
    assert.equal(vault.logins - logins, 1);
    await new Promise((r) => setTimeout(r, 800));
    assert.deepEqual(await p.unwrapKey(wrapped, ctx), Buffer.alloc(32, 3));
    assert.equal(vault.logins - logins, 2, 'logged in again two thirds into the TTL');
    vault.revokeLoginTokens();
    assert.deepEqual(await p.unwrapKey(wrapped, ctx), Buffer.alloc(32, 3));
    assert.equal(vault.logins - logins, 3, 'logged in again after a 403 on a revoked token');
    // The same blob does not open in another namespace (the fake keeps keys per namespace).
    const other = await VaultKeyProvider.create(base, deps);
    await assert.rejects(other.unwrapKey(wrapped, ctx));
  });

  test('AppRole with a wrong secret id fails at once, naming the AppRole settings and not the secret', async () => {
    const p = await VaultKeyProvider.create({ addr: vault.url, transitKey: 'weftkit', appRole: { roleId: 'role-1', secretId: 'bad-secret-xyz' } }, deps);
    await assert.rejects(p.wrapKey(Buffer.alloc(32), ctx), (err: Error & { code: string }) => {
      assert.equal(err.code, 'WK_KEYPROVIDER_ACCESS_DENIED');
      assert.match(err.message, /WEFTKIT_VAULT_SECRET_ID/);
      assert.doesNotMatch(err.message, /bad-secret-xyz/);
      return true;
    });
  });

  test('bad settings are refused before any call', async () => {
    await assert.rejects(VaultKeyProvider.create({ ...base, addr: 'vault.local' }, deps), { code: 'WK_KEYPROVIDER_MISCONFIGURED' });
    await assert.rejects(VaultKeyProvider.create({ ...base, transitKey: '../x' }, deps), { code: 'WK_KEYPROVIDER_MISCONFIGURED' });
    await assert.rejects(VaultKeyProvider.create({ addr: vault.url, transitKey: 'k' }, deps), { code: 'WK_KEYPROVIDER_MISCONFIGURED' });
  });
});
