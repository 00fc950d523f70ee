import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freezeClaims, isSecurityContext, mintSecurityContext, withRequest } from './security-context.js';
import { resolveTenant } from './bindings.js';
import { splitLoginName } from './tenant.js';

const init = { identity: 'alice', tenant: 'tenant-001', roles: ['read_write'], authMethod: 'password', peer: '127.0.0.1:5000' } as const;

describe('SecurityContext', () => {
  test('is frozen to the last level', () => {
    const ctx = mintSecurityContext({ ...init, claims: { sub: 'alice', nested: { a: [1] } } });
    assert.ok(Object.isFrozen(ctx));
    assert.ok(Object.isFrozen(ctx.roles));
    assert.ok(Object.isFrozen((ctx.claims as { nested: { a: number[] } }).nested.a));
    assert.throws(() => {
      (ctx as { tenant: string }).tenant = 'other';
    }, TypeError);
    assert.throws(() => (ctx.roles as string[]).push('superuser'), TypeError);
  });

  test('claims are copied, so the caller cannot change them afterwards', () => {
    const claims = { sub: 'alice', roles: ['read_only'] };
    const ctx = mintSecurityContext({ ...init, claims });
    claims.roles.push('superuser');
    assert.deepEqual(ctx.claims?.roles, ['read_only']);
  });

  test('a hand-built object is not a SecurityContext', () => {
    const fake = Object.freeze({ ...init, connectionId: 'c', requestId: 'r' });
    assert.equal(isSecurityContext(fake), false);
    assert.equal(isSecurityContext(mintSecurityContext(init)), true);
    assert.throws(() => withRequest(fake), TypeError);
  });

  test('withRequest keeps the identity and changes only the request id', () => {
    const ctx = mintSecurityContext(init);
    const next = withRequest(ctx, 'req-2');
    assert.equal(next.requestId, 'req-2');
    assert.equal(next.connectionId, ctx.connectionId);
    assert.equal(next.identity, 'alice');
    assert.notEqual(next, ctx);
  });

  test('rejects an invalid tenant and an empty identity', () => {
    assert.throws(() => mintSecurityContext({ ...init, tenant: '../etc' }), { code: 'WK_IDENTITY_INVALID_TENANT' });
    assert.throws(() => mintSecurityContext({ ...init, tenant: 'Tenant' }), { code: 'WK_IDENTITY_INVALID_TENANT' });
    assert.throws(() => mintSecurityContext({ ...init, identity: '' }), TypeError);
  });
});

describe('login names', () => {
  test('user@tenant asks for a tenant; a bare name does not', () => {
    assert.deepEqual(splitLoginName('alice@tenant-001'), { user: 'alice', tenant: 'tenant-001' });
    assert.deepEqual(splitLoginName('alice'), { user: 'alice', tenant: undefined });
    assert.deepEqual(splitLoginName('a@b.com@t1'), { user: 'a@b.com', tenant: 't1' });
  });
  test('a bad tenant in the login name is refused', () => {
    assert.throws(() => splitLoginName('alice@../x'), { code: 'WK_IDENTITY_INVALID_TENANT' });
    assert.throws(() => splitLoginName('alice@'), { code: 'WK_IDENTITY_INVALID_TENANT' });
    assert.throws(() => splitLoginName(`alice@${'a'.repeat(64)}`), { code: 'WK_IDENTITY_INVALID_TENANT' });
  });
});

describe('resolveTenant', () => {
  const alice = { roles: ['read_write'], tenants: ['tenant-001', 'tenant-002'], defaultTenant: 'tenant-001' };
  test('default tenant when none is asked for; the asked one when bound', () => {
    assert.equal(resolveTenant(alice, undefined), 'tenant-001');
    assert.equal(resolveTenant(alice, 'tenant-002'), 'tenant-002');
    assert.equal(resolveTenant({ roles: [], tenants: ['*'] }, 'any-tenant'), 'any-tenant');
  });
  test('an unbound tenant, an unbound identity, or no default are refused', () => {
    assert.throws(() => resolveTenant(alice, 'tenant-003'), { code: 'WK_IDENTITY_TENANT_NOT_ALLOWED' });
    assert.throws(() => resolveTenant(undefined, 'tenant-001'), { code: 'WK_IDENTITY_TENANT_NOT_ALLOWED' });
    assert.throws(() => resolveTenant({ roles: [], tenants: ['*'] }, undefined), { code: 'WK_IDENTITY_TENANT_NOT_ALLOWED' });
  });
});

describe('freezeClaims', () => {
  test('copies once; minting with the frozen copy reuses it, anything else is copied', () => {
    const original = { sub: 'alice', roles: ['read_only'] };
    const frozen = freezeClaims(original);
    assert.notEqual(frozen, original);
    assert.equal(freezeClaims(frozen), frozen);
    const ctx = mintSecurityContext({ ...init, claims: frozen });
    assert.equal(ctx.claims, frozen);
    original.roles.push('superuser');
    assert.deepEqual(frozen.roles, ['read_only']);
    const lookalike = Object.freeze({ sub: 'alice', roles: ['read_only'] });
    assert.notEqual(mintSecurityContext({ ...init, claims: lookalike }).claims, lookalike, 'a caller-frozen object is still copied');
  });
});
