import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { scramVerifier } from '@weftkit/kernel';

const exec = promisify(execFile);
const pkg = fileURLToPath(new URL('..', import.meta.url));
const main = join(pkg, 'src', 'main.ts');

function run(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', main], { cwd: pkg, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('weftkit-kv process', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weftkit-kv-proc-'));
    await writeFile(join(dir, 'users.htpasswd'), `alice:${await scramVerifier('alice-password-1')}\n`);
    await writeFile(join(dir, 'roles.yaml'), 'users:\n  alice: { roles: [read_write], tenants: [t1], default_tenant: t1 }\n');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('a start-up failure prints one line CODE: message and exits non-zero', async () => {
    const child = run({ WEFTKIT_PORT: 'not-a-port', WEFTKIT_DATA_DIR: join(dir, 'data') });
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.notEqual(code, 0);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    assert.match(lines[0]!, /^WK_CONFIG_[A-Z_]+: .+/);
    assert.ok(!stderr.includes('    at '));
  });

  test('starts, logs its address, serves curl, and stops on SIGTERM within 10 s', async () => {
    const child = run({
      WEFTKIT_HOST: '127.0.0.1',
      WEFTKIT_PORT: '0',
      WEFTKIT_OPS_HOST: '127.0.0.1',
      WEFTKIT_OPS_PORT: '0',
      WEFTKIT_DATA_DIR: join(dir, 'data'),
      WEFTKIT_AUTH_USERS_FILE: join(dir, 'users.htpasswd'),
      WEFTKIT_ROLES_FILE: join(dir, 'roles.yaml'),
      WEFTKIT_KEY: Buffer.alloc(32, 3).toString('base64'),
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        stderr += d.toString();
        const line = stderr.split('\n').find((l) => l.includes('weftkit kv listening'));
        if (line !== undefined) resolve(JSON.parse(line).url);
      });
      child.on('exit', () => reject(new Error(`exited: ${stderr}`)));
    });
    const { stdout } = await exec('curl', ['-s', '-u', 'alice:alice-password-1', '-X', 'PUT', '--data-binary', 'v', `${url}/items/proc`]);
    assert.equal(JSON.parse(stdout).key, 'proc');
    const { stdout: got } = await exec('curl', ['-s', '-u', 'alice:alice-password-1', `${url}/items/proc`]);
    assert.equal(got, 'v');
    const started = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.ok(Date.now() - started < 10_000);
    assert.ok(!stderr.includes('alice-password-1'));
  });
});
