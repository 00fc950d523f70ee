import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { ClassifierCache } from './cache.js';
import { classify, loadClassifier } from './classify.js';

before(async () => {
  await loadClassifier();
});

test('a repeated SQL string is classified once and returns the same frozen object', () => {
  const cache = new ClassifierCache({ maxEntries: 2 });
  const a = cache.classify('SELECT * FROM t');
  assert.equal(cache.classify('SELECT * FROM t'), a);
  assert.equal(cache.hits, 1);
  assert.equal(cache.misses, 1);
});

test('least recently used entry is evicted first; long strings are not cached', () => {
  const cache = new ClassifierCache({ maxEntries: 2, maxSqlLength: 40 });
  const a = cache.classify('SELECT 1');
  cache.classify('SELECT 2');
  cache.classify('SELECT 1'); // 1 is now the most recent
  cache.classify('SELECT 3'); // evicts 2
  assert.equal(cache.size, 2);
  assert.equal(cache.classify('SELECT 1'), a);
  const misses = cache.misses;
  cache.classify('SELECT 2');
  assert.equal(cache.misses, misses + 1);
  cache.classify(`SELECT ${'1 + '.repeat(20)}1`);
  assert.equal(cache.size, 2);
});

test('measured: parse+classify and cached µs per statement', (t) => {
  const typical = [
    'SELECT abalance FROM pgbench_accounts WHERE aid = $1',
    'UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2',
    'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)',
    'WITH d AS (DELETE FROM t WHERE id = 1 RETURNING *) SELECT * FROM d JOIN u ON u.id = d.id',
    "SELECT o.id, sum(i.qty) FROM orders o JOIN items i ON i.order_id = o.id WHERE o.tenant_id = current_setting('app.tenant_id') GROUP BY o.id",
  ];
  const rounds = 400;
  for (const sql of typical) classify(sql);
  let start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) for (const sql of typical) classify(sql);
  const uncached = Number(process.hrtime.bigint() - start) / 1000 / (rounds * typical.length);
  const cache = new ClassifierCache();
  for (const sql of typical) cache.classify(sql);
  const hits = 200_000;
  start = process.hrtime.bigint();
  for (let i = 0; i < hits; i++) cache.classify(typical[i % typical.length]!);
  const cached = Number(process.hrtime.bigint() - start) / 1000 / hits;
  t.diagnostic(`parse+classify: ${uncached.toFixed(1)} µs/statement; cached: ${cached.toFixed(3)} µs/statement`);
  assert.ok(cached < uncached);
});
