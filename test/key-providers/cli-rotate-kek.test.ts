// `weftkit keys rotate-kek --new-env FILE` between providers, end to end with the built CLI:
// file → vault → kms, against fake Vault and AWS KMS servers driven by the real SDKs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { weftkit } from '../../cli/src/testing/run-cli.js';
import { AwsKmsKeyProvider } from '../../kernel/src/crypto/providers/aws-kms-provider.js';
import { Keyring } from '../../kernel/src/crypto/keyring.js';
import { createLocalKeyProvider } from '../../kernel/src/crypto/local-key-providers.js';
import { silentLogger } from '../../kernel/src/log/logger.js';
import { FakeAwsKms, FakeVault } from '../../kernel/src/testing/fake-kms/index.js';

describe('weftkit keys rotate-kek across providers', () => {
  const vault = new FakeVault();
  const kms = new FakeAwsKms({ region: 'eu-west-3' });
  let dir: string;
  let arn: string;
  let base: Record<string, string>;
  const aws = { AWS_ACCESS_KEY_ID: 'AKIAWEFTKITROTATE1', AWS_SECRET_ACCESS_KEY: 'rotate-aws-secret', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

  before(async () => {
    await vault.start();
    vault.addToken('hvs.rotate-token', { keys: ['weftkit-kek'] });
    vault.rotateKey('weftkit-kek');
    await kms.start();
    kms.addCredentials(aws.AWS_ACCESS_KEY_ID, aws.AWS_SECRET_ACCESS_KEY);
    arn = kms.createKey([aws.AWS_ACCESS_KEY_ID]);
    dir = await mkdtemp(join(tmpdir(), 'wk-rotate-'));
    base = { WEFTKIT_DATA_DIR: join(dir, 'data'), WEFTKIT_AUDIT: 'true', WEFTKIT_AUDIT_OUTPUT: join(dir, 'audit.jsonl'), WEFTKIT_AUDIT_EVENTS: 'admin' };
    await writeFile(join(dir, 'old.key'), randomBytes(32), { mode: 0o600 });
    await writeFile(join(dir, 'vault.env'), `# the new KEK\nWEFTKIT_KEY_PROVIDER=vault\nWEFTKIT_VAULT_ADDR=${vault.url}\nWEFTKIT_VAULT_TOKEN="hvs.rotate-token"\nWEFTKIT_VAULT_TRANSIT_KEY=weftkit-kek\n`, { mode: 0o600 });
    await writeFile(join(dir, 'kms.env'), `WEFTKIT_KEY_PROVIDER=kms\nWEFTKIT_KMS_KEY_ARN=${arn}\nWEFTKIT_KMS_REGION=eu-west-3\nWEFTKIT_KMS_ENDPOINT=${kms.url}\n`);
  });
  after(async () => {
    await vault.stop();
    await kms.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function deks(provider: Parameters<typeof Keyring.open>[0]['provider']): Promise<string> {
    const ring = await Keyring.open({ dataDir: base.WEFTKIT_DATA_DIR!, provider, logger: silentLogger });
    try {
      const out = [];
      for (const t of ring.listTenants()) {
        const k = await ring.exportTenantKeys(t.tenant);
        out.push(`${t.tenant}:${k.keys.map((x) => x.key.toString('hex')).join(',')}`);
      }
      return out.join(';');
    } finally {
      ring.close();
      await provider.close();
    }
  }

  test('file → vault → kms keeps every tenant key and retires the old KEK', async () => {
    const fileEnv = { ...base, WEFTKIT_KEY_FILE: join(dir, 'old.key') };
    for (const t of ['tenant-a', 'tenant-b']) assert.equal((await weftkit(['tenant', 'create', t], fileEnv)).code, 0);
    const before = await deks(createLocalKeyProvider({ kind: 'file', keyFile: join(dir, 'old.key') }, { dataDir: base.WEFTKIT_DATA_DIR!, logger: silentLogger }));

    const toVault = await weftkit(['keys', 'rotate-kek', '--new-env', join(dir, 'vault.env')], fileEnv);
    assert.equal(toVault.code, 0, toVault.err);
    assert.match(toVault.out, /rewrapped 2 key\(s\) of 2 tenant\(s\).*\(vault\)/);
    const oldAgain = await weftkit(['tenant', 'list'], fileEnv);
    assert.match(oldAgain.err, /^WK_CRYPTO_WRONG_KEK: /, 'the old file KEK no longer opens the keyring');

    const vaultEnv = { ...base, WEFTKIT_KEY_PROVIDER: 'vault', WEFTKIT_VAULT_ADDR: vault.url, WEFTKIT_VAULT_TOKEN: 'hvs.rotate-token', WEFTKIT_VAULT_TRANSIT_KEY: 'weftkit-kek' };
    assert.match((await weftkit(['tenant', 'list'], vaultEnv)).out, /tenant-a/);
    const toKms = await weftkit(['keys', 'rotate-kek', '--new-env', join(dir, 'kms.env')], { ...vaultEnv, ...aws });
    assert.equal(toKms.code, 0, toKms.err);
    assert.match((await weftkit(['tenant', 'list'], vaultEnv)).err, /^WK_CRYPTO_WRONG_KEK: /);

    const kmsProvider = await AwsKmsKeyProvider.create(
      { keyArn: arn, region: 'eu-west-3', endpoint: kms.url, credentials: { accessKeyId: aws.AWS_ACCESS_KEY_ID, secretAccessKey: aws.AWS_SECRET_ACCESS_KEY } },
      { logger: silentLogger },
    );
    assert.equal(await deks(kmsProvider), before, 'the same data keys, now wrapped by the KMS');
    assert.ok(kms.contexts.some((c) => c['weftkit:tenant'] === 'tenant-b'), 'the tenant travels in the encryption context');

    const audit = await readFile(base.WEFTKIT_AUDIT_OUTPUT!, 'utf8');
    assert.match(audit, /"keys\.rotate_kek".*"previous_provider":"file".*"provider":"vault"/);
    assert.match(audit, /"keys\.rotate_kek".*"previous_provider":"vault".*"provider":"kms"/);
    assert.ok(!audit.includes('hvs.rotate-token') && !audit.includes(aws.AWS_SECRET_ACCESS_KEY));
  });

  test('a new-env file with another setting, or without a provider, is refused without touching the keyring', async () => {
    await writeFile(join(dir, 'bad.env'), 'WEFTKIT_KEY_PROVIDER=kms\nWEFTKIT_AUTH=none\n');
    await writeFile(join(dir, 'empty.env'), '# nothing\n');
    const env = { ...base, WEFTKIT_KEY_PROVIDER: 'kms', WEFTKIT_KMS_KEY_ARN: arn, WEFTKIT_KMS_REGION: 'eu-west-3', WEFTKIT_KMS_ENDPOINT: kms.url, ...aws };
    for (const f of ['bad.env', 'empty.env']) {
      const r = await weftkit(['keys', 'rotate-kek', '--new-env', join(dir, f)], env);
      assert.equal(r.code, 1);
      assert.match(r.err, /^WK_ADMIN_KEK_SOURCE_INVALID: /);
    }
    assert.equal((await weftkit(['keys', 'rotate-kek', '--new-env', 'a', '--new-key-file', 'b'], env)).code, 2);
    assert.match((await weftkit(['tenant', 'list'], env)).out, /tenant-a/);
  });
});
