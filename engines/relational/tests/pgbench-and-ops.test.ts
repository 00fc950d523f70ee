// pgbench through the server (init with server-side generation, select-only with 2 clients), the
// ops port (health, readiness, Prometheus metrics), and shutdown telling sessions 57P01.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { PASSWORDS, startTestServer, type TestServer } from '../src/testing/test-server.js';
import { run } from './helpers.js';

let server: TestServer;
let closed = false;
before(async () => {
  server = await startTestServer({ env: { WEFTKIT_INSECURE_DEV: 'true' } });
});
after(async () => {
  if (!closed) await server?.close();
});

test('pgbench -i -I dtGvp, then pgbench -S -c 2 -t 200', async () => {
  const conn = ['-h', '127.0.0.1', '-p', String(server.port), '-U', 'alice'];
  const env = { PGPASSWORD: PASSWORDS.alice! };
  const init = await run('/usr/bin/pgbench', ['-i', '-I', 'dtGvp', '-s', '1', ...conn, 't1'], env, 120_000);
  assert.equal(init.code, 0, init.stderr);
  const bench = await run('/usr/bin/pgbench', ['-S', '-c', '2', '-t', '200', ...conn, 't1'], env, 120_000);
  assert.equal(bench.code, 0, bench.stderr);
  assert.match(bench.stdout, /number of transactions actually processed: 400\/400/);
  const tps = Number(/tps = ([0-9.]+)/.exec(bench.stdout)?.[1]);
  assert.ok(tps > 0);
  process.stderr.write(`pgbench -S -c 2 -t 200 through the server (worker tenant, encrypted storage): ${tps.toFixed(0)} TPS\n`);
});

test('ops port: /healthz, /readyz, /metrics', async () => {
  const base = `http://127.0.0.1:${server.opsPort}`;
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  assert.equal((await fetch(`${base}/readyz`)).status, 200);
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'alice', password: 'nope-wrong-1', database: 't1' });
  c.on('error', () => {});
  await assert.rejects(c.connect(), { code: '28P01' });
  const text = await (await fetch(`${base}/metrics`)).text();
  assert.match(text, /^weftkit_relational_auth_failures_total [1-9]/m);
  assert.match(text, /^weftkit_relational_queries_total [1-9]/m);
  assert.match(text, /^weftkit_relational_tenants_open 1$/m);
  assert.match(text, /^weftkit_relational_connections \d+$/m);
  assert.match(text, /^weftkit_relational_query_duration_seconds_count [1-9]/m);
  assert.equal((await fetch(`${base}/nope`)).status, 404);
});

test('close: a session in a transaction hears 57P01, its transaction is rolled back, the port stops', async () => {
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'alice', password: PASSWORDS.alice!, database: 't1' });
  await c.connect();
  await c.query('begin');
  await c.query('select 1');
  const fatal = new Promise<{ code?: string }>((resolve) => c.on('error', (e) => resolve(e as { code?: string })));
  const started = Date.now();
  await server.close();
  closed = true;
  assert.equal((await fatal).code, '57P01');
  assert.ok(Date.now() - started < 10_000);
  const late = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'alice', password: PASSWORDS.alice! });
  late.on('error', () => {});
  await assert.rejects(late.connect());
});
