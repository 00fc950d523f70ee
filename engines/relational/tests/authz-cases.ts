// Authorization cases run twice: with both layers (authz.test.ts) and with the classifier bypassed
// (authz-layer-two.test.ts), which proves the PostgreSQL role alone holds them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { BackendCode } from '../src/protocol/backend-codes.js';
import { readDataRow, splitBackendFrames } from '../src/protocol/backend-reader.js';
import { FrontendBatch } from '../src/session/frontend-encoder.js';
import { PASSWORDS, startTestServer, type TestServer } from '../src/testing/test-server.js';
import { errorsIn, rawSession } from './helpers.js';

export interface Identity {
  readonly currentUser: string;
  readonly sessionUser: string;
  readonly superuser: string;
  readonly tenant: string;
  readonly user: string;
}

const IDENTITY_SQL =
  "select current_user as cu, session_user as su, current_setting('is_superuser') as sup, current_setting('app.tenant_id', true) as t, current_setting('app.user', true) as u";

export async function identityOf(c: pg.Client): Promise<Identity> {
  const r = await c.query(IDENTITY_SQL);
  const row = r.rows[0] as { cu: string; su: string; sup: string; t: string; u: string };
  return { currentUser: row.cu, sessionUser: row.su, superuser: row.sup, tenant: row.t, user: row.u };
}

/** Escape attempts refused by layer one and (except the statement forms only it can stop) by layer two. */
export const ESCAPES: readonly { readonly sql: string; readonly layerTwo: boolean }[] = [
  { sql: 'SET ROLE postgres', layerTwo: true },
  { sql: 'SET ROLE wk_owner', layerTwo: true },
  { sql: "select set_config('role', 'postgres', false)", layerTwo: true },
  { sql: "select set_config('session_authorization', 'postgres', false)", layerTwo: true },
  { sql: "select set_config('app.tenant_id', 't2', false)", layerTwo: true },
  { sql: "select set_config('app.user', 'carol', false)", layerTwo: true },
  { sql: "update pg_settings set setting = 't2' where name = 'app.tenant_id'", layerTwo: true },
  { sql: 'ALTER ROLE current_user SUPERUSER', layerTwo: true },
  { sql: 'CREATE ROLE evil SUPERUSER', layerTwo: true },
  { sql: "DO $$ begin execute 'set session authorization postgres'; end $$", layerTwo: true },
  { sql: "DO $$ begin execute 'set session ' || 'authorization postgres'; end $$", layerTwo: true },
  { sql: "DO $$ begin execute 'reset role'; end $$", layerTwo: true },
  { sql: "DO $$ begin perform set_config('app.tenant_id', 't2', false); end $$", layerTwo: true },
  { sql: "create function f_escape() returns int language sql as $f$ set session authorization postgres; select 1 $f$", layerTwo: true },
  { sql: "create function f_escape2() returns int language plpgsql as $f$ begin execute 'set session authorization postgres'; return 1; end $f$", layerTwo: true },
  { sql: 'create function pg_temp.f() returns int language sql as $f$ select 1 $f$', layerTwo: true },
  { sql: 'RESET ROLE', layerTwo: false },
  { sql: 'RESET SESSION AUTHORIZATION', layerTwo: false },
  { sql: 'SET SESSION AUTHORIZATION DEFAULT', layerTwo: false },
  { sql: 'SET SESSION AUTHORIZATION postgres', layerTwo: false },
  { sql: "SET app.tenant_id = 't2'", layerTwo: false },
  { sql: 'RESET app.tenant_id', layerTwo: false },
  { sql: 'SET app."user" = \'carol\'', layerTwo: false },
];

export function authorizationSuite(bypassClassifier: boolean): void {
  let server: TestServer;
  const open: pg.Client[] = [];
  before(async () => {
    server = await startTestServer({ env: { WEFTKIT_INSECURE_DEV: 'true' }, bypassClassifier });
    try {
      const carol = await connect('carol@t1');
      await carol.query(
        "create table orders (id int primary key, tenant_id text not null, item text); insert into orders values (1, 't1', 'tea'), (2, 't2', 'coffee'); create table secrets (id int); insert into secrets values (42)",
      );
      await carol.query('alter table orders enable row level security; alter table orders force row level security');
      await carol.query("create policy tenant_isolation on orders using (tenant_id = current_setting('app.tenant_id'))");
      await carol.end();
    } catch (err) {
      process.stderr.write(`setup failed; server log:\n${server.logs.slice(-30).join('\n')}\n`);
      throw err;
    }
  });
  after(async () => {
    for (const c of open) await c.end().catch(() => undefined);
    await server?.close();
  });

  async function connect(user: string): Promise<pg.Client> {
    const name = user.split('@')[0]!;
    const c = new pg.Client({ host: '127.0.0.1', port: server.port, user, password: PASSWORDS[name]!, database: 't1' });
    c.on('error', () => {});
    await c.connect();
    open.push(c);
    return c;
  }

  async function expectFailure(c: pg.Client, sql: string): Promise<{ code?: string } | undefined> {
    try {
      await c.query(sql);
    } catch (err) {
      return err as { code?: string };
    }
    return undefined;
  }

  describe(bypassClassifier ? 'layer two alone (classifier bypassed)' : 'both layers', () => {
    for (const user of ['bob', 'rita']) {
      test(`${user} cannot change identity, role or tenant`, async () => {
        const c = await connect(user);
        const before = await identityOf(c);
        assert.match(before.currentUser, /^wk_r_[0-9a-f]{24}$/);
        assert.equal(before.sessionUser, before.currentUser);
        assert.equal(before.superuser, 'off');
        assert.equal(before.tenant, 't1');
        assert.equal(before.user, user);
        const conn = c;
        for (const e of ESCAPES) {
          if (bypassClassifier && !e.layerTwo) continue;
          const err = await expectFailure(conn, e.sql);
          assert.ok(err !== undefined, `${e.sql} succeeded`);
          if (!bypassClassifier) assert.equal(err.code, '42501', e.sql);
          const after = await identityOf(conn);
          assert.deepEqual(after, before, e.sql);
          assert.deepEqual((await conn.query('select item from orders order by id')).rows, [{ item: 'tea' }], e.sql);
        }
      });
    }

    if (bypassClassifier) {
      // PGlite's authenticated user is the bootstrap superuser, so PostgreSQL itself allows the
      // SESSION AUTHORIZATION forms, and any role may set app.*; the engine asks the executor after
      // each unit that could have done so and ends the session instead.
      const identityChanges = [
        'SET SESSION AUTHORIZATION postgres',
        'RESET SESSION AUTHORIZATION',
        'SET SESSION AUTHORIZATION DEFAULT',
        'SET SESSION AUTHORIZATION postgres; select 1 as leaked',
        'SET U&"session_\\0061uthorization" TO postgres',
        "SET app.tenant_id = 't2'",
        "SET app.tenant_id = 't2'; select item from orders order by id",
        'RESET app.tenant_id',
        'SET app."user" = \'carol\'',
        'SET "APP"."user" = \'carol\'',
        "SET app/* a comment */.tenant_id = 't2'",
        "SET U&\"\\0061pp\".tenant_id = 't2'",
        "begin; SET LOCAL app.tenant_id = 't2'",
      ];
      for (const sql of identityChanges) {
        test(`layer two ends the session that runs: ${sql}`, async () => {
          const c = await connect('rita');
          const before = await identityOf(c);
          const err = await expectFailure(c, sql);
          assert.equal(err?.code, '42501', sql);
          assert.ok((await expectFailure(c, 'select 1')) !== undefined, 'the connection is closed');
          const next = await connect('rita');
          assert.deepEqual(await identityOf(next), before);
        });
      }

      test('in a failed transaction, a unit that rolls back to a savepoint and changes the tenant ends the session', async () => {
        const c = await connect('rita');
        const before = await identityOf(c);
        await c.query('begin');
        await c.query('savepoint s');
        assert.equal((await expectFailure(c, 'select 1/0'))?.code, '22012');
        const err = await expectFailure(c, "rollback to savepoint s; SET app.tenant_id = 't2'; select item from orders order by id");
        assert.equal(err?.code, '42501');
        assert.ok((await expectFailure(c, 'select 1')) !== undefined, 'the connection is closed');
        const next = await connect('rita');
        assert.deepEqual(await identityOf(next), before);
      });

      test('a batch that ends with Flush is checked before its next unit can read with a changed tenant', async () => {
        // bob logs in on a raw socket (cleartext, dev mode) to drive the extended protocol by hand.
        const { socket, received, closed } = await rawSession(server.port, 'bob', PASSWORDS.bob!, 't1');
        const unit = (sql: string): Buffer =>
          new FrontendBatch()
            .add({ type: 'parse', name: '', sql, paramTypes: [] })
            .add({ type: 'bind', portal: '', statement: '', paramFormats: [], params: [], resultFormats: [] })
            .add({ type: 'execute', portal: '', maxRows: 0 })
            .add({ type: 'flush' })
            .take();
        socket.write(unit("SET app.tenant_id = 't2'"));
        await Promise.race([closed, new Promise((r) => setTimeout(r, 500))]);
        if (!socket.destroyed) socket.write(unit('select item from orders order by id'));
        await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
        socket.destroy();
        const data = received();
        const rows = splitBackendFrames(data)
          .filter((f) => f.code === BackendCode.DataRow)
          .map((f) => readDataRow(f)[0]);
        assert.deepEqual(rows, [], 'no row is read under the changed tenant');
        assert.deepEqual(
          errorsIn(data).map((e) => `${e.severity} ${e.code}`),
          ['FATAL 42501'],
        );
      });

      test('the audit line names the setting that changed, never its value', async () => {
        const c = await connect('rita');
        assert.equal((await expectFailure(c, "SET app.tenant_id = 'zz-spoofed'"))?.code, '42501');
        const lines = await server.audit();
        const deny = lines.find((l) => l.operation === 'sql.identity_change' && l.resource === 'app.tenant_id');
        assert.ok(deny, 'authz_deny audit line for app.tenant_id');
        assert.equal(deny.identity, 'rita');
        assert.ok(!JSON.stringify(lines).includes('zz-spoofed'), 'the spoofed value is not in the audit log');
      });

      test('a statement that only mentions authorization runs normally under the identity check', async () => {
        const c = await connect('rita');
        assert.deepEqual((await c.query("select 'authorization' as w")).rows, [{ w: 'authorization' }]);
        assert.deepEqual((await c.query({ text: "select $1::text || 'authorization' as w", values: ['x'] })).rows, [{ w: 'xauthorization' }]);
        assert.deepEqual((await c.query("select current_setting('app.tenant_id') as t")).rows, [{ t: 't1' }]);
        assert.deepEqual((await c.query("select 'app.user' as w")).rows, [{ w: 'app.user' }]);
        assert.equal((await identityOf(c)).user, 'rita');
      });

      test('an answer too large to hold back for the identity check ends the connection (54000), nothing relayed', async () => {
        const c = await connect('rita');
        const err = await expectFailure(c, "select repeat('x', 1048576) || 'authorization' as big from generate_series(1, 20)");
        assert.equal(err?.code, '54000');
        const next = await connect('rita');
        assert.deepEqual((await next.query("select 'authorization' as w")).rows, [{ w: 'authorization' }]);
      });

      test('a multi-statement query outside a transaction keeps none of its writes when the identity changed', async () => {
        const carol = await connect('carol@t1');
        const c = await connect('rita');
        assert.equal((await expectFailure(c, 'set session authorization postgres; insert into secrets values (8); select 1'))?.code, '42501');
        assert.equal((await carol.query('select count(*)::int as n from secrets where id = 8')).rows[0].n, 0);
        const c2 = await connect('rita');
        assert.equal((await expectFailure(c2, "set app.tenant_id = 't2'; insert into orders values (21, 't2', 'spoofed')"))?.code, '42501');
        assert.equal((await carol.query('select count(*)::int as n from orders where id = 21')).rows[0].n, 0);
      });

      test('a query that changes identity and ends a transaction is refused (0A000) before it runs', async () => {
        const c = await connect('rita');
        const before = await identityOf(c);
        assert.equal((await expectFailure(c, 'set session authorization postgres; insert into secrets values (9); commit'))?.code, '0A000');
        assert.deepEqual(await identityOf(c), before, 'the connection goes on with its own identity');
        const carol = await connect('carol@t1');
        assert.equal((await carol.query('select count(*)::int as n from secrets where id = 9')).rows[0].n, 0);
      });

      test('layer two rolls back the transaction in which the identity changed, and audits it', async () => {
        const c = await connect('rita');
        const err = await expectFailure(c, 'begin; set session authorization postgres; create table evil (a int); insert into secrets values (7)');
        assert.equal(err?.code, '42501');
        const carol = await connect('carol@t1');
        assert.equal((await carol.query("select to_regclass('public.evil') is null as gone")).rows[0].gone, true);
        assert.equal((await carol.query('select count(*)::int as n from secrets')).rows[0].n, 1);
        const lines = await server.audit();
        const deny = lines.find((l) => l.event === 'authz_deny' && l.identity === 'rita' && l.operation === 'sql.identity_change');
        assert.ok(deny, 'authz_deny audit line');
        assert.equal(deny.error_code, '42501');
      });
    }

    test('a multi-statement query that mentions app.* commits as one implicit transaction, failures and all', async () => {
      const carol = await connect('carol@t1');
      await carol.query('create table ledger (id int primary key, note text, ref int references ledger (id) deferrable initially deferred)');
      const c = await connect('rita');
      const r = (await c.query(
        "insert into ledger values (1, current_setting('app.user')); select current_setting('app.tenant_id') as t",
      )) as unknown as pg.QueryResult[];
      assert.deepEqual(r[1]?.rows, [{ t: 't1' }]);
      // Visible to another session at once: committed, and the backend released.
      assert.deepEqual((await carol.query('select note from ledger where id = 1')).rows, [{ note: 'rita' }]);
      const dup = await expectFailure(c, "insert into ledger values (2, current_setting('app.user')); insert into ledger values (1, 'again')");
      assert.equal(dup?.code, '23505');
      // A deferred foreign key fails at the implicit COMMIT, as in PostgreSQL.
      const deferred = await expectFailure(c, "insert into ledger values (3, current_setting('app.user'), 99); select 1");
      assert.equal(deferred?.code, '23503');
      assert.deepEqual((await carol.query('select id from ledger order by id')).rows, [{ id: 1 }], 'the failed queries left nothing');
      assert.equal((await identityOf(c)).user, 'rita');
      await c.query('begin');
      await c.query("insert into ledger values (4, current_setting('app.user'))");
      await c.query('commit');
    });

    test('in a transaction that already failed, a query that mentions app.* gets 25P02 and the connection goes on', async () => {
      const c = await connect('rita');
      const before = await identityOf(c);
      await c.query('begin');
      assert.equal((await expectFailure(c, 'select 1/0'))?.code, '22012');
      assert.equal((await expectFailure(c, "select current_setting('app.tenant_id')"))?.code, '25P02');
      assert.equal((await expectFailure(c, "select 1; select current_setting('app.user')"))?.code, '25P02');
      const extended = await c.query({ text: "select current_setting('app.user') || $1 as u", values: ['!'] }).catch((err: { code?: string }) => err);
      assert.equal((extended as { code?: string }).code, '25P02');
      await c.query('rollback');
      assert.deepEqual(await identityOf(c), before);
      assert.deepEqual((await c.query("select current_setting('app.tenant_id') as t")).rows, [{ t: 't1' }]);
    });

    test('a query that mentions app.* and ends a transaction is refused (0A000); inside a transaction it fails it', async () => {
      const c = await connect('rita');
      const sql = "insert into ledger values (10, 'x'); select current_setting('app.tenant_id'); commit";
      assert.equal((await expectFailure(c, sql))?.code, '0A000');
      await c.query('begin');
      assert.equal((await expectFailure(c, sql))?.code, '0A000');
      assert.equal((await expectFailure(c, 'select 1'))?.code, '25P02');
      await c.query('rollback');
      const carol = await connect('carol@t1');
      assert.equal((await carol.query('select count(*)::int as n from ledger where id = 10')).rows[0].n, 0);
      const lines = await server.audit();
      assert.ok(lines.some((l) => l.event === 'authz_deny' && l.identity === 'rita' && l.operation === 'sql.identity_check' && l.error_code === '0A000'));
    });

    test('RESET ALL cannot clear the engine settings for later statements', async () => {
      const c = await connect('bob');
      await c.query('RESET ALL');
      const id = await identityOf(c);
      assert.equal(id.tenant, 't1');
      assert.equal(id.user, 'bob');
      assert.equal(id.superuser, 'off');
      assert.deepEqual((await c.query('select item from orders order by id')).rows, [{ item: 'tea' }]);
    });

    test('read_only cannot INSERT (42501, audited)', async () => {
      const c = await connect('bob');
      const err = await expectFailure(c, "insert into orders values (9, 't1', 'x')");
      assert.equal(err?.code, '42501');
      const err2 = await expectFailure(c, 'delete from orders');
      assert.equal(err2?.code, '42501');
      const carol = await connect('carol@t1');
      assert.equal((await carol.query('select count(*)::int as n from orders')).rows[0].n, 2);
      if (!bypassClassifier) {
        const lines = await server.audit();
        const deny = lines.find((l) => l.event === 'authz_deny' && l.identity === 'bob' && l.operation === 'sql.insert');
        assert.ok(deny, 'authz_deny audit line');
        assert.equal(deny.resource, 'public.orders');
        assert.equal(deny.error_code, '42501');
        assert.ok(!JSON.stringify(lines).includes("'x'"));
      }
    });

    test('a role limited to public.orders reads orders but no other table', async () => {
      const c = await connect('olga');
      assert.deepEqual((await c.query('select item from orders order by id')).rows, [{ item: 'tea' }]);
      assert.equal((await expectFailure(c, 'select * from secrets'))?.code, '42501');
      assert.equal((await expectFailure(c, "insert into orders values (7, 't1', 'x')"))?.code, '42501');
    });

    test('schema_admin creates a table; read_write uses it; read_write cannot create one', async () => {
      const sam = await connect('sam');
      await sam.query('create table notes (id serial primary key, body text)');
      const rita = await connect('rita');
      await rita.query("insert into notes (body) values ('hello')");
      assert.deepEqual((await rita.query('select body from notes')).rows, [{ body: 'hello' }]);
      assert.equal((await expectFailure(rita, 'create table mine (a int)'))?.code, '42501');
      assert.equal((await expectFailure(rita, 'drop table notes'))?.code, '42501');
      await sam.query('alter table notes add column at int');
      await rita.query("insert into notes (body, at) values ('again', 1)");
      const lines = await server.audit();
      const ddl = lines.filter((l) => l.event === 'schema_change' && l.identity === 'sam' && l.resource === 'public.notes');
      assert.equal(ddl.length, 2);
    });

    test('COPY TO needs COPY TO and writes a data_export event', async () => {
      const rita = await connect('rita');
      assert.equal((await expectFailure(rita, 'copy notes to stdout'))?.code, bypassClassifier ? undefined : '42501');
      const alice = await connect('alice');
      await alice.query('copy (select 1) to stdout');
      await alice.query('copy notes to stdout');
      const lines = await server.audit();
      assert.ok(lines.some((l) => l.event === 'data_export' && l.identity === 'alice' && l.resource === 'public.notes'));
    });

    test('temporary tables are refused', async () => {
      const c = await connect('alice');
      const err = await expectFailure(c, 'create temp table t (a int)');
      assert.ok(err !== undefined);
      if (!bypassClassifier) assert.equal(err.code, '0A000');
    });

    if (!bypassClassifier) {
      test('unparseable SQL is 42501 for a non-superuser, a syntax error for superuser', async () => {
        const bob = await connect('bob');
        assert.equal((await expectFailure(bob, 'selec 1'))?.code, '42501');
        const carol = await connect('carol@t1');
        assert.equal((await expectFailure(carol, 'selec 1'))?.code, '42601');
      });

      test('LISTEN, session advisory locks and SQL PREPARE are 0A000; transaction advisory locks work', async () => {
        const c = await connect('rita');
        assert.equal((await expectFailure(c, 'listen x'))?.code, '0A000');
        assert.equal((await expectFailure(c, 'select pg_advisory_lock(1)'))?.code, '0A000');
        assert.equal((await expectFailure(c, 'prepare p as select 1'))?.code, '0A000');
        await c.query('begin');
        await c.query('select pg_advisory_xact_lock(1)');
        await c.query('commit');
      });

      test('a denied statement inside a transaction fails the transaction', async () => {
        const c = await connect('rita');
        await c.query('begin');
        await c.query("insert into notes (body) values ('lost')");
        assert.equal((await expectFailure(c, 'create table nope (a int)'))?.code, '42501');
        assert.equal((await expectFailure(c, 'select 1'))?.code, '25P02');
        await c.query('rollback');
        assert.equal((await c.query("select count(*)::int as n from notes where body = 'lost'")).rows[0].n, 0);
      });
    }
  });
}
