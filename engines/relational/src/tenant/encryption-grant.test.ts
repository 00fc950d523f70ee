import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerGrant, createGrantChannel, GrantedBudgets } from './encryption-grant.js';

test('a worker spends only what was granted, asks for more ahead of time, and stops when refused', () => {
  const channel = createGrantChannel([1, 2]);
  const asked: number[] = [];
  let reserveCalls = 0;
  const budgets = new GrantedBudgets(channel, (v) => asked.push(v), 50);
  answerGrant(channel, 1, () => 20000);
  const b = budgets.budget(1);
  for (let i = 0; i < 11000; i++) b.take();
  assert.deepEqual(asked, [], 'plenty left');
  for (let i = 0; i < 1000; i++) b.take();
  assert.deepEqual(asked, [1], 'asked once it ran low, before running out');
  answerGrant(channel, 1, () => {
    reserveCalls++;
    return 5000;
  });
  for (let i = 0; i < 12000; i++) b.take();
  assert.equal(reserveCalls, 1);
  // Version 2 was never granted anything and nobody answers: it blocks briefly, then refuses.
  assert.throws(() => budgets.budget(2).take(), { code: 'WK_CRYPTO_KEY_EXHAUSTED' });
  // A refusal from the keyring (hard limit) stops sealing at once.
  answerGrant(channel, 2, () => {
    throw new Error('exhausted');
  });
  assert.throws(() => budgets.budget(2).take(), { code: 'WK_CRYPTO_KEY_EXHAUSTED' });
  assert.throws(() => budgets.budget(3).take(), { code: 'WK_CRYPTO_KEY_EXHAUSTED' });
});
