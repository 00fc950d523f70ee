import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { mockScramSecret, SCRAM_MAX_MESSAGE_BYTES, ScramServerSession } from './scram.js';
import { parseScramVerifier, type ScramSecret, saslPrep, scramVerifier } from './scram-verifier.js';

// RFC 7677 §3 example exchange.
const RFC = {
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal:
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

async function secretFor(password: string, salt?: Buffer): Promise<ScramSecret> {
  const parsed = parseScramVerifier(await scramVerifier(password, salt === undefined ? {} : { salt }));
  assert.ok(parsed.ok);
  return parsed.secret;
}

const pencil = await secretFor('pencil', Buffer.from(RFC.salt, 'base64'));

function rfcSession(secret: ScramSecret = pencil, doomed = false): ScramServerSession {
  return new ScramServerSession({ user: 'user', secret, doomed, serverNonce: RFC.serverNonce });
}

interface PgSession {
  response: string;
}
interface PgSasl {
  startSession(mechanisms: string[], stream?: unknown): PgSession;
  continueSession(session: PgSession, password: string, serverData: string, stream?: unknown): Promise<void>;
  finalizeSession(session: PgSession, serverData: string): void;
}
const pgSasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as PgSasl;

describe('SCRAM-SHA-256 server', () => {
  test('RFC 7677 test vector, message for message', () => {
    const s = rfcSession();
    assert.equal(s.handleClientFirst(RFC.clientFirst), RFC.serverFirst);
    assert.equal(s.handleClientFinal(RFC.clientFinal), RFC.serverFinal);
    assert.equal(s.succeeded, true);
  });

  test('the verifier string is PostgreSQL format', async () => {
    const v = await scramVerifier('pencil', { salt: Buffer.from(RFC.salt, 'base64') });
    assert.match(v, /^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
  });

  test('a wrong password fails with WK_AUTH_FAILED', async () => {
    const s = rfcSession(await secretFor('pencil2', Buffer.from(RFC.salt, 'base64')));
    s.handleClientFirst(RFC.clientFirst);
    assert.throws(() => s.handleClientFinal(RFC.clientFinal), { code: 'WK_AUTH_FAILED' });
    assert.equal(s.succeeded, false);
  });

  test('a doomed (mock) exchange fails even with the right proof', () => {
    const s = rfcSession(pencil, true);
    assert.equal(s.handleClientFirst(RFC.clientFirst), RFC.serverFirst);
    assert.throws(() => s.handleClientFinal(RFC.clientFinal), { code: 'WK_AUTH_FAILED' });
  });

  test('a flipped proof bit fails', () => {
    const s = rfcSession();
    s.handleClientFirst(RFC.clientFirst);
    const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
    proof[31]! ^= 1;
    const final = RFC.clientFinal.replace(/p=.*$/, `p=${proof.toString('base64')}`);
    assert.throws(() => s.handleClientFinal(final), { code: 'WK_AUTH_FAILED' });
  });

  test('node-postgres as the client, with a generated verifier (plain and SASLprep password)', async () => {
    for (const password of ['correct horse 9 battery', 'pässwörd\u00A0ｆｕｌｌ１２']) {
      const session = new ScramServerSession({ user: 'alice', secret: await secretFor(password) });
      const client = pgSasl.startSession(['SCRAM-SHA-256']);
      const serverFirst = session.handleClientFirst(client.response);
      assert.match(serverFirst, /^r=[^,]+,s=[A-Za-z0-9+/=]+,i=4096$/);
      await pgSasl.continueSession(client, password, serverFirst);
      const serverFinal = session.handleClientFinal(client.response);
      pgSasl.finalizeSession(client, serverFinal);
      assert.equal(session.succeeded, true);
    }
  });

  test('node-postgres with the wrong password is refused', async () => {
    const session = new ScramServerSession({ user: 'alice', secret: await secretFor('right password 1') });
    const client = pgSasl.startSession(['SCRAM-SHA-256']);
    await pgSasl.continueSession(client, 'wrong password 1', session.handleClientFirst(client.response));
    assert.throws(() => session.handleClientFinal(client.response), { code: 'WK_AUTH_FAILED' });
  });

  test('y,, (client supports binding, server does not offer it) is accepted', () => {
    const s = new ScramServerSession({ user: 'user', secret: pencil, serverNonce: 'abc' });
    s.handleClientFirst('y,,n=,r=xyz');
    // c= must echo "y,," now; "biws" ("n,,") is refused.
    assert.throws(() => s.handleClientFinal(`c=biws,r=xyzabc,p=${Buffer.alloc(32).toString('base64')}`), {
      code: 'WK_AUTH_SCRAM_MALFORMED',
    });
    const t = new ScramServerSession({ user: 'user', secret: pencil, serverNonce: 'abc' });
    t.handleClientFirst('y,,n=,r=xyz');
    assert.throws(() => t.handleClientFinal(`c=eSws,r=xyzabc,p=${Buffer.alloc(32).toString('base64')}`), {
      code: 'WK_AUTH_FAILED',
    });
  });

  test('channel binding p= is refused with its own code', () => {
    const s = rfcSession();
    assert.throws(() => s.handleClientFirst('p=tls-server-end-point,,n=*,r=abc'), { code: 'WK_AUTH_SCRAM_CHANNEL_BINDING' });
  });

  test('the server nonce is at least 18 random bytes and differs per session', () => {
    const a = new ScramServerSession({ user: 'u', secret: pencil }).handleClientFirst('n,,n=*,r=abc');
    const b = new ScramServerSession({ user: 'u', secret: pencil }).handleClientFirst('n,,n=*,r=abc');
    const nonceA = /^r=abc([^,]+),/.exec(a)![1]!;
    assert.ok(Buffer.from(nonceA, 'base64').length >= 18);
    assert.notEqual(a, b);
  });

  const proof = Buffer.alloc(32, 1).toString('base64');
  const badFirst: [string, string | Uint8Array][] = [
    ['empty', ''],
    ['no gs2 flag', 'n=user,r=abc'],
    ['bad flag', 'x,,n=user,r=abc'],
    ['authzid', 'n,a=admin,n=user,r=abc'],
    ['missing comma', 'n,n=user,r=abc'],
    ['no user attr', 'n,,r=abc'],
    ['mandatory extension', 'n,,m=ext,n=user,r=abc'],
    ['no nonce', 'n,,n=user'],
    ['empty nonce', 'n,,n=user,r='],
    ['non-printable nonce', 'n,,n=user,r=ab\u0001c'],
    ['non-ASCII nonce', 'n,,n=user,r=abcé'],
    ['nonce with space', 'n,,n=user,r=ab c'],
    ['bad extension', 'n,,n=user,r=abc,zzz'],
    ['NUL', 'n,,n=user,r=abc\0'],
    ['oversized', `n,,n=user,r=${'a'.repeat(SCRAM_MAX_MESSAGE_BYTES)}`],
    ['oversized bytes', Buffer.alloc(SCRAM_MAX_MESSAGE_BYTES + 1, 0x61)],
    ['invalid UTF-8', Buffer.from([0x6e, 0x2c, 0x2c, 0xff, 0xfe])],
  ];
  for (const [name, message] of badFirst) {
    test(`client-first refused: ${name}`, () => {
      assert.throws(() => rfcSession().handleClientFirst(message), { code: 'WK_AUTH_SCRAM_MALFORMED' });
    });
  }

  const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  const badFinal: [string, string][] = [
    ['empty', ''],
    ['no channel binding', `r=${nonce},p=${proof}`],
    ['channel binding not base64', `c=bi*s,r=${nonce},p=${proof}`],
    ['channel binding for another header', `c=eSws,r=${nonce},p=${proof}`],
    ['nonce mismatch', `c=biws,r=${nonce}x,p=${proof}`],
    ['client nonce only', `c=biws,r=rOprNGfwEbeRWgbNEkqO,p=${proof}`],
    ['no nonce', `c=biws,p=${proof}`],
    ['no proof', `c=biws,r=${nonce}`],
    ['proof not last', `c=biws,r=${nonce},p=${proof},x=1`],
    ['two proofs', `c=biws,r=${nonce},p=${proof},p=${proof}`],
    ['proof not base64', `c=biws,r=${nonce},p=!!!!`],
    ['proof too short', `c=biws,r=${nonce},p=${Buffer.alloc(31).toString('base64')}`],
    ['proof too long', `c=biws,r=${nonce},p=${Buffer.alloc(33).toString('base64')}`],
    ['unpadded proof', `c=biws,r=${nonce},p=${proof.replace('=', '')}`],
    ['oversized', `c=biws,r=${nonce},x=${'a'.repeat(SCRAM_MAX_MESSAGE_BYTES)},p=${proof}`],
  ];
  for (const [name, message] of badFinal) {
    test(`client-final refused: ${name}`, () => {
      const s = rfcSession();
      s.handleClientFirst(RFC.clientFirst);
      assert.throws(() => s.handleClientFinal(message), { code: 'WK_AUTH_SCRAM_MALFORMED' });
    });
  }

  test('messages out of order, or after a failure, are refused', () => {
    assert.throws(() => rfcSession().handleClientFinal(RFC.clientFinal), { code: 'WK_AUTH_SCRAM_MALFORMED' });
    const s = rfcSession();
    s.handleClientFirst(RFC.clientFirst);
    assert.throws(() => s.handleClientFirst(RFC.clientFirst), { code: 'WK_AUTH_SCRAM_MALFORMED' });
    assert.throws(() => s.handleClientFinal(RFC.clientFinal), { code: 'WK_AUTH_SCRAM_MALFORMED' });
    const done = rfcSession();
    done.handleClientFirst(RFC.clientFirst);
    done.handleClientFinal(RFC.clientFinal);
    assert.throws(() => done.handleClientFinal(RFC.clientFinal), { code: 'WK_AUTH_SCRAM_MALFORMED' });
  });

  test('random garbage only ever raises coded errors', () => {
    for (let i = 0; i < 500; i++) {
      const bytes = Buffer.from(Array.from({ length: (i % 60) + 1 }, () => Math.floor(Math.random() * 256)));
      const s = rfcSession();
      try {
        s.handleClientFirst(bytes);
        s.handleClientFinal(bytes);
      } catch (err) {
        assert.match(String((err as { code?: unknown }).code), /^WK_AUTH_/);
      }
    }
  });

  test('mock secrets are deterministic per user and key, and differ between users', () => {
    const key = Buffer.alloc(32, 7);
    const a = mockScramSecret(key, 'ghost', 4096);
    assert.deepEqual(a, mockScramSecret(key, 'ghost', 4096));
    assert.notDeepEqual(a.salt, mockScramSecret(key, 'ghost2', 4096).salt);
    assert.notDeepEqual(a.salt, mockScramSecret(Buffer.alloc(32, 8), 'ghost', 4096).salt);
    assert.equal(a.salt.length, 16);
  });

  test('SASLprep leaves ASCII alone and NFKC-normalizes the rest', () => {
    assert.equal(saslPrep('pencil \t'), 'pencil \t');
    assert.equal(saslPrep('ｐｅｎｃｉｌ\u00A0x\u00AD'), 'pencil x');
  });
});
