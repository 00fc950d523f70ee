import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TenantGate } from './tenant-gate.js';

test('the gate is handed over in arrival order', async () => {
  const gate = new TenantGate('t1');
  const a = {};
  const b = {};
  const c = {};
  await gate.acquire(a, 1000);
  const order: string[] = [];
  const pb = gate.acquire(b, 1000).then(() => order.push('b'));
  const pc = gate.acquire(c, 1000).then(() => order.push('c'));
  await gate.acquire(a, 1000);
  gate.release(a);
  await pb;
  assert.equal(gate.holder, b);
  gate.release(b);
  await pc;
  gate.release(c);
  assert.deepEqual(order, ['b', 'c']);
  assert.equal(gate.idle, true);
});

test('a waiter times out with 55P03 and leaves the queue; an aborted one too', async () => {
  const gate = new TenantGate('t1');
  const a = {};
  await gate.acquire(a, 1000);
  await assert.rejects(gate.acquire({}, 30), { code: 'WK_REL_SERVER_SESSION_WAIT_TIMEOUT', sqlstate: '55P03' });
  const ac = new AbortController();
  const aborted = gate.acquire({}, 1000, ac.signal);
  ac.abort(new Error('gone'));
  await assert.rejects(aborted, /gone/);
  assert.equal(gate.waiting, 0);
  const late = {};
  const p = gate.acquire(late, 1000);
  gate.release(a);
  await p;
  assert.equal(gate.holder, late);
});

test('release by a non-holder does nothing', async () => {
  const gate = new TenantGate('t1');
  const a = {};
  await gate.acquire(a, 10);
  gate.release({});
  assert.equal(gate.holder, a);
});
