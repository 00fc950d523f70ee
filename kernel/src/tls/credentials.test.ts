import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect, type SecureVersion, type Server, type TLSSocket } from 'node:tls';
import { createTestPki, type IssuedCert, type TestPki } from '../testing/certs.js';
import { TlsCredentials } from './credentials.js';
import type { TlsOptions } from './tls-material.js';

let pki: TestPki;
let server: IssuedCert;

before(async () => {
  pki = await createTestPki();
  server = await pki.server();
});
after(() => pki.cleanup());

function options(cert: IssuedCert, extra: Partial<TlsOptions> = {}): TlsOptions {
  return { certFile: cert.cert.path, keyFile: cert.key.path, requestClientCert: false, rejectUnauthorized: true, ...extra };
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<Error> {
  let caught: unknown;
  await promise.catch((err: unknown) => {
    caught = err;
  });
  assert.ok(caught instanceof Error, `expected ${code}`);
  assert.equal((caught as { code?: unknown }).code, code);
  return caught;
}

describe('loading TLS credentials', () => {
  test('a valid certificate and key load; notAfter is the certificate expiry', async () => {
    const creds = await TlsCredentials.load(options(server));
    assert.equal(creds.notAfter.getTime(), new Date(new X509Certificate(server.cert.pem).validTo).getTime());
    assert.ok(creds.notBefore.getTime() < Date.now());
  });

  test('an expired or not yet valid server certificate refuses to start', async () => {
    await rejectsWith(TlsCredentials.load(options(await pki.server({ validity: 'expired' }))), 'WK_TLS_CERT_EXPIRED');
    await rejectsWith(
      TlsCredentials.load(options(await pki.server({ validity: 'not-yet-valid' }))),
      'WK_TLS_CERT_NOT_YET_VALID',
    );
  });

  test('a key that does not match the certificate refuses to start', async () => {
    const key = await pki.unrelatedKey();
    await rejectsWith(TlsCredentials.load({ ...options(server), keyFile: key.path }), 'WK_TLS_KEY_MISMATCH');
  });

  test('unreadable files are named by their setting', async () => {
    const missing = `${pki.dir}/missing.pem`;
    const cases = [
      [{ certFile: missing }, 'WEFTKIT_TLS_CERT'],
      [{ keyFile: missing }, 'WEFTKIT_TLS_KEY'],
      [{ caFile: missing }, 'WEFTKIT_TLS_CA'],
    ] as const;
    for (const [patch, setting] of cases) {
      const err = await rejectsWith(TlsCredentials.load({ ...options(server), ...patch }), 'WK_TLS_FILE_UNREADABLE');
      assert.ok(err.message.includes(setting), err.message);
    }
  });

  test('invalid PEM is named by its setting and its contents are not echoed', async () => {
    const secret = 'TOP-SECRET-KEY-MATERIAL';
    const garbage = await pki.writeFile('garbage.pem', `${secret}\n`);
    const badBlock = await pki.writeFile(
      'bad-block.pem',
      `-----BEGIN CERTIFICATE-----\nTUlJQ${secret}\n-----END CERTIFICATE-----\n`,
    );
    const cases = [
      [{ certFile: garbage }, 'WEFTKIT_TLS_CERT'],
      [{ certFile: badBlock }, 'WEFTKIT_TLS_CERT'],
      [{ certFile: server.key.path }, 'WEFTKIT_TLS_CERT'],
      [{ keyFile: garbage }, 'WEFTKIT_TLS_KEY'],
      [{ keyFile: server.cert.path }, 'WEFTKIT_TLS_KEY'],
      [{ caFile: garbage }, 'WEFTKIT_TLS_CA'],
    ] as const;
    for (const [patch, setting] of cases) {
      const err = await rejectsWith(TlsCredentials.load({ ...options(server), ...patch }), 'WK_TLS_INVALID_PEM');
      assert.ok(err.message.includes(setting), err.message);
      assert.ok(!err.message.includes(secret) && !err.message.includes('PRIVATE KEY'), err.message);
      assert.equal(err.cause, undefined);
    }
  });

  test('client certificates are never requested without a client CA', async () => {
    await rejectsWith(TlsCredentials.load(options(server, { requestClientCert: true })), 'WK_TLS_CLIENT_CA_MISSING');
  });
});

async function listen(tlsServer: Server): Promise<number> {
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  return (tlsServer.address() as AddressInfo).port;
}

function close(tlsServer: Server): Promise<void> {
  return new Promise((resolve) => tlsServer.close(() => resolve()));
}

function open(port: number, version?: SecureVersion): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: pki.ca.cert.pem,
      ...(version === undefined ? {} : { minVersion: version, maxVersion: version }),
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function echo(socket: TLSSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('data', (data: Buffer) => resolve(data.toString('utf8')));
    socket.once('error', reject);
    socket.write(text);
  });
}

const echoServer = (creds: TlsCredentials): Server =>
  creds.createServer((socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });

describe('serving TLS', () => {
  test('TLS 1.3 only: a TLS 1.2 client is refused', async () => {
    const tlsServer = echoServer(await TlsCredentials.load(options(server)));
    const port = await listen(tlsServer);
    try {
      const ok = await open(port);
      assert.equal(ok.getProtocol(), 'TLSv1.3');
      ok.destroy();
      const err = await open(port, 'TLSv1.2').then(
        (s) => {
          s.destroy();
          return undefined;
        },
        (e: NodeJS.ErrnoException) => e,
      );
      assert.ok(err, 'a TLS 1.2 handshake must fail');
      assert.match(String(err.code), /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/);
    } finally {
      await close(tlsServer);
    }
  });

  test('reload: live connections keep working, new ones see the new certificate, bad files keep the old', async () => {
    const first = await pki.server();
    const second = await pki.server();
    const certFile = await pki.writeFile('live-cert.pem', first.cert.pem);
    const keyFile = await pki.writeFile('live-key.pem', first.key.pem);
    const creds = await TlsCredentials.load({ certFile, keyFile, requestClientCert: false, rejectUnauthorized: true });
    const fingerprint = (c: IssuedCert): string => new X509Certificate(c.cert.pem).fingerprint256;
    const tlsServer = echoServer(creds);
    const port = await listen(tlsServer);
    const sockets: TLSSocket[] = [];
    try {
      const live = await open(port);
      sockets.push(live);
      assert.equal(live.getPeerX509Certificate()?.fingerprint256, fingerprint(first));
      assert.equal(await echo(live, 'before'), 'before');

      await pki.writeFile('live-cert.pem', second.cert.pem);
      await pki.writeFile('live-key.pem', second.key.pem);
      await creds.reload();
      assert.equal(await echo(live, 'during'), 'during');
      const fresh = await open(port);
      sockets.push(fresh);
      assert.equal(fresh.getPeerX509Certificate()?.fingerprint256, fingerprint(second));
      assert.equal(creds.notAfter.getTime(), new Date(new X509Certificate(second.cert.pem).validTo).getTime());

      const expired = await pki.server({ validity: 'expired' });
      await pki.writeFile('live-cert.pem', expired.cert.pem);
      await pki.writeFile('live-key.pem', expired.key.pem);
      await rejectsWith(creds.reload(), 'WK_TLS_CERT_EXPIRED');
      await pki.writeFile('live-cert.pem', first.cert.pem);
      await pki.writeFile('live-key.pem', second.key.pem);
      await rejectsWith(creds.reload(), 'WK_TLS_KEY_MISMATCH');

      const afterBad = await open(port);
      sockets.push(afterBad);
      assert.equal(afterBad.getPeerX509Certificate()?.fingerprint256, fingerprint(second));
      assert.equal(await echo(afterBad, 'still'), 'still');
      assert.equal(await echo(live, 'after'), 'after');
      assert.equal(creds.notAfter.getTime(), new Date(new X509Certificate(second.cert.pem).validTo).getTime());
    } finally {
      for (const s of sockets) s.destroy();
      await close(tlsServer);
    }
  });
});
