// Hostile and broken input: none of it may crash the server or wedge a tenant. After each case a
// normal client still works.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { PASSWORDS, startTestServer, type TestServer } from '../src/testing/test-server.js';
import { errorsIn, exchangeRaw, frame, openSocket, type RawSession, rawSession, startupPacket } from './helpers.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ env: { WEFTKIT_INSECURE_DEV: 'true', WEFTKIT_STARTUP_TIMEOUT_SECONDS: '5' } });
});
after(async () => {
  await server?.close();
});

async function assertHealthy(): Promise<void> {
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'alice', password: PASSWORDS.alice!, database: 't1' });
  await c.connect();
  assert.deepEqual((await c.query('select 1 as ok')).rows, [{ ok: 1 }]);
  await c.end();
}

/** Logs bob in (cleartext, dev mode) on a raw socket. */
const bobSession = (): Promise<RawSession> => rawSession(server.port, 'bob', PASSWORDS.bob!);

async function fatalAfterLogin(bytes: Buffer): Promise<string[]> {
  const s = await bobSession();
  s.socket.write(bytes);
  await s.closed;
  return errorsIn(s.received()).map((e) => `${e.severity} ${e.code}`);
}

test('startup packets: lengths 0 and 2^31, no user, protocol 2.0, 3.1, bad cancel', async () => {
  const zero = Buffer.alloc(8);
  assert.deepEqual(errorsIn((await exchangeRaw(server.port, [zero])).data).map((e) => e.code), ['08P01']);
  const huge = Buffer.alloc(8);
  huge.writeUInt32BE(0x80000000, 0);
  assert.deepEqual(errorsIn((await exchangeRaw(server.port, [huge])).data).map((e) => e.code), ['08P01']);
  const noUser = startupPacket({ database: 't1' });
  assert.deepEqual(errorsIn((await exchangeRaw(server.port, [noUser])).data).map((e) => e.code), ['28000']);
  const v2 = startupPacket({ user: 'alice' }, 2 << 16);
  assert.deepEqual(errorsIn((await exchangeRaw(server.port, [v2])).data).map((e) => e.code), ['0A000']);
  // 3.1 with a protocol option: NegotiateProtocolVersion(3.0, [option]) then authentication goes on.
  const v31 = startupPacket({ user: 'alice', _pq_: 'x', '_pq_.opt': '1' }, (3 << 16) | 1);
  const negotiated = await exchangeRaw(server.port, [v31], 500);
  assert.equal(negotiated.data[0], 0x76);
  const cancel = Buffer.alloc(16);
  cancel.writeInt32BE(16, 0);
  cancel.writeInt32BE(80877102, 4);
  cancel.writeInt32BE(12345, 8);
  cancel.writeInt32BE(678, 12);
  const cancelled = await exchangeRaw(server.port, [cancel]);
  assert.equal(cancelled.closed, true);
  assert.equal(cancelled.data.length, 0);
  await assertHealthy();
});

test('encryption requests without TLS: SSLRequest and GSSENCRequest get N', async () => {
  const ssl = Buffer.alloc(8);
  ssl.writeInt32BE(8, 0);
  ssl.writeInt32BE(80877103, 4);
  const gss = Buffer.alloc(8);
  gss.writeInt32BE(8, 0);
  gss.writeInt32BE(80877104, 4);
  const r = await exchangeRaw(server.port, [ssl], 300);
  assert.equal(r.data.toString('latin1'), 'N');
  const g = await exchangeRaw(server.port, [gss], 300);
  assert.equal(g.data.toString('latin1'), 'N');
  // Bytes pipelined behind the SSLRequest were sent in the clear before the answer: refused.
  const injected = await exchangeRaw(server.port, [Buffer.concat([ssl, startupPacket({ user: 'alice' })])]);
  assert.deepEqual(errorsIn(injected.data).map((e) => e.code), ['08P01']);
  await assertHealthy();
});

test('after login: length 0, length 2^31, unknown type, malformed and invalid UTF-8 are FATAL', async () => {
  const zeroLen = Buffer.from([0x51, 0, 0, 0, 0]);
  assert.deepEqual(await fatalAfterLogin(zeroLen), ['FATAL 08P01']);
  const hugeLen = Buffer.from([0x51, 0x80, 0, 0, 0]);
  assert.deepEqual(await fatalAfterLogin(hugeLen), ['FATAL 08P01']);
  assert.deepEqual(await fatalAfterLogin(frame('z', Buffer.from('x'))), ['FATAL 08P01']);
  assert.deepEqual(await fatalAfterLogin(frame('Q', Buffer.from('select 1'))), ['FATAL 08P01']);
  const badBind = frame('B', Buffer.from([0, 0, 0, 0, 0, 5, 0, 0, 0]));
  assert.deepEqual(await fatalAfterLogin(badBind), ['FATAL 08P01']);
  const badUtf8 = frame('Q', Buffer.concat([Buffer.from('select '), Buffer.from([0xc3, 0x28]), Buffer.from([0])]));
  assert.deepEqual(await fatalAfterLogin(badUtf8), ['FATAL 22021']);
  await assertHealthy();
});

test('a message cut short and a client that vanishes mid-transaction leave the tenant usable', async () => {
  const s = await bobSession();
  s.socket.write(frame('Q', Buffer.from('begin\0')));
  await new Promise((r) => setTimeout(r, 200));
  s.socket.write(frame('Q', Buffer.from('insert into nowhere values (1)\0')).subarray(0, 12));
  s.socket.destroy();
  await assertHealthy();
});

test('extended-protocol COPY FROM STDIN and COPY beside other statements are refused, not run', async () => {
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'alice', password: PASSWORDS.alice!, database: 't1' });
  await c.connect();
  await c.query('create table if not exists cp (v int)');
  await assert.rejects(c.query({ name: 'cp', text: 'copy cp from stdin', values: [] }), { code: '0A000' });
  // A simple-protocol COPY FROM STDIN the client cannot feed ends with the client's CopyFail.
  await assert.rejects(c.query('copy cp from stdin'), { code: '57014' });
  await assert.rejects(c.query('select 1; copy cp from stdin'), { code: '0A000' });
  await assert.rejects(c.query('/* x */ copy cp from stdin; select 1'), { code: '0A000' });
  await assert.rejects(c.query("copy cp from stdin with (delimiter E'\\t')"), { code: '0A000' });
  assert.deepEqual((await c.query('select 1 as ok')).rows, [{ ok: 1 }]);
  await c.end();
  await assertHealthy();
});

test('200 half-open connections do not lock out a normal client', async () => {
  const flood = await Promise.all(Array.from({ length: 200 }, () => openSocket(server.port)));
  for (const [i, s] of flood.entries()) {
    s.on('error', () => {});
    // Some send half a startup packet, some nothing at all.
    if (i % 2 === 0) s.write(startupPacket({ user: 'alice' }).subarray(0, 6));
  }
  await assertHealthy();
  for (const s of flood) s.destroy();
  await assertHealthy();
});
