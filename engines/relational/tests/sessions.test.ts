// Many client sessions over one tenant backend: settings and prepared statements stay per session,
// concurrent transactions keep balances right, pgbench's prepared mode runs with 4 clients.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { PASSWORDS, startTestServer, type TestServer } from '../src/testing/test-server.js';
import { run } from './helpers.js';

let server: TestServer;
const open: pg.Client[] = [];
before(async () => {
  server = await startTestServer({ env: { WEFTKIT_INSECURE_DEV: 'true' } });
});
after(async () => {
  for (const c of open) await c.end().catch(() => undefined);
  await server?.close();
});

async function connect(user = 'alice'): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user, password: PASSWORDS[user.split('@')[0]!]!, database: 't1' });
  c.on('error', () => {});
  await c.connect();
  open.push(c);
  return c;
}

test("session A's SET and prepared statement p are invisible to session B", async () => {
  const a = await connect();
  const b = await connect('rita');
  const defaultTimeout = (await b.query('show statement_timeout')).rows[0].statement_timeout as string;
  await a.query("SET statement_timeout = '1234ms'");
  await a.query('SET application_name = $$from_a$$');
  assert.deepEqual((await a.query({ name: 'p', text: 'select 1 as a' })).rows, [{ a: 1 }]);
  assert.equal((await b.query('show statement_timeout')).rows[0].statement_timeout, defaultTimeout);
  assert.notEqual((await b.query('show application_name')).rows[0].application_name, 'from_a');
  // B's own p: in a shared namespace this Parse would fail with 42P05.
  assert.deepEqual((await b.query({ name: 'p', text: 'select 2 as b' })).rows, [{ b: 2 }]);
  assert.deepEqual((await a.query({ name: 'p', text: 'select 1 as a' })).rows, [{ a: 1 }]);
  assert.equal((await a.query('show statement_timeout')).rows[0].statement_timeout, '1234ms');
  assert.equal((await a.query('show application_name')).rows[0].application_name, 'from_a');
  await a.query('RESET statement_timeout');
  await b.query('select 1');
  assert.equal((await a.query('show statement_timeout')).rows[0].statement_timeout, defaultTimeout);
  // The backend holds each session's p under its own name; none under the client's.
  const carol = await connect('carol@t1');
  const names = (await carol.query('select name from pg_prepared_statements')).rows.map((r: { name: string }) => r.name);
  assert.ok(!names.includes('p'));
});

test('a closed session leaves no prepared statements on the backend', async () => {
  const c = await connect('rita');
  await c.query({ name: 'gone1', text: 'select 1' });
  await c.query({ name: 'gone2', text: 'select 2' });
  const carol = await connect('carol@t1');
  const count = async (): Promise<number> =>
    (await carol.query("select count(*)::int as n from pg_prepared_statements where name like '%gone%'")).rows[0].n as number;
  assert.equal(await count(), 2);
  await c.end();
  for (let i = 0; i < 50 && (await count()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(await count(), 0);
});

test('10 concurrent node-postgres clients doing transfers end with the right balances', async () => {
  const setup = await connect();
  await setup.query('create table accounts (id int primary key, balance int not null)');
  await setup.query('insert into accounts select g, 1000 from generate_series(1, 10) g');
  const expected = new Map<number, number>();
  for (let i = 1; i <= 10; i++) expected.set(i, 1000);
  const clients = await Promise.all(Array.from({ length: 10 }, () => connect('rita')));
  await Promise.all(
    clients.map(async (c, n) => {
      for (let i = 0; i < 15; i++) {
        const from = ((n + i) % 10) + 1;
        const to = ((n + 3 * i + 1) % 10) + 1;
        if (from === to) continue;
        const amount = (n + 1) * (i + 1);
        await c.query('begin');
        await c.query('update accounts set balance = balance - $1 where id = $2', [amount, from]);
        await c.query('update accounts set balance = balance + $1 where id = $2', [amount, to]);
        await c.query('commit');
        expected.set(from, expected.get(from)! - amount);
        expected.set(to, expected.get(to)! + amount);
      }
    }),
  );
  const rows = (await setup.query('select id, balance from accounts order by id')).rows as { id: number; balance: number }[];
  assert.deepEqual(
    rows.map((r) => [r.id, r.balance]),
    [...expected.entries()].sort((x, y) => x[0] - y[0]),
  );
  assert.equal(
    rows.reduce((s, r) => s + r.balance, 0),
    10_000,
  );
});

test('pgbench -i -I dtGvp, then pgbench -M prepared -c 4 -t 200', async () => {
  const conn = ['-h', '127.0.0.1', '-p', String(server.port), '-U', 'alice'];
  const env = { PGPASSWORD: PASSWORDS.alice! };
  const init = await run('/usr/bin/pgbench', ['-i', '-I', 'dtGvp', '-s', '1', ...conn, 't1'], env, 120_000);
  assert.equal(init.code, 0, init.stderr);
  const bench = await run('/usr/bin/pgbench', ['-M', 'prepared', '-c', '4', '-t', '200', ...conn, 't1'], env, 180_000);
  assert.equal(bench.code, 0, bench.stderr);
  assert.match(bench.stdout, /number of transactions actually processed: 800\/800/);
  const check = await connect();
  const sums = (
    await check.query(
      'select (select sum(abalance) from pgbench_accounts)::int as a, (select sum(bbalance) from pgbench_branches)::int as b, (select sum(delta) from pgbench_history)::int as h',
    )
  ).rows[0] as { a: number; b: number; h: number };
  assert.equal(sums.a, sums.h);
  assert.equal(sums.b, sums.h);
  process.stderr.write(`pgbench -M prepared -c 4 -t 200 (tpcb-like, worker tenant): ${/tps = ([0-9.]+)/.exec(bench.stdout)?.[1]} TPS\n`);
});
