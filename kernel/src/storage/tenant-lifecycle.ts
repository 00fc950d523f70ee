// What the CLI (`weftkit tenant ...`, `weftkit keys rotate-kek`) does to tenants and keys. Each
// function returns a plain record of what happened, for the caller to audit.
import { existsSync } from 'node:fs';
import type { KeyProvider } from '../crypto/key-provider.js';
import type { KekRotationResult, Keyring, TenantKeyInfo } from '../crypto/keyring.js';
import { TenantKeyNotFound } from '../errors.js';
import { assertTenantName } from '../identity/tenant.js';
import { TenantDir, tenantDirPath } from './tenant-dir.js';

export interface TenantCreated {
  readonly tenant: string;
  readonly keyVersion: number;
  readonly path: string;
}

export interface TenantShredded {
  readonly tenant: string;
  /** DEK versions removed from the keyring (empty when an earlier shred already removed them). */
  readonly destroyedKeyVersions: readonly number[];
  readonly keyringGeneration: number;
  readonly filesRemoved: number;
  readonly directoryRemoved: boolean;
}

/** Creates the tenant's DEK (durably) and its directory. */
export async function createTenant(keyring: Keyring, dataDir: string, tenant: string): Promise<TenantCreated> {
  assertTenantName(tenant);
  const info = await keyring.createTenant(tenant);
  const dir = TenantDir.openSync(dataDir, tenant);
  return { tenant, keyVersion: info.currentVersion, path: dir.path };
}

export function listTenants(keyring: Keyring): TenantKeyInfo[] {
  return keyring.listTenants();
}

/**
 * Crypto-shreds a tenant: first removes its wrapped DEKs from the keyring durably (from then on its
 * pages are unreadable whatever happens next), then deletes its files. Re-running after a crash
 * between the two finishes the deletion.
 */
export async function shredTenant(keyring: Keyring, dataDir: string, tenant: string): Promise<TenantShredded> {
  assertTenantName(tenant);
  const dirPath = tenantDirPath(dataDir, tenant);
  const hadDir = existsSync(dirPath);
  if (!keyring.hasTenant(tenant) && !hadDir) throw new TenantKeyNotFound('tenant has no data key');
  const shred = keyring.hasTenant(tenant) ? await keyring.shredTenant(tenant) : undefined;
  let filesRemoved = 0;
  if (hadDir) {
    const dir = TenantDir.openSync(dataDir, tenant);
    filesRemoved = dir.listFilesSync().length;
    dir.removeSync();
  }
  return {
    tenant,
    destroyedKeyVersions: shred?.destroyedVersions ?? [],
    keyringGeneration: shred?.keyringGeneration ?? keyring.generation,
    filesRemoved,
    directoryRemoved: hadDir,
  };
}

/** Rewraps every DEK under `next` (crash-safe; see `Keyring.rotateKek`). The caller closes the old provider. */
export async function rotateKek(keyring: Keyring, next: KeyProvider): Promise<KekRotationResult> {
  return keyring.rotateKek(next);
}
