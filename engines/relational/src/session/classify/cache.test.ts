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
  const a = cache.classify('SELECT a');
  cache.classify('SELECT b');
  cache.classify('SELECT a'); // a is now the most recent
  cache.classify('SELECT c'); // evicts b
  assert.equal(cache.size, 2);
  assert.equal(cache.classify('SELECT a'), a);
  const misses = cache.misses;
  cache.classify('SELECT b');
  assert.equal(cache.misses, misses + 1);
  cache.classify(`SELECT ${'a + '.repeat(20)}a`);
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

// Statements whose texts differ only in integer literals, each with variants; the shape cache
// must give exactly what a fresh classification gives for every variant.
const SHAPED_CORPUS: readonly (readonly string[])[] = [
  ['SELECT abalance FROM pgbench_accounts WHERE aid = 7;', 'SELECT abalance FROM pgbench_accounts WHERE aid = 12345;', 'SELECT abalance FROM pgbench_accounts WHERE aid = 99999999999;'],
  ['UPDATE pgbench_accounts SET abalance = abalance + 5 WHERE aid = 10', 'UPDATE pgbench_accounts SET abalance = abalance + -3000 WHERE aid = 1'],
  ['INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 2, 3, 4, CURRENT_TIMESTAMP)', 'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (10, 20, 30, 40, CURRENT_TIMESTAMP)'],
  ['DELETE FROM t1 WHERE id = 1 RETURNING *', 'DELETE FROM t1 WHERE id = 22 RETURNING *'],
  ["SELECT * FROM orders WHERE note = 'x5' AND id > 5 /* 7 */ -- 8\n LIMIT 10", "SELECT * FROM orders WHERE note = 'x5' AND id > 6 /* 7 */ -- 8\n LIMIT 100"],
  ['SELECT nextval(\'seq1\'), 1 FROM "t 2"', 'SELECT nextval(\'seq1\'), 2 FROM "t 2"'],
  ['WITH d AS (DELETE FROM t WHERE id = 1 RETURNING *) SELECT * FROM d JOIN u ON u.id = d.id', 'WITH d AS (DELETE FROM t WHERE id = 2 RETURNING *) SELECT * FROM d JOIN u ON u.id = d.id'],
  ['SELECT * FROM t FOR UPDATE OF t SKIP LOCKED LIMIT 1', 'SELECT * FROM t FOR UPDATE OF t SKIP LOCKED LIMIT 2'],
  ["SELECT set_config('app.tenant_id', 'a', false) WHERE 1 = 1", "SELECT set_config('app.tenant_id', 'a', false) WHERE 1 = 2"],
  ["SELECT set_config('application_name', 'a', false), 1", "SELECT set_config('application_name', 'a', false), 2"],
  ['SELECT 1::interval(3), 1.5, 1e5, 0x1F, 1_000, -4, x.5 FROM t x', 'SELECT 2::interval(3), 1.5, 1e5, 0x1F, 1_000, -4, x.5 FROM t x'],
  ['SELECT 1; SELECT 2', 'SELECT 3; SELECT 4'],
  ['SET statement_timeout = 5', 'SET statement_timeout = 60000'],
  ['EXPLAIN ANALYZE SELECT * FROM t WHERE id = 1', 'EXPLAIN ANALYZE SELECT * FROM t WHERE id = 2'],
  ["SELECT E'\\' 5 ', 1 FROM t -- '", "SELECT E'\\' 6 ', 1 FROM t -- '"],
  // the scanner sees a hole at 1; PostgreSQL sees the sequence "x' 1" (a different resource per digit)
  ["SELECT nextval(E'\"x\\' 1\"') -- \"\n-- '", "SELECT nextval(E'\"x\\' 2\"') -- \"\n-- '"],
  ['UPDATE pgbench_tellers SET tbalance = tbalance + -4242 WHERE tid = 3;', 'UPDATE pgbench_tellers SET tbalance = tbalance + - 17 WHERE tid = 9;', 'UPDATE pgbench_tellers SET tbalance = tbalance + -2147483648 WHERE tid = 1;'],
  ['SELECT a -5, - 6, - -7, - /* c */ 8 FROM t', 'SELECT a -50, - 60, - -70, - /* c */ 80 FROM t'],
  ['SELECT pg_read_file(5)', 'SELECT pg_read_file(6)'],
  ['SELECT * FROM t1 WHERE a = 1', 'SELECT * FROM t2 WHERE a = 1'],
];

test('every variant of a shaped statement is classified exactly as a fresh classification would', () => {
  const cache = new ClassifierCache();
  for (const variants of SHAPED_CORPUS) {
    for (const sql of variants) assert.deepEqual(cache.classify(sql), classify(sql), sql);
    // the other order too: the cached entry may come from any variant
    const reversed = new ClassifierCache();
    for (const sql of [...variants].reverse()) assert.deepEqual(reversed.classify(sql), classify(sql), sql);
  }
});

test('texts that differ only in integer literals share one classification (pgbench -S)', () => {
  const cache = new ClassifierCache();
  for (let aid = 1; aid <= 500; aid++) cache.classify(`SELECT abalance FROM pgbench_accounts WHERE aid = ${aid * 197};`);
  assert.equal(cache.misses, 1);
  assert.equal(cache.shapeHits, 499);
  assert.equal(cache.size, 1);
  const c = cache.classify('SELECT abalance FROM pgbench_accounts WHERE aid = 123456789;');
  assert.deepEqual(c, classify('SELECT abalance FROM pgbench_accounts WHERE aid = 123456789;'));
  assert.equal(c.statements[0]?.length, 'SELECT abalance FROM pgbench_accounts WHERE aid = 123456789'.length);
  // tpcb-like: the delta is often negative (a constant folded with its minus sign): one shape per sign
  const tpcb = new ClassifierCache();
  for (const delta of [-4999, 17, -3, 5000]) tpcb.classify(`UPDATE pgbench_accounts SET abalance = abalance + ${delta} WHERE aid = 12;`);
  assert.equal(tpcb.misses, 2);
  assert.equal(tpcb.shapeHits, 2);
});

test('digits in names, strings, comments and settings never make a shared entry', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['SELECT * FROM t1', 'SELECT * FROM t2'],
    ['SELECT * FROM "t 1"', 'SELECT * FROM "t 2"'],
    ["SELECT nextval('s 1')", "SELECT nextval('s 2')"],
    // not DML: SET replays its own text (offsets) and is never shaped
    ['SET statement_timeout = 5', 'SET statement_timeout = 6'],
    // two statements
    ['SELECT 1; SELECT 2', 'SELECT 3; SELECT 4'],
    // - - 4: the outer minus folds the inner constant; the digits' own minus holds no constant
    ['SELECT - -4', 'SELECT - -5'],
    ['SELECT - /* c */ 4', 'SELECT - /* c */ 5'],
    // the scanner takes E'\' for a closed string and 5 for a hole; PostgreSQL reads 5 inside the
    // string, so the grammar check refuses the shape
    ["SELECT E'\\' 5 ', 1 FROM t -- '", "SELECT E'\\' 6 ', 1 FROM t -- '"],
    ["SELECT nextval(E'\"x\\' 1\"') -- \"\n-- '", "SELECT nextval(E'\"x\\' 2\"') -- \"\n-- '"],
  ];
  for (const [a, b] of cases) {
    const cache = new ClassifierCache();
    cache.classify(a);
    cache.classify(b);
    assert.equal(cache.shapeHits, 0, `${a} / ${b}`);
    assert.equal(cache.misses, 2, `${a} / ${b}`);
  }
});

test('stats count calls, hits by kind and time', () => {
  const cache = new ClassifierCache();
  cache.classify('SELECT * FROM t WHERE id = 1');
  cache.classify('SELECT * FROM t WHERE id = 2');
  cache.classify('SELECT a');
  cache.classify('SELECT a');
  const s = cache.stats;
  assert.equal(s.calls, 4);
  assert.equal(s.misses, 2);
  assert.equal(s.shapeHits, 1);
  assert.equal(s.exactHits, 1);
  assert.ok(s.seconds > 0);
});
