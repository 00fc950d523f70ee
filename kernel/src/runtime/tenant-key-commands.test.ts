import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AdminCallContext, AdminHandler, AdminHandlers } from './admin-socket.js';
import { registerTenantKeyCommands, type TenantKeyOperations } from './tenant-key-commands.js';

const ctx: AdminCallContext = { identity: 'local-socket', requestId: 'r1' };

function setup(): { handlers: Map<string, AdminHandler>; calls: string[] } {
  const handlers = new Map<string, AdminHandler>();
  const admin: AdminHandlers = { register: (c, h) => void handlers.set(c, h), has: (c) => handlers.has(c) };
  const calls: string[] = [];
  const keys: TenantKeyOperations = {
    shred: async (tenant) => {
      calls.push(`shred ${tenant}`);
      return { tenant, destroyedKeyVersions: [1, 2], filesRemoved: 3, keyringGeneration: 9 };
    },
    rotateDek: async (tenant, o) => {
      calls.push(`rotate ${tenant} ${o.bytesPerSecond ?? 'default'}`);
      return { tenant, keyVersion: 2, segmentsToReencrypt: 5 };
    },
    status: () => [{ tenant: 'a' }],
    reencryptedBytes: 42,
  };
  registerTenantKeyCommands(admin, keys, async (tenant) => {
    calls.push(`after ${tenant}`);
  });
  return { handlers, calls };
}

test('tenant.shred runs the shred, then the after-shred hook, and reports counts for the audit', async () => {
  const { handlers, calls } = setup();
  const r = await handlers.get('tenant.shred')!({ tenant: 'acme' }, ctx);
  assert.deepEqual(calls, ['shred acme', 'after acme']);
  assert.deepEqual(r.result, { tenant: 'acme', destroyedVersions: [1, 2], filesRemoved: 3 });
  assert.deepEqual(r.audit, { destroyed_versions: 2, files_removed: 3, generation: 9 });
});

test('a missing or invalid tenant, or a rate below the floor, is refused before anything runs', async () => {
  const { handlers, calls } = setup();
  await assert.rejects(handlers.get('tenant.shred')!({}, ctx), { code: 'WK_ADMIN_INVALID_ARGUMENT' });
  await assert.rejects(handlers.get('tenant.shred')!({ tenant: '../etc' }, ctx), { code: 'WK_IDENTITY_INVALID_TENANT' });
  await assert.rejects(handlers.get('keys.rotate-dek')!({ tenant: 'acme', bytesPerSecond: 100 }, ctx), { code: 'WK_ADMIN_INVALID_ARGUMENT' });
  await assert.rejects(handlers.get('keys.rotate-dek')!({ tenant: 'acme', bytesPerSecond: '1e9' }, ctx), { code: 'WK_ADMIN_INVALID_ARGUMENT' });
  assert.deepEqual(calls, []);
  const r = await handlers.get('keys.rotate-dek')!({ tenant: 'acme', bytesPerSecond: 65536 }, ctx);
  assert.deepEqual(calls, ['rotate acme 65536']);
  assert.deepEqual(r.result, { tenant: 'acme', keyVersion: 2, segmentsToReencrypt: 5 });
  assert.deepEqual((await handlers.get('keys.status')!({}, ctx)).result, { tenants: [{ tenant: 'a' }], reencryptedBytes: 42 });
});
