import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../log/logger.js';
import { FakeGcpKms } from '../../testing/fake-kms/index.js';
import { type WrapContext, wrapContextAad } from '../key-provider.js';
import { type GcpKmsProviderOptions, GcpKmsKeyProvider } from './gcp-kms-provider.js';

const ctx: WrapContext = { keyringId: 'ring-1', purpose: 'dek', tenant: 'acme', keyVersion: 1 };
// A roomy deadline: the client library's first call is slow on a loaded machine. Tests about the
// deadline itself use `short`.
const deps = { logger: silentLogger, retry: { deadlineMs: 15_000, baseDelayMs: 10, maxDelayMs: 50 } };
const short = { ...deps, retry: { deadlineMs: 800, baseDelayMs: 10, maxDelayMs: 50 } };
const code = (expected: string, setting: RegExp) => (err: Error & { code: string }) => {
  assert.equal(err.code, expected);
  assert.match(err.message, setting);
  return true;
};

describe('gcp-kms provider against a fake Cloud KMS (real @google-cloud/kms, REST mode)', () => {
  const gcp = new FakeGcpKms();
  let base: GcpKmsProviderOptions;
  let key: string;
  before(async () => {
    await gcp.start();
    key = gcp.createKey('proj-1', 'europe-west1', 'weftkit', 'kek');
    gcp.addToken('ya29.good-token', [key]);
    base = { key, endpoint: gcp.url, accessToken: 'ya29.good-token' };
  });
  after(() => gcp.stop());

  test('encrypt/decrypt with the context as additionalAuthenticatedData, enforced', async () => {
    const p = await GcpKmsKeyProvider.create(base, deps);
    assert.equal(p.keyId, `gcp-kms:${key}`);
    const dek = Buffer.alloc(32, 6);
    const wrapped = await p.wrapKey(dek, ctx);
    assert.ok(!wrapped.includes(dek));
    assert.deepEqual(gcp.aads.at(-1), wrapContextAad(ctx));
    assert.deepEqual(await p.unwrapKey(wrapped, ctx), dek);
    await assert.rejects(p.unwrapKey(wrapped, { ...ctx, tenant: 'evil' }), { code: 'WK_CRYPTO_UNWRAP_FAILED' });
  });

  test('a bad bearer token or a token without the role on the key is denied at once', async () => {
    const p = await GcpKmsKeyProvider.create({ ...base, accessToken: 'ya29.bad-token' }, deps);
    const n = gcp.requests;
    await assert.rejects(p.wrapKey(Buffer.alloc(32), ctx), code('WK_KEYPROVIDER_ACCESS_DENIED', /cryptoKeyEncrypterDecrypter/));
    assert.equal(gcp.requests - n, 1);
    gcp.addToken('ya29.other', []);
    const q = await GcpKmsKeyProvider.create({ ...base, accessToken: 'ya29.other' }, deps);
    await assert.rejects(q.wrapKey(Buffer.alloc(32), ctx), { code: 'WK_KEYPROVIDER_ACCESS_DENIED' });
  });

  test('a disabled or destroyed key is WK_KEYPROVIDER_KEY_UNUSABLE, on decrypt too (not "wrong key")', async () => {
    const p = await GcpKmsKeyProvider.create(base, deps);
    const wrapped = await p.wrapKey(Buffer.alloc(32, 1), ctx);
    for (const state of ['DISABLED', 'DESTROYED'] as const) {
      gcp.setKeyState(key, state);
      await assert.rejects(p.unwrapKey(wrapped, ctx), code('WK_KEYPROVIDER_KEY_UNUSABLE', /WEFTKIT_GCP_KMS_KEY/));
      await assert.rejects(p.wrapKey(Buffer.alloc(32), ctx), { code: 'WK_KEYPROVIDER_KEY_UNUSABLE' });
    }
    gcp.setKeyState(key, 'ENABLED');
  });

  test('503 is retried; a stopped service fails within the deadline, then recovers', async () => {
    const p = await GcpKmsKeyProvider.create(base, short);
    gcp.inject({ kind: 'status', reply: { status: 503, body: { error: { code: 503, message: 'x', status: 'UNAVAILABLE' } } } }, 2);
    const wrapped = await p.wrapKey(Buffer.alloc(32, 2), ctx);
    await gcp.stop();
    const t0 = Date.now();
    await assert.rejects(p.unwrapKey(wrapped, ctx), code('WK_KEYPROVIDER_UNAVAILABLE', /WEFTKIT_GCP_KMS_ENDPOINT/));
    assert.ok(Date.now() - t0 < 1500);
    await gcp.start();
    assert.deepEqual(await p.unwrapKey(wrapped, ctx), Buffer.alloc(32, 2));
  });

  test('a key that is not a resource name is refused before any call', async () => {
    await assert.rejects(GcpKmsKeyProvider.create({ ...base, key: 'kek' }, deps), code('WK_KEYPROVIDER_MISCONFIGURED', /WEFTKIT_GCP_KMS_KEY/));
    await assert.rejects(GcpKmsKeyProvider.create({ ...base, endpoint: 'http://h:1/v1' }, deps), code('WK_KEYPROVIDER_MISCONFIGURED', /WEFTKIT_GCP_KMS_ENDPOINT/));
  });
});
