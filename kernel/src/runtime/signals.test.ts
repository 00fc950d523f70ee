import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { createLogger } from '../log/logger.js';
import { reloadOnSighup, warnWhileInsecure } from './signals.js';

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger({ write: (l) => lines.push(l) }) };
}

test('SIGHUP reloads every target; a failing one is logged by code and the others still reload', async () => {
  const { lines, logger } = capture();
  const calls: string[] = [];
  const off = reloadOnSighup(
    [
      { name: 'users', reload: async () => void calls.push('users') },
      {
        name: 'tls',
        reload: async () => {
          calls.push('tls');
          throw Object.assign(new Error('key /etc/weftkit/tls/server.key has secret bits'), { code: 'WK_TLS_KEY_MISMATCH' });
        },
      },
      { name: 'roles', reload: async () => void calls.push('roles') },
    ],
    logger,
  );
  try {
    process.kill(process.pid, 'SIGHUP');
    await sleep(50);
    assert.deepEqual(calls, ['users', 'tls', 'roles']);
    const failure = lines.find((l) => l.includes('reload failed'));
    assert.ok(failure?.includes('WK_TLS_KEY_MISMATCH'));
    assert.ok(!lines.join('').includes('secret bits'), 'error messages are not logged');
  } finally {
    off();
  }
});

test('SIGHUPs during a reload coalesce into one more reload', async () => {
  const { logger } = capture();
  let n = 0;
  const off = reloadOnSighup([{ name: 'slow', reload: async () => {
        n++;
        await sleep(30);
      } }], logger);
  try {
    process.emit('SIGHUP', 'SIGHUP');
    process.emit('SIGHUP', 'SIGHUP');
    process.emit('SIGHUP', 'SIGHUP');
    await sleep(120);
    assert.equal(n, 2);
  } finally {
    off();
  }
});

test('the insecure-mode warning repeats while on', async () => {
  const { lines, logger } = capture();
  const stop = warnWhileInsecure(logger, 'WEFTKIT_AUTH=none', 20);
  await sleep(70);
  stop();
  const count = lines.filter((l) => l.includes('INSECURE')).length;
  assert.ok(count >= 3, `warned ${count} times`);
});
