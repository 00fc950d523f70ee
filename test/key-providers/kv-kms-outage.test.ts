// The kv engine on a KMS key (fake AWS KMS, real SDK, SigV4 checked): a KMS outage does not stop
// tenants already open, fails requests needing a key unwrap closed with a clear 503 (no hang),
// and heals by itself when the KMS is back.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeAwsKms } from '../../kernel/src/testing/fake-kms/index.js';
import { kvEnv, runKv } from './kv-child.js';

describe('kv engine with WEFTKIT_KEY_PROVIDER=kms during a KMS outage', () => {
  const kms = new FakeAwsKms({ region: 'eu-central-1' });
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    await kms.start();
    kms.addCredentials('AKIAWEFTKITKV00001', 'kv-secret-access-key');
    const arn = kms.createKey(['AKIAWEFTKITKV00001']);
    dir = await mkdtemp(join(tmpdir(), 'wk-kv-kms-'));
    env = kvEnv(join(dir, 'data'), {
      WEFTKIT_KEY_PROVIDER: 'kms',
      WEFTKIT_KMS_KEY_ARN: arn,
      WEFTKIT_KMS_REGION: 'eu-central-1',
      WEFTKIT_KMS_ENDPOINT: kms.url,
      WEFTKIT_KEY_PROVIDER_TIMEOUT_SECONDS: '2',
      WEFTKIT_DEK_CACHE_TTL_SECONDS: '3',
      AWS_ACCESS_KEY_ID: 'AKIAWEFTKITKV00001',
      AWS_SECRET_ACCESS_KEY: 'kv-secret-access-key',
    });
  });
  after(async () => {
    await kms.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('open tenants keep serving, an unopened tenant fails closed with 503 within the deadline, then recovers', async () => {
    // First run: two tenants get data keys (wrapped by the KMS).
    let kv = await runKv(env).started;
    for (const t of ['t-open', 't-cold']) assert.equal((await kv.put(t, 'k', `v-${t}`)).status, 200);
    await kv.stop();

    // Second run: only t-open is used before the outage, so t-cold's key is not unwrapped.
    kv = await runKv(env).started;
    try {
      assert.equal(await (await kv.get('t-open', 'k')).text(), 'v-t-open');
      await kms.stop();
      const outageStart = Date.now();
      for (let i = 0; i < 5; i++) {
        assert.equal((await kv.put('t-open', `during-${i}`, 'x')).status, 200);
        assert.equal(await (await kv.get('t-open', 'k')).text(), 'v-t-open');
      }
      const t0 = Date.now();
      const cold = await kv.get('t-cold', 'k');
      const elapsed = Date.now() - t0;
      assert.equal(cold.status, 503);
      const body = (await cold.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'WK_KEYPROVIDER_UNAVAILABLE');
      assert.ok(elapsed < 4000, `failed within the 2 s deadline (+ slack), took ${elapsed} ms`);
      const created = await kv.put('t-new', 'k', 'v');
      assert.equal(created.status, 503, 'a new tenant needs the KMS to wrap its key');
      // Past the cache TTL, tenants already open still serve (their ciphers are held by the store).
      await new Promise((r) => setTimeout(r, Math.max(0, 3200 - (Date.now() - outageStart))));
      assert.equal(await (await kv.get('t-open', 'k')).text(), 'v-t-open');

      await kms.start();
      assert.equal(await (await kv.get('t-cold', 'k')).text(), 'v-t-cold', 'heals by itself once the KMS is back');
      assert.equal((await kv.put('t-new', 'k', 'v')).status, 200);
      assert.doesNotMatch(kv.stderr(), /kv-secret-access-key/);
    } finally {
      await kv.stop();
    }
  });
});
