import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WeftKitError } from '../../errors.js';
import { isSecurityContext } from '../../identity/security-context.js';
import { JwtAuthenticator } from './authenticator.js';
import type { JwtOptions } from './options.js';
import { claims, type JwksServer, makeKey, request, sign, startJwksServer, type TestKey, T0, testClock } from './testing/jwt-fixtures.js';
import { tokenDigest, type VerifiedIdentity, VerifiedTokenCache } from './verified-cache.js';

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof WeftKitError && err.code === code);
}

let a: TestKey;
let b: TestKey;
let c: TestKey;
const servers: JwksServer[] = [];

async function setup(keys: TestKey[], extra: Partial<JwtOptions> = {}) {
  const server = await startJwksServer(keys.map((k) => k.jwk));
  servers.push(server);
  const clock = testClock();
  const auth = new JwtAuthenticator({ jwksUri: server.url, now: clock.now, ...extra });
  return { server, clock, auth };
}

before(async () => {
  [a, b, c] = await Promise.all([makeKey('RS256', 'a'), makeKey('ES256', 'b'), makeKey('EdDSA', 'c')]);
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('verified-token cache', () => {
  test('a cached token is not re-verified (no refetch of a stale key set)', async () => {
    const { server, clock, auth } = await setup([a], { jwksMaxAgeSeconds: 1 });
    const token = await sign(a);
    await auth.authenticate(token, request);
    clock.advance(40);
    await auth.authenticate(token, request);
    assert.equal(server.hits, 1);
    await auth.authenticate(await sign(a, claims({ jti: 'another' })), request);
    assert.equal(server.hits, 2, 'an uncached token does re-verify and refreshes the stale set');
  });

  test('cacheMaxEntries 0 turns the cache off', async () => {
    const { server, clock, auth } = await setup([a], { jwksMaxAgeSeconds: 1, cacheMaxEntries: 0 });
    const token = await sign(a);
    await auth.authenticate(token, request);
    clock.advance(40);
    await auth.authenticate(token, request);
    assert.equal(server.hits, 2);
  });

  test('every hit mints a fresh SecurityContext', async () => {
    const { auth } = await setup([a]);
    const token = await sign(a);
    const first = await auth.authenticate(token, request);
    const second = await auth.authenticate(token, { ...request, connectionId: 'conn-2' });
    const third = await auth.authenticate(token, { ...request, requestId: 'req-3' });
    assert.notEqual(first, second);
    assert.notEqual(first.requestId, second.requestId);
    assert.equal(second.connectionId, 'conn-2');
    assert.equal(third.requestId, 'req-3');
    assert.ok(isSecurityContext(second) && Object.isFrozen(second.claims));
    assert.deepEqual(second.claims, first.claims);
    // Hits share one deep-frozen claims object instead of cloning it per request.
    assert.ok(Object.isFrozen(second.claims?.roles));
    assert.throws(() => (second.claims!.roles as string[]).push('superuser'), TypeError);
  });

  test('a cached token is still rejected after exp (plus tolerance)', async () => {
    const { clock, auth } = await setup([a]);
    const token = await sign(a, claims({ exp: T0 + 60 }));
    await auth.authenticate(token, request);
    clock.advance(60 + 29);
    await auth.authenticate(token, request);
    clock.advance(2);
    await rejectsWith(auth.authenticate(token, request), 'WK_JWT_EXPIRED');
  });

  test('a removed kid invalidates the tokens it verified', async () => {
    const { server, clock, auth } = await setup([a, b]);
    const tokenA = await sign(a);
    const tokenB = await sign(b);
    await auth.authenticate(tokenA, request);
    await auth.authenticate(tokenB, request);
    server.keys = [b.jwk, c.jwk];
    clock.advance(31);
    // An unknown kid triggers the refetch that notices `a` is gone.
    await auth.authenticate(await sign(c), request);
    assert.equal(server.hits, 2);
    await rejectsWith(auth.authenticate(tokenA, request), 'WK_JWT_UNKNOWN_KEY');
    await auth.authenticate(tokenB, request);
  });

  test('entries expire after cacheTtlSeconds even when exp is later', () => {
    const cache = new VerifiedTokenCache(10);
    const value: VerifiedIdentity = { identity: 'alice', tenant: 't', roles: [], claims: {}, kid: 'a' };
    cache.set('k', value, 1000);
    assert.equal(cache.get('k', 999), value);
    assert.equal(cache.get('k', 1000), undefined);
    assert.equal(cache.size, 0);
  });

  test('is bounded, evicting the oldest entry', () => {
    const cache = new VerifiedTokenCache(2);
    const value: VerifiedIdentity = { identity: 'alice', tenant: 't', roles: [], claims: {}, kid: 'a' };
    cache.set('1', value, 10);
    cache.set('2', value, 10);
    cache.set('3', value, 10);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('1', 0), undefined);
    assert.equal(cache.get('3', 0), value);
  });

  test('retainKids drops entries whose kid is gone and entries without kid', () => {
    const cache = new VerifiedTokenCache(10);
    const v = (kid: string | undefined): VerifiedIdentity => ({ identity: 'x', tenant: 't', roles: [], claims: {}, kid });
    cache.set('a', v('a'), 10);
    cache.set('b', v('b'), 10);
    cache.set('none', v(undefined), 10);
    cache.retainKids(new Set(['b']));
    assert.deepEqual([cache.get('a', 0), cache.get('none', 0)], [undefined, undefined]);
    assert.ok(cache.get('b', 0));
  });

  test('the cache key is a digest, not the token', () => {
    assert.match(tokenDigest('abc.def.ghi'), /^[A-Za-z0-9+/]{43}=$/);
  });
});
