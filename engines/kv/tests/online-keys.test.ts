// End to end: the kv engine as a process under continuous HTTP traffic for two tenants, while the
// real `weftkit` CLI (a child process, through the engine's admin socket) shreds one tenant,
// rotates the other's DEK (re-encrypting in the background) and rotates the KEK; then a SIGKILL in
// the middle of a re-encryption and a restart that finishes it. No request of tenant A may fail.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scramVerifier } from '@weftkit/kernel';
import { weftkit } from '../../../cli/src/testing/run-cli.js';
import { call, errorCode } from './helpers.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const main = join(pkg, 'src', 'main.ts');

interface Engine {
  child: ChildProcess;
  url: string;
  ops: string;
  stderr: () => string;
}

async function startEngine(env: Record<string, string>): Promise<Engine> {
  const child = spawn(process.execPath, ['--import', 'tsx', main], { cwd: pkg, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const started = await new Promise<{ url: string; ops: string }>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d.toString();
      const line = stderr.split('\n').find((l) => l.includes('weftkit kv listening'));
      if (line !== undefined) resolve(JSON.parse(line));
    });
    child.on('exit', () => reject(new Error(`engine exited: ${stderr}`)));
  });
  return { child, ...started, stderr: () => stderr };
}

const cli = (args: string[], env: Record<string, string>): Promise<{ code: number; out: string; err: string }> => weftkit(args, env);

function headerKeyVersion(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(36);
    readSync(fd, b, 0, 36, 0);
    return b.readUInt32BE(32);
  } finally {
    closeSync(fd);
  }
}

const logFiles = (dataDir: string, tenant: string): string[] =>
  readdirSync(join(dataDir, 'tenants', tenant))
    .filter((n) => /^\d{10}\.(seg|cmp)$/.test(n))
    .map((n) => join(dataDir, 'tenants', tenant, n));

function keyringVersions(dataDir: string, tenant: string): number[] | undefined {
  const body = JSON.parse(readFileSync(join(dataDir, 'keyring.json'), 'utf8').split('\n')[0]!);
  return body.tenants[tenant]?.keys.map((k: { version: number }) => k.version);
}

/** The killed rotation's --rate: slow enough to be caught mid-job, fast enough to finish soon after the restart. */
const SLOW_RATE = 262144;

const auth = (user: string): string => `Basic ${Buffer.from(`${user}:${user}-password-1`).toString('base64')}`;
const itemValue = (key: string, n: number): string => `${key}#${n}:${'p'.repeat(2000)}`;

/** Tenant status from `weftkit keys status` (the engine's view). */
async function status(
  env: Record<string, string>,
  tenant: string,
): Promise<{ versions: string; remaining: number; bytes: number; running: boolean; rate: number | undefined }> {
  const r = await cli(['keys', 'status'], env);
  assert.equal(r.code, 0, r.err);
  const line = r.out.split('\n').find((l) => l.startsWith(`${tenant}\t`))!;
  const m = /versions ([\d,]+).*?(running|idle), (\d+) file\(s\) left, (\d+) bytes done(?:, rate (\d+) B\/s)?/.exec(line);
  if (m === null) return { versions: /versions ([\d,]+)/.exec(line)![1]!, remaining: -1, bytes: 0, running: false, rate: undefined };
  return { versions: m[1]!, running: m[2] === 'running', remaining: Number(m[3]), bytes: Number(m[4]), rate: m[5] === undefined ? undefined : Number(m[5]) };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('online key operations under traffic', () => {
  let dir: string;
  let engineEnv: Record<string, string>;
  let cliEnv: Record<string, string>;
  let engine: Engine | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wk-online-'));
    const users = await Promise.all(['ua', 'ub'].map(async (u) => `${u}:${await scramVerifier(`${u}-password-1`)}`));
    await writeFile(join(dir, 'users.htpasswd'), `${users.join('\n')}\n`);
    await writeFile(
      join(dir, 'roles.yaml'),
      'users:\n  ua: { roles: [read_write], tenants: [ta], default_tenant: ta }\n  ub: { roles: [read_write], tenants: [tb], default_tenant: tb }\n',
    );
    await writeFile(join(dir, 'old.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    await writeFile(join(dir, 'new.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    engineEnv = {
      WEFTKIT_HOST: '127.0.0.1',
      WEFTKIT_PORT: '0',
      WEFTKIT_OPS_HOST: '127.0.0.1',
      WEFTKIT_OPS_PORT: '0',
      WEFTKIT_DATA_DIR: join(dir, 'data'),
      WEFTKIT_AUTH_USERS_FILE: join(dir, 'users.htpasswd'),
      WEFTKIT_ROLES_FILE: join(dir, 'roles.yaml'),
      WEFTKIT_KEY_FILE: join(dir, 'old.key'),
      WEFTKIT_AUDIT: 'true',
      WEFTKIT_AUDIT_OUTPUT: join(dir, 'audit.jsonl'),
      WEFTKIT_AUDIT_EVENTS: 'admin',
    };
    cliEnv = { WEFTKIT_DATA_DIR: join(dir, 'data') };
  });
  after(async () => {
    engine?.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  test('shred, DEK rotation and KEK rotation while traffic runs; a killed re-encryption finishes after restart', async () => {
    engine = await startEngine(engineEnv);
    const e = engine;
    const dataDir = engineEnv.WEFTKIT_DATA_DIR!;
    // Tenant A's acknowledged values, the only truth after all of this.
    const acked = new Map<string, string>();
    const put = async (user: string, key: string, value: string) =>
      call(e.url, 'PUT', `/items/${key}`, { headers: { authorization: auth(user), 'content-type': 'text/plain' }, body: value });
    for (let i = 0; i < 600; i++) {
      const r = await put('ua', `seed${i}`, itemValue(`seed${i}`, 0));
      assert.equal(r.status < 300, true);
      acked.set(`seed${i}`, itemValue(`seed${i}`, 0));
    }
    assert.equal((await put('ub', 'b0', 'b')).status < 300, true);

    const failuresA: string[] = [];
    const bAfterShred: { status: number; code: string | undefined }[] = [];
    let shredDone = false;
    let stop = false;
    let n = 0;
    const loopA = async (): Promise<void> => {
      while (!stop) {
        const key = `live${n % 200}`;
        const value = itemValue(key, ++n);
        const w = await put('ua', key, value);
        if (w.status >= 300) failuresA.push(`PUT ${w.status} ${errorCode(w)}`);
        else acked.set(key, value);
        const seed = `seed${n % 600}`;
        const g = await call(e.url, 'GET', `/items/${seed}`, { headers: { authorization: auth('ua') } });
        if (g.status !== 200 || g.buf.toString() !== acked.get(seed)) failuresA.push(`GET ${g.status} ${errorCode(g)}`);
      }
    };
    const loopB = async (): Promise<void> => {
      let m = 0;
      while (!stop) {
        const after = shredDone;
        const r = m % 2 === 0 ? await put('ub', `b${m}`, 'b') : await call(e.url, 'GET', '/items/b0', { headers: { authorization: auth('ub') } });
        if (after) bAfterShred.push({ status: r.status, code: errorCode(r) });
        m++;
        await new Promise((res) => setTimeout(res, 5));
      }
    };
    const traffic = Promise.all([loopA(), loopA(), loopB()]);
    try {
      await new Promise((r) => setTimeout(r, 300));

      const shred = await cli(['tenant', 'shred', 'tb', '--yes'], cliEnv);
      assert.equal(shred.code, 0, shred.err);
      assert.match(shred.out, /shredded tenant tb: 1 key version\(s\) destroyed, \d+ file\(s\) removed \(by the running engine\)/);
      shredDone = true;
      assert.equal(keyringVersions(dataDir, 'tb'), undefined);

      const rotate = await cli(['keys', 'rotate-dek', 'ta', '--rate', '1048576'], cliEnv);
      assert.equal(rotate.code, 0, rotate.err);
      assert.match(rotate.out, /tenant ta now writes under key version 2; re-encrypting \d+ file\(s\)/);
      await until('re-encryption of ta', async () => {
        const s = await status(cliEnv, 'ta');
        return !s.running && s.remaining === 0 && s.versions === '2';
      });
      const metrics = (await call(`http://${e.ops.replace(/^https?:\/\//, '')}`, 'GET', '/metrics')).buf.toString();
      assert.match(metrics, /^weftkit_reencrypt_bytes_total [1-9]\d*$/m);
      assert.match(metrics, /^weftkit_reencrypt_segments_remaining\{tenant="ta"\} 0$/m);
      assert.ok(logFiles(dataDir, 'ta').every((f) => headerKeyVersion(f) === 2), 'no log file under the old DEK');
      assert.deepEqual(keyringVersions(dataDir, 'ta'), [2]);

      const kek = await cli(['keys', 'rotate-kek', '--new-key-file', join(dir, 'new.key')], cliEnv);
      assert.equal(kek.code, 0, kek.err);
      assert.match(kek.out, /rewrapped 1 key\(s\) of 1 tenant\(s\) under the new KEK \(file\)/);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      stop = true;
      await traffic;
    }
    assert.deepEqual(failuresA, [], 'no request of tenant A failed');
    assert.ok(n > 50, `traffic ran (${n} rounds)`);
    assert.ok(bAfterShred.length > 0);
    for (const r of bAfterShred) assert.deepEqual(r, { status: 410, code: 'WK_KV_TENANT_SHREDDED' });
    for (const [key, value] of acked) {
      const g = await call(e.url, 'GET', `/items/${key}`, { headers: { authorization: auth('ua') } });
      assert.equal(g.buf.toString(), value, key);
    }

    // A second rotation, slow, killed half-way; the restarted engine (now on the new KEK) finishes it
    // at the same --rate, which the keyring kept (not the 32 MiB/s default).
    const slow = await cli(['keys', 'rotate-dek', 'ta', '--rate', String(SLOW_RATE)], cliEnv);
    assert.equal(slow.code, 0, slow.err);
    await until('some progress', async () => (await status(cliEnv, 'ta')).bytes > 0);
    const mid = await status(cliEnv, 'ta');
    assert.ok(mid.running && mid.remaining > 0, JSON.stringify(mid));
    assert.equal(mid.rate, SLOW_RATE);
    e.child.kill('SIGKILL');
    await new Promise((r) => e.child.once('exit', r));
    assert.ok(logFiles(dataDir, 'ta').some((f) => headerKeyVersion(f) === 2), 'killed before the job finished');

    engine = await startEngine({ ...engineEnv, WEFTKIT_KEY_FILE: join(dir, 'new.key') });
    const e2 = engine;
    const resumedAt = new Set<number | undefined>();
    await until('resumed re-encryption', async () => {
      const s = await status(cliEnv, 'ta');
      if (s.remaining >= 0) resumedAt.add(s.rate);
      return !s.running && s.remaining === 0 && s.versions === '3';
    });
    assert.deepEqual([...resumedAt], [SLOW_RATE], 'the resumed job runs at the --rate it was started with');
    assert.ok(logFiles(dataDir, 'ta').every((f) => headerKeyVersion(f) === 3));
    assert.deepEqual(keyringVersions(dataDir, 'ta'), [3]);
    for (const [key, value] of acked) {
      const g = await call(e2.url, 'GET', `/items/${key}`, { headers: { authorization: auth('ua') } });
      assert.equal(g.buf.toString(), value, key);
    }
    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      audit.filter((a) => a.event === 'admin' && a.operation !== 'keys.status').map((a) => [a.operation, a.resource, a.result, a.identity]),
      [
        ['tenant.shred', 'tb', 'success', 'local-socket'],
        ['keys.rotate_dek', 'ta', 'success', 'local-socket'],
        ['keys.rotate_kek', 'keyring', 'success', 'local-socket'],
        ['keys.rotate_dek', 'ta', 'success', 'local-socket'],
      ],
    );
    e2.child.kill('SIGTERM');
    assert.equal(await new Promise((r) => e2.child.once('exit', r)), 0, e2.stderr());
    engine = undefined;
  });
});
