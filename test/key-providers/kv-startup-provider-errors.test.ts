// Start-up with an unreachable or misconfigured key provider: one `CODE: reason` line naming the
// variable to fix, a non-zero exit, no SDK stack trace and no secret (kv engine as a child).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeAwsKms, FakeVault } from '../../kernel/src/testing/fake-kms/index.js';
import { kvEnv, runKv } from './kv-child.js';

describe('kv engine start-up with a broken key provider', () => {
  const vault = new FakeVault();
  const kms = new FakeAwsKms();
  let dir: string;
  let arn: string;
  before(async () => {
    await vault.start();
    vault.addToken('hvs.RIGHT-token');
    vault.rotateKey('weftkit');
    await kms.start();
    kms.addCredentials('AKIAWEFTKITSTART1', 'right-aws-secret');
    arn = kms.createKey();
    dir = await mkdtemp(join(tmpdir(), 'wk-kv-start-'));
  });
  after(async () => {
    await vault.stop();
    await kms.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const cases: { name: string; env: () => Record<string, string>; code: string; names: RegExp; secret?: string }[] = [
    {
      name: 'Vault unreachable',
      env: () => ({ WEFTKIT_KEY_PROVIDER: 'vault', WEFTKIT_VAULT_ADDR: 'http://127.0.0.1:1', WEFTKIT_VAULT_TOKEN: 'hvs.PLANTED-1', WEFTKIT_VAULT_TRANSIT_KEY: 'weftkit', WEFTKIT_KEY_PROVIDER_TIMEOUT_SECONDS: '1' }),
      code: 'WK_KEYPROVIDER_UNAVAILABLE',
      names: /WEFTKIT_VAULT_ADDR/,
      secret: 'hvs.PLANTED-1',
    },
    {
      name: 'Vault token wrong',
      env: () => ({ WEFTKIT_KEY_PROVIDER: 'vault', WEFTKIT_VAULT_ADDR: vault.url, WEFTKIT_VAULT_TOKEN: 'hvs.PLANTED-wrong', WEFTKIT_VAULT_TRANSIT_KEY: 'weftkit' }),
      code: 'WK_KEYPROVIDER_ACCESS_DENIED',
      names: /WEFTKIT_VAULT_TOKEN/,
      secret: 'hvs.PLANTED-wrong',
    },
    {
      name: 'AWS secret key wrong (SigV4 fails)',
      env: () => ({
        WEFTKIT_KEY_PROVIDER: 'kms',
        WEFTKIT_KMS_KEY_ARN: arn,
        WEFTKIT_KMS_REGION: 'us-east-1',
        WEFTKIT_KMS_ENDPOINT: kms.url,
        AWS_ACCESS_KEY_ID: 'AKIAWEFTKITSTART1',
        AWS_SECRET_ACCESS_KEY: 'PLANTED-wrong-aws-secret',
      }),
      code: 'WK_KEYPROVIDER_ACCESS_DENIED',
      names: /AWS_ACCESS_KEY_ID/,
      secret: 'PLANTED-wrong-aws-secret',
    },
    {
      name: 'KMS key disabled',
      env: () => {
        const disabled = kms.createKey();
        kms.setKeyState(disabled, 'Disabled');
        return { WEFTKIT_KEY_PROVIDER: 'kms', WEFTKIT_KMS_KEY_ARN: disabled, WEFTKIT_KMS_REGION: 'us-east-1', WEFTKIT_KMS_ENDPOINT: kms.url, AWS_ACCESS_KEY_ID: 'AKIAWEFTKITSTART1', AWS_SECRET_ACCESS_KEY: 'right-aws-secret' };
      },
      code: 'WK_KEYPROVIDER_KEY_UNUSABLE',
      names: /WEFTKIT_KMS_KEY_ARN/,
    },
    {
      name: 'GCP key not a resource name',
      env: () => ({ WEFTKIT_KEY_PROVIDER: 'gcp-kms', WEFTKIT_GCP_KMS_KEY: 'my-key' }),
      code: 'WK_KEYPROVIDER_MISCONFIGURED',
      names: /WEFTKIT_GCP_KMS_KEY/,
    },
  ];

  for (const c of cases) {
    test(`${c.name}: one line ${c.code} naming the setting, exit 1`, async () => {
      const run = runKv(kvEnv(join(dir, c.name.replace(/\W+/g, '-')), c.env()));
      const t0 = Date.now();
      const { code, stderr } = await run.done;
      assert.equal(code, 1);
      assert.ok(Date.now() - t0 < 15_000);
      const lines = stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
      assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
      assert.match(lines[0]!, new RegExp(`^${c.code}: `));
      assert.match(lines[0]!, c.names);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
      if (c.secret !== undefined) assert.ok(!stderr.includes(c.secret), 'no secret on stderr');
    });
  }
});
