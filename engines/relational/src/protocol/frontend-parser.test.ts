// Round trips: frontend messages written by node-postgres' own serializer (pg-protocol) are read by
// FrontendParser, whole, split at every byte position, and many to a chunk.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { serialize } from 'pg-protocol';
import { FrontendParser } from './frontend-parser.js';
import { decodePassword, decodeSASLInitialResponse } from './password-message.js';
import type { FrontendMessage, PasswordMessage } from './messages.js';

const cstr = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
const i16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const i32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const frame = (code: string, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from(code), i32(body.length + 4), body]);
};

const STARTUP = serialize.startup({ user: 'alice', database: 'tenant-001', application_name: 'psql' });

/** A parser past startup and authentication, ready for typed messages. */
function readyParser(): FrontendParser {
  const p = new FrontendParser();
  p.push(STARTUP);
  assert.equal(p.next()?.type, 'startup');
  p.authenticated();
  return p;
}

function drain(p: FrontendParser): FrontendMessage[] {
  const out: FrontendMessage[] = [];
  for (let m = p.next(); m !== undefined; m = p.next()) out.push(m);
  return out;
}

function parseAllReady(bytes: Buffer): FrontendMessage[] {
  const p = readyParser();
  p.push(bytes);
  const out = drain(p);
  assert.equal(p.bufferedBytes, 0);
  return out;
}

// FunctionCall has no pg-protocol serializer: oid 1598, formats [1], args [int4 7, NULL], result 1.
const FUNCTION_CALL = frame('F', i32(1598), i16(1), i16(1), i16(2), i32(4), i32(7), i32(-1), i16(1));

/** Every typed message a client may send after authentication, in one stream. */
const TYPED_STREAM: Buffer = Buffer.concat([
  serialize.query('select 1'),
  serialize.parse({ name: 's1', text: 'select $1::int, $2', types: [23, 3000000000] }),
  serialize.bind({ portal: 'p1', statement: 's1', values: ['42', null, Buffer.from([0, 1, 2]), 'é'], binary: true }),
  serialize.describe({ type: 'P', name: 'p1' }),
  serialize.describe({ type: 'S' }),
  serialize.execute({ portal: 'p1', rows: 100 }),
  serialize.execute(),
  serialize.close({ type: 'S', name: 's1' }),
  serialize.flush(),
  serialize.sync(),
  serialize.copyData(Buffer.from('1\tone\n')),
  serialize.copyDone(),
  serialize.copyFail('client gave up'),
  FUNCTION_CALL,
  serialize.end(),
]);

const TYPED_EXPECTED: FrontendMessage[] = [
  { type: 'query', sql: 'select 1' },
  { type: 'parse', name: 's1', sql: 'select $1::int, $2', paramTypes: [23, 3000000000] },
  {
    type: 'bind',
    portal: 'p1',
    statement: 's1',
    paramFormats: [0, 0, 1, 0],
    params: [Buffer.from('42'), null, Buffer.from([0, 1, 2]), Buffer.from('é')],
    resultFormats: [1],
  },
  { type: 'describe', target: 'P', name: 'p1' },
  { type: 'describe', target: 'S', name: '' },
  { type: 'execute', portal: 'p1', maxRows: 100 },
  { type: 'execute', portal: '', maxRows: 0 },
  { type: 'close', target: 'S', name: 's1' },
  { type: 'flush' },
  { type: 'sync' },
  { type: 'copyData', data: Buffer.from('1\tone\n') },
  { type: 'copyDone' },
  { type: 'copyFail', message: 'client gave up' },
  { type: 'functionCall', functionOid: 1598, argFormats: [1], args: [i32(7), null], resultFormat: 1 },
  { type: 'terminate' },
];

describe('FrontendParser: startup phase', () => {
  test('StartupMessage 3.0 with parameters', () => {
    const p = new FrontendParser();
    p.push(STARTUP);
    const m = p.next();
    assert.ok(m?.type === 'startup');
    assert.equal(m.majorVersion, 3);
    assert.equal(m.minorVersion, 0);
    assert.equal(m.user, 'alice');
    assert.equal(m.database, 'tenant-001');
    assert.deepEqual(
      [...m.parameters],
      [
        ['user', 'alice'],
        ['database', 'tenant-001'],
        ['application_name', 'psql'],
        ['client_encoding', 'UTF8'],
      ],
    );
    assert.equal(m.protocolOptions.size, 0);
    assert.equal(p.phase, 'authenticating');
    assert.equal(p.next(), undefined);
  });

  test('SSLRequest, then the StartupMessage (after the TLS handshake)', () => {
    const p = new FrontendParser();
    p.push(serialize.requestSsl());
    assert.deepEqual(p.next(), { type: 'sslRequest' });
    assert.equal(p.phase, 'startup');
    p.push(STARTUP);
    assert.equal(p.next()?.type, 'startup');
  });

  test('GSSENCRequest refused, then SSLRequest, then StartupMessage', () => {
    const p = new FrontendParser();
    p.push(Buffer.concat([i32(8), i32(80877104)]));
    assert.deepEqual(p.next(), { type: 'gssEncRequest' });
    p.push(serialize.requestSsl());
    assert.deepEqual(p.next(), { type: 'sslRequest' });
    p.push(STARTUP);
    assert.equal(p.next()?.type, 'startup');
  });

  test('CancelRequest with process id and secret (signed int32), then closed', () => {
    const p = new FrontendParser();
    p.push(serialize.cancel(4242, -123456789));
    assert.deepEqual(p.next(), { type: 'cancelRequest', processId: 4242, secretKey: -123456789 });
    assert.equal(p.phase, 'closed');
  });

  test('startup packet split at every byte position', () => {
    for (let i = 0; i <= STARTUP.length; i++) {
      const p = new FrontendParser();
      p.push(STARTUP.subarray(0, i));
      const first = p.next();
      if (i < STARTUP.length) assert.equal(first, undefined, `split at ${i}`);
      p.push(STARTUP.subarray(i));
      const m = first ?? p.next();
      assert.ok(m?.type === 'startup', `split at ${i}`);
      assert.equal(m.user, 'alice');
    }
  });

  test('CancelRequest split at every byte position', () => {
    const cancel = serialize.cancel(7, 8);
    for (let i = 0; i < cancel.length; i++) {
      const p = new FrontendParser();
      p.push(cancel.subarray(0, i));
      assert.equal(p.next(), undefined);
      p.push(cancel.subarray(i));
      assert.deepEqual(p.next(), { type: 'cancelRequest', processId: 7, secretKey: 8 });
    }
  });
});

describe('FrontendParser: authentication messages', () => {
  const authParser = (): FrontendParser => {
    const p = new FrontendParser();
    p.push(STARTUP);
    p.next();
    return p;
  };

  test('PasswordMessage: raw bytes and decodePassword', () => {
    const p = authParser();
    p.push(serialize.password('s3cret-é'));
    const m = p.next();
    assert.ok(m?.type === 'password');
    assert.deepEqual(m.data, cstr('s3cret-é'));
    assert.equal(decodePassword(m), 's3cret-é');
  });

  test('SASLInitialResponse: mechanism and client-first-message', () => {
    const p = authParser();
    p.push(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', 'n,,n=*,r=abcdef'));
    const m = p.next();
    assert.ok(m?.type === 'password');
    const sasl = decodeSASLInitialResponse(m);
    assert.equal(sasl.mechanism, 'SCRAM-SHA-256');
    assert.equal(sasl.data?.toString(), 'n,,n=*,r=abcdef');
  });

  test('SASLInitialResponse without data (length -1)', () => {
    const msg: PasswordMessage = { type: 'password', data: Buffer.concat([cstr('SCRAM-SHA-256'), i32(-1)]) };
    assert.deepEqual(decodeSASLInitialResponse(msg), { mechanism: 'SCRAM-SHA-256', data: null });
  });

  test('SASLResponse: the body is the client-final-message', () => {
    const p = authParser();
    p.push(serialize.sendSCRAMClientFinalMessage('c=biws,r=abcdef,p=proof'));
    const m = p.next();
    assert.ok(m?.type === 'password');
    assert.equal(m.data.toString(), 'c=biws,r=abcdef,p=proof');
  });

  test('messages pipelined behind the password wait until authenticated()', () => {
    const p = authParser();
    p.push(Buffer.concat([serialize.password('pw'), serialize.query('select 1')]));
    assert.equal(p.next()?.type, 'password');
    p.authenticated();
    assert.deepEqual(p.next(), { type: 'query', sql: 'select 1' });
  });

  test('password split at every byte position', () => {
    const bytes = serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', 'n,,n=*,r=xyz');
    for (let i = 0; i <= bytes.length; i++) {
      const p = authParser();
      p.push(bytes.subarray(0, i));
      const first = p.next();
      p.push(bytes.subarray(i));
      const m = first ?? p.next();
      assert.ok(m?.type === 'password', `split at ${i}`);
      assert.equal(decodeSASLInitialResponse(m).data?.toString(), 'n,,n=*,r=xyz');
    }
  });
});

describe('FrontendParser: typed messages', () => {
  test('every typed message, many in one chunk', () => {
    assert.deepEqual(parseAllReady(TYPED_STREAM), TYPED_EXPECTED);
  });

  test('each message alone', () => {
    let offset = 0;
    for (const expected of TYPED_EXPECTED) {
      const len = 1 + TYPED_STREAM.readInt32BE(offset + 1);
      assert.deepEqual(parseAllReady(TYPED_STREAM.subarray(offset, offset + len)), [expected]);
      offset += len;
    }
    assert.equal(offset, TYPED_STREAM.length);
  });

  test('the stream split at every byte position', () => {
    for (let i = 0; i <= TYPED_STREAM.length; i++) {
      const p = readyParser();
      const out: FrontendMessage[] = [];
      p.parse(TYPED_STREAM.subarray(0, i), (m) => out.push(m));
      p.parse(TYPED_STREAM.subarray(i), (m) => out.push(m));
      assert.deepEqual(out, TYPED_EXPECTED, `split at ${i}`);
      assert.equal(p.phase, 'closed');
    }
  });

  test('the stream fed one byte at a time (earlier byte views stay intact)', () => {
    const p = readyParser();
    const out: FrontendMessage[] = [];
    for (let i = 0; i < TYPED_STREAM.length; i++) p.parse(TYPED_STREAM.subarray(i, i + 1), (m) => out.push(m));
    assert.deepEqual(out, TYPED_EXPECTED);
  });

  test('the stream cut at two random positions, many times', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let k = 0; k < 500; k++) {
      const a = rand(TYPED_STREAM.length + 1);
      const b = a + rand(TYPED_STREAM.length + 1 - a);
      const p = readyParser();
      const out: FrontendMessage[] = [];
      for (const part of [TYPED_STREAM.subarray(0, a), TYPED_STREAM.subarray(a, b), TYPED_STREAM.subarray(b)]) {
        p.parse(part, (m) => out.push(m));
      }
      assert.deepEqual(out, TYPED_EXPECTED, `cuts at ${a}, ${b}`);
    }
  });

  test('bind with no values and no result formats', () => {
    assert.deepEqual(parseAllReady(serialize.bind()), [
      { type: 'bind', portal: '', statement: '', paramFormats: [], params: [], resultFormats: [0] },
    ]);
  });

  test('a query keeps a leading byte-order mark and NUL-free unicode as sent', () => {
    const sql = '\uFEFFselect \'😀\'';
    assert.deepEqual(parseAllReady(serialize.query(sql)), [{ type: 'query', sql }]);
  });

  test('Terminate closes the parser; bytes after it are discarded', () => {
    const p = readyParser();
    p.push(Buffer.concat([serialize.end(), serialize.query('select 1')]));
    assert.deepEqual(p.next(), { type: 'terminate' });
    assert.equal(p.next(), undefined);
    assert.equal(p.bufferedBytes, 0);
    p.push(serialize.query('select 2'));
    assert.equal(p.next(), undefined);
    assert.equal(p.bufferedBytes, 0);
  });
});
