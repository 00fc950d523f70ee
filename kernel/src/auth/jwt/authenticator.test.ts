import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { base64url, exportJWK, SignJWT } from 'jose';
import { WeftKitError } from '../../errors.js';
import { isSecurityContext } from '../../identity/security-context.js';
import { JwtAuthenticator } from './authenticator.js';
import type { JwtOptions } from './options.js';
import { claims, makeKey, request, sign, type TestKey, T0, testClock, unsigned } from './testing/jwt-fixtures.js';

async function rejectsWith(p: Promise<unknown>, code: string, token: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof WeftKitError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.expose, true);
    assert.equal(err.sqlstate, '28000');
    assert.ok(!err.message.includes(token), 'the error message must not contain the token');
    return true;
  });
}

let rsa: TestKey;
let ec: TestKey;
let ed: TestKey;

function pemAuth(key: TestKey, extra: Partial<JwtOptions> = {}): JwtAuthenticator {
  return new JwtAuthenticator({ publicKeyPem: key.pem, now: testClock().now, ...extra });
}

before(async () => {
  [rsa, ec, ed] = await Promise.all([makeKey('RS256', 'rsa-1'), makeKey('ES256', 'ec-1'), makeKey('EdDSA', 'ed-1')]);
});

describe('JwtAuthenticator: configuration', () => {
  test('refuses none and HMAC algorithms at construction', () => {
    for (const algorithms of [['none'], ['HS256'], ['RS256', 'HS512'], ['HS384'], ['RSA-OAEP'], []]) {
      assert.throws(
        () => new JwtAuthenticator({ publicKeyPem: rsa.pem, algorithms }),
        { code: 'WK_JWT_CONFIG_INVALID' },
        JSON.stringify(algorithms),
      );
    }
  });

  test('needs exactly one key source, and only public asymmetric keys', async () => {
    assert.throws(() => new JwtAuthenticator({}), { code: 'WK_JWT_CONFIG_INVALID' });
    assert.throws(() => new JwtAuthenticator({ publicKeyPem: rsa.pem, jwksUri: 'https://idp.example/jwks' }), {
      code: 'WK_JWT_CONFIG_INVALID',
    });
    assert.throws(() => new JwtAuthenticator({ jwksUri: 'file:///etc/jwks.json' }), { code: 'WK_JWT_CONFIG_INVALID' });
    const privateJwk = await exportJWK(rsa.privateKey);
    assert.throws(() => new JwtAuthenticator({ publicKeyPem: JSON.stringify(privateJwk) }), { code: 'WK_JWT_CONFIG_INVALID' });
    const secret = { kty: 'oct', k: base64url.encode('a secret of some length'), kid: 'rsa-1' };
    assert.throws(() => new JwtAuthenticator({ publicKeyPem: JSON.stringify({ keys: [rsa.jwk, secret] }) }), {
      code: 'WK_JWT_CONFIG_INVALID',
    });
    assert.throws(() => new JwtAuthenticator({ publicKeyFile: '/nonexistent/jwt.pem' }), { code: 'WK_JWT_CONFIG_INVALID' });
  });
});

describe('JwtAuthenticator: valid tokens', () => {
  for (const which of ['rsa', 'ec', 'ed'] as const) {
    test(`accepts a ${which} token verified with a PEM key and with a JWK set`, async () => {
      const key = { rsa, ec, ed }[which];
      const token = await sign(key);
      for (const auth of [pemAuth(key), new JwtAuthenticator({ publicKeyPem: JSON.stringify({ keys: [key.jwk] }), now: testClock().now })]) {
        const ctx = await auth.authenticate(token, { ...request, requestId: 'req-7' });
        assert.ok(isSecurityContext(ctx));
        assert.equal(ctx.identity, 'alice');
        assert.equal(ctx.tenant, 'tenant-001');
        assert.deepEqual(ctx.roles, ['read_write']);
        assert.equal(ctx.authMethod, 'jwt');
        assert.equal(ctx.peer, request.peer);
        assert.equal(ctx.connectionId, request.connectionId);
        assert.equal(ctx.requestId, 'req-7');
        assert.equal(ctx.claims?.['sub'], 'alice');
      }
    });
  }

  test('roles: space/comma separated string, absent claim, custom claim names', async () => {
    const auth = pemAuth(rsa, { tenantClaim: 'org', rolesClaim: 'https://weftkit.dev/roles' });
    const ctx = await auth.authenticate(
      await sign(rsa, claims({ tenant_id: undefined, roles: undefined, org: 'acme', 'https://weftkit.dev/roles': 'read_only, analyst  x' })),
      request,
    );
    assert.equal(ctx.tenant, 'acme');
    assert.deepEqual(ctx.roles, ['read_only', 'analyst', 'x']);
    const none = await pemAuth(rsa).authenticate(await sign(rsa, claims({ roles: undefined })), request);
    assert.deepEqual(none.roles, []);
  });

  test('accepts a 63-character tenant name', async () => {
    const ctx = await pemAuth(rsa).authenticate(await sign(rsa, claims({ tenant_id: 'a'.repeat(63) })), request);
    assert.equal(ctx.tenant, 'a'.repeat(63));
  });
});

describe('JwtAuthenticator: rejected tokens', () => {
  test('alg none (unsigned)', async () => {
    const token = unsigned();
    await rejectsWith(pemAuth(rsa).authenticate(token, request), 'WK_JWT_INVALID', token);
  });

  test('HS256 signed with the RSA public key as HMAC secret (algorithm confusion), PEM and JWK forms', async () => {
    const auths = [pemAuth(rsa), new JwtAuthenticator({ publicKeyPem: JSON.stringify(rsa.jwk), now: testClock().now })];
    for (const secretText of [rsa.pem, rsa.pem.trim(), JSON.stringify(rsa.jwk)]) {
      const secret = new TextEncoder().encode(secretText);
      for (const header of [{ alg: 'HS256' }, { alg: 'HS256', kid: rsa.kid }]) {
        const token = await new SignJWT(claims({ roles: ['superuser'] })).setProtectedHeader(header).sign(secret);
        for (const auth of auths) await rejectsWith(auth.authenticate(token, request), 'WK_JWT_INVALID', token);
      }
    }
  });

  test('expired beyond the clock tolerance; accepted within it', async () => {
    const clock = testClock();
    const auth = new JwtAuthenticator({ publicKeyPem: rsa.pem, now: clock.now, cacheMaxEntries: 0 });
    const token = await sign(rsa, claims({ exp: T0 - 31 }));
    await rejectsWith(auth.authenticate(token, request), 'WK_JWT_EXPIRED', token);
    await auth.authenticate(await sign(rsa, claims({ exp: T0 - 29 })), request);
  });

  test('not yet valid (nbf beyond the tolerance); accepted within it', async () => {
    const auth = pemAuth(rsa);
    const token = await sign(rsa, claims({ nbf: T0 + 31 }));
    await rejectsWith(auth.authenticate(token, request), 'WK_JWT_NOT_YET_VALID', token);
    await auth.authenticate(await sign(rsa, claims({ nbf: T0 + 29 })), request);
  });

  test('a token without exp', async () => {
    const token = await sign(rsa, claims({ exp: undefined }));
    await rejectsWith(pemAuth(rsa).authenticate(token, request), 'WK_JWT_CLAIM_INVALID', token);
  });

  test('wrong or missing issuer', async () => {
    const auth = pemAuth(rsa, { issuer: 'https://idp.example' });
    for (const iss of ['https://evil.example', undefined]) {
      const token = await sign(rsa, claims({ iss }));
      await rejectsWith(auth.authenticate(token, request), 'WK_JWT_CLAIM_INVALID', token);
    }
    await auth.authenticate(await sign(rsa, claims({ iss: 'https://idp.example' })), request);
  });

  test('wrong or missing audience', async () => {
    const auth = pemAuth(rsa, { audience: 'weftkit' });
    for (const aud of ['other', ['other', 'another'], undefined]) {
      const token = await sign(rsa, claims({ aud }));
      await rejectsWith(auth.authenticate(token, request), 'WK_JWT_CLAIM_INVALID', token);
    }
    await auth.authenticate(await sign(rsa, claims({ aud: ['other', 'weftkit'] })), request);
  });

  test('tampered payload keeping the original signature', async () => {
    const [h, , s] = (await sign(rsa)).split('.');
    const payload = base64url.encode(JSON.stringify(claims({ roles: ['superuser'] })));
    const token = `${h}.${payload}.${s}`;
    await rejectsWith(pemAuth(rsa).authenticate(token, request), 'WK_JWT_INVALID', token);
  });

  test('signed by a different key that claims the right kid', async () => {
    const impostor = await makeKey('RS256', rsa.kid);
    const token = await sign(impostor);
    await rejectsWith(pemAuth(rsa).authenticate(token, request), 'WK_JWT_INVALID', token);
    const jwksAuth = new JwtAuthenticator({ publicKeyPem: JSON.stringify({ keys: [rsa.jwk] }), now: testClock().now });
    await rejectsWith(jwksAuth.authenticate(token, request), 'WK_JWT_INVALID', token);
  });

  test('a token over maxTokenBytes, before any parsing', async () => {
    const auth = pemAuth(rsa);
    const big = await sign(rsa, claims({ pad: 'x'.repeat(16 * 1024) }));
    await rejectsWith(auth.authenticate(big, request), 'WK_JWT_TOO_LARGE', big);
    // Garbage would be WK_JWT_INVALID if it were parsed.
    const garbage = '!'.repeat(16385);
    await rejectsWith(auth.authenticate(garbage, request), 'WK_JWT_TOO_LARGE', garbage);
    const wide = 'é'.repeat(9000); // 9000 UTF-16 units, 18000 bytes
    await rejectsWith(auth.authenticate(wide, request), 'WK_JWT_TOO_LARGE', wide);
    await rejectsWith(auth.authenticate('!'.repeat(16384), request), 'WK_JWT_INVALID', '!'.repeat(16384));
  });

  test('missing or invalid tenant claim', async () => {
    const auth = pemAuth(rsa);
    for (const tenant_id of [undefined, 'Tenant', '../x', 'a'.repeat(64), 42, '', ['tenant-001'], null]) {
      const token = await sign(rsa, claims({ tenant_id }));
      await rejectsWith(auth.authenticate(token, request), 'WK_JWT_CLAIM_INVALID', token);
    }
  });

  test('missing or invalid sub', async () => {
    const auth = pemAuth(rsa);
    for (const sub of [undefined, '', 7, { name: 'alice' }]) {
      const token = await sign(rsa, claims({ sub }));
      await rejectsWith(auth.authenticate(token, request), 'WK_JWT_CLAIM_INVALID', token);
    }
  });

  test('roles claim of the wrong type', async () => {
    const auth = pemAuth(rsa);
    for (const roles of [7, { superuser: true }, [1], ['read_only', 2], [''], null, true]) {
      const token = await sign(rsa, claims({ roles }));
      await rejectsWith(auth.authenticate(token, request), 'WK_JWT_CLAIM_INVALID', token);
    }
  });

  test('garbage, empty and non-string tokens', async () => {
    const auth = pemAuth(rsa);
    for (const token of ['', 'a.b.c', 'not a jwt', '...', `${unsigned().split('.')[0]}..`]) {
      await rejectsWith(auth.authenticate(token, request), 'WK_JWT_INVALID', token || '\u0000');
    }
    await rejectsWith(auth.authenticate(42 as unknown as string, request), 'WK_JWT_INVALID', '\u0000');
  });

  test('an algorithm outside the configured list', async () => {
    const token = await sign(ec);
    await rejectsWith(
      new JwtAuthenticator({ publicKeyPem: ec.pem, algorithms: ['RS256'], now: testClock().now }).authenticate(token, request),
      'WK_JWT_INVALID',
      token,
    );
  });
});
