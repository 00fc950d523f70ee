// Real clients against the server: psql (SCRAM), node-postgres (simple and extended protocol,
// bcrypt cleartext, JWT as the password), startup rules (3D000, 28P01, 28000) and their audit lines.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { PASSWORDS, startTestServer, type TestServer } from '../src/testing/test-server.js';
import { exchangeRaw, psql } from './helpers.js';

let server: TestServer;
before(async () => {
  // Cleartext (bcrypt users, JWTs) over plaintext needs dev mode here; tls.test.ts covers TLS.
  server = await startTestServer({ env: { WEFTKIT_INSECURE_DEV: 'true' } });
});
after(async () => {
  await server?.close();
});

function client(user: string, password: string, database?: string): pg.Client {
  return new pg.Client({ host: '127.0.0.1', port: server.port, user, password, ...(database === undefined ? {} : { database }) });
}

async function connectError(c: pg.Client): Promise<{ code?: string; message: string }> {
  c.on('error', () => {});
  try {
    await c.connect();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  await c.end();
  assert.fail('connect succeeded');
}

describe('psql', () => {
  test('SCRAM login, identity settings, a transaction and COPY FROM STDIN', async () => {
    const conninfo = `host=127.0.0.1 port=${server.port} user=alice dbname=t1 sslmode=disable`;
    const env = { PGPASSWORD: PASSWORDS.alice! };
    const r = await psql(conninfo, "select current_setting('app.tenant_id') || '/' || current_setting('app.user')", env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 't1/alice');

    const setup = await psql(conninfo, 'create table items (id int primary key, name text); begin; insert into items values (1, $$one$$); commit', env);
    assert.equal(setup.code, 0, setup.stderr);
    const copy = await psql(conninfo, "\\copy items from program 'printf \"2\\ttwo\\n3\\tthree\\n\"'", env);
    assert.equal(copy.code, 0, copy.stderr);
    const rows = await psql(conninfo, 'select string_agg(name, \',\' order by id) from items', env);
    assert.equal(rows.stdout.trim(), 'one,two,three');
  });

  test('a wrong password is 28P01 and leaves an auth failure in the audit log', async () => {
    const r = await psql(`host=127.0.0.1 port=${server.port} user=alice dbname=t1 sslmode=disable`, 'select 1', { PGPASSWORD: 'wrong-password-9' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /password authentication failed/);
    const lines = await server.audit();
    const failure = lines.find((l) => l.event === 'auth' && l.result === 'failure' && l.identity === 'alice');
    assert.ok(failure, 'audit line for the failure');
    assert.equal(failure.error_code, 'WK_AUTH_FAILED');
    assert.ok(!JSON.stringify(lines).includes('wrong-password-9'));
  });
});

describe('node-postgres', () => {
  test('simple and extended protocol, with the session identity', async () => {
    const c = client('alice', PASSWORDS.alice!, 't1');
    await c.connect();
    const pid = (c as unknown as { processID: number | null }).processID;
    assert.ok(pid !== null && pid > 0);
    const simple = await c.query('select 1 as one; select 2 as two');
    assert.ok(Array.isArray(simple));
    const ext = await c.query('select $1::int + 1 as n, current_setting($2) as who', [41, 'app.user']);
    assert.deepEqual(ext.rows, [{ n: 42, who: 'alice' }]);
    const named = { name: 'add', text: 'select $1::int * 2 as d', values: [21] };
    assert.deepEqual((await c.query(named)).rows, [{ d: 42 }]);
    assert.deepEqual((await c.query({ ...named, values: [5] })).rows, [{ d: 10 }]);
    await assert.rejects(c.query('select 1/0'), { code: '22012' });
    assert.deepEqual((await c.query('select 3 as x')).rows, [{ x: 3 }]);
    await c.end();
  });

  test('a bcrypt user logs in with a cleartext password; a tenant in the name selects it', async () => {
    const c = client('bob@t1', PASSWORDS.bob!);
    await c.connect();
    assert.deepEqual((await c.query("select current_setting('app.tenant_id') as t")).rows, [{ t: 't1' }]);
    await c.end();
    const err = await connectError(client('bob@t2', PASSWORDS.bob!));
    assert.equal(err.code, '28000');
  });

  test('the database may be empty, default, postgres or the tenant; anything else is 3D000', async () => {
    for (const db of ['default', 'postgres', 't1']) {
      const c = client('alice', PASSWORDS.alice!, db);
      await c.connect();
      await c.end();
    }
    const err = await connectError(client('alice', PASSWORDS.alice!, 'other'));
    assert.equal(err.code, '3D000');
  });

  test('a JWT as the password: the user must be the subject (or subject@tenant)', async () => {
    const token = await server.token({ sub: 'erin', tenant_id: 't2' });
    for (const user of ['erin', 'erin@t2']) {
      const c = client(user, token);
      await c.connect();
      const r = await c.query("select current_setting('app.user') as u, current_setting('app.tenant_id') as t");
      assert.deepEqual(r.rows, [{ u: 'erin', t: 't2' }]);
      await c.end();
    }
    assert.equal((await connectError(client('mallory', token))).code, '28000');
    assert.equal((await connectError(client('erin@t1', token))).code, '28000');
    const forged = `${token.slice(0, -4)}AAAA`;
    assert.equal((await connectError(client('erin', forged))).code, '28000');
  });

  test('startup options and unknown settings are refused', async () => {
    const withOptions = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'alice', password: PASSWORDS.alice!, options: '-c role=postgres' });
    assert.equal((await connectError(withOptions)).code, '0A000');
  });

  test('identities are escaped in the settings statement', async () => {
    const token = await server.token({ sub: "o'brien\\x", tenant_id: 't1' });
    const c = client("o'brien\\x", token);
    await c.connect();
    assert.deepEqual((await c.query("select current_setting('app.user') as u")).rows, [{ u: "o'brien\\x" }]);
    await c.query('set standard_conforming_strings = off');
    await c.end();
    const c2 = client("o'brien\\x", token);
    await c2.connect();
    assert.deepEqual((await c2.query("select current_setting('app.user') as u")).rows, [{ u: "o'brien\\x" }]);
    await c2.end();
  });
});

describe('CancelRequest and audit', () => {
  test('a CancelRequest with the connection key is handled safely; the session goes on', async () => {
    const c = client('alice', PASSWORDS.alice!, 't1');
    await c.connect();
    const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
    const running = c.query('select pg_sleep(0.3) is null as done');
    await new Promise((r) => setTimeout(r, 100));
    const cancel = Buffer.alloc(16);
    cancel.writeInt32BE(16, 0);
    cancel.writeInt32BE(80877102, 4);
    cancel.writeInt32BE(processID, 8);
    cancel.writeInt32BE(secretKey, 12);
    const sent = await exchangeRaw(server.port, [cancel]);
    assert.equal(sent.closed, true);
    // The executor has no interrupt: the statement completes (or would be cancelled with 57014).
    await running.catch((err: { code?: string }) => assert.equal(err.code, '57014'));
    assert.deepEqual((await c.query('select 1 as ok')).rows, [{ ok: 1 }]);
    await c.end();
  });

  test('a successful login is audited with its method, before the client is answered', async () => {
    const token = await server.token({ sub: 'audited', tenant_id: 't2' });
    const c = client('audited', token);
    await c.connect();
    const lines = await server.audit();
    const success = lines.find((l) => l.event === 'auth' && l.result === 'success' && l.identity === 'audited');
    assert.ok(success);
    assert.equal(success.tenant, 't2');
    assert.equal((success.details as { method: string }).method, 'jwt');
    await c.end();
  });
});

describe('sessions share a tenant backend one transaction at a time', () => {
  test('a second session waits for the first to commit, then sees its row', async () => {
    const a = client('alice', PASSWORDS.alice!, 't1');
    const b = client('carol@t1', PASSWORDS.carol!);
    await a.connect();
    await b.connect();
    await a.query('create table if not exists shared (v int)');
    await a.query('begin');
    await a.query('insert into shared values (7)');
    let bDone = false;
    const bQuery = b.query('select count(*)::int as n, current_setting($1) as who from shared', ['app.user']).then((r) => {
      bDone = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(bDone, false, 'b must wait while a holds the backend in a transaction');
    assert.equal((await a.query("select current_setting('app.user') as u")).rows[0].u, 'alice');
    await a.query('commit');
    const r = await bQuery;
    assert.deepEqual(r.rows, [{ n: 1, who: 'carol' }]);
    assert.equal((await a.query("select current_setting('app.user') as u")).rows[0].u, 'alice');
    await a.end();
    await b.end();
  });

  test('a client leaving mid-transaction is rolled back and the backend released', async () => {
    const a = client('alice', PASSWORDS.alice!, 't1');
    await a.connect();
    await a.query('create table if not exists leftover (v int)');
    await a.query('begin');
    await a.query('insert into leftover values (1)');
    a.on('error', () => {});
    (a as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const b = client('alice', PASSWORDS.alice!, 't1');
    await b.connect();
    const r = await b.query('select count(*)::int as n from leftover');
    assert.deepEqual(r.rows, [{ n: 0 }]);
    await b.end();
  });
});
