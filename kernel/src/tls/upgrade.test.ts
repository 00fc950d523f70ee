import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { type AddressInfo, connect as connectTcp, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect, type SecureVersion, type TLSSocket } from 'node:tls';
import { createTestPki, type IssuedCert, type TestPki } from '../testing/certs.js';
import { TlsCredentials } from './credentials.js';
import { upgradeToTls } from './upgrade.js';

let pki: TestPki;
let server: IssuedCert;

before(async () => {
  pki = await createTestPki();
  server = await pki.server();
});
after(() => pki.cleanup());

// PostgreSQL SSLRequest: Int32 length 8, Int32 80877103.
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

type Upgraded = { ok: true; authorized: boolean; authorizationError?: string } | { ok: false; code: string };

interface PgLikeServer {
  readonly port: number;
  readonly results: Upgraded[];
  close(): Promise<void>;
}

/** A plain TCP server that answers an SSLRequest with `S` and upgrades, like the relational engine. */
async function pgLikeServer(creds: TlsCredentials): Promise<PgLikeServer> {
  const results: Upgraded[] = [];
  const sockets = new Set<Socket>();
  const tcp: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', (data) => {
      assert.deepEqual(data, SSL_REQUEST);
      socket.pause();
      socket.write('S', () => {
        upgradeToTls(socket, creds).then(
          (tlsSocket) => {
            tlsSocket.on('error', () => {});
            results.push({
              ok: true,
              authorized: tlsSocket.authorized,
              ...(tlsSocket.authorizationError ? { authorizationError: String(tlsSocket.authorizationError.message) } : {}),
            });
            tlsSocket.end('ready');
          },
          (err: { code: string }) => results.push({ ok: false, code: err.code }),
        );
      });
    });
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  return {
    port: (tcp.address() as AddressInfo).port,
    results,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        tcp.close(() => resolve());
      }),
  };
}

/** Client side: SSLRequest, expect `S`, then TLS; resolves with what the server sent after. */
function pgLikeClient(port: number, client?: IssuedCert, version?: SecureVersion): Promise<string> {
  return new Promise((resolve) => {
    const raw = connectTcp({ host: '127.0.0.1', port }, () => raw.write(SSL_REQUEST));
    raw.on('error', () => resolve(''));
    raw.once('data', (answer) => {
      assert.equal(answer.toString('latin1'), 'S');
      let data = '';
      const socket: TLSSocket = connect({
        socket: raw,
        servername: 'localhost',
        ca: pki.ca.cert.pem,
        ...(client === undefined ? {} : { key: client.key.pem, cert: client.cert.pem }),
        ...(version === undefined ? {} : { minVersion: version, maxVersion: version }),
      });
      socket.on('data', (chunk: Buffer) => {
        data += chunk.toString('utf8');
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(data));
    });
  });
}

async function waitFor(results: Upgraded[], count: number): Promise<void> {
  for (let i = 0; i < 200 && results.length < count; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(results.length, count);
}

async function mtlsCredentials(rejectUnauthorized: boolean): Promise<TlsCredentials> {
  return TlsCredentials.load({
    certFile: server.cert.path,
    keyFile: server.key.path,
    caFile: pki.ca.cert.path,
    requestClientCert: true,
    rejectUnauthorized,
  });
}

describe('upgradeToTls after an SSLRequest', () => {
  test('a client of the trusted CA is upgraded and authorized', async () => {
    const srv = await pgLikeServer(await mtlsCredentials(true));
    try {
      const reply = await pgLikeClient(srv.port, await pki.client({ CN: 'alice', O: 'tenant-001' }));
      assert.equal(reply, 'ready');
      await waitFor(srv.results, 1);
      assert.deepEqual(srv.results[0], { ok: true, authorized: true });
    } finally {
      await srv.close();
    }
  });

  for (const [name, make] of [
    ['a client of another CA', () => pki.client({ CN: 'alice', O: 'tenant-001' }, { ca: pki.otherCa })],
    ['an expired client certificate', () => pki.client({ CN: 'alice', O: 'tenant-001' }, { validity: 'expired' })],
    ['no client certificate', async () => undefined],
  ] as const) {
    test(`${name} is refused`, async () => {
      const client = await make();
      const srv = await pgLikeServer(await mtlsCredentials(true));
      try {
        assert.equal(await pgLikeClient(srv.port, client), '');
        await waitFor(srv.results, 1);
        assert.deepEqual(srv.results[0], { ok: false, code: 'WK_TLS_HANDSHAKE_FAILED' });
      } finally {
        await srv.close();
      }
    });
  }

  test('without rejectUnauthorized an unverified client is upgraded but not authorized', async () => {
    const srv = await pgLikeServer(await mtlsCredentials(false));
    try {
      await pgLikeClient(srv.port, await pki.client({ CN: 'alice', O: 'tenant-001' }, { ca: pki.otherCa }));
      await waitFor(srv.results, 1);
      const result = srv.results[0]!;
      assert.equal(result.ok && result.authorized, false);
      assert.ok(result.ok && result.authorizationError !== undefined);
    } finally {
      await srv.close();
    }
  });

  test('a TLS 1.2 client is refused', async () => {
    const srv = await pgLikeServer(await mtlsCredentials(true));
    try {
      assert.equal(await pgLikeClient(srv.port, await pki.client({ CN: 'alice', O: 'tenant-001' }), 'TLSv1.2'), '');
      await waitFor(srv.results, 1);
      assert.deepEqual(srv.results[0], { ok: false, code: 'WK_TLS_HANDSHAKE_FAILED' });
    } finally {
      await srv.close();
    }
  });

  test('after reload, an upgrade uses the new certificate', async () => {
    const next = await pki.server();
    const certFile = await pki.writeFile('upgrade-cert.pem', server.cert.pem);
    const keyFile = await pki.writeFile('upgrade-key.pem', server.key.pem);
    const creds = await TlsCredentials.load({ certFile, keyFile, requestClientCert: false, rejectUnauthorized: true });
    const srv = await pgLikeServer(creds);
    const seen: string[] = [];
    const observe = (port: number): Promise<void> =>
      new Promise((resolve) => {
        const raw = connectTcp({ host: '127.0.0.1', port }, () => raw.write(SSL_REQUEST));
        raw.once('data', () => {
          const socket = connect({ socket: raw, servername: 'localhost', ca: pki.ca.cert.pem }, () => {
            seen.push(socket.getPeerX509Certificate()!.fingerprint256);
            socket.destroy();
            resolve();
          });
          socket.on('error', () => {});
        });
      });
    try {
      await observe(srv.port);
      await pki.writeFile('upgrade-cert.pem', next.cert.pem);
      await pki.writeFile('upgrade-key.pem', next.key.pem);
      await creds.reload();
      await observe(srv.port);
      assert.deepEqual(seen, [
        new X509Certificate(server.cert.pem).fingerprint256,
        new X509Certificate(next.cert.pem).fingerprint256,
      ]);
    } finally {
      await srv.close();
    }
  });
});
