// TLS on the wire port: SSLRequest → TLS 1.3, cleartext credentials only over TLS, TLS required,
// client certificates (password,mtls: CN must be the user; mtls alone: the certificate is enough).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createTestPki, type IssuedCert, type TestPki } from '../../../kernel/src/testing/certs.js';
import { PASSWORDS, startTestServer, type TestServer } from '../src/testing/test-server.js';
import { errorsIn, exchangeRaw, psql, startupPacket } from './helpers.js';

let pki: TestPki;
let serverCert: IssuedCert;
before(async () => {
  pki = await createTestPki();
  serverCert = await pki.server();
});
after(async () => {
  await pki?.cleanup();
});

describe('TLS, no client certificates', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ tls: { certFile: serverCert.cert.path, keyFile: serverCert.key.path } });
  });
  after(async () => {
    await server?.close();
  });

  test('psql with sslmode=verify-full: SCRAM over TLS 1.3', async () => {
    const conninfo = `host=127.0.0.1 port=${server.port} user=alice dbname=t1 sslmode=verify-full sslrootcert=${pki.ca.cert.path}`;
    const ssl = await psql(conninfo, 'select current_setting($$app.user$$)', { PGPASSWORD: PASSWORDS.alice! });
    assert.equal(ssl.code, 0, ssl.stderr);
    assert.equal(ssl.stdout.trim(), 'alice');
  });

  test('node-postgres over TLS: a bcrypt user and a JWT (cleartext) work', async () => {
    const ssl = { ca: readFileSync(pki.ca.cert.path, 'utf8'), servername: 'localhost' };
    const bob = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'bob', password: PASSWORDS.bob!, ssl });
    await bob.connect();
    const socket = (bob as unknown as { connection: { stream: { getProtocol(): string } } }).connection.stream;
    assert.equal(socket.getProtocol(), 'TLSv1.3');
    await bob.end();
    const token = await server.token({ sub: 'erin', tenant_id: 't1' });
    const erin = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'erin', password: token, ssl });
    await erin.connect();
    assert.deepEqual((await erin.query("select current_setting('app.user') as u")).rows, [{ u: 'erin' }]);
    await erin.end();
  });

  test('cleartext credentials over plaintext are refused before the password is asked for', async () => {
    const { data } = await exchangeRaw(server.port, [startupPacket({ user: 'bob' })]);
    assert.equal(data.includes(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])), false, 'no AuthenticationCleartextPassword');
    assert.deepEqual(
      errorsIn(data).map((e) => [e.severity, e.code]),
      [['FATAL', '28000']],
    );
  });
});

describe('TLS required', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ tls: { certFile: serverCert.cert.path, keyFile: serverCert.key.path }, env: { WEFTKIT_TLS_REQUIRED: 'true' }, tenants: 'double' });
  });
  after(async () => {
    await server?.close();
  });

  test('a plaintext startup gets 28000; sslmode=require works', async () => {
    const plain = await psql(`host=127.0.0.1 port=${server.port} user=alice sslmode=disable`, 'select 1', { PGPASSWORD: PASSWORDS.alice! });
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /encrypted connection is required/);
    const tls = await psql(`host=127.0.0.1 port=${server.port} user=alice sslmode=require`, 'select 1', { PGPASSWORD: PASSWORDS.alice! });
    assert.equal(tls.code, 0, tls.stderr);
  });
});

describe('mTLS', () => {
  let server: TestServer;
  let alice: IssuedCert;
  let dave: IssuedCert;
  let stranger: IssuedCert;
  before(async () => {
    alice = await pki.client('/CN=alice/O=t1');
    dave = await pki.client('/CN=dave/O=t1');
    stranger = await pki.issue({ subject: '/CN=alice/O=t1', ca: pki.otherCa });
  });

  describe('password,jwt,mtls', () => {
    before(async () => {
      server = await startTestServer({
        tls: { certFile: serverCert.cert.path, keyFile: serverCert.key.path, caFile: pki.ca.cert.path },
        tenants: 'double',
      });
    });
    after(async () => {
      await server?.close();
    });
    const conninfo = (user: string, cert: IssuedCert): string =>
      `host=127.0.0.1 port=${server.port} user=${user} sslmode=require sslcert=${cert.cert.path} sslkey=${cert.key.path}`;

    test('psql with the user\'s certificate and password logs in', async () => {
      const r = await psql(conninfo('alice', alice), "select current_setting('app.user')", { PGPASSWORD: PASSWORDS.alice! });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'alice');
    });

    test("another user's certificate is refused (28000) even with the right password", async () => {
      const r = await psql(conninfo('alice', dave), 'select 1', { PGPASSWORD: PASSWORDS.alice! });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /certificate/);
    });

    test('no certificate, or one from another CA, ends the handshake', async () => {
      const none = await psql(`host=127.0.0.1 port=${server.port} user=alice sslmode=require`, 'select 1', { PGPASSWORD: PASSWORDS.alice! });
      assert.notEqual(none.code, 0);
      const other = await psql(conninfo('alice', stranger), 'select 1', { PGPASSWORD: PASSWORDS.alice! });
      assert.notEqual(other.code, 0);
      const plain = await psql(`host=127.0.0.1 port=${server.port} user=alice sslmode=disable`, 'select 1', { PGPASSWORD: PASSWORDS.alice! });
      assert.notEqual(plain.code, 0);
      assert.match(plain.stderr, /client certificate is required/);
    });
  });

  describe('mtls alone', () => {
    before(async () => {
      server = await startTestServer({
        tls: { certFile: serverCert.cert.path, keyFile: serverCert.key.path, caFile: pki.ca.cert.path },
        env: { WEFTKIT_AUTH: 'mtls' },
        tenants: 'double',
      });
    });
    after(async () => {
      await server?.close();
    });

    test('the certificate is the identity; the user must name it', async () => {
      const base = `host=127.0.0.1 port=${server.port} sslmode=require sslcert=${dave.cert.path} sslkey=${dave.key.path}`;
      const r = await psql(`${base} user=dave`, "select current_setting('app.user') || '@' || current_setting('app.tenant_id')");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'dave@t1');
      const wrong = await psql(`${base} user=alice`, 'select 1');
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /does not match the client certificate/);
    });
  });
});
