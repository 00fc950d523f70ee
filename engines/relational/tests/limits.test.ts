// Limits, each with its SQLSTATE: connections (53300), idle in transaction (25P03), waiting for a
// busy tenant backend (55P03), startup timeout (08P01 or a silent close), message size (08P01).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { PASSWORDS, startTestServer, type TestServer } from '../src/testing/test-server.js';
import { errorsIn, exchangeRaw, frame, startupPacket } from './helpers.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({
    env: {
      WEFTKIT_INSECURE_DEV: 'true',
      WEFTKIT_MAX_CONNECTIONS: '3',
      WEFTKIT_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS: '1',
      WEFTKIT_SESSION_WAIT_TIMEOUT_SECONDS: '1',
      WEFTKIT_STARTUP_TIMEOUT_SECONDS: '1',
      WEFTKIT_MAX_MESSAGE_BYTES: '4096',
    },
  });
});
after(async () => {
  await server?.close();
});

function client(user = 'alice'): pg.Client {
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user, password: PASSWORDS[user.split('@')[0]!]!, database: 't1' });
  c.on('error', () => {});
  return c;
}

test('one connection past WEFTKIT_MAX_CONNECTIONS gets 53300; a freed slot is reused', async () => {
  const held = [client(), client(), client()];
  for (const c of held) await c.connect();
  const extra = client();
  await assert.rejects(extra.connect(), { code: '53300' });
  await held.pop()!.end();
  await new Promise((r) => setTimeout(r, 50));
  const again = client();
  await again.connect();
  await again.end();
  for (const c of held) await c.end();
});

test('idle in transaction past the timeout: 25P03 FATAL, rolled back, backend released', async () => {
  const a = client();
  await a.connect();
  await a.query('create table if not exists idle_t (v int)');
  await a.query('begin');
  await a.query('insert into idle_t values (1)');
  const fatal = new Promise<{ code?: string }>((resolve) => a.once('error', resolve));
  const err = await fatal;
  assert.equal(err.code, '25P03');
  const b = client();
  await b.connect();
  assert.deepEqual((await b.query('select count(*)::int as n from idle_t')).rows, [{ n: 0 }]);
  await b.end();
});

test('a session waiting longer than WEFTKIT_SESSION_WAIT_TIMEOUT_SECONDS gets 55P03 and stays usable', async () => {
  const a = client();
  const b = client('carol@t1');
  await a.connect();
  await b.connect();
  await a.query('begin');
  await a.query('select 1');
  // a stays active (under the 1 s idle-in-transaction limit) while b waits.
  const keepAlive = setInterval(() => void a.query('select 1').catch(() => {}), 300);
  const started = Date.now();
  try {
    await assert.rejects(b.query('select 2'), { code: '55P03' });
  } finally {
    clearInterval(keepAlive);
  }
  assert.ok(Date.now() - started < 1900);
  await a.query('commit');
  assert.deepEqual((await b.query('select 2 as x')).rows, [{ x: 2 }]);
  await a.end();
  await b.end();
});

test('startup timeout: silent close before a StartupMessage, 08P01 during authentication', async () => {
  const silent = await exchangeRaw(server.port, [], 3000);
  assert.equal(silent.closed, true);
  assert.equal(silent.data.length, 0);
  const midAuth = await exchangeRaw(server.port, [startupPacket({ user: 'alice' })], 3000);
  assert.equal(midAuth.closed, true);
  assert.deepEqual(errorsIn(midAuth.data).map((e) => e.code), ['08P01']);
});

test('a message longer than WEFTKIT_MAX_MESSAGE_BYTES is refused from its header (08P01 FATAL)', async () => {
  const c = client();
  await c.connect();
  const fatal = new Promise<{ code?: string }>((resolve) => c.once('error', resolve));
  const socket = (c as unknown as { connection: { stream: { write(b: Buffer): void } } }).connection.stream;
  const head = Buffer.alloc(5);
  head[0] = 0x51;
  head.writeInt32BE(1 << 20, 1);
  socket.write(head);
  const err = await fatal;
  assert.equal(err.code, '08P01');
  const ok = client();
  await ok.connect();
  await ok.end();
});

test('a batch of extended messages before Sync is bounded too', async () => {
  const c = client();
  await c.connect();
  const fatal = new Promise<{ code?: string }>((resolve) => c.once('error', resolve));
  const socket = (c as unknown as { connection: { stream: { write(b: Buffer): void } } }).connection.stream;
  const parse = frame('P', Buffer.concat([Buffer.from('\0select 1\0'), Buffer.from([0, 0])]));
  for (let i = 0; i < 400; i++) socket.write(parse);
  const err = await fatal;
  assert.equal(err.code, '54000');
});
