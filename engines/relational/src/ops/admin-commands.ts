// The relational engine's admin-socket commands: DEK rotation with online re-encryption of a
// tenant's PGDATA, crypto-shred of a tenant while serving, and key status. Argument and result
// shapes are the kv engine's (the CLI talks to both). The kernel's socket audits each call.
import { AdminInvalidArgument, type AdminHandlers, assertTenantName } from '@weftkit/kernel';
import type { TenantKeyAdmin } from '../tenant/tenant-backend.js';

const MIN_RATE = 4096;

function tenantArg(args: Readonly<Record<string, unknown>>): string {
  if (typeof args.tenant !== 'string') throw new AdminInvalidArgument('tenant (a tenant name) is required');
  return assertTenantName(args.tenant);
}

/** `afterShred`: ends the sessions of the shredded tenant that were idle (busy ones ended with the shred). */
export function registerRelationalAdminCommands(admin: AdminHandlers, keys: TenantKeyAdmin, afterShred?: (tenant: string) => Promise<void>): void {
  admin.register('tenant.shred', async (args) => {
    const r = await keys.shred(tenantArg(args));
    await afterShred?.(r.tenant);
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

  admin.register('keys.status', async () => ({ result: { tenants: keys.keyStatus(), reencryptedBytes: keys.reencryptedBytes } }));
}
