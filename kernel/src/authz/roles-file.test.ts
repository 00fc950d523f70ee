import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RolesFileInvalid } from '../errors.js';
import { Action } from './actions.js';
import { parseRolesFile } from './roles-file.js';

function assertInvalid(text: string, line: number): void {
  assert.throws(
    () => parseRolesFile(text, 'roles.yaml'),
    (err: unknown) => {
      assert.ok(err instanceof RolesFileInvalid);
      assert.equal(err.code, 'WK_AUTHZ_ROLES_FILE_INVALID');
      assert.equal(err.line, line, err.message);
      assert.ok(err.message.startsWith(`roles.yaml:${line}: `), err.message);
      return true;
    },
  );
}

describe('roles.yaml forms', () => {
  test('a top-level list is roles only (the seed format)', () => {
    const file = parseRolesFile('- name: analyst\n  allow: [SELECT, "COPY TO"]\n  deny: [INSERT, UPDATE, DELETE]\n', 'r');
    assert.deepEqual(file.roles, [
      { name: 'analyst', allow: Action.SELECT | Action.COPY_TO, deny: Action.INSERT | Action.UPDATE | Action.DELETE },
    ]);
    assert.equal(file.users.size, 0);
  });

  test('a map holds roles and users', () => {
    const file = parseRolesFile(
      [
        'roles:',
        '  - name: app_reader',
        '    allow: [SELECT]',
        '    on: ["app:*", "public.orders"]',
        '  - name: ops_admin',
        '    allow: [metrics, backup, restore, user_admin, role_admin, EXECUTE, DDL, COPY FROM]',
        'users:',
        '  alice: { roles: [read_write], tenants: [tenant-001], default_tenant: tenant-001 }',
        '  ops:   { roles: [superuser, app_reader], tenants: ["*"] }',
        '  "42":  { roles: [], tenants: [t1] }',
      ].join('\n'),
      'r',
    );
    assert.deepEqual(file.roles[0], { name: 'app_reader', allow: Action.SELECT, deny: 0, on: ['app:*', 'public.orders'] });
    assert.equal(file.roles[1]?.allow, 0b1_1111_1101_0000);
    assert.deepEqual(file.users.get('alice'), { roles: ['read_write'], tenants: ['tenant-001'], defaultTenant: 'tenant-001' });
    assert.deepEqual(file.users.get('ops'), { roles: ['superuser', 'app_reader'], tenants: ['*'] });
    assert.deepEqual(file.users.get('42'), { roles: [], tenants: ['t1'] });
    assert.ok(Object.isFrozen(file.users.get('alice')));
    assert.ok(Object.isFrozen(file.users.get('alice')?.tenants));
    assert.ok(Object.isFrozen(file.roles[0]?.on));
  });

  test('an empty file, a comment-only file and empty sections define nothing', () => {
    for (const text of ['', '# nothing yet\n', 'roles:\nusers:\n', '[]']) {
      const file = parseRolesFile(text, 'r');
      assert.equal(file.roles.length, 0);
      assert.equal(file.users.size, 0);
    }
  });
});

describe('roles.yaml errors name the line', () => {
  test('malformed YAML', () => assertInvalid('roles:\n  - name: a\n    allow: [SELECT\n', 3));
  test('a duplicate key', () => assertInvalid('roles: []\nusers: {}\nroles: []\n', 3));
  test('several documents', () => assertInvalid('roles: []\n---\nroles: []\n', 2));
  test('a scalar top level', () => assertInvalid('\n\njust text\n', 3));
  test('an unknown top-level key', () => assertInvalid('roles: []\ngroups: []\n', 2));
  test('an unknown role key', () => assertInvalid('- name: a\n  allow: [SELECT]\n  allows: [INSERT]\n', 3));
  test('an unknown action', () => assertInvalid('- name: a\n  allow:\n    - SELECT\n    - TRUNCATE\n', 4));
  test('an action in the wrong case', () => assertInvalid('- name: a\n  deny: [select]\n', 2));
  test('an action that is not a string', () => assertInvalid('- name: a\n  allow: [1]\n', 2));
  test('allow that is not a list', () => assertInvalid('- name: a\n  allow: SELECT\n', 2));
  test('a role without a name', () => assertInvalid('- name: a\n- allow: [SELECT]\n', 2));
  test('an invalid role name', () => assertInvalid('- name: "has space"\n', 1));
  test('a role redefining a built-in', () => assertInvalid('- name: a\n- name: read_only\n  allow: [INSERT]\n', 2));
  test('a duplicate role name', () => assertInvalid('- name: a\n  allow: [SELECT]\n- name: b\n- name: a\n', 4));
  test('an empty on: list', () => assertInvalid('- name: a\n  allow: [SELECT]\n  on: []\n', 3));
  test('an empty resource pattern', () => assertInvalid('- name: a\n  on: ["x", ""]\n', 2));
  test('an alias', () => assertInvalid('- name: a\n  allow: &r [SELECT]\n- name: b\n  allow: *r\n', 4));
  test('a user with an unknown role', () =>
    assertInvalid('roles:\n  - name: a\nusers:\n  bob: { roles: [a], tenants: [t1] }\n  eve: { roles: [admin], tenants: [t1] }\n', 5));
  test('a user with an invalid tenant', () =>
    assertInvalid('users:\n  bob:\n    roles: [read_only]\n    tenants: [t1, "../etc"]\n', 4));
  test('a user with an upper-case tenant', () => assertInvalid('users:\n  bob: { roles: [], tenants: [Tenant] }\n', 2));
  test('a default tenant not in tenants', () =>
    assertInvalid('users:\n  bob:\n    roles: []\n    tenants: [t1]\n    default_tenant: t2\n', 5));
  test('an invalid default tenant beside "*"', () =>
    assertInvalid('users:\n  bob:\n    tenants: ["*"]\n    default_tenant: "*"\n', 4));
  test('a user without tenants', () => assertInvalid('users:\n  bob:\n    roles: [read_only]\n', 3));
  test('a user with an empty tenants list', () => assertInvalid('users:\n  bob: { roles: [], tenants: [] }\n', 2));
  test('an unknown user key', () => assertInvalid('users:\n  bob: { roles: [], tenants: [t1], tenant: t1 }\n', 2));
  test('a user that is not a map', () => assertInvalid('users:\n  bob: read_only\n', 2));
  test('users that is a list', () => assertInvalid('roles: []\nusers:\n  - bob\n', 3));
});
