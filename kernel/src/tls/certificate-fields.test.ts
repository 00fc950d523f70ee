import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createTestPki, type TestPki } from '../testing/certs.js';
import { readCertificateFields } from './certificate-fields.js';
import { decodeString, decodeTime, readTlv } from './der.js';

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});
after(() => pki.cleanup());

const MALFORMED = { code: 'WK_TLS_CERT_MALFORMED' };

describe('readCertificateFields', () => {
  test('reads validity and every RDN in order, multi-valued ones as one set', async () => {
    const issued = await pki.client('/CN=alice+O=tenant-001/OU=a\\/b/CN=caf\u00e9');
    const x509 = new X509Certificate(issued.cert.pem);
    const fields = readCertificateFields(x509.raw);
    assert.equal(fields.notAfter.getTime(), new Date(x509.validTo).getTime());
    assert.equal(fields.notBefore.getTime(), new Date(x509.validFrom).getTime());
    assert.deepEqual(
      fields.subject.map((rdn) => rdn.map((a) => [a.oid, a.value])),
      [
        [
          ['2.5.4.3', 'alice'],
          ['2.5.4.10', 'tenant-001'],
        ],
        [['2.5.4.11', 'a/b']],
        [['2.5.4.3', 'café']],
      ],
    );
  });

  test('every truncation and a trailing byte are malformed, never a crash or a partial read', async () => {
    const der = new X509Certificate((await pki.client({ CN: 'x', O: 'y' })).cert.pem).raw;
    for (let n = 0; n < der.length; n++) assert.throws(() => readCertificateFields(der.subarray(0, n)), MALFORMED);
    assert.throws(() => readCertificateFields(Buffer.concat([der, Buffer.from([0])])), MALFORMED);
  });
});

describe('DER primitives', () => {
  test('lengths must be definite, minimal and inside the parent', () => {
    assert.deepEqual(readTlv(Buffer.from([0x04, 0x81, 0x80, ...new Array(0x80).fill(0)]), 0, 131), {
      tag: 0x04,
      start: 3,
      end: 131,
    });
    assert.throws(() => readTlv(Buffer.from([0x30, 0x80, 0, 0]), 0, 4), MALFORMED);
    assert.throws(() => readTlv(Buffer.from([0x04, 0x81, 0x01, 0]), 0, 4), MALFORMED);
    assert.throws(() => readTlv(Buffer.from([0x04, 0x82, 0x00, 0x80]), 0, 4), MALFORMED);
    assert.throws(() => readTlv(Buffer.from([0x04, 0x05, 0]), 0, 3), MALFORMED);
    assert.throws(() => readTlv(Buffer.from([0x1f, 0x01, 0]), 0, 3), MALFORMED);
  });

  test('strings decode exactly; invalid encodings are malformed', () => {
    const str = (tag: number, bytes: number[]): string | undefined =>
      decodeString(Buffer.from(bytes), { tag, start: 0, end: bytes.length });
    assert.equal(str(0x1e, [0x00, 0x61, 0x00, 0xe9]), 'aé');
    assert.equal(str(0x1c, [0, 0, 0, 0x61, 0, 1, 0xf6, 0x00]), 'a\u{1f600}');
    assert.equal(str(0x13, [0x41, 0x2c, 0x42]), 'A,B');
    assert.equal(str(0x02, [1]), undefined);
    assert.throws(() => str(0x0c, [0xc3]), MALFORMED);
    assert.throws(() => str(0x13, [0x41, 0x2a]), MALFORMED);
    assert.throws(() => str(0x1e, [0x00]), MALFORMED);
    assert.throws(() => str(0x1e, [0xd8, 0x00]), MALFORMED);
    assert.throws(() => str(0x14, [0xe9]), MALFORMED);
  });

  test('UTCTime and GeneralizedTime', () => {
    const time = (tag: number, text: string): Date =>
      decodeTime(Buffer.from(text, 'latin1'), { tag, start: 0, end: text.length });
    assert.equal(time(0x17, '491231235959Z').toISOString(), '2049-12-31T23:59:59.000Z');
    assert.equal(time(0x17, '500101000000Z').toISOString(), '1950-01-01T00:00:00.000Z');
    assert.equal(time(0x18, '99991231235959Z').toISOString(), '9999-12-31T23:59:59.000Z');
    assert.throws(() => time(0x17, '491231235959+0100'), MALFORMED);
    assert.throws(() => time(0x17, '491331235959Z'), MALFORMED);
    assert.throws(() => time(0x18, '2049123123595Z'), MALFORMED);
  });
});
