import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect, type TLSSocket } from 'node:tls';
import type { IdentityBindings } from '../../identity/bindings.js';
import { isSecurityContext, type SecurityContext } from '../../identity/security-context.js';
import { createTestPki, type IssuedCert, type TestPki } from '../../testing/certs.js';
import { TlsCredentials } from '../../tls/credentials.js';
import { certificateIdentity } from './certificate-identity.js';
import { MtlsAuthenticator, type MtlsAuthenticatorOptions } from './mtls-authenticator.js';

let pki: TestPki;
let server: IssuedCert;

before(async () => {
  pki = await createTestPki();
  server = await pki.server();
});
after(() => pki.cleanup());

type Outcome = { ok: true; ctx: SecurityContext } | { ok: false; code: string };

interface Served {
  readonly port: number;
  /** One entry per connection that completed the TLS handshake on the server. */
  readonly outcomes: Outcome[];
  close(): Promise<void>;
}

async function serve(auth: MtlsAuthenticatorOptions = {}, rejectUnauthorized = true): Promise<Served> {
  const credentials = await TlsCredentials.load({
    certFile: server.cert.path,
    keyFile: server.key.path,
    caFile: pki.ca.cert.path,
    requestClientCert: true,
    rejectUnauthorized,
  });
  const authenticator = new MtlsAuthenticator(auth);
  const outcomes: Outcome[] = [];
  const tlsServer = credentials.createServer((socket) => {
    let outcome: Outcome;
    try {
      outcome = { ok: true, ctx: authenticator.authenticate(socket, { connectionId: 'conn-1', requestId: 'req-1' }) };
    } catch (err) {
      outcome = { ok: false, code: (err as { code: string }).code };
    }
    outcomes.push(outcome);
    socket.end(outcome.ok ? 'welcome' : 'denied');
  });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  return {
    port: (tlsServer.address() as AddressInfo).port,
    outcomes,
    close: () => new Promise<void>((resolve) => tlsServer.close(() => resolve())),
  };
}

/** Connects as `client` (or without a certificate) and returns what the server said. */
function talk(port: number, client: IssuedCert | undefined): Promise<{ data: string; error?: string }> {
  return new Promise((resolve) => {
    let data = '';
    let error: string | undefined;
    const socket: TLSSocket = connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: pki.ca.cert.pem,
      ...(client === undefined ? {} : { key: client.key.pem, cert: client.cert.pem }),
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? 'ERROR';
    });
    socket.on('close', () => resolve(error === undefined ? { data } : { data, error }));
  });
}

async function outcomeFor(client: IssuedCert, auth: MtlsAuthenticatorOptions = {}): Promise<Outcome> {
  const served = await serve(auth);
  try {
    const reply = await talk(served.port, client);
    assert.equal(served.outcomes.length, 1);
    assert.equal(reply.data, served.outcomes[0]!.ok ? 'welcome' : 'denied');
    return served.outcomes[0]!;
  } finally {
    await served.close();
  }
}

function expectContext(outcome: Outcome): SecurityContext {
  if (!outcome.ok) assert.fail(`expected success, got ${outcome.code}`);
  return outcome.ctx;
}

function expectCode(outcome: Outcome, code: string): void {
  assert.equal(outcome.ok ? 'success' : outcome.code, code);
}

describe('mTLS handshake', () => {
  test('a client of the trusted CA is accepted with identity = CN and tenant = O', async () => {
    const ctx = expectContext(await outcomeFor(await pki.client({ CN: 'alice', O: 'tenant-001' })));
    assert.ok(isSecurityContext(ctx));
    assert.equal(ctx.identity, 'alice');
    assert.equal(ctx.tenant, 'tenant-001');
    assert.equal(ctx.authMethod, 'mtls');
    assert.deepEqual(ctx.roles, []);
    assert.equal(ctx.connectionId, 'conn-1');
    assert.equal(ctx.requestId, 'req-1');
    assert.match(ctx.peer, /^127\.0\.0\.1:\d+$/);
  });

  for (const [name, make] of [
    ['a client of another CA', () => pki.client({ CN: 'alice', O: 'tenant-001' }, { ca: pki.otherCa })],
    ['an expired client certificate', () => pki.client({ CN: 'alice', O: 'tenant-001' }, { validity: 'expired' })],
    ['a not-yet-valid client certificate', () => pki.client({ CN: 'alice', O: 'tenant-001' }, { validity: 'not-yet-valid' })],
    ['no client certificate', async () => undefined],
  ] as const) {
    test(`${name} is refused by the handshake`, async () => {
      const client = await make();
      const served = await serve();
      try {
        const reply = await talk(served.port, client);
        assert.equal(reply.data, '');
        assert.equal(served.outcomes.length, 0, 'the connection must not reach the application');
      } finally {
        await served.close();
      }
    });
  }

  test('without rejectUnauthorized, the authenticator still refuses an unverified certificate', async () => {
    const served = await serve({}, false);
    try {
      await talk(served.port, await pki.client({ CN: 'alice', O: 'tenant-001' }, { ca: pki.otherCa }));
      await talk(served.port, undefined);
      assert.deepEqual(
        served.outcomes.map((o) => (o.ok ? 'success' : o.code)),
        ['WK_MTLS_NOT_AUTHORIZED', 'WK_MTLS_NOT_AUTHORIZED'],
      );
    } finally {
      await served.close();
    }
  });
});

describe('mTLS subject rules', () => {
  test('tenant from OU when configured', async () => {
    const client = await pki.client('/CN=bob/O=acme-corp/OU=tenant-ou');
    assert.equal(expectContext(await outcomeFor(client, { tenantAttribute: 'OU' })).tenant, 'tenant-ou');
    assert.equal(expectContext(await outcomeFor(client)).tenant, 'acme-corp');
  });

  test('a multi-valued RDN yields CN and O separately', async () => {
    const ctx = expectContext(await outcomeFor(await pki.client('/CN=alice+O=tenant-001')));
    assert.equal(ctx.identity, 'alice');
    assert.equal(ctx.tenant, 'tenant-001');
  });

  test('an escaped comma stays inside the CN', async () => {
    // RFC 4514 `CN=a\,O=evil,O=tenant-001`: a CN that looks like it carries another O.
    const ctx = expectContext(await outcomeFor(await pki.client({ CN: 'a,O=evil', O: 'tenant-001' })));
    assert.equal(ctx.identity, 'a,O=evil');
    assert.equal(ctx.tenant, 'tenant-001');
    const plain = expectContext(await outcomeFor(await pki.client({ CN: 'a,b', O: 'tenant-001' })));
    assert.equal(plain.identity, 'a,b');
  });

  test('a duplicate tenant attribute is refused', async () => {
    expectCode(await outcomeFor(await pki.client('/CN=alice/O=tenant-001/O=tenant-002')), 'WK_MTLS_TENANT_AMBIGUOUS');
    expectCode(await outcomeFor(await pki.client('/CN=alice+O=tenant-001/O=tenant-001')), 'WK_MTLS_TENANT_AMBIGUOUS');
  });

  test('an invalid tenant name is refused', async () => {
    expectCode(await outcomeFor(await pki.client({ CN: 'alice', O: '../tenant-001' })), 'WK_MTLS_INVALID_TENANT');
    expectCode(await outcomeFor(await pki.client({ CN: 'alice', O: 'Tenant-001' })), 'WK_MTLS_INVALID_TENANT');
  });

  test('a missing tenant attribute is refused', async () => {
    expectCode(await outcomeFor(await pki.client({ CN: 'alice', OU: 'tenant-001' })), 'WK_MTLS_TENANT_MISSING');
  });

  test('a missing, repeated or control-character CN is refused', async () => {
    expectCode(await outcomeFor(await pki.client({ O: 'tenant-001' })), 'WK_MTLS_MISSING_CN');
    expectCode(await outcomeFor(await pki.client('/CN=alice/CN=admin/O=tenant-001')), 'WK_MTLS_INVALID_CN');
    expectCode(await outcomeFor(await pki.client({ CN: 'ali\u0001ce', O: 'tenant-001' })), 'WK_MTLS_INVALID_CN');
    expectCode(await outcomeFor(await pki.client({ CN: 'alice\n', O: 'tenant-001' })), 'WK_MTLS_INVALID_CN');
  });
});

describe('mTLS bindings', () => {
  const bindings: IdentityBindings = {
    lookup: (identity) =>
      ({
        alice: { roles: ['read_write'], tenants: ['tenant-001'] },
        ops: { roles: ['superuser'], tenants: ['*'] },
      })[identity],
  };

  test('roles come from the binding; a bound tenant list must contain the certificate tenant', async () => {
    const alice = expectContext(await outcomeFor(await pki.client({ CN: 'alice', O: 'tenant-001' }), { bindings }));
    assert.deepEqual(alice.roles, ['read_write']);
    expectCode(
      await outcomeFor(await pki.client({ CN: 'alice', O: 'tenant-002' }), { bindings }),
      'WK_IDENTITY_TENANT_NOT_ALLOWED',
    );
    const ops = expectContext(await outcomeFor(await pki.client({ CN: 'ops', O: 'tenant-777' }), { bindings }));
    assert.equal(ops.tenant, 'tenant-777');
    assert.deepEqual(ops.roles, ['superuser']);
  });

  test('password,mtls: requireUser accepts only the CN of the certificate', async () => {
    const authenticator = new MtlsAuthenticator();
    const client = await pki.client({ CN: 'alice', O: 'tenant-001' });
    const credentials = await TlsCredentials.load({
      certFile: server.cert.path,
      keyFile: server.key.path,
      caFile: pki.ca.cert.path,
      requestClientCert: true,
      rejectUnauthorized: true,
    });
    const seen: string[] = [];
    const tlsServer = credentials.createServer((socket) => {
      for (const user of ['alice', 'Alice', 'alice ']) {
        try {
          seen.push(authenticator.requireUser(socket, user).identity);
        } catch (err) {
          seen.push((err as { code: string }).code);
        }
      }
      socket.end();
    });
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    try {
      await talk((tlsServer.address() as AddressInfo).port, client);
      assert.deepEqual(seen, ['alice', 'WK_MTLS_USER_MISMATCH', 'WK_MTLS_USER_MISMATCH']);
    } finally {
      await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
    }
  });
});

describe('certificateIdentity', () => {
  test('reads PrintableString subjects and accepts an OID as the tenant attribute', async () => {
    const client = await pki.client({ CN: 'svc-1', O: 'tenant-9' }, { stringMask: 'default' });
    assert.deepEqual(certificateIdentity(new X509Certificate(client.cert.pem)), {
      identity: 'svc-1',
      tenant: 'tenant-9',
    });
    assert.equal(
      certificateIdentity(new X509Certificate(client.cert.pem), {
        tenantAttribute: '2.5.4.10',
      }).tenant,
      'tenant-9',
    );
  });

  test('an unknown tenant attribute is a configuration error', () => {
    assert.throws(() => new MtlsAuthenticator({ tenantAttribute: 'tenant' }), { code: 'WK_CONFIG_INVALID_VALUE' });
  });
});
