// The relational engine (its shipped bin, WEFTKIT_* only) on a remote key provider — GCP KMS with
// credentials from a metadata server, and Vault with a token — against the local fakes: a table
// written through node-postgres survives a restart that unwraps the keys through the provider
// again, no row reaches the data dir in the clear, a refused credential ends the next start-up with
// one coded line, and no credential appears in the engine's output.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { scramVerifier } from '../../kernel/src/auth/password/index.js';
import { FakeGcpKms, FakeVault } from '../../kernel/src/testing/fake-kms/index.js';
import { FakeGceMetadata } from './fake-gce-metadata.js';

const BIN = fileURLToPath(new URL('../../engines/relational/bin/weftkit-relational.mjs', import.meta.url));
const MARKER = 'REL-PLAINTEXT-MARKER-93be';
const PASSWORD = 'ua-password-1';

interface Engine {
  readonly port: number;
  readonly output: () => string;
  stop(): Promise<void>;
}

interface Run {
  readonly started: Promise<Engine>;
  readonly done: Promise<{ code: number; stderr: string; stdout: string }>;
}

function runRelational(env: Record<string, string>): Run {
  const child: ChildProcess = spawn(process.execPath, [BIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  const done = new Promise<{ code: number; stderr: string; stdout: string }>((resolve) =>
    child.on('close', (code) => resolve({ code: code ?? -1, stderr, stdout })),
  );
  const started = new Promise<Engine>((resolve, reject) => {
    const look = (): void => {
      const line = `${stderr}\n${stdout}`.split('\n').find((l) => l.includes('weftkit relational listening'));
      if (line === undefined) return;
      const { address } = JSON.parse(line) as { address: string };
      resolve({
        port: Number(address.split(':').pop()),
        output: () => `${stdout}\n${stderr}`,
        stop: async () => {
          child.kill('SIGTERM');
          const { code } = await done;
          assert.equal(code, 0, 'clean shutdown');
        },
      });
    };
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      look();
    });
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      look();
    });
    void done.then(({ code }) => reject(new Error(`relational engine exited with ${code}: ${stderr}`)));
  });
  started.catch(() => undefined);
  return { started, done };
}

async function query<T extends pg.QueryResultRow>(port: number, sql: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'ua', password: PASSWORD, database: 'ta' });
  c.on('error', () => {});
  await c.connect();
  try {
    return (await c.query<T>(sql, values)).rows;
  } finally {
    await c.end();
  }
}

async function readTree(dir: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) parts.push(await readFile(join(e.parentPath, e.name)));
  }
  return Buffer.concat(parts);
}

function assertNoSecrets(output: string, secrets: readonly string[]): void {
  for (const s of secrets) assert.ok(!output.includes(s), 'a planted credential appears in the engine output');
  assert.doesNotMatch(output, /hvs\.|ya29\./, 'no Vault or Google token of any kind in the engine output');
}

interface Provider {
  readonly name: string;
  readonly start: () => Promise<void>;
  readonly stop: () => Promise<void>;
  readonly env: () => Record<string, string>;
  readonly secrets: readonly string[];
  readonly decrypts: () => number;
  readonly refuse: () => void;
  readonly refusal: { readonly code: string; readonly names: RegExp };
  /** The same settings aimed at a service that is not this provider's. */
  readonly wrongService: () => Record<string, string>;
}

function relationalSuite(p: Provider): void {
  describe(`relational engine on ${p.name}`, () => {
    let dir: string;
    let base: Record<string, string>;
    before(async () => {
      await p.start();
      dir = await mkdtemp(join(tmpdir(), 'wk-rel-prov-'));
      await writeFile(join(dir, 'users.htpasswd'), `ua:${await scramVerifier(PASSWORD)}\n`);
      await writeFile(join(dir, 'roles.yaml'), 'users:\n  ua: { roles: [read_write, schema_admin], tenants: [ta], default_tenant: ta }\n');
      base = {
        WEFTKIT_HOST: '127.0.0.1',
        WEFTKIT_PORT: '0',
        WEFTKIT_OPS_HOST: '127.0.0.1',
        WEFTKIT_OPS_PORT: '0',
        WEFTKIT_AUTH_USERS_FILE: join(dir, 'users.htpasswd'),
        WEFTKIT_ROLES_FILE: join(dir, 'roles.yaml'),
        WEFTKIT_KEY_PROVIDER_TIMEOUT_SECONDS: '3',
      };
    });
    after(async () => {
      await p.stop();
      await rm(dir, { recursive: true, force: true });
    });

    test('create, insert, restart (keys unwrapped through the provider), read back; no plaintext in the data dir', { timeout: 90_000 }, async () => {
      const env = { ...base, WEFTKIT_DATA_DIR: join(dir, 'data'), ...p.env() };
      let engine = await runRelational(env).started;
      try {
        await query(engine.port, 'create table notes(id int primary key, body text)');
        await query(engine.port, `insert into notes select g, '${MARKER} ' || g from generate_series(1, 50) g`);
      } finally {
        await engine.stop();
      }
      assertNoSecrets(engine.output(), p.secrets);

      const beforeRestart = p.decrypts();
      engine = await runRelational(env).started;
      try {
        assert.ok(p.decrypts() > beforeRestart, 'start-up unwrapped the keyring MAC key through the provider');
        const atStart = p.decrypts();
        const rows = await query<{ n: number; first: string }>(engine.port, 'select count(*)::int as n, min(body) as first from notes');
        assert.deepEqual(rows, [{ n: 50, first: `${MARKER} 1` }]);
        assert.ok(p.decrypts() > atStart, "the tenant's key was unwrapped through the provider after the restart");
      } finally {
        await engine.stop();
      }
      assertNoSecrets(engine.output(), p.secrets);
      const files = await readTree(join(dir, 'data'));
      assert.ok(files.length > 1_000_000, 'the tenant cluster is on disk');
      assert.ok(!files.includes(MARKER), 'no row in the clear in the data dir');
      for (const s of p.secrets) assert.ok(!files.includes(s), 'no credential in the data dir');

      // The service refuses: the next start-up fails with one line naming the setting to fix.
      p.refuse();
      const { code, stderr, stdout } = await runRelational(env).done;
      assert.equal(code, 1, stderr);
      const lines = stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
      assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
      assert.match(lines[0]!, new RegExp(`^${p.refusal.code}: `));
      assert.match(lines[0]!, p.refusal.names);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
      assertNoSecrets(`${stdout}\n${stderr}`, p.secrets);
    });

    test('pointed at the wrong service, start-up fails with a key provider error', async () => {
      const { code, stderr, stdout } = await runRelational({ ...base, WEFTKIT_DATA_DIR: join(dir, 'wrong'), ...p.wrongService() }).done;
      assert.equal(code, 1, stderr);
      const lines = stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
      assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
      assert.match(lines[0]!, /^WK_KEYPROVIDER_[A-Z_]+: /);
      assertNoSecrets(`${stdout}\n${stderr}`, p.secrets);
    });
  });
}

{
  const gcp = new FakeGcpKms();
  const vault = new FakeVault();
  const token = 'ya29.PLANTED-rel-gcp-token-61d0';
  const metadata = new FakeGceMetadata(token);
  let key = '';
  const env = (endpoint: string): Record<string, string> => ({
    WEFTKIT_KEY_PROVIDER: 'gcp-kms',
    WEFTKIT_GCP_KMS_KEY: key,
    WEFTKIT_GCP_KMS_ENDPOINT: endpoint,
    ...metadata.env,
  });
  relationalSuite({
    name: 'gcp-kms',
    start: async () => {
      await gcp.start();
      await vault.start();
      await metadata.start();
      key = gcp.createKey('proj-1', 'us-east1', 'weftkit', 'rel-kek');
      gcp.addToken(token, [key]);
    },
    stop: async () => {
      await gcp.stop();
      await vault.stop();
      await metadata.stop();
    },
    env: () => env(gcp.url),
    secrets: [token],
    decrypts: () => gcp.decrypts,
    refuse: () => gcp.setKeyState(key, 'DESTROYED'),
    refusal: { code: 'WK_KEYPROVIDER_KEY_UNUSABLE', names: /WEFTKIT_GCP_KMS_KEY/ },
    wrongService: () => env(vault.url),
  });
}

{
  const vault = new FakeVault();
  const gcp = new FakeGcpKms();
  const token = 'hvs.PLANTED-rel-vault-token-2c47';
  const env = (addr: string): Record<string, string> => ({
    WEFTKIT_KEY_PROVIDER: 'vault',
    WEFTKIT_VAULT_ADDR: addr,
    WEFTKIT_VAULT_TRANSIT_KEY: 'weftkit-rel',
    WEFTKIT_VAULT_TOKEN: token,
  });
  relationalSuite({
    name: 'vault',
    start: async () => {
      await vault.start();
      await gcp.start();
      vault.addToken(token, { keys: ['weftkit-rel'] });
      vault.rotateKey('weftkit-rel');
    },
    stop: async () => {
      await vault.stop();
      await gcp.stop();
    },
    env: () => env(vault.url),
    secrets: [token],
    decrypts: () => vault.decrypts,
    refuse: () => vault.revokeToken(token),
    refusal: { code: 'WK_KEYPROVIDER_ACCESS_DENIED', names: /WEFTKIT_VAULT_TOKEN/ },
    wrongService: () => env(gcp.url),
  });
}
