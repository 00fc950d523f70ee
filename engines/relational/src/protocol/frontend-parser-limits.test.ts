// What a hostile or broken client can send: bad lengths, oversized frames, unknown types, truncated
// fields, invalid UTF-8, odd startup packets. Each check fails with a coded error, before buffering.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { serialize } from 'pg-protocol';
import { RelationalError } from '../errors.js';
import { FrontendParser } from './frontend-parser.js';
import { decodePassword, decodeSASLInitialResponse } from './password-message.js';
import type { FrontendMessage } from './messages.js';

const cstr = (s: string | Buffer): Buffer => Buffer.concat([Buffer.from(s), Buffer.from([0])]);
const i16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
};
const i32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const frame = (code: string, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from(code), i32(body.length + 4), body]);
};
const header = (code: string, len: number): Buffer => Buffer.concat([Buffer.from(code), i32(len)]);
const startupPacket = (version: number, ...params: string[]): Buffer => {
  const body = Buffer.concat([i32(version), ...params.map((p) => cstr(p)), Buffer.from([0])]);
  return Buffer.concat([i32(body.length + 4), body]);
};

function readyParser(maxMessageBytes?: number): FrontendParser {
  const p = new FrontendParser(maxMessageBytes === undefined ? {} : { maxMessageBytes });
  p.push(serialize.startup({ user: 'alice' }));
  p.next();
  p.authenticated();
  return p;
}

function authParser(): FrontendParser {
  const p = new FrontendParser();
  p.push(serialize.startup({ user: 'alice' }));
  p.next();
  return p;
}

function drain(p: FrontendParser): FrontendMessage[] {
  const out: FrontendMessage[] = [];
  for (let m = p.next(); m !== undefined; m = p.next()) out.push(m);
  return out;
}

/** Feeds `bytes`, expects the coded error, and that the parser then holds nothing and stays failed. */
function rejects(p: FrontendParser, bytes: Buffer, code: string, sqlstate: string): void {
  p.push(bytes);
  assert.throws(
    () => drain(p),
    (err: unknown) => err instanceof RelationalError && err.code === code && err.sqlstate === sqlstate && err.expose,
  );
  assert.equal(p.phase, 'failed');
  assert.equal(p.bufferedBytes, 0);
  assert.throws(() => p.next(), { code });
}

const INVALID_LENGTH = 'WK_REL_PROTOCOL_INVALID_LENGTH';
const TOO_LARGE = 'WK_REL_PROTOCOL_MESSAGE_TOO_LARGE';
const UNEXPECTED = 'WK_REL_PROTOCOL_UNEXPECTED_MESSAGE';
const MALFORMED = 'WK_REL_PROTOCOL_MALFORMED_MESSAGE';
const BAD_UTF8 = 'WK_REL_PROTOCOL_INVALID_UTF8';

describe('typed message lengths', () => {
  for (const len of [0, 3, -1, -4, -0x80000000]) {
    test(`length ${len} is refused (08P01)`, () => {
      rejects(readyParser(), header('Q', len), INVALID_LENGTH, '08P01');
    });
  }

  test('length 2^31-1 is refused from the 5 header bytes alone, before any body arrives', () => {
    const p = readyParser();
    p.push(header('Q', 0x7fffffff));
    assert.throws(() => p.next(), { code: TOO_LARGE, sqlstate: '08P01' });
    assert.equal(p.bufferCapacity, 0);
  });

  test('the body of an oversized message is never accumulated', () => {
    const p = readyParser();
    p.push(header('d', 0x7fffffff));
    assert.throws(() => p.next(), { code: TOO_LARGE });
    const body = Buffer.alloc(4096, 0x61);
    for (let i = 0; i < 64; i++) p.push(body);
    assert.equal(p.bufferedBytes, 0);
    assert.equal(p.bufferCapacity, 0);
  });

  test('a header cut in two is checked as soon as it is complete', () => {
    const p = readyParser();
    p.push(header('Q', 0x7fffffff).subarray(0, 3));
    assert.equal(p.next(), undefined);
    p.push(header('Q', 0x7fffffff).subarray(3));
    assert.throws(() => p.next(), { code: TOO_LARGE });
  });

  test('the configured maximum: exactly max is read, max + 1 is refused', () => {
    const max = 2048;
    const sql = 'x'.repeat(max - 4 - 1);
    const ok = serialize.query(sql);
    assert.equal(ok.readInt32BE(1), max);
    const p = readyParser(max);
    p.push(ok);
    assert.deepEqual(drain(p), [{ type: 'query', sql }]);
    rejects(readyParser(max), serialize.query(`${sql}x`), TOO_LARGE, '08P01');
  });

  test('the default maximum is 64 MiB', () => {
    const p = readyParser();
    p.push(header('Q', 64 * 1024 * 1024));
    assert.equal(p.next(), undefined);
    rejects(readyParser(), header('Q', 64 * 1024 * 1024 + 1), TOO_LARGE, '08P01');
  });

  test('messages with only names and counts are limited to 10000 bytes', () => {
    for (const code of ['S', 'H', 'D', 'C', 'E', 'X', 'c', 'f']) {
      const p = readyParser();
      p.push(header(code, 10000));
      assert.equal(p.next(), undefined, code);
      rejects(readyParser(), header(code, 10001), TOO_LARGE, '08P01');
    }
  });

  test('authentication messages are limited to 65535 bytes', () => {
    const p = authParser();
    p.push(header('p', 65535));
    assert.equal(p.next(), undefined);
    rejects(authParser(), header('p', 65536), TOO_LARGE, '08P01');
  });

  test('options out of range are refused', () => {
    for (const maxMessageBytes of [0, 1023, 2 ** 30, 1.5, Number.NaN]) {
      assert.throws(() => new FrontendParser({ maxMessageBytes }), { code: 'WK_REL_PROTOCOL_CODEC_MISUSE' });
    }
  });
});

describe('message types and phases', () => {
  test('an unknown type is refused from its first byte', () => {
    for (const code of ['Z', 'A', '\0', '\xff', 'p']) {
      rejects(readyParser(), Buffer.from(code, 'latin1'), UNEXPECTED, '08P01');
    }
  });

  test('before authentication only password messages and Terminate are read', () => {
    rejects(authParser(), Buffer.from('Q'), UNEXPECTED, '08P01');
    rejects(authParser(), Buffer.from('d'), UNEXPECTED, '08P01');
    const p = authParser();
    p.push(serialize.end());
    assert.deepEqual(p.next(), { type: 'terminate' });
  });

  test('authenticated() outside the authentication phase is a misuse', () => {
    assert.throws(() => new FrontendParser().authenticated(), { code: 'WK_REL_PROTOCOL_CODEC_MISUSE' });
    assert.throws(() => readyParser().authenticated(), { code: 'WK_REL_PROTOCOL_CODEC_MISUSE' });
  });

  test('input after a failure is discarded', () => {
    const p = readyParser();
    rejects(p, Buffer.from('Z'), UNEXPECTED, '08P01');
    p.push(serialize.query('select 1'));
    assert.equal(p.bufferedBytes, 0);
    assert.throws(() => p.next(), { code: UNEXPECTED });
  });
});

describe('message bodies', () => {
  test('a string without its NUL is refused even when the next message has one', () => {
    const unterminated = Buffer.concat([Buffer.from('Q'), i32(4 + 3), Buffer.from('abc')]);
    rejects(readyParser(), Buffer.concat([unterminated, serialize.sync()]), MALFORMED, '08P01');
    // Read past its end, the string would meet 0xFF and fail as 22021 instead.
    rejects(readyParser(), Buffer.concat([unterminated, Buffer.from([0xff, 0])]), MALFORMED, '08P01');
  });

  test('a Parse whose type count exceeds the message', () => {
    rejects(readyParser(), frame('P', cstr(''), cstr('select 1'), i16(65535)), MALFORMED, '08P01');
    rejects(readyParser(), frame('P', cstr(''), cstr('select 1'), i16(2), i32(23)), MALFORMED, '08P01');
  });

  test('a Bind whose counts or value lengths exceed the message', () => {
    const bind = (...parts: Buffer[]): Buffer => frame('B', cstr(''), cstr(''), ...parts);
    rejects(readyParser(), bind(i16(3), i16(0)), MALFORMED, '08P01');
    rejects(readyParser(), bind(i16(0), i16(65535)), MALFORMED, '08P01');
    rejects(readyParser(), bind(i16(0), i16(1), i32(100), Buffer.from('short'), i16(0)), MALFORMED, '08P01');
    rejects(readyParser(), bind(i16(0), i16(1), i32(-2), i16(0)), MALFORMED, '08P01');
    rejects(readyParser(), bind(i16(0), i16(0), i16(1)), MALFORMED, '08P01');
  });

  test('a Bind with 2 formats for 3 parameters', () => {
    const values = [i32(1), Buffer.from('a'), i32(1), Buffer.from('b'), i32(1), Buffer.from('c')];
    const bytes = frame('B', cstr(''), cstr(''), i16(2), i16(0), i16(0), i16(3), ...values, i16(0));
    rejects(readyParser(), bytes, MALFORMED, '08P01');
  });

  test('a format code other than 0 or 1 (22023)', () => {
    const bytes = frame('B', cstr(''), cstr(''), i16(1), i16(2), i16(0), i16(0));
    rejects(readyParser(), bytes, 'WK_REL_PROTOCOL_INVALID_FORMAT_CODE', '22023');
    const result = frame('B', cstr(''), cstr(''), i16(0), i16(0), i16(1), i16(-1));
    rejects(readyParser(), result, 'WK_REL_PROTOCOL_INVALID_FORMAT_CODE', '22023');
  });

  test('trailing bytes after the last field', () => {
    rejects(readyParser(), frame('S', Buffer.from([0])), MALFORMED, '08P01');
    rejects(readyParser(), frame('Q', cstr('select 1'), cstr('select 2')), MALFORMED, '08P01');
  });

  test('a truncated Execute and an unknown Describe target', () => {
    rejects(readyParser(), frame('E', cstr(''), i16(0)), MALFORMED, '08P01');
    rejects(readyParser(), frame('D', Buffer.from('X'), cstr('')), MALFORMED, '08P01');
    rejects(readyParser(), frame('C', Buffer.from('P')), MALFORMED, '08P01');
  });

  test('a password with bytes after its terminator, a SASL length past the end', () => {
    assert.throws(() => decodePassword({ type: 'password', data: Buffer.from('pw\0x') }), { code: MALFORMED });
    assert.throws(() => decodePassword({ type: 'password', data: Buffer.from('pw') }), { code: MALFORMED });
    const sasl = (len: number): Buffer => Buffer.concat([cstr('SCRAM-SHA-256'), i32(len), Buffer.from('abc')]);
    assert.throws(() => decodeSASLInitialResponse({ type: 'password', data: sasl(4) }), { code: MALFORMED });
    assert.throws(() => decodeSASLInitialResponse({ type: 'password', data: sasl(-2) }), { code: MALFORMED });
    assert.throws(() => decodeSASLInitialResponse({ type: 'password', data: sasl(2) }), { code: MALFORMED });
  });
});

describe('UTF-8', () => {
  const invalid: [string, Buffer][] = [
    ['a lone continuation byte', Buffer.from([0x80])],
    ['a truncated sequence', Buffer.from([0xc3, 0x28])],
    ['an overlong "/"', Buffer.from([0xc0, 0xaf])],
    ['a UTF-16 surrogate', Buffer.from([0xed, 0xa0, 0x80])],
    ['0xFF', Buffer.from([0x61, 0xff])],
  ];
  for (const [what, bytes] of invalid) {
    test(`${what} in a query is refused (22021)`, () => {
      rejects(readyParser(), frame('Q', cstr(bytes)), BAD_UTF8, '22021');
    });
  }

  test('in a statement name, a portal name, a startup parameter and a password', () => {
    rejects(readyParser(), frame('P', cstr(Buffer.from([0xff])), cstr('select 1'), i16(0)), BAD_UTF8, '22021');
    rejects(readyParser(), frame('E', cstr(Buffer.from([0xff])), i32(0)), BAD_UTF8, '22021');
    const user = Buffer.concat([Buffer.from('user\0'), Buffer.from([0xfe]), Buffer.from('\0\0')]);
    const body = Buffer.concat([i32(196608), user]);
    rejects(new FrontendParser(), Buffer.concat([i32(body.length + 4), body]), BAD_UTF8, '22021');
    assert.throws(() => decodePassword({ type: 'password', data: cstr(Buffer.from([0xc3])) }), { code: BAD_UTF8 });
  });
});

describe('startup packets', () => {
  for (const len of [0, 3, 4, 7, 10001, -1, 0x7fffffff]) {
    test(`length ${len} is refused (08P01)`, () => {
      rejects(new FrontendParser(), Buffer.concat([i32(len), i32(196608)]), INVALID_LENGTH, '08P01');
    });
  }

  test('a 10000-byte startup packet is read', () => {
    const filler = 'x'.repeat(10000 - 4 - 4 - 'user\0alice\0'.length - 'application_name\0'.length - 2);
    const bytes = startupPacket(196608, 'user', 'alice', 'application_name', filler);
    assert.equal(bytes.length, 10000);
    const p = new FrontendParser();
    p.push(bytes);
    assert.equal(p.next()?.type, 'startup');
  });

  test('a startup packet without user, or with an empty one (28000)', () => {
    const code = 'WK_REL_PROTOCOL_STARTUP_NO_USER';
    rejects(new FrontendParser(), startupPacket(196608, 'database', 'd'), code, '28000');
    rejects(new FrontendParser(), startupPacket(196608, 'user', '', 'database', 'd'), code, '28000');
  });

  test('a parameter given twice, a name without a value, a missing terminator', () => {
    rejects(new FrontendParser(), startupPacket(196608, 'user', 'a', 'user', 'b'), MALFORMED, '08P01');
    rejects(new FrontendParser(), startupPacket(196608, 'user', 'a', 'database'), MALFORMED, '08P01');
    const noTerminator = Buffer.concat([i32(196608), cstr('user'), cstr('a')]);
    rejects(new FrontendParser(), Buffer.concat([i32(noTerminator.length + 4), noTerminator]), MALFORMED, '08P01');
  });

  test('parameter names like __proto__ are plain map keys', () => {
    const p = new FrontendParser();
    p.push(startupPacket(196608, 'user', 'a', '__proto__', 'x', 'constructor', 'y'));
    const m = p.next();
    assert.ok(m?.type === 'startup');
    assert.equal(m.parameters.get('__proto__'), 'x');
    assert.equal(({} as Record<string, unknown>)['x'], undefined);
  });

  test('protocol 3.99 with _pq_ options is returned for NegotiateProtocolVersion', () => {
    const p = new FrontendParser();
    p.push(startupPacket((3 << 16) | 99, 'user', 'a', '_pq_.compression', 'on'));
    const m = p.next();
    assert.ok(m?.type === 'startup');
    assert.equal(m.minorVersion, 99);
    assert.deepEqual([...m.protocolOptions], [['_pq_.compression', 'on']]);
    assert.equal(m.parameters.has('_pq_.compression'), false);
  });

  test('protocol 2.0 (and 1234.5681) is returned unread, and the parser closes', () => {
    for (const [major, minor] of [
      [2, 0],
      [1234, 5681],
    ] as const) {
      const p = new FrontendParser();
      const oldStyle = Buffer.concat([i32(296), i32((major << 16) | minor), Buffer.alloc(288, 0xff)]);
      p.push(Buffer.concat([oldStyle, serialize.query('select 1')]));
      assert.deepEqual(p.next(), { type: 'unsupportedProtocol', majorVersion: major, minorVersion: minor });
      assert.equal(p.phase, 'closed');
      assert.equal(p.next(), undefined);
      assert.equal(p.bufferedBytes, 0);
    }
  });

  test('bytes behind an SSLRequest or GSSENCRequest, sent before the answer, are refused', () => {
    const code = 'WK_REL_PROTOCOL_UNENCRYPTED_DATA';
    const startup = serialize.startup({ user: 'alice' });
    rejects(new FrontendParser(), Buffer.concat([serialize.requestSsl(), startup]), code, '08P01');
    const gss = Buffer.concat([i32(8), i32(80877104)]);
    rejects(new FrontendParser(), Buffer.concat([gss, Buffer.from([0])]), code, '08P01');
  });

  test('a second SSLRequest is refused', () => {
    const p = new FrontendParser();
    p.push(serialize.requestSsl());
    p.next();
    rejects(p, serialize.requestSsl(), UNEXPECTED, '08P01');
  });

  test('SSLRequest and CancelRequest with wrong lengths', () => {
    rejects(new FrontendParser(), Buffer.concat([i32(12), i32(80877103), i32(0)]), MALFORMED, '08P01');
    rejects(new FrontendParser(), Buffer.concat([i32(12), i32(80877102), i32(1)]), MALFORMED, '08P01');
  });
});

describe('only coded errors, whatever the input', () => {
  const valid = Buffer.concat([
    serialize.query('select 1'),
    serialize.parse({ name: 's', text: 'select $1', types: [23] }),
    serialize.bind({ statement: 's', values: ['1', null] }),
    serialize.describe({ type: 'P' }),
    serialize.execute(),
    serialize.sync(),
  ]);
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };

  test('random corruptions of a valid stream', () => {
    for (let k = 0; k < 3000; k++) {
      const bytes = Buffer.from(valid);
      for (let flips = 1 + rand(3); flips > 0; flips--) bytes[rand(bytes.length)] = rand(256);
      const p = readyParser();
      try {
        p.push(bytes);
        drain(p);
      } catch (err) {
        assert.ok(err instanceof RelationalError, String(err));
      }
    }
  });

  test('random bytes in the startup phase', () => {
    for (let k = 0; k < 3000; k++) {
      const bytes = Buffer.alloc(8 + rand(40));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rand(256);
      if (k % 2 === 0) bytes.writeInt32BE(bytes.length, 0);
      const p = new FrontendParser();
      try {
        p.push(bytes);
        drain(p);
      } catch (err) {
        assert.ok(err instanceof RelationalError, String(err));
      }
    }
  });
});
