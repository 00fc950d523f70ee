import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/weftkit.mjs', import.meta.url));

/** Runs the built `weftkit` binary with exactly the given environment (plus PATH). */
export function weftkit(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    child.stdin.end(stdin ?? '');
  });
}

test('config check accepts a valid environment and says what it found', async () => {
  const r = await weftkit(['config', 'check', '--engine', 'kv'], { WEFTKIT_AUTH: 'jwt', WEFTKIT_JWT_JWKS_URI: 'https://idp.example/jwks' });
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /valid for kv: auth jwt/);
});

test('config check names a typo and fails with exit 1, without echoing a secret', async () => {
  const r = await weftkit(['config', 'check'], { WEFTKIT_KEY_PROVIDR: 'env', WEFTKIT_KEY: 'c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw==' , WEFTKIT_KEY_PROVIDER: 'file' });
  assert.equal(r.code, 1);
  assert.match(r.err, /WEFTKIT_KEY_PROVIDR/);
  assert.ok(!r.err.includes('c2VjcmV0'));
});

test('unknown commands and bad usage exit 2', async () => {
  assert.equal((await weftkit(['frobnicate'])).code, 2);
  assert.equal((await weftkit(['config', 'check', '--engine', 'mongo'])).code, 2);
  assert.equal((await weftkit([])).code, 2);
  const help = await weftkit(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /config check/);
});
