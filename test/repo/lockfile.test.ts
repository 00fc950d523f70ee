import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// `npm ci` on a clean checkout (what CI runs) refuses a lock that lacks other platforms' optional
// packages, which `npm install` here leaves out (see scripts/lockfile-platforms.mjs).
test('package-lock.json is complete enough for npm ci', () => {
  const script = fileURLToPath(new URL('../../scripts/lockfile-platforms.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
