import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LoginLockout, peerAddress } from './lockout.js';

function clock(): { now: () => number; advance: (s: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (s) => (t += s * 1000) };
}

describe('LoginLockout', () => {
  test('locks after the limit within the window, for the lockout time', () => {
    const c = clock();
    const l = new LoginLockout({ now: c.now });
    for (let i = 0; i < 4; i++) assert.equal(l.recordFailure('alice', '10.0.0.1'), false);
    l.check('alice', '10.0.0.1');
    assert.equal(l.recordFailure('alice', '10.0.0.1'), true);
    assert.throws(() => l.check('alice', '10.0.0.1'), (err: { code: string; sqlstate: string; httpStatus: number; retryAfterSeconds: number }) => {
      assert.equal(err.code, 'WK_AUTH_LOCKED_OUT');
      assert.equal(err.sqlstate, '28000');
      assert.equal(err.httpStatus, 429);
      assert.equal(err.retryAfterSeconds, 300);
      return true;
    });
    l.check('alice', '10.0.0.2');
    l.check('bob', '10.0.0.1');
    c.advance(299);
    assert.throws(() => l.check('alice', '10.0.0.1'), { code: 'WK_AUTH_LOCKED_OUT' });
    c.advance(1);
    l.check('alice', '10.0.0.1');
  });

  test('failures outside the window do not add up', () => {
    const c = clock();
    const l = new LoginLockout({ now: c.now, failureLimit: 3, failureWindowSeconds: 10 });
    l.recordFailure('a', 'ip');
    l.recordFailure('a', 'ip');
    c.advance(10);
    assert.equal(l.recordFailure('a', 'ip'), false);
    assert.equal(l.recordFailure('a', 'ip'), false);
    assert.equal(l.recordFailure('a', 'ip'), true);
  });

  test('a success clears the window', () => {
    const l = new LoginLockout({ now: clock().now, failureLimit: 3 });
    l.recordFailure('a', 'ip');
    l.recordFailure('a', 'ip');
    l.recordSuccess('a', 'ip');
    assert.equal(l.recordFailure('a', 'ip'), false);
    assert.equal(l.recordFailure('a', 'ip'), false);
    assert.equal(l.recordFailure('a', 'ip'), true);
  });

  test('spraying user names keeps memory bounded and does not evict a lock', () => {
    const l = new LoginLockout({ now: clock().now, failureLimit: 2, maxEntries: 100, maxLocked: 100 });
    l.recordFailure('victim', 'ip');
    l.recordFailure('victim', 'ip');
    for (let i = 0; i < 10_000; i++) l.recordFailure(`spray${i}`, 'ip');
    assert.ok(l.size <= 200, `size ${l.size}`);
    assert.throws(() => l.check('victim', 'ip'), { code: 'WK_AUTH_LOCKED_OUT' });
  });

  test('peerAddress strips the port from v4, bracketed v6 and bare v6 peers', () => {
    assert.equal(peerAddress('10.1.2.3:5432'), '10.1.2.3');
    assert.equal(peerAddress('[::1]:5432'), '::1');
    assert.equal(peerAddress('::ffff:127.0.0.1:40000'), '::ffff:127.0.0.1');
  });
});
