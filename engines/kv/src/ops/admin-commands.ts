// The kv engine's admin-socket commands: DEK rotation with background re-encryption, crypto-shred,
// and key status. The kernel's socket audits each call; handlers only validate and run.
import { AdminInvalidArgument, type AdminHandlers, assertTenantName } from '@weftkit/kernel';
import type { KvKeyAdmin } from '../open-store.js';

const MIN_RATE = 4096;

function tenantArg(args: Readonly<Record<string, unknown>>): string {
  if (typeof args.tenant !== 'string') throw new AdminInvalidArgument('tenant (a tenant name) is required');
  return assertTenantName(args.tenant);
}

export function registerKvAdminCommands(admin: AdminHandlers, keys: KvKeyAdmin): void {
  admin.register('tenant.shred', async (args) => {
    const r = await keys.shred(tenantArg(args));
    return {
      result: { tenant: r.tenant, destroyedVersions: r.destroyedKeyVersions, filesRemoved: r.filesRemoved },
      audit: { destroyed_versions: r.destroyedKeyVersions.length, files_removed: r.filesRemoved, generation: r.keyringGeneration },
    };
  });

  admin.register('keys.rotate-dek', async (args) => {
    const tenant = tenantArg(args);
    const rate = args.bytesPerSecond;
    if (rate !== undefined && (typeof rate !== 'number' || !Number.isSafeInteger(rate) || rate < MIN_RATE)) {
      throw new AdminInvalidArgument(`bytesPerSecond must be an integer of at least ${MIN_RATE}`);
    }
    const r = await keys.rotateDek(tenant, rate === undefined ? {} : { bytesPerSecond: rate });
    return {
      result: { tenant: r.tenant, keyVersion: r.keyVersion, segmentsToReencrypt: r.segmentsToReencrypt },
      audit: { version: r.keyVersion, segments: r.segmentsToReencrypt },
    };
  });

  admin.register('keys.status', async () => ({ result: { tenants: keys.status(), reencryptedBytes: keys.reencryptedBytes } }));
}
