import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair } from 'jose';
import { startTestEngine, type TestEngine } from '../src/testing/test-engine.js';
import { client, errorCode } from './helpers.js';

let e: TestEngine;

async function auditEvents(): Promise<Record<string, unknown>[]> {
  const text = await readFile(e.auditFile, 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l));
}

describe('authentication', () => {
  before(async () => {
    e = await startTestEngine({ env: { WEFTKIT_AUTH_FAILURE_LIMIT: '3' } });
  });
  after(async () => e.close());

  test('no credentials: 401 WK_KV_AUTH_REQUIRED with a Bearer and Basic challenge', async () => {
    const r = await client(e.url)('GET', '/items/x');
    assert.equal(r.status, 401);
    assert.equal(errorCode(r), 'WK_KV_AUTH_REQUIRED');
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="weftkit", Basic realm="weftkit", charset="UTF-8"');
    const unknownScheme = await client(e.url, 'Digest abc')('GET', '/items/x');
    assert.equal(unknownScheme.status, 401);
    const malformed = await client(e.url, 'Basic !!!')('GET', '/items/x');
    assert.equal(errorCode(malformed), 'WK_KV_CREDENTIALS_MALFORMED');
    assert.ok(malformed.headers['www-authenticate']);
  });

  test('Basic: a password user reads and writes her default tenant and may pick a bound one', async () => {
    const alice = client(e.url, e.basic('alice'));
    assert.equal((await alice('PUT', '/items/basic-key', { body: 'v1' })).status, 200);
    assert.equal((await alice('GET', '/items/basic-key')).buf.toString(), 'v1');
    const aliceT2 = client(e.url, e.basic('alice@t2'));
    assert.equal((await aliceT2('GET', '/items/basic-key')).status, 404, 'tenants are separate stores');
    const bobT2 = await client(e.url, e.basic('bob@t2'))('GET', '/items/basic-key');
    assert.equal(bobT2.status, 403);
    assert.equal(errorCode(bobT2), 'WK_IDENTITY_TENANT_NOT_ALLOWED');
  });

  test('wrong passwords are 401 WK_AUTH_FAILED, then 429 with Retry-After once locked out', async () => {
    const wrong = client(e.url, e.basic('carol', 'not-her-password-1'));
    for (let i = 0; i < 3; i++) {
      const r = await wrong('GET', '/items/x');
      assert.equal(r.status, 401);
      assert.equal(errorCode(r), 'WK_AUTH_FAILED');
      assert.ok(r.headers['www-authenticate']);
    }
    const locked = await client(e.url, e.basic('carol'))('GET', '/items/x');
    assert.equal(locked.status, 429);
    assert.equal(errorCode(locked), 'WK_AUTH_LOCKED_OUT');
    assert.ok(Number(locked.headers['retry-after']) > 0);
    const events = await auditEvents();
    const failures = events.filter((ev) => ev.event === 'auth' && ev.result === 'failure' && ev.identity === 'carol');
    assert.ok(failures.length >= 4);
    assert.ok(failures.some((f) => f.error_code === 'WK_AUTH_LOCKED_OUT'));
  });

  test('JWT: a valid token works; alg none, expired, wrong audience and a foreign key are 401', async () => {
    const good = await e.token();
    assert.equal((await client(e.url, `Bearer ${good}`)('GET', '/items/nothing')).status, 404);
    const [h, p] = good.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
    const expired = await e.token({}, { expiresIn: Math.floor(Date.now() / 1000) - 3600 });
    const wrongAud = await e.token({}, { audience: 'someone-else' });
    const foreign = await e.token({}, { key: (await generateKeyPair('ES256')).privateKey });
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), roles: ['superuser'] })).toString('base64url')}.${good.split('.')[2]}`;
    const expect: [string, string][] = [
      [none, 'WK_JWT_INVALID'],
      [expired, 'WK_JWT_EXPIRED'],
      [wrongAud, 'WK_JWT_CLAIM_INVALID'],
      [foreign, 'WK_JWT_INVALID'],
      [tampered, 'WK_JWT_INVALID'],
    ];
    for (const [token, code] of expect) {
      const r = await client(e.url, `Bearer ${token}`)('GET', '/items/nothing');
      assert.equal(r.status, 401, code);
      assert.equal(errorCode(r), code);
      assert.match(r.headers['www-authenticate'] as string, /Bearer realm="weftkit"/);
    }
  });

  test('every request gets its own SecurityContext: the token of each request decides its tenant', async () => {
    const t1 = client(e.url, `Bearer ${await e.token()}`);
    const t2 = client(e.url, `Bearer ${await e.token({ tenant_id: 't2' })}`);
    await t1('PUT', '/items/shared-name', { body: 'from t1' });
    await t2('PUT', '/items/shared-name', { body: 'from t2' });
    assert.equal((await t1('GET', '/items/shared-name')).buf.toString(), 'from t1');
    assert.equal((await t2('GET', '/items/shared-name')).buf.toString(), 'from t2');
  });

  test('successful logins and data access are audited with request ids; secrets never are', async () => {
    const token = await e.token();
    const secretValue = 'the-value-must-not-leak-42';
    const put = await client(e.url, `Bearer ${token}`)('PUT', '/items/audited', { body: secretValue, headers: { 'x-request-id': 'audit-req-1' } });
    assert.equal(put.status, 200);
    const events = await auditEvents();
    const write = events.find((ev) => ev.event === 'data_write' && ev.request_id === 'audit-req-1');
    assert.ok(write);
    assert.equal(write.resource, 'audited');
    assert.equal(write.identity, 'alice');
    assert.ok(events.some((ev) => ev.event === 'auth' && ev.result === 'success'));
    const audit = await readFile(e.auditFile, 'utf8');
    const logs = e.logs.join('');
    for (const secret of [secretValue, token, token.split('.')[2]!, 'alice-password-1', 'not-her-password-1']) {
      assert.ok(!audit.includes(secret), 'audit holds a secret or value');
      assert.ok(!logs.includes(secret), 'logs hold a secret or value');
    }
  });
});
