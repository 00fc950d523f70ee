import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CancelRegistry } from './cancel-registry.js';

test('a cancel needs the exact random key; unregistered keys do nothing', () => {
  const registry = new CancelRegistry();
  let cancelled = 0;
  const key = registry.register({ cancel: () => cancelled++ });
  assert.ok(key.processId > 0);
  assert.equal(registry.cancel(key.processId, key.secretKey ^ 1), false);
  assert.equal(registry.cancel(key.processId + 1, key.secretKey), false);
  assert.equal(cancelled, 0);
  assert.equal(registry.cancel(key.processId, key.secretKey), true);
  assert.equal(cancelled, 1);
  registry.unregister(key);
  assert.equal(registry.cancel(key.processId, key.secretKey), false);
  const other = registry.register({ cancel: () => {} });
  assert.notEqual(other.processId, 0);
});
