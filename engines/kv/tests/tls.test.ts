import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Agent } from 'undici';
import { createTestPki, type TestPki } from '../../../kernel/src/testing/certs.js';
import { startTestEngine, type TestEngine } from '../src/testing/test-engine.js';
import { call, client, errorCode } from './helpers.js';

const exec = promisify(execFile);
let pki: TestPki;

function peerSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      resolve(s.getPeerCertificate().serialNumber);
      s.end();
    });
    s.on('error', reject);
  });
}

describe('HTTPS', () => {
  let e: TestEngine;
  let certPath: string;
  let keyPath: string;
  before(async () => {
    pki = await createTestPki();
    const server = await pki.server();
    certPath = join(pki.dir, 'live-cert.pem');
    keyPath = join(pki.dir, 'live-key.pem');
    await copyFile(server.cert.path, certPath);
    await copyFile(server.key.path, keyPath);
    e = await startTestEngine({ env: { WEFTKIT_TLS_CERT: certPath, WEFTKIT_TLS_KEY: keyPath } });
  });
  after(async () => {
    await e.close();
    await pki.cleanup();
  });

  test('serves TLS 1.3 to curl with a JWT; TLS 1.2 clients are refused', async () => {
    assert.match(e.url, /^https:/);
    const token = await e.token();
    const { stdout } = await exec('curl', ['-s', '--cacert', pki.ca.cert.path, '-X', 'PUT', '-H', `Authorization: Bearer ${token}`, '--data-binary', 'over tls', '-w', '\n%{http_code} %{ssl_verify_result}', `${e.url.replace('127.0.0.1', 'localhost')}/items/tls-key`]);
    const lines = stdout.trim().split('\n');
    assert.equal(lines.pop(), '200 0');
    assert.equal(JSON.parse(lines.join('\n')).key, 'tls-key');
    const old = await exec('curl', ['-s', '--cacert', pki.ca.cert.path, '--tlsv1.2', '--tls-max', '1.2', `${e.url.replace('127.0.0.1', 'localhost')}/items/tls-key`]).then(
      () => 0,
      (err: { code: number }) => err.code,
    );
    assert.notEqual(old, 0);
  });

  test('SIGHUP-style reload swaps the certificate for new connections of the live server', async () => {
    const before = await peerSerial(e.server.address.port, pki.ca.cert.pem);
    const next = await pki.server();
    await copyFile(next.cert.path, certPath);
    await copyFile(next.key.path, keyPath);
    await e.server.kernel.reloadables.find((r) => r.name === 'tls')!.reload();
    const after = await peerSerial(e.server.address.port, pki.ca.cert.pem);
    assert.notEqual(after, before);
    const agent = new Agent({ connect: { ca: pki.ca.cert.pem, servername: 'localhost' } });
    const r = await client(e.url, `Bearer ${await e.token()}`, agent)('GET', '/items/tls-key');
    assert.equal(r.buf.toString(), 'over tls');
    await agent.close();
  });

  test('the ops port reports certificate expiry', async () => {
    const m = await call(`http://127.0.0.1:${e.server.opsAddress.port}`, 'GET', '/metrics');
    const line = m.buf.toString().split('\n').find((l) => l.startsWith('weftkit_kv_tls_certificate_expiry_seconds '));
    assert.ok(line);
    assert.ok(Number(line.split(' ')[1]) > 86_400);
  });
});

describe('mTLS', () => {
  let e: TestEngine;
  let only: TestEngine;
  before(async () => {
    pki = await createTestPki();
    const server = await pki.server();
    const env = { WEFTKIT_TLS_CERT: server.cert.path, WEFTKIT_TLS_KEY: server.key.path, WEFTKIT_MTLS_CA: pki.ca.cert.path };
    e = await startTestEngine({ env: { ...env, WEFTKIT_AUTH: 'password,mtls' } });
    only = await startTestEngine({ env: { ...env, WEFTKIT_AUTH: 'mtls' } });
  });
  after(async () => {
    await e.close();
    await only.close();
    await pki.cleanup();
  });

  test('password,mtls: both are required and the certificate CN must be the user', async () => {
    const aliceCert = await pki.client('/CN=alice/O=t1');
    const bobCert = await pki.client('/CN=bob/O=t1');
    const withCert = (c: { cert: { pem: string }; key: { pem: string } }) =>
      new Agent({ connect: { ca: pki.ca.cert.pem, servername: 'localhost', cert: c.cert.pem, key: c.key.pem } });
    const a = withCert(aliceCert);
    const b = withCert(bobCert);
    assert.equal((await client(e.url, e.basic('alice'), a)('PUT', '/items/m', { body: 'x' })).status, 200);
    const mismatch = await client(e.url, e.basic('alice'), b)('GET', '/items/m');
    assert.equal(mismatch.status, 401);
    assert.equal(errorCode(mismatch), 'WK_MTLS_USER_MISMATCH');
    const certOnly = await client(e.url, undefined, a)('GET', '/items/m');
    assert.equal(certOnly.status, 401);
    const noCert = new Agent({ connect: { ca: pki.ca.cert.pem, servername: 'localhost' } });
    await assert.rejects(client(e.url, e.basic('alice'), noCert)('GET', '/items/m'));
    const foreign = withCert(await pki.client('/CN=alice/O=t1', { ca: pki.otherCa }));
    await assert.rejects(client(e.url, e.basic('alice'), foreign)('GET', '/items/m'));
    for (const agent of [a, b, noCert, foreign]) await agent.close();
  });

  test('mtls alone: the certificate is the identity, its O the tenant', async () => {
    const cert = await pki.client('/CN=alice/O=t2');
    const { stdout } = await exec('curl', ['-s', '--cacert', pki.ca.cert.path, '--cert', cert.cert.path, '--key', cert.key.path, '-X', 'PUT', '--data-binary', 'cert', `${only.url.replace('127.0.0.1', 'localhost')}/items/by-cert`]);
    assert.equal(JSON.parse(stdout).key, 'by-cert');
    const t2 = client(only.url, undefined, new Agent({ connect: { ca: pki.ca.cert.pem, servername: 'localhost', cert: cert.cert.pem, key: cert.key.pem } }));
    assert.equal((await t2('GET', '/items/by-cert')).buf.toString(), 'cert');
    const t1 = await only.server.store.tenant('t1');
    assert.equal(await t1.get('by-cert'), null, 'written to the tenant named by the certificate');
  });
});
