import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ALL_ACTIONS, actionNames } from '@weftkit/kernel';
import { classify, loadClassifier } from './classify.js';
import { PreparedStatements } from './prepared.js';

before(async () => {
  await loadClassifier();
});

test('unresolved EXECUTE needs every action (fails closed if the session forgets to resolve)', () => {
  const c = classify('EXECUTE p');
  assert.equal(c.actions, ALL_ACTIONS);
  assert.deepEqual(c.statements[0]?.executes, ['p']);
});

test('PREPARE p AS DELETE FROM t; EXECUTE p in one string: EXECUTE needs DELETE on t', () => {
  const reg = new PreparedStatements();
  const c = reg.apply(classify('PREPARE p AS DELETE FROM t; EXECUTE p'));
  assert.deepEqual(actionNames(c.actions), ['DELETE']);
  assert.deepEqual(actionNames(c.statements[1]!.actions), ['DELETE']);
  assert.deepEqual(c.statements[1]!.resources, [{ name: 'public.t', actions: 8 }]);
});

test('EXECUTE in a later string uses the remembered statement; a forbidden one stays forbidden', () => {
  const reg = new PreparedStatements();
  reg.apply(classify("PREPARE q AS SELECT set_config('role', 'postgres', false)"));
  reg.apply(classify('PREPARE r AS SELECT * FROM orders WHERE id = $1'));
  assert.equal(reg.apply(classify('EXECUTE q')).forbidden, 'role_change');
  const r = reg.apply(classify('EXECUTE r(1)'));
  assert.equal(r.forbidden, undefined);
  assert.deepEqual(r.resources, [{ name: 'public.orders', actions: 1 }]);
});

test('unknown names resolve to every action; DEALLOCATE and DISCARD ALL forget', () => {
  const reg = new PreparedStatements();
  assert.equal(reg.apply(classify('EXECUTE nope')).actions, ALL_ACTIONS);
  reg.apply(classify('PREPARE a AS SELECT 1; PREPARE b AS SELECT 2'));
  reg.apply(classify('DEALLOCATE a'));
  assert.equal(reg.has('a'), false);
  assert.equal(reg.apply(classify('EXECUTE a')).actions, ALL_ACTIONS);
  reg.apply(classify('DISCARD ALL'));
  assert.equal(reg.size, 0);
});

test('redefining a name keeps the union (a failed duplicate PREPARE leaves the old one in PostgreSQL)', () => {
  const reg = new PreparedStatements();
  reg.apply(classify('PREPARE p AS DELETE FROM t'));
  reg.apply(classify('PREPARE p AS SELECT * FROM t'));
  assert.deepEqual(actionNames(reg.apply(classify('EXECUTE p')).actions), ['SELECT', 'DELETE']);
});

test('protocol-level named statements share the namespace; EXPLAIN ANALYZE / CREATE TABLE AS EXECUTE resolve', () => {
  const reg = new PreparedStatements();
  reg.define('s1', classify('UPDATE t SET a = 1'));
  assert.deepEqual(actionNames(reg.apply(classify('EXPLAIN ANALYZE EXECUTE s1')).actions), ['UPDATE']);
  const ctas = reg.apply(classify('CREATE TABLE x AS EXECUTE s1'));
  assert.deepEqual(actionNames(ctas.actions), ['INSERT', 'UPDATE', 'DDL']);
  reg.forget('s1');
  assert.equal(reg.apply(classify('EXECUTE s1')).actions, ALL_ACTIONS);
});
