import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inspect, promisify } from 'node:util';
import { createLogger, silentLogger } from '../../log/logger.js';
import { FakeAwsKms, FakeGcpKms, FakeVault } from '../../testing/fake-kms/index.js';
import type { KeyProvider, WrapContext } from '../key-provider.js';
import { Keyring } from '../keyring.js';
import { AwsKmsKeyProvider } from './aws-kms-provider.js';
import { GcpKmsKeyProvider } from './gcp-kms-provider.js';
import { VaultKeyProvider } from './vault-provider.js';

const ctx: WrapContext = { keyringId: 'ring-1', purpose: 'dek', tenant: 'acme', keyVersion: 1 };
const fast = { deadlineMs: 700, baseDelayMs: 10, maxDelayMs: 50 };

describe('key providers: outage, secrets, lazy loading', () => {
  const kms = new FakeAwsKms();
  let arn: string;
  let dir: string;
  before(async () => {
    await kms.start();
    kms.addCredentials('AKIAWEFTKITTEST01', 'right-secret-key');
    arn = kms.createKey();
    dir = await mkdtemp(join(tmpdir(), 'wk-kp-'));
  });
  after(async () => {
    await kms.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a KMS outage: cached DEKs keep working for the TTL, then fail closed within the deadline, then recover', async () => {
    const provider = await AwsKmsKeyProvider.create(
      { keyArn: arn, region: 'us-east-1', endpoint: kms.url, credentials: { accessKeyId: 'AKIAWEFTKITTEST01', secretAccessKey: 'right-secret-key' } },
      { logger: silentLogger, retry: fast },
    );
    const ring = await Keyring.open({ dataDir: join(dir, 'ttl'), provider, dekCacheTtlSeconds: 1 });
    try {
      await ring.createTenant('t1');
      await kms.stop();
      (await ring.tenantCiphers('t1')).destroy();
      await new Promise((r) => setTimeout(r, 1100));
      const t0 = Date.now();
      await assert.rejects(ring.tenantCiphers('t1'), { code: 'WK_KEYPROVIDER_UNAVAILABLE' });
      assert.ok(Date.now() - t0 < 1500, 'fails closed within the deadline, no hang');
      await assert.rejects(ring.createTenant('t2'), { code: 'WK_KEYPROVIDER_UNAVAILABLE' });
      await kms.start();
      (await ring.tenantCiphers('t1')).destroy();
      await ring.createTenant('t2');
    } finally {
      ring.close();
      await provider.close();
    }
  });

  test('tokens, credentials and key material never appear in errors or logs', async () => {
    const secrets = ['hvs.PLANTED-vault-token', 'PLANTED-approle-secret', 'PLANTED-aws-secret-key', 'ya29.PLANTED-gcp-token'];
    const dek = Buffer.alloc(32, 0xab);
    secrets.push(dek.toString('base64'), dek.toString('hex'));
    const logs: string[] = [];
    const logger = createLogger({ level: 'debug', write: (l) => logs.push(l) });
    const vault = await new FakeVault().start();
    const gcp = await new FakeGcpKms().start();
    vault.rotateKey('k');
    vault.addAppRole('role', 'right');
    const gkey = gcp.createKey();
    const providers: KeyProvider[] = [
      await VaultKeyProvider.create({ addr: vault.url, transitKey: 'k', token: secrets[0]! }, { logger, retry: fast }),
      await VaultKeyProvider.create({ addr: vault.url, transitKey: 'k', appRole: { roleId: 'role', secretId: secrets[1]! } }, { logger, retry: fast }),
      await AwsKmsKeyProvider.create(
        { keyArn: arn, region: 'us-east-1', endpoint: kms.url, credentials: { accessKeyId: 'AKIAWEFTKITTEST01', secretAccessKey: secrets[2]! } },
        { logger, retry: fast },
      ),
      await GcpKmsKeyProvider.create({ key: gkey, endpoint: gcp.url, accessToken: secrets[3]! }, { logger, retry: fast }),
    ];
    const errors: unknown[] = [];
    for (const p of providers) {
      await p.wrapKey(dek, ctx).catch((e: unknown) => errors.push(e));
      await p.unwrapKey(Buffer.from('vault:v1:AAAA'), ctx).catch((e: unknown) => errors.push(e));
    }
    vault.inject({ kind: 'status', reply: { status: 500, body: { errors: ['boom'] } } }, 100);
    kms.inject({ kind: 'status', reply: { status: 500, body: { __type: 'KMSInternalException', message: 'boom' } } }, 100);
    gcp.inject({ kind: 'status', reply: { status: 500, body: { error: { code: 500, message: 'boom', status: 'INTERNAL' } } } }, 100);
    for (const p of providers) await p.wrapKey(dek, ctx).catch((e: unknown) => errors.push(e));
    await vault.stop();
    await gcp.stop();
    kms.clearFaults();
    for (const p of providers) await p.close();
    assert.ok(errors.length >= 10 && logs.length > 0);
    const codes = new Set(errors.map((e) => (e as { code?: string }).code));
    assert.ok(codes.has('WK_KEYPROVIDER_ACCESS_DENIED') && codes.has('WK_KEYPROVIDER_UNAVAILABLE'), [...codes].join());
    const text = [...logs, ...errors.map((e) => `${inspect(e, { depth: Number.POSITIVE_INFINITY, showHidden: true })}\n${JSON.stringify(e)}`)].join('\n');
    for (const s of secrets) assert.ok(!text.includes(s), 'a secret leaked into an error or a log line');
  });

  test('the SDKs are imported only when their provider is created', async () => {
    const here = fileURLToPath(new URL('.', import.meta.url));
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const sdk = () => Object.keys(require.cache).filter((k) => /node_modules\\/(node-vault|@aws-sdk|@google-cloud|google-auth-library|google-gax)\\//.test(k)).length;
      const { createKeyProvider } = await import('./create-key-provider.ts');
      const { silentLogger } = await import('../../log/logger.ts');
      await import('../../index.ts');
      const p = await createKeyProvider({ kind: 'env', key: Buffer.alloc(32, 1).toString('base64') }, { dataDir: '/nonexistent', logger: silentLogger });
      await p.close();
      const before = sdk();
      await createKeyProvider({ kind: 'vault', addr: 'http://127.0.0.1:1', transitKey: 'k', transitMount: 'transit', token: 't' }, { dataDir: '/x', logger: silentLogger });
      console.log(JSON.stringify({ before, after: sdk() }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: here });
    const { before: loadedBefore, after: loadedAfter } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { before: number; after: number };
    assert.equal(loadedBefore, 0, 'no SDK loaded by the kernel or a local provider');
    assert.ok(loadedAfter > 0, 'node-vault loaded once the vault provider is created');
  });
});
