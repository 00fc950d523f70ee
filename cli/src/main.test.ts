import assert from 'node:assert/strict';
import { test } from 'node:test';
import { weftkit } from './testing/run-cli.js';

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
