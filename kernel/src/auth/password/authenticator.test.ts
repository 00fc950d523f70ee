import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { before, describe, test } from 'node:test';
import bcrypt from 'bcrypt';
import type { IdentityBinding, IdentityBindings } from '../../identity/bindings.js';
import { isSecurityContext } from '../../identity/security-context.js';
import { PasswordAuthenticator, type PasswordAuthenticatorOptions } from './authenticator.js';
import { scramVerifier } from './scram-verifier.js';
import { UsersStore } from './users-store.js';

interface PgSession {
  response: string;
}
interface PgSasl {
  startSession(mechanisms: string[]): PgSession;
  continueSession(session: PgSession, password: string, serverData: string): Promise<void>;
  finalizeSession(session: PgSession, serverData: string): void;
}
const pgSasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as PgSasl;

const bindingsMap: Record<string, IdentityBinding> = {
  alice: { roles: ['read_write'], tenants: ['tenant-001', 'tenant-002'], defaultTenant: 'tenant-001' },
  carol: { roles: ['read_only'], tenants: ['tenant-009'] },
};
const bindings: IdentityBindings = { lookup: (id) => bindingsMap[id] };

let users: UsersStore;
before(async () => {
  users = UsersStore.fromText(
    [
      `alice:${await bcrypt.hash('alice password 1', 4)}`,
      `bob:${await bcrypt.hash('bob password 12', 4)}`,
      `carol:${await scramVerifier('carol password 3')}`,
      `dave:${await scramVerifier('dave password 4')}`,
      `erin:${await scramVerifier('erin password 5')}`,
    ].join('\n'),
  );
});

function make(extra: Partial<PasswordAuthenticatorOptions> = {}): PasswordAuthenticator {
  return new PasswordAuthenticator({ users, bindings, ...extra });
}

const peer = '10.0.0.7:51000';

async function scramLogin(auth: PasswordAuthenticator, login: string, password: string, p = peer) {
  const exchange = auth.startScram({ login, peer: p, connectionId: 'conn-s' });
  const client = pgSasl.startSession([exchange.mechanism]);
  const serverFirst = exchange.serverFirst(client.response);
  await pgSasl.continueSession(client, password, serverFirst);
  const result = exchange.serverFinal(client.response);
  pgSasl.finalizeSession(client, result.serverFinal);
  return { serverFirst, ...result };
}

describe('PasswordAuthenticator (cleartext)', () => {
  test('mints a password context with the default or the asked-for tenant and bound roles', async () => {
    const auth = make();
    const ctx = await auth.authenticate({ login: 'alice', password: 'alice password 1', peer, connectionId: 'c1', requestId: 'r1' });
    assert.ok(isSecurityContext(ctx));
    assert.deepEqual(
      { ...ctx, roles: [...ctx.roles] },
      { identity: 'alice', tenant: 'tenant-001', roles: ['read_write'], authMethod: 'password', peer, connectionId: 'c1', requestId: 'r1' },
    );
    const other = await auth.authenticate({ login: 'alice@tenant-002', password: 'alice password 1', peer });
    assert.equal(other.tenant, 'tenant-002');
    await assert.rejects(auth.authenticate({ login: 'alice@tenant-003', password: 'alice password 1', peer }), {
      code: 'WK_IDENTITY_TENANT_NOT_ALLOWED',
    });
  });

  test('unknown user and wrong password fail with the same error', async () => {
    const auth = make();
    const errors: unknown[] = [];
    for (const login of ['alice', 'nobody', 'bad name!']) {
      await auth.authenticate({ login, password: 'wrong password 1', peer }).catch((e: unknown) => errors.push(e));
    }
    assert.equal(errors.length, 3);
    for (const e of errors as { code: string; sqlstate: string; httpStatus: number; expose: boolean }[]) {
      assert.deepEqual([e.code, e.sqlstate, e.httpStatus, e.expose], ['WK_AUTH_FAILED', '28P01', 401, true]);
    }
    assert.equal((errors[0] as Error).message, 'password authentication failed for user "alice"');
    assert.equal((errors[1] as Error).message, 'password authentication failed for user "nobody"');
    assert.equal((errors[2] as Error).message, 'password authentication failed');
  });

  test('a user with no binding authenticates but gets no tenant', async () => {
    await assert.rejects(make().authenticate({ login: 'bob', password: 'bob password 12', peer }), {
      code: 'WK_IDENTITY_TENANT_NOT_ALLOWED',
    });
  });

  test('lockout after 5 failures refuses even the right password, per (user, IP)', async () => {
    const auth = make();
    for (let i = 0; i < 5; i++) {
      await assert.rejects(auth.authenticate({ login: 'alice', password: `wrong ${i}`, peer }), { code: 'WK_AUTH_FAILED' });
    }
    await assert.rejects(auth.authenticate({ login: 'alice', password: 'alice password 1', peer }), { code: 'WK_AUTH_LOCKED_OUT' });
    await assert.rejects(auth.authenticate({ login: 'alice@tenant-002', password: 'alice password 1', peer: '10.0.0.7:2' }), {
      code: 'WK_AUTH_LOCKED_OUT',
    });
    const ctx = await auth.authenticate({ login: 'alice', password: 'alice password 1', peer: '10.0.0.8:51000' });
    assert.equal(ctx.identity, 'alice');
  });

  test('unknown users lock out the same way', async () => {
    const auth = make({ lockout: { failureLimit: 2 } });
    for (let i = 0; i < 2; i++) await assert.rejects(auth.authenticate({ login: 'ghost', password: 'x', peer }), { code: 'WK_AUTH_FAILED' });
    await assert.rejects(auth.authenticate({ login: 'ghost', password: 'x', peer }), { code: 'WK_AUTH_LOCKED_OUT' });
  });

  test('parallel guesses cannot outrun the lockout', async () => {
    const auth = make();
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => auth.authenticate({ login: 'alice', password: `guess ${i}`, peer })),
    );
    const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : 'ok'));
    assert.equal(codes.filter((c) => c === 'WK_AUTH_FAILED').length, 5);
    assert.equal(codes.filter((c) => c === 'WK_AUTH_LOCKED_OUT').length, 7);
  });

  test('a success clears earlier failures', async () => {
    const auth = make();
    for (let i = 0; i < 4; i++) await auth.authenticate({ login: 'alice', password: 'nope', peer }).catch(() => {});
    await auth.authenticate({ login: 'alice', password: 'alice password 1', peer });
    for (let i = 0; i < 4; i++) await auth.authenticate({ login: 'alice', password: 'nope', peer }).catch(() => {});
    await auth.authenticate({ login: 'alice', password: 'alice password 1', peer });
  });
});

describe('PasswordAuthenticator (SCRAM)', () => {
  test('methodFor: SCRAM users get SCRAM, bcrypt users cleartext, unknown users the majority', () => {
    const auth = make();
    assert.equal(auth.methodFor('carol'), 'scram-sha-256');
    assert.equal(auth.methodFor('alice@tenant-002'), 'cleartext');
    assert.equal(auth.methodFor('ghost'), 'scram-sha-256');
  });

  test('node-postgres completes a SCRAM login and gets a scram context', async () => {
    const { context } = await scramLogin(make(), 'carol', 'carol password 3');
    assert.ok(isSecurityContext(context));
    assert.equal(context.authMethod, 'scram');
    assert.equal(context.identity, 'carol');
    assert.equal(context.tenant, 'tenant-009');
    assert.deepEqual(context.roles, ['read_only']);
    assert.equal(context.connectionId, 'conn-s');
  });

  test('unknown and bcrypt users get a plausible, stable server-first and then the same failure', async () => {
    const auth = make();
    const shape = (serverFirst: string) => serverFirst.replace(/^r=[^,]+,s=[^,]+,/, 'r=,s=,');
    const salt = (serverFirst: string) => /,s=([^,]+),/.exec(serverFirst)![1]!;
    const real = auth.startScram({ login: 'carol', peer: '1.1.1.1:1' }).serverFirst('n,,n=*,r=abc');
    const ghost1 = auth.startScram({ login: 'ghost', peer: '1.1.1.1:1' }).serverFirst('n,,n=*,r=abc');
    const ghost2 = auth.startScram({ login: 'ghost', peer: '1.1.1.1:1' }).serverFirst('n,,n=*,r=abc');
    assert.equal(shape(ghost1), shape(real));
    assert.equal(salt(ghost1), salt(ghost2));
    assert.equal(Buffer.from(salt(ghost1), 'base64').length, Buffer.from(salt(real), 'base64').length);
    for (const login of ['ghost', 'alice', 'carol']) {
      await assert.rejects(scramLogin(auth, login, login === 'alice' ? 'alice password 1' : 'wrong password 9'), { code: 'WK_AUTH_FAILED' });
    }
  });

  test('SCRAM failures count toward the lockout, checked at start and at the proof', async () => {
    const auth = make({ lockout: { failureLimit: 2 } });
    const pending = auth.startScram({ login: 'dave', peer });
    const client = pgSasl.startSession(['SCRAM-SHA-256']);
    await pgSasl.continueSession(client, 'dave password 4', pending.serverFirst(client.response));
    for (let i = 0; i < 2; i++) await assert.rejects(scramLogin(auth, 'dave', 'wrong'), { code: 'WK_AUTH_FAILED' });
    assert.throws(() => pending.serverFinal(client.response), { code: 'WK_AUTH_LOCKED_OUT' });
    assert.throws(() => auth.startScram({ login: 'dave', peer }), { code: 'WK_AUTH_LOCKED_OUT' });
    const ok = await scramLogin(auth, 'erin', 'erin password 5', peer).catch((e: { code: string }) => e.code);
    assert.equal(ok, 'WK_IDENTITY_TENANT_NOT_ALLOWED', 'another user from the same IP is not locked');
  });

  test('a malformed SCRAM message is a protocol error, not an auth failure', () => {
    const exchange = make().startScram({ login: 'carol', peer });
    assert.throws(() => exchange.serverFirst('garbage'), { code: 'WK_AUTH_SCRAM_MALFORMED' });
  });
});
