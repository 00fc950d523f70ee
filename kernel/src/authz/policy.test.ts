import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AccessDenied, publicError } from '../errors.js';
import { resolveTenant } from '../identity/bindings.js';
import { mintSecurityContext, type SecurityContext, withRequest } from '../identity/security-context.js';
import { createLogger } from '../log/logger.js';
import { ACTION_NAMES, ALL_ACTIONS, Action, actionBit } from './actions.js';
import { builtinPolicy, loadPolicy, parsePolicy } from './policy.js';

function ctx(...roles: string[]): SecurityContext {
  return mintSecurityContext({ identity: 'alice', tenant: 'tenant-001', roles, authMethod: 'password', peer: '127.0.0.1:1' });
}

const ROLES = `
roles:
  - name: analyst
    allow: [SELECT, "COPY TO"]
    deny: [INSERT, UPDATE, DELETE]
  - name: app_reader
    allow: [SELECT]
    on: ["app:*", "public.orders", "logs:*:2024"]
  - name: no_secrets
    deny: [SELECT]
    on: ["app:secret:*"]
  - name: exporter
    allow: ["COPY TO"]
users:
  alice: { roles: [read_write], tenants: [tenant-001], default_tenant: tenant-001 }
  ops:   { roles: [superuser], tenants: ["*"] }
`;
const policy = parsePolicy(ROLES, 'roles.yaml');
const allBits = ACTION_NAMES.map(actionBit);

describe('built-in roles', () => {
  const p = builtinPolicy();
  test('read_write, read_only, schema_admin hold exactly their actions', () => {
    const rw = ctx('read_write');
    assert.deepEqual(
      allBits.filter((a) => p.authorize(rw, a)),
      [Action.SELECT, Action.INSERT, Action.UPDATE, Action.DELETE],
    );
    assert.deepEqual(
      allBits.filter((a) => p.authorize(ctx('read_only'), a)),
      [Action.SELECT],
    );
    assert.deepEqual(
      allBits.filter((a) => p.authorize(ctx('schema_admin'), a)),
      [Action.DDL],
    );
    assert.equal(p.authorize(rw, Action.SELECT | Action.DELETE), true);
    assert.equal(p.authorize(rw, Action.SELECT | Action.DDL), false);
  });

  test('superuser holds every action, on any resource', () => {
    const su = ctx('superuser');
    for (const a of allBits) {
      assert.equal(p.authorize(su, a), true);
      assert.equal(p.authorize(su, a, 'any.table'), true);
    }
    assert.equal(p.authorize(su, ALL_ACTIONS), true);
  });

  test('no roles, no_access, and role names nobody defined grant nothing', () => {
    for (const c of [ctx(), ctx('no_access'), ctx('admin'), ctx('SUPERUSER'), ctx('__proto__', 'constructor')]) {
      for (const a of allBits) assert.equal(p.authorize(c, a, 'x'), false);
      assert.equal(p.allowedSomewhere(c), 0);
    }
  });

  test('an undefined role beside a real one changes nothing', () => {
    assert.equal(p.authorize(ctx('read_only', 'ghost'), Action.SELECT), true);
    assert.equal(p.authorize(ctx('read_only', 'ghost'), Action.INSERT), false);
  });

  test('an unknown undefined role is warned about once, by name', () => {
    const lines: string[] = [];
    const q = builtinPolicy({ logger: createLogger({ write: (l) => lines.push(l) }) });
    q.authorize(ctx('ghost'), Action.SELECT);
    q.authorize(ctx('ghost'), Action.SELECT);
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]!).role, 'ghost');
  });
});

describe('unknown actions are denied', () => {
  test('names outside the set, zero, foreign bits, negatives and non-integers', () => {
    const su = ctx('superuser');
    assert.equal(actionBit('TRUNCATE'), 0);
    assert.equal(actionBit('select'), 0);
    for (const a of [actionBit('TRUNCATE'), 0, 1 << 13, 1 << 30, -1, 2 ** 32 + 1, 1.5, Number.NaN, Infinity]) {
      assert.equal(policy.authorize(su, a), false, String(a));
      assert.equal(policy.authorize(su, a, 'app:x'), false, String(a));
    }
    assert.equal(policy.authorize(su, 'SELECT' as unknown as number), false);
  });
});

describe('deny beats allow', () => {
  test('across roles: analyst denies what read_write allows', () => {
    const c = ctx('read_write', 'analyst');
    assert.equal(policy.authorize(c, Action.SELECT), true);
    assert.equal(policy.authorize(c, Action.COPY_TO), true);
    assert.equal(policy.authorize(c, Action.INSERT), false);
    assert.equal(policy.authorize(c, Action.UPDATE, 'public.orders'), false);
    assert.equal(policy.authorize(c, Action.DELETE), false);
    assert.equal(policy.authorize(ctx('analyst', 'read_write'), Action.INSERT), false, 'order does not matter');
    assert.equal(policy.authorize(ctx('superuser', 'analyst'), Action.INSERT), false, 'not even superuser');
  });

  test('a scoped deny wins on its resources only', () => {
    const c = ctx('read_only', 'no_secrets');
    assert.equal(policy.authorize(c, Action.SELECT, 'app:public:1'), true);
    assert.equal(policy.authorize(c, Action.SELECT, 'app:secret:1'), false);
    assert.equal(policy.authorize(c, Action.SELECT), false, 'without a resource a scoped deny counts');
    assert.equal(policy.authorize(ctx('superuser', 'no_secrets'), Action.SELECT, 'app:secret:k'), false);
  });
});

describe('on: patterns', () => {
  const c = ctx('app_reader');
  test('prefix, exact and middle-star patterns allow; other resources do not', () => {
    assert.equal(policy.authorize(c, Action.SELECT, 'app:users:1'), true);
    assert.equal(policy.authorize(c, Action.SELECT, 'public.orders'), true);
    assert.equal(policy.authorize(c, Action.SELECT, 'logs:eu:2024'), true);
    assert.equal(policy.authorize(c, Action.SELECT, 'public.customers'), false);
    assert.equal(policy.authorize(c, Action.SELECT, 'public.orders_archive'), false);
    assert.equal(policy.authorize(c, Action.SELECT, 'logs:eu:2025'), false);
    assert.equal(policy.authorize(c, Action.SELECT, 'other:app:1'), false);
    assert.equal(policy.authorize(c, Action.INSERT, 'app:users:1'), false);
  });

  test('a scoped role allows nothing when no resource is named', () => {
    assert.equal(policy.authorize(c, Action.SELECT), false);
  });

  test('a scoped allow adds to an unscoped role', () => {
    const both = ctx('exporter', 'app_reader');
    assert.equal(policy.authorize(both, Action.COPY_TO, 'anything'), true);
    assert.equal(policy.authorize(both, Action.SELECT | Action.COPY_TO, 'app:1'), true);
    assert.equal(policy.authorize(both, Action.SELECT | Action.COPY_TO, 'zzz'), false);
  });

  test('allowedEverywhere / allowedSomewhere tell a list what needs per-item checks', () => {
    assert.equal(policy.allowedEverywhere(c), 0);
    assert.equal(policy.allowedSomewhere(c), Action.SELECT);
    const rw = ctx('read_write');
    assert.equal(policy.allowedEverywhere(rw), Action.SELECT | Action.INSERT | Action.UPDATE | Action.DELETE);
    const guarded = ctx('read_only', 'no_secrets');
    assert.equal(policy.allowedEverywhere(guarded), 0);
    assert.equal(policy.allowedSomewhere(guarded), Action.SELECT);
    assert.equal(policy.allowedSomewhere(ctx('read_write', 'analyst')), Action.SELECT | Action.COPY_TO);
  });
});

describe('contexts', () => {
  test('each context is judged by its own roles, in any interleaving', () => {
    const ro = ctx('read_only');
    const rw = ctx('read_write');
    for (let i = 0; i < 3; i++) {
      assert.equal(policy.authorize(ro, Action.INSERT), false);
      assert.equal(policy.authorize(rw, Action.INSERT), true);
      assert.equal(policy.authorize(withRequest(ro), Action.INSERT), false);
    }
  });

  test('a hand-built context is refused', () => {
    const fake = Object.freeze({ ...ctx('read_only'), roles: Object.freeze(['superuser']) });
    assert.throws(() => policy.authorize(fake, Action.SELECT), TypeError);
  });
});

describe('assertAuthorized', () => {
  test('throws AccessDenied, 42501 / 403, naming the action only', () => {
    assert.doesNotThrow(() => policy.assertAuthorized(ctx('read_only'), Action.SELECT, 'public.orders'));
    assert.throws(
      () => policy.assertAuthorized(ctx('app_reader'), Action.COPY_FROM, 'public.orders'),
      (err: unknown) => {
        assert.ok(err instanceof AccessDenied);
        const pub = publicError(err);
        assert.equal(pub.code, 'WK_AUTHZ_ACCESS_DENIED');
        assert.equal(pub.sqlstate, '42501');
        assert.equal(pub.httpStatus, 403);
        assert.match(pub.message, /COPY FROM/);
        assert.doesNotMatch(pub.message, /app_reader|public\.orders/);
        return true;
      },
    );
    assert.throws(() => policy.assertAuthorized(ctx('superuser'), 0), { code: 'WK_AUTHZ_ACCESS_DENIED' });
  });
});

describe('the compiled policy', () => {
  test('is frozen: it cannot be changed to grant more', () => {
    const c = ctx('read_only');
    assert.ok(Object.isFrozen(policy));
    assert.ok(Object.isFrozen(Object.getPrototypeOf(policy)));
    assert.ok(Object.isFrozen(policy.roles));
    for (const r of policy.roles) assert.ok(Object.isFrozen(r));
    assert.throws(() => {
      (policy as { authorize: unknown }).authorize = () => true;
    }, TypeError);
    assert.throws(() => {
      Object.getPrototypeOf(policy).authorize = () => true;
    }, TypeError);
    const readOnly = policy.roles.find((r) => r.name === 'read_only')!;
    assert.throws(() => {
      (readOnly as { allow: number }).allow = ALL_ACTIONS;
    }, TypeError);
    assert.throws(() => (policy.roles as unknown[]).push({ name: 'x', allow: ALL_ACTIONS, deny: 0 }), TypeError);
    const binding = policy.lookup('alice')!;
    assert.throws(() => (binding.roles as string[]).push('superuser'), TypeError);
    assert.equal(policy.authorize(c, Action.INSERT), false);
    assert.deepEqual(policy.lookup('alice')?.roles, ['read_write']);
  });

  test('serves as the IdentityBindings of the users: map', () => {
    assert.equal(resolveTenant(policy.lookup('alice'), undefined), 'tenant-001');
    assert.equal(resolveTenant(policy.lookup('ops'), 'tenant-777'), 'tenant-777');
    assert.throws(() => resolveTenant(policy.lookup('alice'), 'tenant-002'), { code: 'WK_IDENTITY_TENANT_NOT_ALLOWED' });
    assert.equal(policy.lookup('mallory'), undefined);
    assert.equal(policy.lookup('__proto__'), undefined);
  });
});

describe('loadPolicy', () => {
  test('a missing optional file gives the built-ins; a missing required one fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weftkit-authz-'));
    try {
      const missing = join(dir, 'roles.yaml');
      const p = await loadPolicy({ path: missing, required: false });
      assert.equal(p.roles.length, 5);
      await assert.rejects(loadPolicy({ path: missing, required: true }), { code: 'WK_CONFIG_FILE_UNREADABLE' });
      await writeFile(missing, '');
      assert.equal((await loadPolicy({ path: missing, required: true })).roles.length, 5);
      await writeFile(missing, ROLES);
      assert.equal((await loadPolicy({ path: missing, required: true })).authorize(ctx('analyst'), Action.COPY_TO), true);
      await writeFile(missing, '- name: x\n  allow: [NOPE]\n');
      await assert.rejects(loadPolicy({ path: missing, required: false }), { code: 'WK_AUTHZ_ROLES_FILE_INVALID', line: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
