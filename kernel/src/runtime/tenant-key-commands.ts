// The admin-socket commands every engine with per-tenant data keys answers the same way:
// `tenant.shred`, `keys.rotate-dek` and `keys.status`. Argument and result shapes are what the
// `weftkit` CLI sends and prints; the engine supplies the operations.
import { AdminInvalidArgument } from '../errors.js';
import { assertTenantName } from '../identity/tenant.js';
import { MIN_REENCRYPT_RATE } from '../crypto/keyring-file.js';
import type { AdminHandlers } from './admin-socket.js';

export { MIN_REENCRYPT_RATE };

/** What an engine does for each command. */
export interface TenantKeyOperations {
  shred(tenant: string): Promise<{
    readonly tenant: string;
    readonly destroyedKeyVersions: readonly number[];
    readonly filesRemoved: number;
    readonly keyringGeneration: number;
  }>;
  rotateDek(
    tenant: string,
    options: { readonly bytesPerSecond?: number },
  ): Promise<{ readonly tenant: string; readonly keyVersion: number; readonly segmentsToReencrypt: number }>;
  /** One row per tenant, in the shape `weftkit keys status` prints. */
  status(): readonly unknown[];
  /** Bytes re-encrypted since start, all tenants. */
  readonly reencryptedBytes: number;
}

function tenantArg(args: Readonly<Record<string, unknown>>): string {
  if (typeof args.tenant !== 'string') throw new AdminInvalidArgument('tenant (a tenant name) is required');
  return assertTenantName(args.tenant);
}

function rateArg(args: Readonly<Record<string, unknown>>): { readonly bytesPerSecond?: number } {
  const rate = args.bytesPerSecond;
  if (rate === undefined) return {};
  if (typeof rate !== 'number' || !Number.isSafeInteger(rate) || rate < MIN_REENCRYPT_RATE) {
    throw new AdminInvalidArgument(`bytesPerSecond must be an integer of at least ${MIN_REENCRYPT_RATE}`);
  }
  return { bytesPerSecond: rate };
}

/** Registers the three commands; `afterShred` runs once the tenant is gone (e.g. to end its idle sessions). */
export function registerTenantKeyCommands(admin: AdminHandlers, keys: TenantKeyOperations, afterShred?: (tenant: string) => Promise<void>): void {
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
    const r = await keys.rotateDek(tenant, rateArg(args));
    return {
      result: { tenant: r.tenant, keyVersion: r.keyVersion, segmentsToReencrypt: r.segmentsToReencrypt },
      audit: { version: r.keyVersion, segments: r.segmentsToReencrypt },
    };
  });

  admin.register('keys.status', async () => ({ result: { tenants: keys.status(), reencryptedBytes: keys.reencryptedBytes } }));
}
