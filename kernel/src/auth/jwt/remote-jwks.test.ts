import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { base64url, type JWK, SignJWT } from 'jose';
import { WeftKitError } from '../../errors.js';
import { JwtAuthenticator } from './authenticator.js';
import type { JwtOptions } from './options.js';
import {
  claims,
  type JwksServer,
  makeKey,
  request,
  sign,
  startJwksServer,
  type TestKey,
  testClock,
} from './testing/jwt-fixtures.js';

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof WeftKitError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.expose, true);
    return true;
  });
}

let rsa: TestKey;
let ec: TestKey;
let ed: TestKey;
let other: TestKey;
const servers: JwksServer[] = [];

async function setup(keys: TestKey[], extra: Partial<JwtOptions> = {}) {
  const server = await startJwksServer(keys.map((k) => k.jwk));
  servers.push(server);
  const clock = testClock();
  const auth = new JwtAuthenticator({ jwksUri: server.url, now: clock.now, ...extra });
  return { server, clock, auth };
}

before(async () => {
  [rsa, ec, ed, other] = await Promise.all([
    makeKey('RS256', 'rsa-1'),
    makeKey('ES256', 'ec-1'),
    makeKey('EdDSA', 'ed-1'),
    makeKey('ES256', 'other-1'),
  ]);
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('JwtAuthenticator with a remote JWKS', () => {
  test('accepts RS256, ES256 and EdDSA tokens, fetching the set once', async () => {
    const { server, auth } = await setup([rsa, ec, ed]);
    for (const key of [rsa, ec, ed]) {
      const ctx = await auth.authenticate(await sign(key), request);
      assert.equal(ctx.identity, 'alice');
      assert.equal(ctx.authMethod, 'jwt');
    }
    assert.equal(server.hits, 1);
  });

  test('alg confusion and alg none never cause a fetch and are rejected', async () => {
    const { server, auth } = await setup([rsa]);
    for (const secretText of [rsa.pem, JSON.stringify(rsa.jwk)]) {
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
        .sign(new TextEncoder().encode(secretText));
      await rejectsWith(auth.authenticate(token, request), 'WK_JWT_INVALID');
    }
    const enc = (v: unknown): string => base64url.encode(JSON.stringify(v));
    await rejectsWith(auth.authenticate(`${enc({ alg: 'none', kid: rsa.kid })}.${enc(claims())}.`, request), 'WK_JWT_INVALID');
    assert.equal(server.hits, 0);
  });

  test('unknown kid: one refetch, then none within the 30 s cooldown', async () => {
    const { server, clock, auth } = await setup([rsa]);
    await auth.authenticate(await sign(rsa), request);
    assert.equal(server.hits, 1);
    const unknown = await sign(other);
    await rejectsWith(auth.authenticate(unknown, request), 'WK_JWT_UNKNOWN_KEY');
    assert.equal(server.hits, 1, 'the set was fetched less than 30 s ago');
    clock.advance(31);
    await rejectsWith(auth.authenticate(unknown, request), 'WK_JWT_UNKNOWN_KEY');
    assert.equal(server.hits, 2);
    for (let i = 0; i < 5; i++) await rejectsWith(auth.authenticate(unknown, request), 'WK_JWT_UNKNOWN_KEY');
    clock.advance(29);
    await rejectsWith(auth.authenticate(unknown, request), 'WK_JWT_UNKNOWN_KEY');
    assert.equal(server.hits, 2);
    clock.advance(2);
    await rejectsWith(auth.authenticate(unknown, request), 'WK_JWT_UNKNOWN_KEY');
    assert.equal(server.hits, 3);
  });

  test('concurrent unknown-kid requests share one fetch', async () => {
    const { server, clock, auth } = await setup([rsa]);
    await auth.authenticate(await sign(rsa), request);
    clock.advance(31);
    const unknown = await sign(other);
    await Promise.all(Array.from({ length: 10 }, () => rejectsWith(auth.authenticate(unknown, request), 'WK_JWT_UNKNOWN_KEY')));
    assert.equal(server.hits, 2);
  });

  test('a rotated-in key is picked up by the refetch after the cooldown', async () => {
    const { server, clock, auth } = await setup([rsa]);
    await auth.authenticate(await sign(rsa), request);
    server.keys = [rsa.jwk, other.jwk];
    const rotated = await sign(other);
    await rejectsWith(auth.authenticate(rotated, request), 'WK_JWT_UNKNOWN_KEY');
    clock.advance(31);
    const ctx = await auth.authenticate(rotated, request);
    assert.equal(ctx.identity, 'alice');
    assert.equal(server.hits, 2);
  });

  test('a stale set is refetched after jwksMaxAgeSeconds; a failed refetch keeps the known keys', async () => {
    const { server, clock, auth } = await setup([rsa], { jwksMaxAgeSeconds: 60, cacheMaxEntries: 0 });
    await auth.authenticate(await sign(rsa), request);
    clock.advance(61);
    await auth.authenticate(await sign(rsa), request);
    assert.equal(server.hits, 2);
    server.status = 500;
    clock.advance(61);
    await auth.authenticate(await sign(rsa), request);
    assert.equal(server.hits, 3);
    await auth.authenticate(await sign(rsa), request);
    assert.equal(server.hits, 3, 'a failed refetch is not retried within the cooldown');
  });

  test('JWKS server down: a coded error quickly, and no retry within the cooldown', async () => {
    const { server, clock, auth } = await setup([rsa]);
    await server.close();
    const token = await sign(rsa);
    const started = performance.now();
    await rejectsWith(auth.authenticate(token, request), 'WK_JWT_KEYS_UNAVAILABLE');
    assert.ok(performance.now() - started < 2000);
    await rejectsWith(auth.authenticate(token, request), 'WK_JWT_KEYS_UNAVAILABLE');
    clock.advance(31);
    await rejectsWith(auth.authenticate(token, request), 'WK_JWT_KEYS_UNAVAILABLE');
  });

  test('a JWKS server that never answers times out with a coded error', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const auth = new JwtAuthenticator({ jwksUri: `http://127.0.0.1:${port}/jwks`, jwksTimeoutMs: 200, now: testClock().now });
      const started = performance.now();
      await rejectsWith(auth.authenticate(await sign(rsa), request), 'WK_JWT_KEYS_UNAVAILABLE');
      assert.ok(performance.now() - started < 2000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('bad responses (error status, not a JWKS, too large) are a coded error', async () => {
    const { server, auth } = await setup([rsa]);
    server.status = 404;
    await rejectsWith(auth.authenticate(await sign(rsa), request), 'WK_JWT_KEYS_UNAVAILABLE');
    const notJwks = await setup([rsa]);
    notJwks.server.keys = 'x' as unknown as JWK[];
    await rejectsWith(notJwks.auth.authenticate(await sign(rsa), request), 'WK_JWT_KEYS_UNAVAILABLE');
    const big = await setup([rsa], { jwksMaxBytes: 100 });
    await rejectsWith(big.auth.authenticate(await sign(rsa), request), 'WK_JWT_KEYS_UNAVAILABLE');
  });

  test('symmetric and private members of the JWKS are ignored', async () => {
    const secret = { kty: 'oct', kid: 'rsa-1', k: base64url.encode(rsa.pem), alg: 'HS256' };
    const { server, auth } = await setup([]);
    server.keys = [secret, { ...(rsa.jwk as Record<string, unknown>), kid: 'priv', d: 'AAAA' } as JWK];
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).sign(new TextEncoder().encode(rsa.pem));
    await rejectsWith(auth.authenticate(token, request), 'WK_JWT_INVALID');
    const rs256Only = new JwtAuthenticator({ jwksUri: server.url, algorithms: ['RS256'], now: testClock().now });
    await rejectsWith(rs256Only.authenticate(await sign(rsa), request), 'WK_JWT_UNKNOWN_KEY');
    await rejectsWith(rs256Only.authenticate(await sign(rsa, claims(), { kid: 'priv' }), request), 'WK_JWT_UNKNOWN_KEY');
  });

  test('a token signed by a different key under a known kid', async () => {
    const { auth } = await setup([rsa]);
    const impostor = await makeKey('RS256', rsa.kid);
    await rejectsWith(auth.authenticate(await sign(impostor), request), 'WK_JWT_INVALID');
  });

  test('a token without kid is tried against every matching key', async () => {
    const second = await makeKey('RS256', 'rsa-2');
    const { auth } = await setup([rsa, second]);
    const ctx = await auth.authenticate(await sign(second, claims(), { kid: undefined }), request);
    assert.equal(ctx.identity, 'alice');
    const impostor = await makeKey('RS256', 'x');
    await rejectsWith(auth.authenticate(await sign(impostor, claims(), { kid: undefined }), request), 'WK_JWT_INVALID');
  });
});
