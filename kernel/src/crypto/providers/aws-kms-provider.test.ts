import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../log/logger.js';
import { FakeAwsKms } from '../../testing/fake-kms/index.js';
import type { WrapContext } from '../key-provider.js';
import { type AwsKmsProviderOptions, AwsKmsKeyProvider } from './aws-kms-provider.js';

const ctx: WrapContext = { keyringId: 'ring-1', purpose: 'dek', tenant: 'acme', keyVersion: 3 };
// A roomy deadline: the client library's first call is slow on a loaded machine. Tests about the
// deadline itself use `short`.
const deps = { logger: silentLogger, retry: { deadlineMs: 15_000, baseDelayMs: 10, maxDelayMs: 50 } };
const short = { ...deps, retry: { deadlineMs: 800, baseDelayMs: 10, maxDelayMs: 50 } };
const code = (expected: string, setting: RegExp) => (err: Error & { code: string }) => {
  assert.equal(err.code, expected);
  assert.match(err.message, setting);
  return true;
};

describe('kms provider against a fake AWS KMS (real @aws-sdk/client-kms, SigV4 checked)', () => {
  const kms = new FakeAwsKms({ region: 'eu-west-1' });
  let base: AwsKmsProviderOptions;
  let arn: string;
  before(async () => {
    await kms.start();
    kms.addCredentials('AKIAWEFTKITTEST01', 'right-secret-key');
    arn = kms.createKey(['AKIAWEFTKITTEST01']);
    base = { keyArn: arn, region: 'eu-west-1', endpoint: kms.url, credentials: { accessKeyId: 'AKIAWEFTKITTEST01', secretAccessKey: 'right-secret-key' } };
  });
  after(() => kms.stop());

  test('Encrypt/Decrypt with the tenant in the encryption context; another context does not decrypt', async () => {
    const p = await AwsKmsKeyProvider.create(base, deps);
    assert.equal(p.keyId, `kms:${arn}`);
    const dek = Buffer.alloc(32, 5);
    const wrapped = await p.wrapKey(dek, ctx);
    assert.ok(!wrapped.includes(dek));
    assert.deepEqual(kms.contexts.at(-1), { 'weftkit:keyring': 'ring-1', 'weftkit:purpose': 'dek', 'weftkit:tenant': 'acme', 'weftkit:key-version': '3' });
    assert.deepEqual(await p.unwrapKey(wrapped, ctx), dek);
    await assert.rejects(p.unwrapKey(wrapped, { ...ctx, tenant: 'evil' }), { code: 'WK_CRYPTO_UNWRAP_FAILED' });
    await assert.rejects(p.unwrapKey(Buffer.from('garbage'), ctx), { code: 'WK_CRYPTO_UNWRAP_FAILED' });
  });

  test('a wrong secret key fails SigV4 verification: denied at once, naming the AWS credentials', async () => {
    const p = await AwsKmsKeyProvider.create({ ...base, credentials: { accessKeyId: 'AKIAWEFTKITTEST01', secretAccessKey: 'wrong-secret-key' } }, deps);
    const n = kms.requests;
    await assert.rejects(p.wrapKey(Buffer.alloc(32), ctx), code('WK_KEYPROVIDER_ACCESS_DENIED', /AWS_ACCESS_KEY_ID/));
    assert.equal(kms.requests - n, 1, 'not retried');
  });

  test('an unknown access key and a caller outside the key policy are denied', async () => {
    kms.addCredentials('AKIAOTHERUSER0001', 'other-secret');
    const stranger = await AwsKmsKeyProvider.create({ ...base, credentials: { accessKeyId: 'AKIAUNKNOWN000001', secretAccessKey: 'x' } }, deps);
    await assert.rejects(stranger.wrapKey(Buffer.alloc(32), ctx), { code: 'WK_KEYPROVIDER_ACCESS_DENIED' });
    const outsider = await AwsKmsKeyProvider.create({ ...base, credentials: { accessKeyId: 'AKIAOTHERUSER0001', secretAccessKey: 'other-secret' } }, deps);
    await assert.rejects(outsider.wrapKey(Buffer.alloc(32), ctx), code('WK_KEYPROVIDER_ACCESS_DENIED', /key policy/));
  });

  test('a disabled, pending-deletion or deleted key is WK_KEYPROVIDER_KEY_UNUSABLE naming WEFTKIT_KMS_KEY_ARN', async () => {
    const p = await AwsKmsKeyProvider.create(base, deps);
    const wrapped = await p.wrapKey(Buffer.alloc(32, 1), ctx);
    for (const state of ['Disabled', 'PendingDeletion'] as const) {
      kms.setKeyState(arn, state);
      await assert.rejects(p.unwrapKey(wrapped, ctx), code('WK_KEYPROVIDER_KEY_UNUSABLE', /WEFTKIT_KMS_KEY_ARN/));
    }
    kms.setKeyState(arn, 'Enabled');
    const gone = kms.createKey();
    const q = await AwsKmsKeyProvider.create({ ...base, keyArn: gone }, deps);
    kms.deleteKey(gone);
    await assert.rejects(q.wrapKey(Buffer.alloc(32), ctx), code('WK_KEYPROVIDER_KEY_UNUSABLE', /WEFTKIT_KMS_KEY_ARN/));
  });

  test('throttling and 5xx are retried with backoff; a stopped KMS fails within the deadline', async () => {
    const p = await AwsKmsKeyProvider.create(base, short);
    kms.inject({ kind: 'status', reply: { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } } });
    kms.inject({ kind: 'status', reply: { status: 500, body: { __type: 'KMSInternalException', message: 'x' } } });
    const wrapped = await p.wrapKey(Buffer.alloc(32, 4), ctx);
    assert.deepEqual(await p.unwrapKey(wrapped, ctx), Buffer.alloc(32, 4));
    await kms.stop();
    const t0 = Date.now();
    await assert.rejects(p.unwrapKey(wrapped, ctx), code('WK_KEYPROVIDER_UNAVAILABLE', /WEFTKIT_KMS_ENDPOINT/));
    assert.ok(Date.now() - t0 < 1500);
    await kms.start();
    assert.deepEqual(await p.unwrapKey(wrapped, ctx), Buffer.alloc(32, 4), 'works again once the KMS is back');
  });

  test('settings are checked before any call', async () => {
    await assert.rejects(AwsKmsKeyProvider.create({ ...base, region: 'us-east-1' }, deps), code('WK_KEYPROVIDER_MISCONFIGURED', /WEFTKIT_KMS_REGION/));
    await assert.rejects(AwsKmsKeyProvider.create({ ...base, region: 'nowhere' }, deps), code('WK_KEYPROVIDER_MISCONFIGURED', /WEFTKIT_KMS_REGION/));
    await assert.rejects(AwsKmsKeyProvider.create({ ...base, endpoint: 'kms.local' }, deps), code('WK_KEYPROVIDER_MISCONFIGURED', /WEFTKIT_KMS_ENDPOINT/));
  });
});
