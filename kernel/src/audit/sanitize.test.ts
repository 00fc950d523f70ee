import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { cleanErrorCode, cleanId, cleanOperation, REDACTED, sanitizeDetails, scrubText, sourceIp } from './sanitize.js';

// A truncated, meaningless PEM block (no real key), assembled so no key armour sits in the source.
const pemArmour = (edge: 'BEGIN' | 'END'): string => `-----${edge} ${'PRIVATE'} KEY-----`;

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsInJvbGVzIjpbInN1cGVydXNlciJdfQ.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMTIzNDU2Nzg5';

describe('scrubText', () => {
  test('replaces JWTs, PEM blocks, bearer tokens, URL passwords, secret assignments and key material', () => {
    const hexKey = randomBytes(32).toString('hex');
    const b64Key = randomBytes(32).toString('base64');
    const cases = [
      `token ${JWT} used`,
      `${pemArmour('BEGIN')}\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n${pemArmour('END')}`,
      'Authorization: Bearer abcdefgh12345678',
      'postgres://alice:hunter2pw@db:5432/app',
      'password=hunter2pw',
      "PGPASSWORD: 'hunter2pw'",
      `kek ${hexKey}`,
      `dek ${b64Key}`,
      "INSERT INTO t VALUES ('hunter2pw')",
    ];
    for (const c of cases) {
      const out = scrubText(c, 256);
      for (const secret of ['hunter2pw', JWT.split('.')[1]!, 'MIIEvQ', hexKey.slice(0, 16), b64Key.slice(0, 16), 'abcdefgh12345678']) {
        assert.ok(!out.includes(secret), `${JSON.stringify(c)} -> ${JSON.stringify(out)}`);
      }
      assert.ok(out.includes(REDACTED), out);
    }
  });

  test('a short unsigned JWT, whose parts are too short to look like key material, is still replaced', () => {
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"a"}').toString('base64url')}.`;
    assert.equal(scrubText(`t=${unsigned}`, 256).includes('eyJzdWIi'), false);
    assert.equal(scrubText(unsigned, 256), REDACTED);
  });

  test('a PEM block is replaced whole, armour included', () => {
    const pem = `${pemArmour('BEGIN')}\nMIIB\nVQIB\n${pemArmour('END')}`;
    assert.equal(scrubText(`k ${pem} end`, 256), `k ${REDACTED} end`);
  });

  test('keeps ordinary text, paths and UUIDs', () => {
    for (const s of ['public.users', 'tenant-001/orders', '/var/lib/weftkit/tenants/tenant-001/pages/000123.page', '6f1c9c1e-8b6a-4d9e-9a3b-2f1f0c2a7d11']) {
      assert.equal(scrubText(s, 256), s);
    }
  });

  test('strips control characters and caps the length without leaving a fragment of a cut token', () => {
    assert.equal(scrubText('a\u0000b\nc\u001bd\u2028e', 256), 'abcde');
    assert.equal(scrubText('x'.repeat(1000), 10), 'x'.repeat(10));
    const key = randomBytes(48).toString('base64url');
    const out = scrubText(`${'a '.repeat(3)}${key}`, 10);
    assert.ok(!out.includes(key.slice(0, 4)), out);
  });
});

describe('structured fields', () => {
  test('operation, error code and ids accept only their own shapes', () => {
    assert.equal(cleanOperation('sql.select'), 'sql.select');
    assert.equal(cleanOperation('DROP TABLE x; --'), 'invalid');
    assert.equal(cleanOperation(JWT), 'invalid');
    assert.equal(cleanErrorCode('WK_AUTH_FAILED'), 'WK_AUTH_FAILED');
    assert.equal(cleanErrorCode('28P01'), '28P01');
    assert.equal(cleanErrorCode(randomBytes(32).toString('hex').toUpperCase()), undefined);
    assert.equal(cleanId('6f1c9c1e-8b6a-4d9e-9a3b-2f1f0c2a7d11'), '6f1c9c1e-8b6a-4d9e-9a3b-2f1f0c2a7d11');
    assert.equal(cleanId(JWT), null);
    assert.equal(cleanId('pw=secret!'), null);
  });

  test('source_ip is the address part of a peer, or null', () => {
    assert.equal(sourceIp('10.0.0.7:5432'), '10.0.0.7');
    assert.equal(sourceIp('[::1]:5432'), '::1');
    assert.equal(sourceIp('::1'), '::1');
    assert.equal(sourceIp('hunter2:1'), null);
    assert.equal(sourceIp(undefined), null);
  });
});

describe('sanitizeDetails', () => {
  test('drops secret and payload keys at any depth, keeps counts and plain facts', () => {
    const out = sanitizeDetails({
      password: 'p',
      newPassword: 'p',
      api_key: 'k',
      token: 't',
      clientSecret: 's',
      authorization: 'a',
      value: 42,
      rows: [[1, 2]],
      rowData: 'x',
      sql: 'select 1',
      rowCount: 3,
      keyVersion: 2,
      table: 'public.users',
      nested: { deeper: { password: 'p', passwd: 'p', reason: 'ok', values: [1] } },
    });
    assert.deepEqual(out, { rowCount: 3, keyVersion: 2, table: 'public.users', nested: { deeper: { reason: 'ok' } } });
  });

  test('caps depth, keys, items and total size; drops bytes, functions and odd key names', () => {
    const deep = sanitizeDetails({ a: { b: { c: { d: { e: 1 } } } } });
    assert.deepEqual(deep, { a: { b: { c: {} } } });
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}x`, i]));
    assert.equal(Object.keys(sanitizeDetails(many)).length, 32);
    assert.equal((sanitizeDetails({ list: Array.from({ length: 100 }, (_, i) => i) }).list as unknown[]).length, 32);
    assert.deepEqual(sanitizeDetails({ buf: Buffer.from('secret'), fn: () => 1, 'bad key!': 1, [JWT]: 1 }), {});
    const big = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`field${i}`, 'y'.repeat(250)]));
    assert.deepEqual(sanitizeDetails(big), { truncated: true });
  });

  test('survives a cycle and non-finite numbers', () => {
    const cyclic: Record<string, unknown> = { n: Number.NaN };
    cyclic.self = cyclic;
    assert.doesNotThrow(() => JSON.stringify(sanitizeDetails(cyclic)));
    assert.equal(sanitizeDetails(cyclic).n, null);
  });
});
