// The kv engine as a child process on each remote key provider — Vault with a token, Vault with
// AppRole in a namespace, GCP KMS with Application Default Credentials from a metadata server —
// against the local fakes (the real SDK runs inside the engine). Data written by two tenants
// survives a restart, which unwraps the keys through the provider again; once the service refuses
// (token revoked, secret id rotated, key disabled, unknown access token), the next start-up ends
// with one coded line naming the setting to fix. No credential reaches stdout, stderr or the data dir.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeGcpKms, FakeVault } from '../../kernel/src/testing/fake-kms/index.js';
import { FakeGceMetadata } from './fake-gce-metadata.js';
import { kvEnv, runKv } from './kv-child.js';

const TENANTS = ['acme', 'globex'] as const;
const MARKER = 'PLAINTEXT-MARKER-4f1c';

interface Refusal {
  readonly name: string;
  readonly refuse: () => void;
  readonly code: string;
  readonly names: RegExp;
}

interface Scenario {
  readonly name: string;
  /** WEFTKIT_* (and Google) variables of the engine. */
  readonly env: () => Record<string, string>;
  /** Credentials given to the engine: none may show up in its output or data dir. */
  readonly secrets: readonly string[];
  /** Successful decrypts the fake has served so far. */
  readonly decrypts: () => number;
  /** Evidence that the engine authenticated the documented way (AppRole logins, metadata token fetches). */
  readonly authCalls?: () => number;
  readonly refusals: readonly Refusal[];
  /** The same settings aimed at a service that is not this provider's. */
  readonly wrongService: () => Record<string, string>;
}

/** Every file under `dir`, concatenated (the data directory is small). */
async function readTree(dir: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) parts.push(await readFile(join(e.parentPath, e.name)));
  }
  return Buffer.concat(parts);
}

function assertNoSecrets(output: string, secrets: readonly string[], where: string): void {
  for (const s of secrets) assert.ok(!output.includes(s), `a planted credential appears in ${where}`);
  assert.doesNotMatch(output, /hvs\.|ya29\./, `no Vault or Google token of any kind in ${where}`);
}

/** Starts the engine expecting start-up to fail; returns its single non-JSON stderr line. */
async function failedStart(env: Record<string, string>, secrets: readonly string[]): Promise<string> {
  const t0 = Date.now();
  const { code, stderr, stdout } = await runKv(env).done;
  assert.equal(code, 1, `exit code 1, stderr:\n${stderr}`);
  assert.ok(Date.now() - t0 < 20_000, 'a refusal is permanent: no retrying until the deadline');
  const lines = stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
  assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  assertNoSecrets(stderr, secrets, 'stderr');
  assertNoSecrets(stdout, secrets, 'stdout');
  return lines[0]!;
}

function providerSuite(make: () => { scenario: Scenario; start: () => Promise<void>; stop: () => Promise<void> }): void {
  const { scenario: s, start, stop } = make();
  describe(`kv engine on ${s.name}`, () => {
    let dir: string;
    let dataDir: string;
    before(async () => {
      await start();
      dir = await mkdtemp(join(tmpdir(), 'wk-kv-prov-'));
      dataDir = join(dir, 'data');
    });
    after(async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    });
    const env = (): Record<string, string> => kvEnv(dataDir, { WEFTKIT_KEY_PROVIDER_TIMEOUT_SECONDS: '3', ...s.env() });

    test('two tenants write, the engine restarts, every key is unwrapped through the provider again', async () => {
      const auth0 = s.authCalls?.() ?? 0;
      let kv = await runKv(env()).started;
      try {
        for (const t of TENANTS) {
          for (let i = 0; i < 3; i++) assert.equal((await kv.put(t, `k${i}`, `${MARKER} ${t} ${i}`)).status, 200);
        }
      } finally {
        await kv.stop();
      }
      if (s.authCalls !== undefined) assert.ok(s.authCalls() > auth0, 'the engine authenticated the documented way');
      assertNoSecrets(kv.stderr(), s.secrets, 'stderr');
      assertNoSecrets(kv.stdout(), s.secrets, 'stdout');

      const before = s.decrypts();
      kv = await runKv(env()).started;
      try {
        const atStart = s.decrypts();
        assert.ok(atStart > before, 'start-up unwrapped the keyring MAC key through the provider');
        for (const t of TENANTS) {
          for (let i = 0; i < 3; i++) {
            const res = await kv.get(t, `k${i}`);
            assert.equal(res.status, 200);
            assert.equal(await res.text(), `${MARKER} ${t} ${i}`);
          }
        }
        assert.ok(s.decrypts() - atStart >= TENANTS.length, 'each tenant key was unwrapped by the provider after the restart');
        const other = await kv.get('acme', 'k9');
        assert.equal(other.status, 404);
      } finally {
        await kv.stop();
      }
      assertNoSecrets(kv.stderr(), s.secrets, 'stderr');
      assertNoSecrets(kv.stdout(), s.secrets, 'stdout');
      const files = await readTree(dataDir);
      assert.ok(files.length > 0);
      assert.ok(!files.includes(MARKER), 'no plaintext value in the data dir');
      for (const secret of s.secrets) assert.ok(!files.includes(secret), 'no credential in the data dir');
    });

    for (const r of s.refusals) {
      test(`${r.name}: the next start-up fails with one line ${r.code} naming the setting`, async () => {
        r.refuse();
        const line = await failedStart(env(), s.secrets);
        assert.match(line, new RegExp(`^${r.code}: `));
        assert.match(line, r.names);
      });
    }

    test('pointed at the wrong service (or namespace), start-up fails with a key provider error', async () => {
      const line = await failedStart(kvEnv(join(dir, 'wrong'), { WEFTKIT_KEY_PROVIDER_TIMEOUT_SECONDS: '3', ...s.wrongService() }), s.secrets);
      assert.match(line, /^WK_KEYPROVIDER_[A-Z_]+: /);
    });
  });
}

// Vault, token auth.
providerSuite(() => {
  const vault = new FakeVault();
  const gcp = new FakeGcpKms();
  const token = 'hvs.PLANTED-kv-token-7d1e';
  const base = (addr: string): Record<string, string> => ({
    WEFTKIT_KEY_PROVIDER: 'vault',
    WEFTKIT_VAULT_ADDR: addr,
    WEFTKIT_VAULT_TRANSIT_KEY: 'weftkit',
    WEFTKIT_VAULT_TOKEN: token,
  });
  return {
    start: async () => {
      await vault.start();
      await gcp.start();
      vault.addToken(token, { keys: ['weftkit'] });
      vault.rotateKey('weftkit');
    },
    stop: async () => {
      await vault.stop();
      await gcp.stop();
    },
    scenario: {
      name: 'vault (token auth)',
      env: () => base(vault.url),
      secrets: [token],
      decrypts: () => vault.decrypts,
      refusals: [{ name: 'token revoked', refuse: () => vault.revokeToken(token), code: 'WK_KEYPROVIDER_ACCESS_DENIED', names: /WEFTKIT_VAULT_TOKEN/ }],
      wrongService: () => base(gcp.url),
    },
  };
});

// Vault, AppRole in a namespace.
providerSuite(() => {
  const vault = new FakeVault();
  const roleId = 'PLANTED-role-id-0b3a';
  const secretId = 'PLANTED-secret-id-c9e2';
  const base = (namespace: string): Record<string, string> => ({
    WEFTKIT_KEY_PROVIDER: 'vault',
    WEFTKIT_VAULT_ADDR: vault.url,
    WEFTKIT_VAULT_TRANSIT_KEY: 'weftkit',
    WEFTKIT_VAULT_TRANSIT_MOUNT: 'kv-transit',
    WEFTKIT_VAULT_NAMESPACE: namespace,
    WEFTKIT_VAULT_ROLE_ID: roleId,
    WEFTKIT_VAULT_SECRET_ID: secretId,
  });
  return {
    start: async () => {
      await vault.start();
      vault.addAppRole(roleId, secretId, { namespace: 'team-a', ttlSeconds: 3600, keys: ['weftkit'] });
      vault.rotateKey('weftkit', 'kv-transit', 'team-a');
      // The same key name outside the namespace: a namespace mix-up must not find it.
      vault.rotateKey('weftkit', 'kv-transit', 'team-b');
    },
    stop: () => vault.stop(),
    scenario: {
      name: 'vault (AppRole, namespace team-a)',
      env: () => base('team-a'),
      secrets: [roleId, secretId],
      decrypts: () => vault.decrypts,
      authCalls: () => vault.logins,
      refusals: [
        {
          name: 'secret id rotated',
          refuse: () => vault.addAppRole(roleId, 'PLANTED-new-secret-id', { namespace: 'team-a', keys: ['weftkit'] }),
          code: 'WK_KEYPROVIDER_ACCESS_DENIED',
          names: /WEFTKIT_VAULT_SECRET_ID/,
        },
      ],
      // The role exists only in team-a.
      wrongService: () => base('team-b'),
    },
  };
});

// GCP KMS, Application Default Credentials from the metadata server.
providerSuite(() => {
  const gcp = new FakeGcpKms();
  const vault = new FakeVault();
  const token = 'ya29.PLANTED-gcp-access-token-5a8f';
  const metadata = new FakeGceMetadata(token);
  let key = '';
  const base = (endpoint: string): Record<string, string> => ({
    WEFTKIT_KEY_PROVIDER: 'gcp-kms',
    WEFTKIT_GCP_KMS_KEY: key,
    WEFTKIT_GCP_KMS_ENDPOINT: endpoint,
    ...metadata.env,
  });
  return {
    start: async () => {
      await gcp.start();
      await vault.start();
      await metadata.start();
      key = gcp.createKey('proj-1', 'europe-west1', 'weftkit', 'kek');
      gcp.addToken(token, [key]);
    },
    stop: async () => {
      await gcp.stop();
      await vault.stop();
      await metadata.stop();
    },
    scenario: {
      name: 'gcp-kms (credentials from the metadata server)',
      env: () => base(gcp.url),
      secrets: [token],
      decrypts: () => gcp.decrypts,
      authCalls: () => metadata.tokenRequests,
      refusals: [
        { name: 'key disabled', refuse: () => gcp.setKeyState(key, 'DISABLED'), code: 'WK_KEYPROVIDER_KEY_UNUSABLE', names: /WEFTKIT_GCP_KMS_KEY/ },
        {
          name: 'key enabled again, but the workload gets an access token without the role',
          refuse: () => {
            gcp.setKeyState(key, 'ENABLED');
            metadata.token = 'ya29.PLANTED-unknown-token';
          },
          code: 'WK_KEYPROVIDER_ACCESS_DENIED',
          names: /GOOGLE_APPLICATION_CREDENTIALS/,
        },
      ],
      wrongService: () => base(vault.url),
    },
  };
});
